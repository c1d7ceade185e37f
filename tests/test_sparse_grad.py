"""``nn.Embedding(V, d, sparse_grad=True)`` (minidl/fast/sparse_embedding.py) gives exactly the dense numbers.

The sparse form is a speed switch: an Embedding's dL/dW is stored as (distinct
ids, summed rows) and the optimizers apply it row by row.  Every test here runs
the same training twice -- once with ``sparse_grad=True``, once with the
default textbook layer (dense scatter-add) -- and asserts the parameters agree,
with repeated ids in every batch and different ids per step (so a lazy Adam, or
a scatter that drops repeats, would fail).
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim
from minidl.fast import sparse_embedding
from minidl.fast.sparse_embedding import RowSparseGrad, SparseEmbeddingOp

V, D = 12, 3
# three batches of ids (2, 5): repeats inside each batch, different rows per batch,
# and rows 10, 11 never looked up
BATCHES = [np.array([[2, 3, 2, 2, 5], [7, 3, 0, 2, 9]]),
           np.array([[1, 1, 1, 4, 6], [6, 8, 8, 0, 1]]),
           np.array([[9, 2, 4, 4, 3], [5, 5, 7, 1, 9]])]


def _model(sparse=True):
    md.seed(3)
    return nn.Serial(nn.Embedding(V, D, sparse_grad=sparse), nn.Mean(axis=1), nn.Dense(2))


def _train(make_opt, dense, clip=None, steps=3):
    """Train on BATCHES with the row-sparse gradient, or (``dense=True``) the textbook layer."""
    model = _model(sparse=not dense)
    opt = make_opt(model)
    targets = md.tensor(np.array([0, 1]))
    emb = model[0]
    for t in range(steps):
        model.zero_grad()
        loss = md.losses.cross_entropy(model(md.tensor(BATCHES[t % len(BATCHES)])), targets)
        loss.backward()
        assert isinstance(emb.W.grad, RowSparseGrad) != dense
        if clip is not None:
            optim.clip_grad_norm(model, clip)
        opt.step()
    return [p.numpy() for p in model.parameters()]


OPTIMIZERS = {
    "sgd": lambda m: optim.SGD(m, lr=0.5),
    "sgd_momentum": lambda m: optim.SGD(m, lr=0.5, momentum=0.9),
    "sgd_weight_decay": lambda m: optim.SGD(m, lr=0.5, momentum=0.9, weight_decay=0.1),
    "adam": lambda m: optim.Adam(m, lr=0.1),
    "adam_weight_decay": lambda m: optim.Adam(m, lr=0.1, weight_decay=0.1),
    "adamw": lambda m: optim.AdamW(m, lr=0.1, weight_decay=0.1),
    "adagrad": lambda m: optim.Adagrad(m, lr=0.5, initial_accumulator_value=0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_sparse_and_dense_updates_agree(backend_name, name):
    sparse = _train(OPTIMIZERS[name], dense=False)
    dense = _train(OPTIMIZERS[name], dense=True)
    for s, d in zip(sparse, dense):
        np.testing.assert_allclose(s, d, rtol=1e-6, atol=1e-7)
    # and training did move the looked-up rows (a no-op optimizer would also "agree")
    start = _model().parameters()[0].numpy()
    assert np.abs(sparse[0][[1, 2, 3]] - start[[1, 2, 3]]).max() > 1e-3


def test_clip_grad_norm_agrees_and_measures_the_dense_norm(backend_name):
    sparse = _train(OPTIMIZERS["sgd_momentum"], dense=False, clip=0.05)
    dense = _train(OPTIMIZERS["sgd_momentum"], dense=True, clip=0.05)
    for s, d in zip(sparse, dense):
        np.testing.assert_allclose(s, d, rtol=1e-6, atol=1e-7)
    model = _model()
    loss = md.losses.cross_entropy(model(md.tensor(BATCHES[0])), md.tensor(np.array([0, 1])))
    loss.backward()
    W = model[0].W
    dense_grads = [np.asarray(W.grad)] + [md.backend.asnumpy(p.grad) for p in model[2].parameters()]
    want = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in dense_grads))
    assert optim.clip_grad_norm(model, 1e9) == pytest.approx(want, rel=1e-5)
    assert isinstance(W.grad, RowSparseGrad)     # measuring did not expand it


def test_the_sparse_gradient_sums_repeated_ids_and_reads_as_dense(backend_name):
    ids = np.array([[4, 1, 4], [4, 0, 1]])
    W = nn.parameter(np.arange(V * D, dtype=float).reshape(V, D))
    gy = np.random.default_rng(0).standard_normal((2, 3, D)).astype(np.float32)
    y = md.ops.embedding(md.tensor(ids), W, op=SparseEmbeddingOp)
    (y * md.tensor(gy)).sum().backward()
    rows = W.grad
    assert isinstance(rows, RowSparseGrad) and rows.shape == (V, D)
    np.testing.assert_array_equal(md.backend.asnumpy(rows.ids), [0, 1, 4])   # distinct, sorted
    want = np.zeros((V, D), np.float32)
    np.add.at(want, ids.reshape(-1), gy.reshape(-1, D))                      # the textbook scatter-add
    np.testing.assert_allclose(md.backend.asnumpy(rows.rows), want[[0, 1, 4]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(rows), want, rtol=1e-6)
    np.testing.assert_allclose(md.backend.asnumpy(rows.to_dense()), want, rtol=1e-6)
    assert "3 of 12 rows" in repr(rows)
    # the default op gives the same numbers as a plain array
    W.grad = None
    (md.ops.embedding(md.tensor(ids), W) * md.tensor(gy)).sum().backward()
    assert type(W.grad) is type(md.backend.xp().zeros(1))
    np.testing.assert_allclose(md.backend.asnumpy(W.grad), want, rtol=1e-6)


def test_gradients_accumulate_over_two_backwards_and_a_tied_weight(backend_name):
    W = nn.parameter(np.random.default_rng(1).standard_normal((V, D)))
    a, b = np.array([3, 3, 5]), np.array([5, 7])
    md.ops.embedding(md.tensor(a), W, op=SparseEmbeddingOp).sum().backward()
    md.ops.embedding(md.tensor(b), W, op=SparseEmbeddingOp).sum().backward()      # no zero_grad: accumulate
    assert isinstance(W.grad, RowSparseGrad)                 # two row sets summed, still sparse
    want = np.zeros((V, D), np.float32)
    np.add.at(want, np.concatenate([a, b]), 1.0)
    np.testing.assert_allclose(np.asarray(W.grad), want)
    # a tied weight: the same W in a lookup and in a dense product
    W.grad = None
    h = md.tensor(np.ones((1, D), np.float32))
    loss = md.ops.embedding(md.tensor(a), W, op=SparseEmbeddingOp).sum() + (h @ W.T).sum()
    loss.backward()
    counts = np.zeros((V, D), np.float32)
    np.add.at(counts, a, 1.0)
    np.testing.assert_allclose(md.backend.asnumpy(W.grad), counts + 1.0)   # d sum(h W^T) / dW = 1


def test_a_table_that_is_not_a_leaf_gets_the_dense_gradient(backend_name):
    W = nn.parameter(np.ones((V, D)))
    ids = np.array([2, 2, 4])
    md.ops.embedding(md.tensor(ids), W * 3.0, op=SparseEmbeddingOp).sum().backward()
    assert type(W.grad) is type(md.backend.xp().zeros(1))
    want = np.zeros((V, D))
    np.add.at(want, ids, 3.0)
    np.testing.assert_allclose(md.backend.asnumpy(W.grad), want)


def test_a_row_update_counts_as_a_change_of_the_parameter(backend_name):
    model = _model()
    opt = optim.SGD(model, lr=0.1)
    out = model(md.tensor(BATCHES[0]))
    loss = md.losses.cross_entropy(out, md.tensor(np.array([0, 1])))
    loss.backward(retain_graph=True)
    opt.step()                                   # rows of W change in place ...
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()                          # ... so the old graph is refused


def test_gradcheck_sees_the_dense_gradient(backend_name):
    with md.default_dtype("float64"):
        W = nn.parameter(np.random.default_rng(2).standard_normal((V, D)))
    ids = md.tensor(np.array([[1, 1, 3], [3, 0, 1]]))
    report = md.gradcheck(lambda W: (md.ops.embedding(ids, W, op=SparseEmbeddingOp) ** 2).sum(), W)
    assert report, report
    layer = nn.Embedding(V, D, sparse_grad=True)
    report = md.gradcheck(lambda ids: (layer(ids) ** 2).sum(), ids, params=layer.parameters())
    assert report and len(report.entries) == 1, report


@pytest.mark.parametrize("shape", [(40,), (4, 10)])
@pytest.mark.parametrize("broadcast", [False, True])
def test_from_lookup_sums_every_occurrence_rank(shape, broadcast):
    """An id seen once, twice, ..., 20 times (beyond the plain-indexing passes, so the
    scatter-add for the rest runs too), from a full or a broadcast (Mean-style) gradient."""
    rng = np.random.default_rng(9)
    ids = np.concatenate([np.full(20, 7), np.full(9, 3), np.full(3, 11), [0, 5, 2, 2, 1, 9, 9, 4]])
    ids = rng.permutation(ids).reshape(shape)
    assert (np.bincount(ids.ravel()).max()) > sparse_embedding._RANK_PASSES + 1
    if broadcast:                                    # one row per leading index, repeated
        grads = np.broadcast_to(rng.standard_normal(shape[:-1] + (1, 3)), shape + (3,))
    else:
        grads = rng.standard_normal(shape + (3,))
    g = RowSparseGrad.from_lookup(ids, grads, 12)
    expected = np.zeros((12, 3))
    np.add.at(expected, ids.ravel(), grads.reshape(-1, 3))
    np.testing.assert_allclose(g.to_dense(), expected, rtol=1e-12, atol=1e-12)
    assert list(g.ids) == sorted(set(ids.ravel().tolist()))
