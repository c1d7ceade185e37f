"""minidl.models.neural_lm: the neural n-gram LM (full / hierarchical output), the serial scorer
and its sampled softmax, Collobert-Weston's window scorer and hinge ranking loss.
Float64 gradient checks on every backend, including the zero-gradient side of the hinge."""
import numpy as np
import pytest

import minidl as md
from minidl.models import NeuralLM, SerialScorer, WindowScorer, corrupt_middle, hinge_ranking_loss

V, N_CTX, D, H = 9, 2, 3, 4
CTX = np.array([[2, 3], [4, 4], [8, 0], [5, 1]])


def _f64(make):
    with md.default_dtype("float64"):
        return make()


# ----------------------------------------------------------------------------- serial scoring
@pytest.mark.parametrize("share,activation", [(True, "tanh"), (False, "relu")])
def test_serial_scorer_gradcheck_per_example_and_shared_candidates(backend_name, share, activation):
    scorer = _f64(lambda: SerialScorer(V, N_CTX, D, H, share=share, activation=activation))
    with md.no_grad():                              # non-zero word biases, so their gradient is checked too
        scorer.beta.data += md.backend.xp().asarray(np.linspace(-1, 1, V))
    per_example = md.tensor(np.array([[1, 2, 2], [0, 8, 3], [4, 5, 6], [7, 7, 1]]))   # (B, K), repeats
    shared = md.tensor(np.array([3, 8, 3]))                                           # (K,)
    for cands in (per_example, shared):
        report = md.gradcheck(lambda: scorer(CTX, cands), params=scorer.parameters())
        assert report, str(report)
        assert len(report.entries) == (6 if share else 7)          # v, beta, E, W_ctx, b, W_cand (+ E_cand)
    assert scorer(CTX, shared).shape == (4, 3)


@pytest.mark.parametrize("activation,g", [("relu", lambda x: np.maximum(x, 0)), ("tanh", np.tanh)])
def test_serial_scorer_is_the_network_run_once_per_candidate(backend_name, activation, g):
    """s(ctx, c) = v . g(W_ctx [e(w1); e(w2)] + b + W_cand e(c)) + beta_c, written out by hand."""
    scorer = _f64(lambda: SerialScorer(V, N_CTX, D, H, share=False, activation=activation))
    E, Ec = scorer.embed.W.numpy(), scorer.embed_candidate.W.numpy()
    Wc, b, Wk = scorer.context.W.numpy(), scorer.context.b.numpy(), scorer.candidate.W.numpy()
    v, beta = scorer.v.numpy(), scorer.beta.numpy()
    got = scorer(CTX, np.array([6, 2])).numpy()
    for i, ctx in enumerate(CTX):
        A = np.concatenate([E[w] for w in ctx]) @ Wc + b
        for j, c in enumerate([6, 2]):
            np.testing.assert_allclose(got[i, j], v @ g(A + Ec[c] @ Wk) + beta[c], rtol=1e-12)


def test_serial_log_probs_score_every_candidate(backend_name):
    scorer = _f64(lambda: SerialScorer(V, N_CTX, D, H))
    lp = scorer.log_probs(CTX, chunk=3).numpy()                        # two chunks
    assert lp.shape == (4, V)
    np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0, rtol=1e-12)
    s = scorer(CTX, np.arange(V)).numpy()
    np.testing.assert_allclose(lp, s - np.log(np.exp(s).sum(-1, keepdims=True)), rtol=1e-10)


def test_sampled_logits_correction_mask_and_gradient(backend_name):
    scorer = _f64(lambda: SerialScorer(V, N_CTX, D, H))
    q = np.arange(1, V + 1) / np.arange(1, V + 1).sum()
    log_q = np.log(q)
    targets, samples = np.array([3, 5, 1, 8]), np.array([5, 2, 5])
    logits = scorer.sampled_logits(CTX, targets, samples, log_q).numpy()
    raw_true = scorer(CTX, targets[:, None]).numpy()[:, 0]
    raw_samp = scorer(CTX, samples).numpy()
    K = len(samples)
    np.testing.assert_allclose(logits[:, 0], raw_true - np.log(K * q[targets]), rtol=1e-12)
    expected = raw_samp - np.log(K * q[samples])
    expected[1, [0, 2]] -= 1e4                                       # example 1's target 5 was sampled twice
    np.testing.assert_allclose(logits[:, 1:], expected, rtol=1e-12)
    report = md.gradcheck(lambda: md.losses.cross_entropy(
        scorer.sampled_logits(CTX, targets, samples, log_q), np.zeros(4, dtype=np.int64)),
        params=scorer.parameters())
    assert report, str(report)


def test_serial_scorer_errors():
    scorer = SerialScorer(V, N_CTX, D, H)
    with pytest.raises(ValueError, match=r"SerialScorer_9: contexts of shape \(4, 3\) should be \(batch, 2\)"):
        scorer(np.zeros((4, 3), dtype=np.int64), np.array([1]))
    with pytest.raises(IndexError, match="token id 9 .*vocabulary of size 9"):
        scorer(CTX, np.array([9]))
    with pytest.raises(ValueError, match="'relu' or 'tanh'"):
        SerialScorer(V, N_CTX, D, H, activation="sigmoid")


