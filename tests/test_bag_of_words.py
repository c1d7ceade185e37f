"""Trask's bag-of-words network (minidl.models.BagOfWordsNet) and its generated reviews.

The heart of lesson 03, step 3: the textbook forward pass (x @ W0 with a V-wide
input) and the row-sum one (an Embedding-sum of the words present) are the same
function, with the same gradients, and the sparse training step that updates
only the rows of the words present leaves exactly the weights of the dense one.
"""
import collections
import re

import numpy as np
import pytest

import minidl as md
from minidl import backend
from minidl.datasets.synthetic_reviews import make_movie_reviews
from minidl.models import BagOfWordsNet

V, H = 30, 4


def _net(seed=0):
    """A float64 net with non-zero W0 (at W0 = 0 half the gradients would vanish trivially)."""
    md.seed(seed)
    with md.default_dtype("float64"):
        net = BagOfWordsNet(V, H)
        net.W0.data[:] = backend.to_backend(np.random.default_rng(seed).normal(0, 0.3, (V, H)),
                                            backend.name_of(net.W0.data))
    return net


def _dense(ids):
    x = np.zeros((1, V))
    np.add.at(x[0], ids, 1.0)
    return x


@pytest.mark.parametrize("ids", [[3, 7, 11, 29], [0, 5, 5, 5, 12]], ids=["binary", "counts"])
def test_dense_and_row_sum_forward_give_the_same_output_and_gradients(backend_name, ids):
    net = _net()
    ids = np.array(ids)
    with md.default_dtype("float64"):
        p_dense = net.forward_dense(_dense(ids))
        net.loss(p_dense, 1.0).backward()
        g_dense = [backend.asnumpy(p.grad).copy() for p in (net.W0, net.W1)]
        net.zero_grad()
        p_rows = net.forward_rows(ids)
        net.loss(p_rows, 1.0).backward()
        g_rows = [backend.asnumpy(p.grad) for p in (net.W0, net.W1)]
    np.testing.assert_allclose(p_rows.numpy(), p_dense.numpy(), rtol=1e-12)
    for a, b in zip(g_dense, g_rows):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)
    untouched = np.setdiff1d(np.arange(V), ids)
    assert np.all(g_rows[0][untouched] == 0) and np.all(np.abs(g_rows[0][np.unique(ids)]).sum(axis=1) > 0)


def test_sparse_training_step_leaves_the_same_weights_as_the_dense_one(backend_name):
    dense_net, rows_net = _net(), _net()
    rng = np.random.default_rng(1)
    with md.default_dtype("float64"):
        for step in range(20):
            ids = rng.integers(0, V, size=rng.integers(1, 9))     # repeats included: counts
            y = step % 2
            p1 = dense_net.train_step_dense(_dense(ids), y, lr=0.1)
            p2 = rows_net.train_step_rows(ids, y, lr=0.1)
            assert p1 == pytest.approx(p2, rel=1e-12)
    for a, b in ((dense_net.W0, rows_net.W0), (dense_net.W1, rows_net.W1)):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-13)


def test_gradcheck_of_both_forward_passes(backend_name):
    net = _net()
    ids = np.array([1, 4, 4, 9, 20])
    assert md.gradcheck(lambda x: net.forward_dense(x), _dense(ids), params=list(net.parameters()))
    assert md.gradcheck(lambda: net.forward_rows(ids), params=list(net.parameters()))


def test_from_w0_zero_every_row_stays_parallel_to_w1():
    """Lesson 03 step 5's claim: the 10 hidden units hold one number per word."""
    md.seed(0)
    net = BagOfWordsNet(V, 10)
    rng = np.random.default_rng(2)
    for step in range(200):
        net.train_step_rows(np.unique(rng.integers(0, V, size=6)), step % 3 == 0, lr=0.1)
    W0, W1 = net.W0.numpy().astype(np.float64), net.W1.numpy()[:, 0].astype(np.float64)
    used = np.linalg.norm(W0, axis=1) > 0
    cos = W0[used] @ W1 / (np.linalg.norm(W0[used], axis=1) * np.linalg.norm(W1))
    assert used.sum() == V and np.all(np.abs(cos) > 0.9999)
    # ...and a random start breaks it (so the check above can fail):
    net.W0.data[:] = np.random.default_rng(3).normal(0, 0.1, net.W0.shape)
    W0 = net.W0.numpy()
    assert np.mean(np.abs(W0 @ W1 / (np.linalg.norm(W0, axis=1) * np.linalg.norm(W1))) > 0.9999) < 0.5


def test_bad_input_names_the_problem():
    net = BagOfWordsNet(V, H)
    with pytest.raises(IndexError, match=r"BagOfWordsNet_30_4: word id 30 is outside 0..29"):
        net.forward_rows(np.array([1, 30]))
    with pytest.raises(IndexError, match=r"word id -1"):
        net.train_step_rows(np.array([-1, 2]), 1, lr=0.1)
    with pytest.raises(ValueError, match=r"ids must be a 1-D integer array .* \(2, 2\)"):
        net.forward_rows(np.array([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match=r"input has 29 columns, the vocabulary has 30"):
        net.forward_dense(np.zeros((1, 29)))


def _tokens(text):
    return re.findall(r"[a-z0-9]+|[.,!?]", text.lower())


def test_generated_reviews_are_seeded_and_carry_the_planted_polarity():
    a, b = make_movie_reviews(n=800, seed=5), make_movie_reviews(n=800, seed=5)
    assert a["texts"] == b["texts"] and np.array_equal(a["labels"], b["labels"])
    assert a["texts"] != make_movie_reviews(n=800, seed=6)["texts"]
    assert 0.4 < a["labels"].mean() < 0.6
    pos, neg = collections.Counter(), collections.Counter()
    for text, y in zip(a["texts"], a["labels"]):
        (pos if y else neg).update(set(_tokens(text)))
    strong = [w for w, s in a["lexicon"].items() if abs(s) == 2 and pos[w] + neg[w] >= 20]
    assert len(strong) >= 10
    for w in strong:
        ratio = np.log((pos[w] + 1) / (neg[w] + 1))
        assert np.sign(ratio) == np.sign(a["lexicon"][w]) and abs(ratio) > 0.5, (w, pos[w], neg[w])
    glue = np.log((pos["the"] + 1) / (neg["the"] + 1))
    assert abs(glue) < 0.15                                   # "the" is in every review of both classes


def test_the_network_learns_the_generated_reviews():
    data = make_movie_reviews(n=700, seed=0)
    toks = [set(_tokens(t)) for t in data["texts"]]
    vocab = sorted(set().union(*toks[:600]))
    index = {w: i for i, w in enumerate(vocab)}
    X = [np.array(sorted(index[w] for w in t if w in index)) for t in toks]
    md.seed(0)
    net = BagOfWordsNet(len(vocab))
    for i in range(600):
        net.train_step_rows(X[i], data["labels"][i], lr=0.1)
    with md.no_grad():
        pred = np.array([net.forward_rows(X[i]).item() > 0.5 for i in range(600, 700)])
    assert (pred == data["labels"][600:]).mean() >= 0.7
