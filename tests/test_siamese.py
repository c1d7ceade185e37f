"""Siamese pieces: the course's triplet loss (hard negatives), nn.Normalize, and shared towers."""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim
from minidl.losses import triplet_loss


def _unit(rng, shape):
    v = rng.normal(size=shape)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def loop_triplet(v1, v2, margin, negatives="both"):
    """The course's definition written out with Python loops, one anchor at a time."""
    B = len(v1)
    losses = []
    for i in range(B):
        s_ap = float(v1[i] @ v2[i])
        negs = [float(v1[i] @ v2[j]) for j in range(B) if j != i]
        mean_neg = sum(negs) / (B - 1)
        below = [s for s in negs if s <= s_ap]                # negatives above the positive are excluded
        # none left: every entry of the row had 2 subtracted, so the row max is max(row) - 2
        closest = max(below) if below else max(negs + [s_ap]) - 2.0
        l_mean = max(0.0, margin - s_ap + mean_neg)
        l_close = max(0.0, margin - s_ap + closest)
        losses.append({"mean_neg": l_mean, "closest_neg": l_close, "both": l_mean + l_close}[negatives])
    return sum(losses) / B


def _hard_batch():
    """5 anchors; in row 0 every negative beats the positive, in others only some do."""
    rng = np.random.default_rng(4)
    v1, v2 = _unit(rng, (5, 3)), _unit(rng, (5, 3))
    v2[0] = -v1[0]                                            # the positive is the worst match of row 0
    S = v1 @ v2.T
    pos = np.diag(S)
    above = S > pos[:, None]
    assert above[0].sum() == 4 and 0 < above[1:].sum() < 16   # the batch exercises every case
    return v1, v2


@pytest.mark.parametrize("negatives", ["mean_neg", "closest_neg", "both"])
def test_triplet_loss_equals_the_loop_reference(negatives, backend_name):
    v1, v2 = _hard_batch()
    for margin in (0.25, 1.0):
        got = triplet_loss(md.tensor(v1, dtype=md.float64), md.tensor(v2, dtype=md.float64), margin,
                           negatives).item()
        assert got == pytest.approx(loop_triplet(v1, v2, margin, negatives), abs=1e-12)


def test_closest_neg_is_no_longer_the_overall_largest_negative():
    """The previous minidl version took the largest off-diagonal score; the course's differs here."""
    v1, v2 = _hard_batch()
    S = v1 @ v2.T
    old = np.maximum(0.25 - np.diag(S) + (S - 2 * np.eye(5)).max(1), 0).mean()
    new = triplet_loss(md.tensor(v1, dtype=md.float64), md.tensor(v2, dtype=md.float64), 0.25,
                       "closest_neg").item()
    assert new == pytest.approx(loop_triplet(v1, v2, 0.25, "closest_neg"), abs=1e-12)
    assert abs(new - old) > 1e-3


@pytest.mark.parametrize("negatives", ["mean_neg", "closest_neg", "both"])
def test_triplet_loss_gradcheck(negatives, backend_name):
    v1, v2 = _hard_batch()
    report = md.gradcheck(lambda a, b: triplet_loss(a, b, 1.0, negatives), v1, v2)
    assert report, report
    # and through Normalize, from raw (unnormalised) tower outputs
    rng = np.random.default_rng(1)
    norm = nn.Normalize()
    report = md.gradcheck(lambda a, b: triplet_loss(norm(a), norm(b), 1.0, negatives),
                          rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    assert report, report


def test_triplet_loss_bad_shapes():
    with pytest.raises(ValueError, match=r"v1 \(3, 2\) and v2 \(4, 2\) must both be \(B, d\)"):
        triplet_loss(md.tensor(np.ones((3, 2))), md.tensor(np.ones((4, 2))))
    with pytest.raises(ValueError, match="negatives must be"):
        triplet_loss(md.tensor(np.ones((3, 2))), md.tensor(np.ones((3, 2))), negatives="hardest")


# ----------------------------------------------------------------------------- Normalize
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_normalize_gradcheck_and_unit_length(shape, backend_name):
    x = np.random.default_rng(0).normal(size=shape)
    report = md.gradcheck(nn.Normalize(), x)
    assert report, report
    y = nn.Normalize()(md.tensor(x, dtype=md.float64)).numpy()
    np.testing.assert_allclose(y, x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-9)
    # a zero vector gives zeros, not NaN
    assert np.all(nn.Normalize()(md.tensor(np.zeros((2, 3)))).numpy() == 0)


def test_normalized_dot_product_is_cosine():
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=(4, 6)), rng.normal(size=(4, 6)) * 7.0
    n = nn.Normalize()
    dots = (n(md.tensor(u, dtype=md.float64)) * n(md.tensor(v, dtype=md.float64))).sum(axis=1).numpy()
    cos = (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(dots, cos, rtol=1e-12)


# ----------------------------------------------------------------------------- shared towers
def _questions(seed, B=4, T=5, V=12):
    return np.random.default_rng(seed).integers(1, V, size=(B, T))


def test_siamese_towers_share_one_set_of_weights(backend_name):
    """Both branches push their gradient into the same weights, and one step moves both towers alike."""
    q1, q2 = md.tensor(_questions(0)), md.tensor(_questions(1))
    with md.default_dtype("float64"):
        model = md.models.SiameseLSTM(12, 6)
        model(q1, q2)                                        # the LSTM builds its weights at the first call
    tower = model[0]
    assert model[1] is tower
    assert len(model.parameters()) == 3                      # Embedding.W, LSTM W and b: listed once
    assert model.n_params() == tower.n_params()

    def grads(loss):
        model.zero_grad()
        loss.backward()
        return [md.backend.asnumpy(p.grad).copy() for p in model.parameters()]

    v1, v2 = model(q1, q2)
    g_both = grads(triplet_loss(v1, v2, 0.5))
    # each branch alone, with the other side's vectors held constant
    g_left = grads(triplet_loss(tower(q1), md.tensor(v2.data, dtype=md.float64), 0.5))
    g_right = grads(triplet_loss(md.tensor(v1.data, dtype=md.float64), tower(q2), 0.5))
    for gb, gl, gr in zip(g_both, g_left, g_right):
        np.testing.assert_allclose(gb, gl + gr, rtol=1e-9, atol=1e-12)
    assert all(np.abs(gl).max() > 0 and np.abs(gr).max() > 0 for gl, gr in zip(g_left, g_right))

    before = [p.numpy().copy() for p in model.parameters()]
    opt = optim.SGD(model, lr=0.1)
    opt.zero_grad()
    v1, v2 = model(q1, q2)
    triplet_loss(v1, v2, 0.5).backward()
    opt.step()
    for p, b, g in zip(model.parameters(), before, g_both):
        np.testing.assert_allclose(p.numpy(), b - 0.1 * g, rtol=1e-9, atol=1e-12)   # one update, not two
    # after the step both branches still compute the same function of a question
    a, b = model(q1, q1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_separate_towers_would_not_share():
    """The contrast: two towers built separately have two sets of weights (and 6 parameters)."""
    a = md.models.SiameseLSTM(12, 6)[0]
    b = md.models.SiameseLSTM(12, 6)[0]
    model = nn.Parallel(a, b)
    q = md.tensor(_questions(0))
    model(q, q)
    assert len(model.parameters()) == 6
    v1, v2 = model(q, q)
    assert not np.allclose(v1.numpy(), v2.numpy())
