"""Row-sparse Embedding gradients (minidl/sparse.py) give exactly the dense numbers.

The sparse form is a speed trick: an Embedding's dL/dW is stored as (distinct
ids, summed rows) and the optimizers apply it row by row.  Every test here runs
the same training twice -- once with the sparse gradient, once with it expanded
to the dense (V, d) array (reading ``W.grad`` does that) -- and asserts the
parameters agree, with repeated ids in every batch and different ids per step
(so a lazy Adam, or a scatter that drops repeats, would fail).
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim
from minidl.sparse import RowSparseGrad

V, D = 12, 3
# three batches of ids (2, 5): repeats inside each batch, different rows per batch,
# and rows 10, 11 never looked up
BATCHES = [np.array([[2, 3, 2, 2, 5], [7, 3, 0, 2, 9]]),
           np.array([[1, 1, 1, 4, 6], [6, 8, 8, 0, 1]]),
           np.array([[9, 2, 4, 4, 3], [5, 5, 7, 1, 9]])]


def _model():
    md.seed(3)
    return nn.Serial(nn.Embedding(V, D), nn.Mean(axis=1), nn.Dense(2))


def _train(make_opt, dense, clip=None, steps=3):
    """Train on BATCHES; ``dense=True`` expands the embedding gradient before each step."""
    model = _model()
    opt = make_opt(model)
    targets = md.tensor(np.array([0, 1]))
    emb = model[0]
    for t in range(steps):
        model.zero_grad()
        loss = md.losses.cross_entropy(model(md.tensor(BATCHES[t % len(BATCHES)])), targets)
        loss.backward()
        assert isinstance(emb.W.sparse_grad, RowSparseGrad)
        if dense:
            emb.W.grad = emb.W.grad            # reading .grad expands it; the optimizer sees an array
            assert emb.W.sparse_grad is None
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
    dense_grads = [np.asarray(W.sparse_grad)] + [md.backend.asnumpy(p.grad) for p in model[2].parameters()]
    want = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in dense_grads))
    assert optim.clip_grad_norm(model, 1e9) == pytest.approx(want, rel=1e-5)
    assert W.sparse_grad is not None             # measuring did not expand it


def test_the_sparse_gradient_sums_repeated_ids_and_reads_as_dense(backend_name):
    ids = np.array([[4, 1, 4], [4, 0, 1]])
    W = nn.parameter(np.arange(V * D, dtype=float).reshape(V, D))
    gy = np.random.default_rng(0).standard_normal((2, 3, D)).astype(np.float32)
    y = md.ops.embedding(md.tensor(ids), W)
    (y * md.tensor(gy)).sum().backward()
    rows = W.sparse_grad
    assert isinstance(rows, RowSparseGrad) and rows.shape == (V, D)
    np.testing.assert_array_equal(md.backend.asnumpy(rows.ids), [0, 1, 4])   # distinct, sorted
    want = np.zeros((V, D), np.float32)
    np.add.at(want, ids.reshape(-1), gy.reshape(-1, D))                      # the textbook scatter-add
    np.testing.assert_allclose(md.backend.asnumpy(rows.rows), want[[0, 1, 4]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(rows), want, rtol=1e-6)
    dense = W.grad                                                           # what a learner reads
    assert dense.shape == (V, D) and W.sparse_grad is None
    np.testing.assert_allclose(md.backend.asnumpy(dense), want, rtol=1e-6)
    assert "3 of 12 rows" in repr(rows)


def test_gradients_accumulate_over_two_backwards_and_a_tied_weight(backend_name):
    W = nn.parameter(np.random.default_rng(1).standard_normal((V, D)))
    a, b = np.array([3, 3, 5]), np.array([5, 7])
    md.ops.embedding(md.tensor(a), W).sum().backward()
    assert W.sparse_grad is not None
    md.ops.embedding(md.tensor(b), W).sum().backward()      # no zero_grad: accumulate
    want = np.zeros((V, D), np.float32)
    np.add.at(want, np.concatenate([a, b]), 1.0)
    np.testing.assert_allclose(md.backend.asnumpy(W.grad), want)
    # a tied weight: the same W in a lookup and in a dense product
    W.grad = None
    h = md.tensor(np.ones((1, D), np.float32))
    loss = md.ops.embedding(md.tensor(a), W).sum() + (h @ W.T).sum()
    loss.backward()
    counts = np.zeros((V, D), np.float32)
    np.add.at(counts, a, 1.0)
    np.testing.assert_allclose(md.backend.asnumpy(W.grad), counts + 1.0)   # d sum(h W^T) / dW = 1


def test_a_non_leaf_table_gets_the_dense_gradient(backend_name):
    W = nn.parameter(np.ones((V, D)))
    ids = np.array([2, 2, 4])
    md.ops.embedding(md.tensor(ids), W * 3.0).sum().backward()
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
    report = md.gradcheck(lambda W: (md.ops.embedding(ids, W) ** 2).sum(), W)
    assert report, report


@pytest.mark.parametrize("shape", [(40,), (4, 10)])
@pytest.mark.parametrize("broadcast", [False, True])
def test_from_lookup_sums_every_occurrence_rank(shape, broadcast):
    """An id seen once, twice, ..., 20 times (beyond the plain-indexing passes, so the
    scatter-add for the rest runs too), from a full or a broadcast (Mean-style) gradient."""
    from minidl import sparse
    rng = np.random.default_rng(9)
    ids = np.concatenate([np.full(20, 7), np.full(9, 3), np.full(3, 11), [0, 5, 2, 2, 1, 9, 9, 4]])
    ids = rng.permutation(ids).reshape(shape)
    assert (np.bincount(ids.ravel()).max()) > sparse._RANK_PASSES + 1
    if broadcast:                                    # one row per leading index, repeated
        grads = np.broadcast_to(rng.standard_normal(shape[:-1] + (1, 3)), shape + (3,))
    else:
        grads = rng.standard_normal(shape + (3,))
    g = RowSparseGrad.from_lookup(ids, grads, 12)
    expected = np.zeros((12, 3))
    np.add.at(expected, ids.ravel(), grads.reshape(-1, 3))
    np.testing.assert_allclose(g.to_dense(), expected, rtol=1e-12, atol=1e-12)
    assert list(g.ids) == sorted(set(ids.ravel().tolist()))
