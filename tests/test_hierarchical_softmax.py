"""nn.HierarchicalSoftmax: a normalised distribution, log_prob == log_probs gathered, float64
gradient checks of its parameters and its input on every backend, the tree's shape, clear errors."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minidl as md
from minidl import nn
from minidl.nn.hierarchical_softmax import LogSigmoid, log_sigmoid

HYP = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _layer(V, tree, seed, n_in=5, dtype="float64"):
    counts = np.random.default_rng(seed).integers(1, 100, size=V)
    with md.default_dtype(dtype):
        return nn.HierarchicalSoftmax(V, tree=tree, counts=counts, n_in=n_in)


def _h(B, n_in, seed=0):
    return md.tensor(np.random.default_rng(seed).normal(size=(B, n_in)), dtype=np.float64)


@pytest.mark.parametrize("tree", ["huffman", "balanced"])
@HYP
@given(V=st.integers(2, 40), seed=st.integers(0, 100))
def test_probabilities_sum_to_one_and_log_prob_is_log_probs_gathered(backend_name, tree, V, seed):
    hs = _layer(V, tree, seed)
    with md.no_grad():
        hs.b.data += md.backend.xp().asarray(np.random.default_rng(seed).normal(size=V - 1))
    h = _h(7, 5, seed)
    all_lp = hs.log_probs(h).numpy()                               # (B, V)
    assert all_lp.shape == (7, V)
    np.testing.assert_allclose(np.exp(all_lp).sum(axis=-1), np.ones(7), rtol=1e-12)
    targets = np.random.default_rng(seed + 1).integers(0, V, size=7)
    lp = hs.log_prob(h, targets).numpy()
    assert lp.shape == (7,)
    np.testing.assert_allclose(lp, all_lp[np.arange(7), targets], rtol=1e-12, atol=1e-12)


def test_the_drawn_tree_of_the_docstring(backend_name):
    """the:50, cat:20, sat:20, mat:10 -> the = '1', sat = '01', cat = '000', mat = '001', and
    p(mat | h) = sigma(+z_0) sigma(+z_1) sigma(-z_2) with z_k = v_k . h + b_k."""
    with md.default_dtype("float64"):
        hs = nn.HierarchicalSoftmax(4, counts=[50, 20, 20, 10], n_in=3)
    assert [hs.code(w) for w in range(4)] == ["1", "000", "01", "001"]
    np.testing.assert_array_equal(hs.depths, [1, 3, 2, 3])
    h = _h(1, 3)
    z = (hs.W.numpy() @ h.numpy()[0]) + hs.b.numpy()                # (3,) one score per inner node
    sig = lambda x: 1 / (1 + np.exp(-x))
    expected = [sig(-z[0]), sig(z[0]) * sig(z[1]) * sig(z[2]), sig(z[0]) * sig(-z[1]),
                sig(z[0]) * sig(z[1]) * sig(-z[2])]
    np.testing.assert_allclose(np.exp(hs.log_prob(h, np.array([3])).numpy()), expected[3:], rtol=1e-12)
    np.testing.assert_allclose(np.exp(hs.log_probs(h).numpy()[0]), expected, rtol=1e-12)


@pytest.mark.parametrize("tree", ["huffman", "balanced"])
def test_gradcheck_log_prob_parameters_and_input(backend_name, tree):
    hs = _layer(11, tree, seed=3, n_in=4)
    targets = md.tensor(np.array([0, 10, 3, 3, 7, 1]))            # a repeat: node gradients accumulate
    report = md.gradcheck(lambda h: hs.log_prob(h, targets), _h(6, 4), params=hs.parameters())
    assert report, str(report)
    assert len(report.entries) == 3                                  # h, W, b


def test_gradcheck_log_probs_parameters_and_input(backend_name):
    hs = _layer(6, "huffman", seed=4, n_in=3)
    report = md.gradcheck(hs.log_probs, _h(4, 3), params=hs.parameters())
    assert report, str(report)


def test_gradcheck_catches_a_wrong_log_sigmoid_backward(backend_name):
    """The checks above can fail: with d/dx log sigma(x) written as sigma(x) instead of
    sigma(-x), the same gradient check of log_prob reports the input and the parameters."""
    class WrongLogSigmoid(LogSigmoid):
        def backward(self, gy):
            return gy / (1 + md.backend.xp_of(gy).exp(-self.x))        # sigma(x): wrong

    import minidl.nn.hierarchical_softmax as module
    hs = _layer(6, "huffman", seed=1, n_in=3)
    original = module.log_sigmoid
    module.log_sigmoid = lambda x: WrongLogSigmoid()(x)
    try:
        report = md.gradcheck(lambda h: hs.log_prob(h, np.array([0, 5])), _h(2, 3), params=hs.parameters())
    finally:
        module.log_sigmoid = original
    assert not report and len(report.failures()) == 3


def test_log_sigmoid_is_stable_and_checked(backend_name):
    x = md.tensor(np.array([-200.0, -30.0, 0.0, 30.0, 200.0]))            # float32
    y = log_sigmoid(x).numpy()
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [-200.0, -30.0, -math.log(2), -9.357623e-14, 0.0], rtol=1e-6, atol=1e-12)
    report = md.gradcheck(lambda t: LogSigmoid()(t), np.linspace(-6, 6, 13))
    assert report, str(report)


def test_huffman_codes_follow_frequency_and_approach_the_entropy():
    counts = 1.0 / np.arange(1, 501)                                   # Zipf
    hs = nn.HierarchicalSoftmax(500, counts=counts)
    p = counts / counts.sum()
    entropy = float(-(p * np.log2(p)).sum())
    mean = hs.mean_depth(counts)
    assert entropy <= mean < entropy + 1                               # Huffman's optimality bound
    assert hs.depths[0] <= hs.depths[10] <= hs.depths[499]              # frequent words: shorter codes
    bal = nn.HierarchicalSoftmax(500, tree="balanced")
    assert set(bal.depths.tolist()) <= {8, 9} and bal.mean_depth(counts) > mean
    codes = {hs.code(w) for w in range(500)}
    assert len(codes) == 500                                           # every word has its own leaf
    assert not any(a != b and b.startswith(a) for a in codes for b in codes if len(a) < 6)   # prefix-free


def test_trains_toward_the_target_distribution(backend_name):
    """With a constant input, the layer can only learn the unigram distribution: it does."""
    counts = np.array([40, 25, 15, 10, 5, 3, 2])
    hs = nn.HierarchicalSoftmax(7, counts=counts)
    h = md.tensor(np.ones((1, 2)))
    targets = np.repeat(np.arange(7), counts)
    hs.build(2)
    opt = md.optim.Adam(hs, lr=0.1)
    for _ in range(150):
        loss = -hs.log_prob(md.tensor(np.ones((len(targets), 2))), targets).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(np.exp(hs.log_probs(h).numpy()[0]), counts / counts.sum(), atol=0.01)


def test_clear_errors(backend_name):
    hs = nn.HierarchicalSoftmax(50, n_in=4)
    h = md.tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match=r"HierarchicalSoftmax_50: target id 70 .*vocabulary of size 50"):
        hs.log_prob(h, np.array([1, 70, 2]))
    with pytest.raises(IndexError, match=r"target id -1 .*vocabulary of size 50 \(valid ids are 0..49\)"):
        hs.log_prob(h, np.array([1, -1, 2]))
    with pytest.raises(ValueError, match=r"targets of shape \(2,\) do not fit h of shape \(3, 4\)"):
        hs.log_prob(h, np.array([1, 2]))
    with pytest.raises(TypeError, match="integer word ids"):
        hs.log_prob(h, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"h of shape \(3, 5\) does not fit node vectors W of shape \(49, 4\)"):
        hs.log_probs(md.tensor(np.zeros((3, 5))))
    with pytest.raises(ValueError, match=r"counts of shape \(3,\) do not fit a vocabulary of size 50"):
        nn.HierarchicalSoftmax(50, counts=[1, 2, 3])
    with pytest.raises(ValueError, match="'huffman' or 'balanced'"):
        nn.HierarchicalSoftmax(50, tree="random")
    with pytest.raises(ValueError, match="at least 2 words"):
        nn.HierarchicalSoftmax(1)


def test_lazy_build_and_name():
    hs = nn.HierarchicalSoftmax(10, tree="balanced")
    assert hs.name == "HierarchicalSoftmax_10" and not hs.built
    out = hs(md.tensor(np.zeros((2, 6))), np.array([0, 9]))
    assert out.shape == (2,) and hs.W.shape == (9, 6) and hs.b.shape == (9,)
    assert hs(md.tensor(np.zeros((2, 6)))).shape == (2, 10)
    np.testing.assert_allclose(out.numpy(), -np.log(2) * hs.depths[[0, 9]], rtol=1e-6)   # b = 0, h = 0
