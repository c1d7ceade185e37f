"""The speed-motivated pieces of issue 19 that are not row-sparse gradients (tests/test_sparse_grad.py).

* ``scan``'s ``Unstack``: one graph node for the T time slices (gradient-checked,
  and equal to slicing the sequence by hand);
* ``Function.__call__`` still refuses inputs from two backends after its fast path
  for a single input.
"""
import numpy as np
import pytest

import minidl as md
from minidl.ops.shape import Unstack
from minidl.ops import unstack


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_unstack_gradcheck(xp, axis):
    x = np.random.default_rng(axis).standard_normal((3, 4, 2))
    weights = [xp.asarray(np.random.default_rng(10 + t).standard_normal(np.delete(x.shape, axis)))
               for t in range(x.shape[axis])]             # constants on the backend under test

    def f(x):
        slices = unstack(x, axis)
        # every slice weighted differently, and slice 1 unused (its gradient is zeros)
        return sum((s * w).sum() for t, (s, w) in enumerate(zip(slices, weights)) if t != 1)

    report = md.gradcheck(f, x)
    assert report, report


def test_unstack_is_one_node_whose_slices_equal_indexing(backend_name):
    x = md.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    slices = unstack(x, 1)
    assert len(slices) == 3
    assert all(s._ctx is slices[0]._ctx and isinstance(s._ctx, Unstack) for s in slices)
    for t, s in enumerate(slices):
        np.testing.assert_array_equal(s.numpy(), x.numpy()[:, t])
    (slices[2] * 2.0).sum().backward()
    want = np.zeros((2, 3, 4))
    want[:, 2] = 2.0
    np.testing.assert_array_equal(md.backend.asnumpy(x.grad), want)


def test_a_single_step_sequence_still_unstacks():
    x = md.tensor(np.ones((2, 1, 3)), requires_grad=True)
    (s,) = unstack(x, 1)
    assert s.shape == (2, 3)
    s.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 1, 3)))


def test_mixed_backends_are_still_refused(cp):
    a = md.tensor(np.ones(3))
    b = md.tensor(np.ones(3), backend_name="cupy")
    with pytest.raises(TypeError, match="different backends"):
        a + b