# ----------------------------------------------------------------------------- ranking (C&W)
def test_hinge_ranking_loss_value_and_gradient_on_both_sides(backend_name):
    s_true = np.array([2.0, 0.3, -1.0, 0.5])
    s_bad = np.array([0.2, 0.1, 0.4, 2.0])        # margins 1 - 2 + 0.2 < 0 (satisfied); the rest violated
    loss = hinge_ranking_loss(md.tensor(s_true), md.tensor(s_bad)).item()
    np.testing.assert_allclose(loss, (0 + 0.8 + 2.4 + 2.5) / 4, rtol=1e-6)
    report = md.gradcheck(hinge_ranking_loss, s_true, s_bad)
    assert report, str(report)
    t, b = md.tensor(s_true, requires_grad=True), md.tensor(s_bad, requires_grad=True)
    hinge_ranking_loss(t, b).backward()
    np.testing.assert_array_equal(md.backend.asnumpy(t.grad), [0, -0.25, -0.25, -0.25])   # -1/B inside
    np.testing.assert_array_equal(md.backend.asnumpy(b.grad), [0, 0.25, 0.25, 0.25])      # 0 where satisfied


def test_hinge_gives_exactly_zero_gradient_once_every_pair_is_separated(backend_name):
    """The zero side of the hinge: windows already ranked by more than the margin stop training."""
    cw = _f64(lambda: WindowScorer(V, 3, D, H))
    good, bad = np.array([[2, 3, 4], [5, 6, 7]]), np.array([[2, 8, 4], [5, 1, 7]])
    with md.no_grad():                 # make the true windows win by a lot: raise the output bias
        gap = float((cw(bad) - cw(good)).numpy().max())
    loss_fn = lambda: hinge_ranking_loss(cw(good) + (gap + 5.0), cw(bad))
    loss = loss_fn()
    assert loss.item() == 0.0
    loss.backward()
    for name, p in cw.named_parameters():
        assert p.grad is not None and not np.any(md.backend.asnumpy(p.grad)), name
    report = md.gradcheck(loss_fn, params=cw.parameters())              # numeric: also 0
    assert report, str(report)


def test_window_scorer_ranking_gradcheck(backend_name):
    cw = _f64(lambda: WindowScorer(V, 3, D, H))
    rng = np.random.default_rng(0)
    good = rng.integers(0, V, size=(5, 3))
    bad = corrupt_middle(good, V, rng)
    report = md.gradcheck(lambda: hinge_ranking_loss(cw(good), cw(bad), margin=10.0),  # every pair active
                          params=cw.parameters())
    assert report, str(report)
    with pytest.raises(ValueError, match=r"windows of shape \(5, 4\) should be \(batch, 3\)"):
        cw(np.zeros((5, 4), dtype=np.int64))


def test_corrupt_middle_replaces_only_the_middle_word():
    rng = np.random.default_rng(0)
    good = rng.integers(0, 50, size=(2000, 5))
    bad = corrupt_middle(good, 50, rng)
    np.testing.assert_array_equal(np.delete(bad, 2, axis=1), np.delete(good, 2, axis=1))
    assert np.all(bad[:, 2] != good[:, 2]) and bad[:, 2].min() >= 2 and bad[:, 2].max() <= 49
    assert len(np.unique(bad[:, 2])) == 48                               # every word id 2..49 is used
    p = np.zeros(50)
    p[[3, 4, 10]] = [0.7, 0.2, 0.1]                                      # e.g. unigram^0.75 frequencies
    bad = corrupt_middle(good, 50, rng, p=p)
    np.testing.assert_array_equal(np.delete(bad, 2, axis=1), np.delete(good, 2, axis=1))
    assert np.all(bad[:, 2] != good[:, 2]) and set(np.unique(bad[:, 2])) == {3, 4, 10}
    assert 0.6 < np.mean(bad[good[:, 2] != 3, 2] == 3) < 0.8            # drawn with p


# ----------------------------------------------------------------------------- the neural LM
@pytest.mark.parametrize("output", ["full", "hierarchical"])
def test_neural_lm_distribution_loss_and_gradients(backend_name, output):
    counts = np.arange(V, 0, -1)
    lm = _f64(lambda: NeuralLM(V, N_CTX, D, H, output=output, counts=counts))
    targets = np.array([3, 0, 8, 3])
    all_lp = lm.log_probs(CTX).numpy()
    np.testing.assert_allclose(np.exp(all_lp).sum(-1), 1.0, rtol=1e-12)
    lp = lm.log_prob(CTX, targets).numpy()
    np.testing.assert_allclose(lp, all_lp[np.arange(4), targets], rtol=1e-12)
    np.testing.assert_allclose(lm.loss(CTX, targets).item(), -lp.mean(), rtol=1e-12)
    report = md.gradcheck(lambda: lm.loss(CTX, targets), params=lm.parameters())
    assert report, str(report)


def test_neural_lm_errors():
    with pytest.raises(ValueError, match="'full' or 'hierarchical'"):
        NeuralLM(V, N_CTX, D, H, output="sampled")
    lm = NeuralLM(V, N_CTX, D, H)
    with pytest.raises(ValueError, match=r"contexts of shape \(4,\) should be \(batch, 2\)"):
        lm.log_probs(np.array([1, 2, 3, 4]))
