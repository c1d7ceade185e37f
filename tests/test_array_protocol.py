"""Tensor speaks the array protocol that array-minded code (Trax's course code, NumPy calls) expects.

``np.asarray(t)`` is the NumPy array itself for a NumPy-backed tensor and refuses for a
CuPy-backed one (as CuPy does: no silent device-to-host copy); one-element tensors
convert to float / int / an index and format; NumPy's reductions stay differentiable;
NumPy's ufuncs refuse a Tensor instead of dropping its graph, and an ndarray on the
left of an operator hands over to the Tensor.
"""
import numpy as np
import pytest

import minidl as md
from minidl import backend


def test_asarray_is_the_numpy_array_and_a_device_tensor_refuses(backend_name, xp):
    t = md.tensor([[1.0, 2.0], [3.0, 4.0]])
    if backend_name == "numpy":
        a = np.asarray(t)
        assert a is t.data or np.shares_memory(a, t.data)            # no copy
        np.testing.assert_array_equal(np.asarray(t, dtype=np.float64), [[1, 2], [3, 4]])
        assert np.array(t, copy=True) is not t.data
    else:
        with pytest.raises(TypeError):
            np.asarray(t)
        np.testing.assert_array_equal(t.numpy(), [[1, 2], [3, 4]])     # the explicit way


def test_scalars_indices_and_formatting(backend_name):
    assert float(md.tensor(2.5)) == 2.5 and int(md.tensor(7)) == 7
    assert [10, 20, 30][md.tensor(1)] == 20
    assert f"{md.tensor(0.123456):.3f}" == "0.123" and f"{md.tensor(3):4d}" == "   3"
    assert f"{md.tensor([1.0, 2.0])}".startswith("tensor(")
    with pytest.raises(TypeError, match="0-d integer"):
        [1, 2][md.tensor(1.0)]
    with pytest.raises(TypeError, match="needs a 0-d tensor"):
        f"{md.tensor([1.0, 2.0]):.2f}"


def test_argmax_and_logical_operators_carry_no_graph(backend_name):
    t = md.tensor([[0.1, 0.7, 0.2], [0.9, 0.0, 0.5]], requires_grad=True)
    assert backend.asnumpy(t.argmax(axis=1).data).tolist() == [1, 0]
    assert int(t.argmax()) == 3 and t.argmax(axis=1, keepdims=True).shape == (2, 1)
    assert not t.argmax().requires_grad
    mask = (t > 0.4) | (t < 0.05)
    assert backend.asnumpy(mask.data).tolist() == [[False, True, False], [True, True, True]]
    assert backend.asnumpy((~mask).data).sum() == 2 and backend.asnumpy(((t > 0.4) & (t > 0.8)).data).sum() == 1


def test_ndarray_operators_and_numpy_reductions_keep_the_graph():
    t = md.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for y in (np.ones((2, 2)) * t, np.float64(2.0) * t, np.ones((2, 2)) - t, np.ones(2) @ t):
        assert isinstance(y, md.Tensor) and y.requires_grad
    s = np.sum(t * t, axis=1)                     # NumPy calls t.sum(axis=1, out=None)
    assert isinstance(s, md.Tensor) and s.requires_grad
    (np.mean(s) + np.max(t)).backward()
    np.testing.assert_allclose(t.grad, [[1.0, 2.0], [3.0, 4.0 + 1.0]])
    with pytest.raises(TypeError, match="does not support ufuncs"):
        np.exp(t)                                 # would have silently dropped the graph
    with pytest.raises(TypeError, match="out=..."):
        t.sum(out=np.zeros(()))
