"""No wrong number at the edges (issue 28): where, relu at -inf, the power rules, float16 clipping.

Each value and gradient is pinned by hand and, when PyTorch is installed, compared with it.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
from minidl import nn, optim

try:
    import torch
except ImportError:                     # the hand-written expectations still run
    torch = None


def _leaf(values, dtype=np.float64):
    return md.tensor(np.asarray(values, dtype=dtype), requires_grad=True, dtype=dtype)


def _torch_leaf(values):
    return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _same(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy() if torch is not None and isinstance(theirs, torch.Tensor)
                               else theirs, rtol=1e-12, atol=0, equal_nan=True)


def _value_and_grads(f, *arrays):
    xs = [_leaf(a) for a in arrays]
    y = f(*xs)
    y.sum().backward()
    return y.numpy(), [x.grad for x in xs]


def _torch_value_and_grads(f, *arrays):
    xs = [_torch_leaf(a) for a in arrays]
    y = f(*xs)
    y.sum().backward()
    return y.detach().numpy(), [x.grad.numpy() for x in xs]


# ----------------------------------------------------------------------------- where
@pytest.mark.parametrize("cond", [[1, 0, 1], [1.0, 0.0, 0.5], [True, False, True], [-3, 0, 7]],
                         ids=["int", "float", "bool", "other ints"])
def test_where_casts_the_condition_to_bool_once(cond):
    a, b = _leaf([1.0, 2.0, 3.0]), _leaf([4.0, 5.0, 6.0])
    y = md.where(md.tensor(cond), a, b)
    y.sum().backward()
    chosen = np.asarray(cond) != 0
    np.testing.assert_array_equal(y.numpy(), np.where(chosen, [1, 2, 3], [4, 5, 6]))
    np.testing.assert_array_equal(a.grad, chosen.astype(float))
    np.testing.assert_array_equal(b.grad, (~chosen).astype(float))       # was [-2, -1, -2] for int 1/0
    if torch is not None:
        ta, tb = _torch_leaf([1.0, 2.0, 3.0]), _torch_leaf([4.0, 5.0, 6.0])
        torch.where(torch.tensor(cond) != 0, ta, tb).sum().backward()
        _same(a.grad, ta.grad)
        _same(b.grad, tb.grad)


# ----------------------------------------------------------------------------- relu
def test_relu_is_zero_at_minus_infinity_and_keeps_nan():
    x = _leaf([-np.inf, -1.0, 2.0, np.inf, np.nan])
    y = md.functional.relu(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 2.0, np.inf, np.nan])   # -inf * 0 used to give NaN
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0, 1.0, 1.0])        # NaN passes the gradient, as in PyTorch
    if torch is not None:
        t = _torch_leaf([-np.inf, -1.0, 2.0, np.inf, np.nan])
        ty = torch.relu(t)
        ty.sum().backward()
        _same(y.numpy(), ty)
        _same(x.grad, t.grad)


# ----------------------------------------------------------------------------- powers
POWERS = [
    ("x ** 0", lambda x: x ** 0, [[0.0, 2.0, -3.0]], [1.0, 1.0, 1.0], [[0.0, 0.0, 0.0]]),
    ("x ** 2", lambda x: x ** 2, [[0.0, -3.0]], [0.0, 9.0], [[0.0, -6.0]]),
    ("x ** tensor(2.0)", lambda x: x ** md.tensor(2.0, dtype=np.float64), [[-3.0, 0.0, 2.0]],
     [9.0, 0.0, 4.0], [[-6.0, 0.0, 4.0]]),
    ("x ** p, both", lambda x, p: x ** p, [[-3.0, 0.0, 2.0], [2.0, 2.0, 0.5]],
     [9.0, 0.0, 2 ** 0.5], [[-6.0, 0.0, 0.5 * 2 ** -0.5], [np.nan, 0.0, 2 ** 0.5 * np.log(2)]]),
    ("(-2) ** x", lambda x: (-2) ** x, [[2.0, 3.0, 0.5]], [4.0, -8.0, np.nan], [[np.nan, np.nan, np.nan]]),
    ("0 ** x", lambda x: 0 ** x, [[2.0, 0.0, 0.5]], [0.0, 1.0, 0.0], [[0.0, 0.0, 0.0]]),
    ("array ** x", lambda x: np.array([2.0, 3.0]) ** x, [[2.0, 1.0]], [4.0, 3.0], [[4 * np.log(2), 3 * np.log(3)]]),
]


def _torch_twin(label):
    return {"x ** 0": lambda x: x ** 0, "x ** 2": lambda x: x ** 2,
            "x ** tensor(2.0)": lambda x: x ** torch.tensor(2.0, dtype=torch.float64),
            "x ** p, both": lambda x, p: x ** p, "(-2) ** x": lambda x: (-2) ** x, "0 ** x": lambda x: 0 ** x,
            "array ** x": lambda x: torch.tensor([2.0, 3.0], dtype=torch.float64) ** x}[label]


@pytest.mark.parametrize("label, f, inputs, value, grads", POWERS, ids=[p[0] for p in POWERS])
def test_power_rules_at_the_edges(label, f, inputs, value, grads):
    with np.errstate(invalid="ignore", divide="ignore"):
        y, gs = _value_and_grads(f, *inputs)
    np.testing.assert_allclose(y, value, rtol=1e-12, equal_nan=True)
    for g, want in zip(gs, grads):
        np.testing.assert_allclose(g, want, rtol=1e-12, equal_nan=True)
    if torch is not None:
        ty, tgs = _torch_value_and_grads(_torch_twin(label), *inputs)
        _same(y, ty)
        for g, tg in zip(gs, tgs):
            _same(g, tg)


def test_a_float32_base_keeps_its_dtype_with_an_integer_exponent():
    x = md.tensor([2.0, 3.0], requires_grad=True)
    y = x ** md.tensor(2)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [4.0, 6.0])


SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@given(shape_a=SHAPES, shape_b=SHAPES, seed=st.integers(0, 100))
def test_power_gradcheck_with_broadcasting(shape_a, shape_b, seed):
    try:
        np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        return
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, size=shape_a)            # a positive base: both gradients are defined
    b = rng.uniform(-1.5, 1.5, size=shape_b)
    assert md.gradcheck(lambda x, p: x ** p, a, b), md.gradcheck(lambda x, p: x ** p, a, b)


def test_power_gradcheck_at_a_negative_base_with_a_constant_integer_exponent():
    x = np.array([[-3.0, -0.5], [1.5, -2.0]])
    assert md.gradcheck(lambda t: t ** md.tensor(3.0, dtype=np.float64), x)
    assert md.gradcheck(lambda t: t ** 3, x)
    assert md.gradcheck(lambda t: np.array([2.0, 0.5]) ** t, x)


# ----------------------------------------------------------------------------- clipping in float16
def test_clip_grad_norm_of_float16_gradients_accumulates_wider():
    p = nn.Parameter(np.zeros(2, np.float16))
    p.grad = np.array([300, 400], np.float16)          # g * g = 90000 overflows float16 (max 65504)
    assert optim.clip_grad_norm([p], 1e9) == pytest.approx(500.0)
    assert optim.clip_grad_norm([p], 50.0) == pytest.approx(500.0)
    np.testing.assert_allclose(p.grad.astype(np.float64), [30, 40], rtol=1e-3)
    q = nn.Parameter(np.zeros(2, np.float16))
    q.name = "Dense.W"
    q.grad = np.array([np.inf, 1], np.float16)
    with pytest.raises(optim.NonFiniteGradientError, match="non-finite gradient in Dense.W") as info:
        optim.clip_grad_norm([p, q], 1.0)
    assert info.value.params == ["Dense.W"]             # p is finite, so it is not named


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min"])
def test_a_numpy_integer_axis_is_an_axis_and_a_float_axis_is_a_clear_error(method):
    x = md.tensor(np.arange(6.0).reshape(2, 3))
    assert getattr(x, method)(axis=np.int64(1)).shape == (2,)
    assert getattr(x, method)(axis=(np.int32(0), 1)).shape == ()
    with pytest.raises(TypeError, match=rf"{method}: axis must be an integer or a tuple of integers, got float 1.5"):
        getattr(x, method)(axis=1.5)
    with pytest.raises(TypeError, match=rf"{method}: axis must be an integer, got the bool True"):
        getattr(x, method)(axis=True)
    with pytest.raises(ValueError, match=rf"{method}: axis \(1, -1\) names an axis twice"):
        getattr(x, method)(axis=(1, -1))
