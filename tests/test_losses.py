"""Losses: the fused cross-entropy equals its composed twin; everything is stable."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from minidl.losses import binary_cross_entropy, cross_entropy, cross_entropy_simple, mse, triplet_loss


def _case(seed, shape, C):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape + (C,)) * 3
    targets = rng.integers(0, C, size=shape)
    mask = (rng.random(shape) > 0.3).astype(np.float64)
    mask.flat[0] = 1
    return logits, targets, mask


@given(seed=st.integers(0, 10**6), shape=st.sampled_from([(5,), (2, 4), (3, 1)]), C=st.integers(2, 6),
       use_mask=st.booleans(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_fused_equals_composed_in_value_and_gradient(seed, shape, C, use_mask, reduction, backend_name):
    logits, targets, mask = _case(seed, shape, C)
    m = mask if use_mask else None
    outs, grads = [], []
    for loss in (cross_entropy, cross_entropy_simple):
        z = md.tensor(logits, dtype=md.float64, requires_grad=True)
        L = loss(z, targets, mask=m, reduction=reduction)
        L.sum().backward()
        outs.append(L.numpy())
        grads.append(md.backend.asnumpy(z.grad))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", [cross_entropy, cross_entropy_simple])
def test_cross_entropy_gradcheck(loss, backend_name):
    logits, targets, mask = _case(1, (2, 3), 5)
    assert md.gradcheck(lambda z: loss(z, targets, mask=mask), logits)
    assert md.gradcheck(lambda z: loss(z, targets[:, 0]), logits[:, 0])


def test_cross_entropy_known_value():
    z = md.tensor([[0.0, 0.0, 0.0, 0.0]])
    assert abs(cross_entropy(z, np.array([2])).item() - np.log(4)) < 1e-6


def test_mask_ignores_padding():
    logits, targets, _ = _case(2, (1, 4), 3)
    mask = np.array([[1, 1, 0, 0]])
    full = cross_entropy(md.tensor(logits[:, :2]), targets[:, :2]).item()
    masked = cross_entropy(md.tensor(logits), targets, mask=mask).item()
    assert abs(full - masked) < 1e-6


def test_stability_at_huge_logits(backend_name):
    z = md.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    L = cross_entropy(z, np.array([0, 1]))
    L.backward()
    assert np.isfinite(L.item()) and np.all(np.isfinite(md.backend.asnumpy(z.grad)))
    ls = F.log_softmax(z).numpy()
    assert np.all(np.isfinite(ls)) and abs(ls[0, 0]) < 1e-6
    s = F.softmax(z).numpy()
    np.testing.assert_allclose(s.sum(axis=1), 1, rtol=1e-6)
    sig = F.sigmoid(md.tensor([-1e4, 1e4, 0.0])).numpy()
    np.testing.assert_allclose(sig, [0, 1, 0.5])
    b = binary_cross_entropy(md.tensor([1e4, -1e4]), np.array([0.0, 1.0]))
    assert np.isfinite(b.item()) and abs(b.item() - 1e4) < 1


def test_out_of_range_target_names_the_class():
    with pytest.raises(IndexError, match="target class 5 .* 3 classes"):
        cross_entropy(md.tensor(np.zeros((2, 3))), np.array([0, 5]))
    with pytest.raises(ValueError, match=r"targets of shape \(3,\) do not match logits of shape \(2, 3\)"):
        cross_entropy(md.tensor(np.zeros((2, 3))), np.array([0, 1, 2]))


def test_binary_cross_entropy_and_mse(backend_name):
    rng = np.random.default_rng(0)
    z, t = rng.normal(size=(4, 3)), (rng.random((4, 3)) > 0.5).astype(float)
    assert md.gradcheck(lambda a: binary_cross_entropy(a, t), z)
    s = 1 / (1 + np.exp(-z))
    expected = -(t * np.log(s) + (1 - t) * np.log(1 - s)).mean()
    assert abs(binary_cross_entropy(md.tensor(z, dtype=md.float64), t).item() - expected) < 1e-12
    assert md.gradcheck(lambda a, b: mse(a, b), z, t)
    assert abs(mse(md.tensor(z, dtype=md.float64), md.tensor(t, dtype=md.float64)).item()
               - ((z - t) ** 2).mean()) < 1e-12


@pytest.mark.parametrize("negatives", ["mean_neg", "closest_neg", "both"])
def test_triplet_loss(negatives, backend_name):
    rng = np.random.default_rng(0)
    v1, v2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    v1 /= np.linalg.norm(v1, axis=1, keepdims=True)
    v2 /= np.linalg.norm(v2, axis=1, keepdims=True)
    assert md.gradcheck(lambda a, b: triplet_loss(a, b, 0.25, negatives), v1, v2)
    # independent NumPy transcription of the course's formula
    S = v1 @ v2.T
    pos = np.diag(S)
    mean_neg = (S.sum(1) - pos) / 3
    closest = (S - 2 * (np.eye(4) + (S > pos[:, None]))).max(1)   # the course: negatives above the positive excluded
    l_mean = np.maximum(0.25 - pos + mean_neg, 0)
    l_close = np.maximum(0.25 - pos + closest, 0)
    want = {"mean_neg": l_mean, "closest_neg": l_close, "both": l_mean + l_close}[negatives].mean()
    got = triplet_loss(md.tensor(v1, dtype=md.float64), md.tensor(v2, dtype=md.float64), 0.25, negatives).item()
    assert abs(got - want) < 1e-12


@pytest.mark.parametrize("use_mask", [False, True])
def test_nll_loss_of_log_softmax_equals_cross_entropy_and_gradchecks(use_mask, backend_name):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((4, 5, 6))
    y = rng.integers(0, 6, size=(4, 5))
    mask = (rng.random((4, 5)) > 0.3).astype(np.float64) if use_mask else None
    with md.default_dtype("float64"):
        zt = md.tensor(z, backend_name=backend_name)
        a = md.losses.nll_loss(md.functional.log_softmax(zt), y, mask=mask)
        b = md.losses.cross_entropy(zt, y, mask=mask)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)
    report = md.gradcheck(lambda lp: md.losses.nll_loss(lp, y, mask=mask), z - 10)   # log-probabilities are <= 0
    assert report, report
    with pytest.raises(IndexError, match="target class 7 is out of range for 6 classes"):
        md.losses.nll_loss(md.tensor(z), np.full((4, 5), 7))
