"""Deferred weight gradients (minidl/lazy_grad.py): a Parameter used by many matmuls
collects (input, gradient) pairs and multiplies them out once, when the gradient is read.

Every test compares against the step-by-step gradient, obtained by switching the
deferral off (``arithmetic._defer_weight_grad``), so the trick can only ever be a
change of speed, never of value.
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim
from minidl.lazy_grad import MatMulWeightGrad
from minidl.ops import arithmetic
from minidl.sparse import RowSparseGrad


@pytest.fixture
def no_deferral(monkeypatch):
    """Call it to run the textbook path: every a^T @ gy computed as it arrives."""
    return lambda: monkeypatch.setattr(arithmetic, "_defer_weight_grad", lambda *a: False)


def _scanned_grads(layer, dtype, defer, monkeypatch):
    if not defer:
        monkeypatch.setattr(arithmetic, "_defer_weight_grad", lambda *a: False)
    with md.default_dtype(dtype):
        md.seed(3)
        model = nn.Serial(nn.Embedding(11, 5), layer(7), nn.Dense(11), nn.LogSoftmax())
        ids = np.random.default_rng(0).integers(0, 11, size=(4, 9))
        loss = md.losses.nll_loss(model(md.tensor(ids)), md.tensor(ids))
        loss.backward()
        stored = model[1].cell.W._grad
        return stored, {n: p.grad.copy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("layer,blocks", [(nn.LSTM, {0}), (nn.GRU, {0, 14})])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 2e-6)])
def test_scanned_cell_weight_gradient_is_deferred_and_equal(monkeypatch, layer, blocks, dtype, tol):
    """The LSTM multiplies all of W at each step; the GRU its column blocks [u|r] and [h']
    (cut by ops.split), which Split.backward keeps deferred, shifted into place."""
    stored, lazy = _scanned_grads(layer, dtype, True, monkeypatch)
    assert isinstance(stored, MatMulWeightGrad)       # the scan's cell weight waited ...
    assert set(stored.cols) == blocks and len(stored.lefts) == 9 * len(blocks)
    _, eager = _scanned_grads(layer, dtype, False, monkeypatch)
    for name in eager:                                # ... and reads back the same numbers
        np.testing.assert_allclose(lazy[name], eager[name], rtol=tol, atol=tol, err_msg=name)


def test_split_with_one_block_used_densely_falls_back():
    """A column block used by a deferred matmul and another used elsewhere: dense, and right."""
    rng = np.random.default_rng(7)
    x = md.tensor(rng.standard_normal((4, 3)), dtype="float64", requires_grad=True)
    W = nn.Parameter(rng.standard_normal((3, 5)))
    left, right = md.ops.split(W, [2], axis=1)
    loss = (md.ops.tanh(x) @ left).sum() + (right * right).sum()
    loss.backward()
    assert isinstance(W._grad, np.ndarray)
    expected = np.concatenate([np.tanh(x.numpy()).T @ np.ones((4, 2)), 2 * W.data[:, 2:]], axis=1)
    np.testing.assert_allclose(W.grad, expected, rtol=1e-12)


def _reused_weight_loss(W, x, extra_dense_use):
    """W as the right operand of three matmuls (each on an intermediate), maybe also elsewhere."""
    h = md.ops.tanh(x)
    loss = ((h @ W).sum() + (md.ops.relu(x) @ W * 2.0).sum() + ((h * 3.0) @ W).mean())
    if extra_dense_use:
        loss = loss + (W * W).sum()                   # an ordinary dense gradient joins in
    return loss


@pytest.mark.parametrize("extra_dense_use", [False, True])
def test_weight_used_by_several_matmuls(no_deferral, extra_dense_use):
    rng = np.random.default_rng(1)
    x = md.tensor(rng.standard_normal((5, 4)), dtype="float64", requires_grad=True)  # so tanh(x) is recorded
    W = nn.Parameter(rng.standard_normal((4, 3)))
    _reused_weight_loss(W, x, extra_dense_use).backward()
    assert isinstance(W._grad, np.ndarray if extra_dense_use else MatMulWeightGrad)
    lazy = W.grad.copy()
    W.grad = None
    no_deferral()
    _reused_weight_loss(W, x, extra_dense_use).backward()
    np.testing.assert_allclose(lazy, W.grad, rtol=1e-12)


def test_two_backward_passes_accumulate_without_expanding():
    rng = np.random.default_rng(2)
    x = md.tensor(rng.standard_normal((6, 4)), dtype="float64", requires_grad=True)
    W = nn.Parameter(rng.standard_normal((4, 2)))
    for _ in range(2):
        (md.ops.tanh(x) @ W).sum().backward()
    assert isinstance(W._grad, MatMulWeightGrad) and len(W._grad.lefts) == 2
    once = np.tanh(x.numpy()).T @ np.ones((6, 2))
    np.testing.assert_allclose(W.grad, 2 * once, rtol=1e-12)
    assert isinstance(W._grad, np.ndarray)            # reading expanded it, once, for good


def test_not_deferred_for_a_leaf_input_or_a_view():
    """The left operand must be an intermediate owning its memory: an input batch or a
    view of a parameter could be overwritten before the product is finally taken."""
    rng = np.random.default_rng(3)
    x = md.tensor(rng.standard_normal((3, 4)))
    W = nn.Parameter(rng.standard_normal((4, 2)).astype(np.float32))
    (x @ W).sum().backward()
    assert isinstance(W._grad, np.ndarray)            # a leaf input: computed at once

    P = nn.Parameter(rng.standard_normal((2, 6)))
    Q = nn.Parameter(rng.standard_normal((4, 2)))
    A = P.reshape(3, 4)                              # an intermediate that is a view of P
    assert A.data.base is not None
    (A @ Q).sum().backward()
    assert isinstance(Q._grad, np.ndarray)
    expected = P.data.reshape(3, 4).T @ np.ones((3, 2))
    optim.SGD([P, Q], lr=0.5).step()                 # P changes first ...
    np.testing.assert_allclose(Q.grad, expected)      # ... Q's gradient saw the old P


def test_sgd_step_with_a_deferred_gradient_matches_the_eager_one(no_deferral):
    def train(defer):
        if not defer:
            no_deferral()
        md.seed(4)
        model = nn.Serial(nn.Embedding(13, 6), nn.GRU(5), nn.Dense(13), nn.LogSoftmax())
        opt = optim.SGD(model, lr=0.3, momentum=0.9)
        ids = np.random.default_rng(5).integers(0, 13, size=(3, 7))
        for _ in range(3):
            model.zero_grad()
            md.losses.nll_loss(model(md.tensor(ids)), md.tensor(ids)).backward()
            md.optim.clip_grad_norm(model, 1.0)
            opt.step()
        return [p.data.copy() for p in model.parameters()]
    for a, b in zip(train(True), train(False)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_tied_weight_row_sparse_plus_deferred():
    """W both looked up (row-sparse gradient) and multiplied (deferred): the sum is dense."""
    rng = np.random.default_rng(6)
    W = nn.Parameter(rng.standard_normal((5, 5)))
    ids = md.tensor(np.array([[0, 3, 3]]))
    e = md.ops.embedding(ids, W).reshape(3, 5)        # (3, 5), a row-sparse gradient for W
    y = md.ops.tanh(e) @ W                           # and a deferred one
    y.sum().backward()
    assert not isinstance(W._grad, (RowSparseGrad, MatMulWeightGrad))
    # the same loss with W's two roles split into two leaves, summed by hand
    W1, W2 = (md.tensor(W.data.copy(), requires_grad=True, dtype="float64") for _ in range(2))
    (md.ops.tanh(md.ops.embedding(ids, W1).reshape(3, 5)) @ W2).sum().backward()
    np.testing.assert_allclose(W.grad, W1.grad + W2.grad, rtol=1e-12)


def test_repr_and_asarray():
    a, g = np.ones((2, 3)), np.full((2, 4), 0.5)
    lazy = MatMulWeightGrad([a], [g], (3, 4), g.dtype) + MatMulWeightGrad([a], [g], (3, 4), g.dtype)
    assert "2 products" in repr(lazy) and lazy.ndim == 2
    np.testing.assert_allclose(np.asarray(lazy), 2 * a.T @ g)


def test_many_accumulated_backwards_fall_back_to_a_dense_sum(monkeypatch):
    """Gradient accumulation without a read must not keep every pass's activations alive."""
    monkeypatch.setattr(MatMulWeightGrad, "HELD_LIMIT", 3)
    rng = np.random.default_rng(8)
    x = md.tensor(rng.standard_normal((4, 3)), dtype="float64", requires_grad=True)
    W = nn.Parameter(rng.standard_normal((3, 2)))
    kinds = []
    for _ in range(4):                   # each pass holds 4 * (3 + 2) = 20 numbers; W has 6
        (md.ops.tanh(x) @ W).sum().backward()
        kinds.append(type(W._grad))
    assert kinds[0] is MatMulWeightGrad and kinds[-1] is np.ndarray
    np.testing.assert_allclose(W.grad, 4 * np.tanh(x.numpy()).T @ np.ones((4, 2)), rtol=1e-12)
