"""The autograd rules learners ask about, each pinned by its own test."""
import gc
import sys
import weakref

import numpy as np
import pytest

import minidl as md
from conftest import another_thread_inside
from minidl import backend


# ----------------------------------------------------------------------------- Tensor basics
def test_tensor_defaults_to_float32_and_keeps_ints(backend_name):
    x = md.tensor([[1.0, 2.0]])
    assert x.dtype == np.float32 and x.shape == (1, 2) and x.ndim == 2
    assert md.tensor(np.arange(3.0)).dtype == np.float32      # even from float64 NumPy
    assert md.tensor([1, 2, 3]).dtype == np.int64
    assert md.tensor([1.0], dtype=md.float64).dtype == np.float64
    assert x.backend == backend_name


def test_tensor_accessors():
    x = md.tensor([[1.0, 2.0]], requires_grad=True)
    assert isinstance(x.numpy(), np.ndarray)
    assert md.tensor([3.5]).item() == 3.5
    d = x.detach()
    assert not d.requires_grad and d._ctx is None
    assert np.array_equal(x.to("numpy").numpy(), x.numpy())
    assert x.T.shape == (2, 1)


def test_tensor_does_not_alias_callers_array():
    a = np.ones(3, dtype=np.float32)
    t = md.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating tensors"):
        md.tensor([1, 2], requires_grad=True)


def test_first_example_of_the_api():
    x = md.tensor([[1.0, 2.0]], requires_grad=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [[3.0, 3.0]])
    assert x.grad.shape == x.shape


# ----------------------------------------------------------------------------- the rules
def test_deep_chain_does_not_hit_recursion_limit():
    x = md.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 0.0001
    assert sys.getrecursionlimit() < 20_000
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_gradients_accumulate_for_a_plus_a():
    a = md.tensor([2.0, 3.0], requires_grad=True)
    (a + a).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])


def test_reused_intermediate_collects_both_uses():
    x = md.tensor([2.0], requires_grad=True)
    y = x * x            # y = x^2, used twice below
    z = y * 3 + y        # z = 4 x^2 -> dz/dx = 8x = 16
    z.sum().backward()
    np.testing.assert_allclose(x.grad, [16.0])


def test_leaf_grads_accumulate_across_backward_calls():
    x = md.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad, [7.0])


def test_second_backward_needs_retain_graph():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])


def test_backward_frees_intermediates():
    x = md.tensor(np.ones(1000), requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    loss = (h.exp()).sum()
    del h
    assert ref() is not None          # still held by the graph before backward
    loss.backward()
    gc.collect()
    assert ref() is None              # backward dropped it


def test_memory_stays_flat_over_many_steps():
    W = md.tensor(np.random.default_rng(0).normal(size=(20, 20)), requires_grad=True)
    x = md.tensor(np.ones((4, 20)))
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(300):
        loss = md.functional.tanh(x @ W).sum()
        loss.backward()
        W.grad = None
    del loss
    gc.collect()
    assert len(gc.get_objects()) - before < 50


def test_no_grad_records_nothing():
    x = md.tensor([1.0], requires_grad=True)
    with md.no_grad():
        y = x * 2
    assert y._ctx is None and not y.requires_grad
    assert md.is_grad_enabled()


def test_broadcasting_is_undone_in_backward():
    a = md.tensor(np.ones((2, 3)), requires_grad=True)
    b = md.tensor(np.ones((3,)), requires_grad=True)
    c = md.tensor(np.ones((2, 1)), requires_grad=True)
    (a * b + c).sum().backward()
    assert b.grad.shape == (3,) and c.grad.shape == (2, 1)
    np.testing.assert_allclose(b.grad, [2, 2, 2])
    np.testing.assert_allclose(c.grad, [[3], [3]])


def test_backward_of_nonscalar_needs_a_gradient():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0], dtype=np.float32))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_comparisons_are_plain_boolean_tensors():
    x = md.tensor([1.0, -1.0], requires_grad=True)
    m = x > 0
    assert m.dtype == bool and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), [True, False])


# ----------------------------------------------------------------------------- grad()
def test_grad_of_the_course_example():
    xs = md.tensor([-2.0, 0.0, 1.5, 3.0])
    g = md.grad(lambda x: 3 * x ** 2 + x)(xs)
    np.testing.assert_allclose(g.numpy(), 6 * xs.numpy() + 1)


