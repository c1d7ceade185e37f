"""Float64 gradient checks of every differentiable op, shapes drawn by hypothesis.

Each test draws shapes (and broadcast partners), builds float64 inputs and asks
``md.gradcheck`` to compare backprop with central differences.  Kinks (ReLU at
0, max ties, abs at 0) are dodged by the checker itself.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minidl as md
import minidl.functional as F

SETTINGS = settings(max_examples=20, deadline=None)
small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def _arr(seed, shape, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _away_from_zero(seed, shape):
    a = _arr(seed, shape, 0.5, 2.0)
    return a * np.random.default_rng(seed + 1).choice([-1.0, 1.0], size=shape)


def check(f, *inputs, **kw):
    report = md.gradcheck(f, *inputs, **kw)
    assert report, str(report)


# ----------------------------------------------------------------------------- binary, broadcasting
BINARY = {
    "add": (lambda a, b: a + b, _arr),
    "sub": (lambda a, b: a - b, _arr),
    "mul": (lambda a, b: a * b, _arr),
    "div": (lambda a, b: a / b, _away_from_zero),
    "maximum": (lambda a, b: md.maximum(a, b), _arr),
}


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4), seed=st.integers(0, 10**6))
def test_binary_ops_with_broadcasting(name, shapes, seed, backend_name):
    f, make_b = BINARY[name]
    a = _arr(seed, shapes.input_shapes[0])
    b = make_b(seed + 7, shapes.input_shapes[1])
    check(f, a, b)


@SETTINGS
@given(shape=small_shapes, seed=st.integers(0, 10**6))
def test_scalar_operands(shape, seed, backend_name):
    a = _arr(seed, shape)
    check(lambda x: 2.0 * x - 1.5 + x / 4.0 - (3.0 - x), a)
    check(lambda x: 2.0 / x, _away_from_zero(seed, shape))


# ----------------------------------------------------------------------------- unary
UNARY = {
    "neg": (lambda x: -x, _arr),
    "exp": (lambda x: x.exp(), _arr),
    "log": (lambda x: x.log(), lambda s, sh: _arr(s, sh, 0.2, 3.0)),
    "sqrt": (lambda x: x.sqrt(), lambda s, sh: _arr(s, sh, 0.2, 3.0)),
    "abs": (lambda x: x.abs(), _arr),
    "pow3": (lambda x: x ** 3, _arr),
    "pow_half": (lambda x: x ** 0.5, lambda s, sh: _arr(s, sh, 0.2, 3.0)),
    "rpow": (lambda x: 2.0 ** x, _arr),
    "clip": (lambda x: x.clip(-0.5, 0.7), _arr),
    "relu": (F.relu, _arr),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), _arr),
    "sigmoid": (F.sigmoid, _arr),
    "tanh": (F.tanh, _arr),
    "softmax": (lambda x: F.softmax(x, axis=-1), _arr),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), _arr),
    "log_softmax": (lambda x: F.log_softmax(x, axis=-1), _arr),
}


@pytest.mark.parametrize("name", UNARY)
@SETTINGS
@given(shape=small_shapes, seed=st.integers(0, 10**6))
def test_unary_ops(name, shape, seed, backend_name):
    f, make = UNARY[name]
    check(f, make(seed, shape))


def test_tensor_exponent(backend_name):
    check(lambda a, b: a ** b, _arr(0, (2, 3), 0.5, 2.0), _arr(1, (2, 3)))


def test_where(backend_name):
    cond = np.array([[True, False, True], [False, False, True]])
    check(lambda a, b: md.where(md.tensor(cond), a, b), _arr(0, (2, 3)), _arr(1, (3,)))


# ----------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
@SETTINGS
@given(shape=small_shapes, data=st.data(), keepdims=st.booleans(), seed=st.integers(0, 10**6))
def test_reductions(op, shape, data, keepdims, seed, backend_name):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)))
    check(lambda x: getattr(x, op)(axis=axis, keepdims=keepdims), _arr(seed, shape))


def test_max_with_ties_shares_the_gradient():
    x = md.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])


# ----------------------------------------------------------------------------- matmul
@SETTINGS
@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), batch=st.sampled_from([(), (2,), (1, 3)]),
       seed=st.integers(0, 10**6))
def test_matmul_shapes(n, k, m, batch, seed, backend_name):
    check(lambda a, b: a @ b, _arr(seed, batch + (n, k)), _arr(seed + 1, (k, m)))
    check(lambda a, b: a @ b, _arr(seed, (n, k)), _arr(seed + 1, batch + (k, m)))


def test_matmul_vectors(backend_name):
    check(lambda a, b: a @ b, _arr(0, (3,)), _arr(1, (3, 2)))
    check(lambda a, b: a @ b, _arr(0, (2, 3)), _arr(1, (3,)))
    check(lambda a, b: a @ b, _arr(0, (3,)), _arr(1, (3,)))


# ----------------------------------------------------------------------------- shape and indexing
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=2, max_dims=3, max_side=4), seed=st.integers(0, 10**6))
def test_reshape_and_transpose(shape, seed, backend_name):
    x = _arr(seed, shape)
    check(lambda t: t.reshape(-1) * 2, x)
    check(lambda t: t.transpose(), x)
    axes = tuple(np.random.default_rng(seed).permutation(len(shape)))
    check(lambda t: t.transpose(*axes), x)


def test_indexing_slices_ints_and_masks(backend_name, xp):
    x = _arr(0, (4, 5))
    check(lambda t: t[1:3, ::2], x)
    check(lambda t: t[xp.asarray([0, 2, 2, 3])], x)          # repeated rows accumulate
    check(lambda t: t[:, xp.asarray([4, 4, 0])], x)
    check(lambda t: t[xp.asarray(x > 0)], x)                   # boolean mask


def test_repeated_index_gradient_accumulates():
    x = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 1.0])


def test_concat_stack_split(backend_name):
    check(lambda a, b: md.concat([a, b], axis=1), _arr(0, (2, 3)), _arr(1, (2, 2)))
    check(lambda a, b: md.stack([a, b], axis=1), _arr(0, (2, 3)), _arr(1, (2, 3)))
    check(lambda a: md.split(a, [1, 3], axis=1), _arr(0, (2, 5)))
    check(lambda a: md.split(a, 2, axis=0)[1], _arr(0, (4, 3)))


def test_embedding_gather(backend_name, xp):
    ids = md.tensor(np.array([[0, 2, 2], [1, 0, 3]]))
    check(lambda W: F.embedding(ids, W), _arr(0, (4, 3)))


def test_embedding_rejects_out_of_range_ids():
    W = md.tensor(np.ones((5, 2)))
    with pytest.raises(IndexError, match="token id 7 .* vocabulary of size 5"):
        F.embedding(np.array([1, 7]), W)
    with pytest.raises(IndexError, match="token id -1"):
        F.embedding(np.array([-1]), W)


def test_dropout_gradient_uses_the_same_mask():
    md.seed(3)
    x = md.tensor(np.ones((50, 40)), requires_grad=True)
    y = F.dropout(x, 0.3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.numpy())        # d(x*m/(1-p))/dx = m/(1-p)
    kept = (y.numpy() != 0).mean()
    assert 0.6 < kept < 0.8
    np.testing.assert_allclose(y.numpy()[y.numpy() != 0], 1 / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.3, training=False) is x


def test_cast_gradient_comes_back_in_the_input_dtype(backend_name):
    check(lambda t: t.astype(np.float64) * 3, _arr(0, (2, 3)))
    # through float32 the function is a staircase at h = 1e-6, so check values instead
    x = md.tensor([1.0, 2.0], dtype=md.float64, requires_grad=True)
    (x.astype(np.float32) * md.tensor([3.0, 5.0])).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(md.backend.asnumpy(x.grad), [3.0, 5.0])