def test_value_and_grad_and_argnums():
    f = lambda a, b: (a * b).sum()
    a, b = md.tensor([1.0, 2.0]), md.tensor([3.0, 4.0])
    value, (ga, gb) = md.value_and_grad(f, argnums=(0, 1))(a, b)
    assert value.item() == 11.0
    np.testing.assert_allclose(ga.numpy(), [3, 4])
    np.testing.assert_allclose(gb.numpy(), [1, 2])
    assert a.grad is None                     # grad() works on copies


def test_grad_works_inside_no_grad():
    with md.no_grad():
        g = md.grad(lambda x: (x * x).sum())(md.tensor([3.0]))
    np.testing.assert_allclose(g.numpy(), [6.0])


# ----------------------------------------------------------------------------- bad input
def test_matmul_shape_error_names_both_shapes():
    a, b = md.tensor(np.ones((2, 3))), md.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        a @ b


class _FakeCupyArray(np.ndarray):
    """Stands in for a CuPy array on a machine without one: another array type."""


def test_mixing_backends_is_a_clear_error(monkeypatch):
    a, b = md.tensor([1.0]), md.tensor([2.0])
    b.data = b.data.view(_FakeCupyArray)
    real = backend.name_of
    monkeypatch.setattr(backend, "name_of",
                        lambda arr: "cupy" if isinstance(arr, _FakeCupyArray) else real(arr))
    with pytest.raises(TypeError, match="different backends.*numpy.*cupy"):
        a + b


def test_custom_function_with_wrong_gradient_shape_is_caught():
    class Bad(md.Function):
        def forward(self, x):
            return x.sum()

        def backward(self, gy):
            return gy            # should be broadcast to x's shape

    x = md.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(\) for an input of shape \(2,\)"):
        Bad()(x).backward()


def test_leaf_grads_never_alias_each_other():
    # Add's backward hands the same array to both inputs; scaling one leaf's grad
    # in place (as clip_grad_norm does) must not change the other's.
    a = md.tensor([1.0, 2.0], requires_grad=True)
    b = md.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    seed = np.array([1.0, 1.0], dtype=np.float32)
    c = md.tensor([0.0, 0.0], requires_grad=True)
    (c * 1.0).backward(seed)
    c.grad *= 5
    np.testing.assert_array_equal(seed, [1.0, 1.0])


# ----------------------------------------------------------------------------- readability step
def test_equality_is_elementwise_and_hashing_stays_by_identity():
    a, b = md.tensor([1.0, 2.0, 3.0]), md.tensor([1.0, 0.0, 3.0])
    assert (a == b).numpy().tolist() == [True, False, True]
    assert (a != b).numpy().tolist() == [False, True, False]
    assert (a == 2.0).numpy().tolist() == [False, True, False]
    assert len({a, b, a}) == 2                    # still usable as graph-node keys


def test_truth_value_follows_numpy():
    assert bool(md.tensor([2.0]) > 1) is True
    assert bool(md.tensor([0.0]) > 1) is False
    with pytest.raises(ValueError, match=r"truth value of a tensor of shape \(2,\) is ambiguous"):
        bool(md.tensor([1.0, 2.0]) > 0)


def test_set_grad_enabled_and_enable_grad_nest_inside_no_grad():
    x = md.tensor([1.0], requires_grad=True)
    with md.no_grad():
        assert not md.is_grad_enabled()
        with md.enable_grad():
            assert (x * 2).requires_grad
        with md.set_grad_enabled(True):
            assert md.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert md.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_switch_off_recording_in_another():
    with another_thread_inside(md.no_grad):
        x = md.tensor([3.0], requires_grad=True)
        assert md.is_grad_enabled()
        (x * x).sum().backward()
        assert x.grad.tolist() == [6.0]


def test_function_classes_are_named_apart_from_layers():
    from minidl import nn
    x = md.tensor([[1.0, -1.0]], requires_grad=True)
    for layer, op_name in ((nn.ReLU(), "ReLUOp"), (nn.Sigmoid(), "SigmoidOp"), (nn.Tanh(), "TanhOp"),
                           (nn.LogSoftmax(), "LogSoftmaxOp"), (nn.Softmax(), "SoftmaxOp")):
        assert type(layer(x)._ctx).__name__ == op_name
    assert type(nn.Mean(axis=1)(x)._ctx).__name__ == "MeanOp"
    emb = nn.Embedding(5, 2)
    assert type(emb(md.tensor([[1, 2]]))._ctx).__name__ == "EmbeddingOp"
