"""t-SNE from scratch (minidl.manifold): affinities, the KL gradient, maps, bad input."""
import numpy as np
import pytest

import minidl as md
from minidl import backend, manifold


def _clusters(n_clusters=5, per=30, dim=50, spread=1.0, gap=10.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, gap, size=(n_clusters, dim))
    labels = np.repeat(np.arange(n_clusters), per)
    return centres[labels] + rng.normal(0.0, spread, size=(len(labels), dim)), labels


def test_affinities_match_the_perplexity_and_are_a_symmetric_distribution(xp):
    X, _ = _clusters(n_clusters=3, per=20, dim=5)
    P, beta = manifold.tsne_affinities(xp.asarray(X), perplexity=7.0)
    P, beta = backend.asnumpy(P), backend.asnumpy(beta)
    assert P.shape == (60, 60)
    assert np.allclose(P, P.T) and np.allclose(P.sum(), 1.0) and np.all(np.diag(P) == 0)
    # Rebuild each conditional row from its beta: its perplexity e^H must be 7.
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    for i in range(len(X)):
        d = np.delete(D[i], i)
        p = np.exp(-(d - d.min()) * beta[i])
        p /= p.sum()
        assert np.exp(-(p * np.log(np.maximum(p, 1e-300))).sum()) == pytest.approx(7.0, rel=1e-3)


def test_kl_gradient_matches_central_differences(xp):
    """The hand-written dKL/dy_i = 4 sum_j (p_ij - q_ij)(y_i - y_j)/(1 + |y_i - y_j|^2)."""
    rng = np.random.default_rng(1)
    P, _ = manifold.tsne_affinities(xp.asarray(rng.normal(size=(9, 4))), perplexity=2.5)
    Y = md.tensor(rng.normal(size=(9, 2)), dtype=md.float64, backend_name=backend.name_of(P))
    kl, analytic = manifold.tsne_kl_and_grad(P, Y.data)
    numeric, _ = md.numerical_grad(lambda: manifold.tsne_kl_and_grad(P, Y.data)[0], Y)
    assert kl > 0
    np.testing.assert_allclose(backend.asnumpy(analytic), numeric.reshape(9, 2), rtol=1e-5, atol=1e-8)


def test_kl_is_zero_only_when_the_map_reproduces_p():
    """A sanity anchor for the KL itself: KL(P || Q) >= 0, and = 0 when P equals Q."""
    Y = np.random.default_rng(2).normal(size=(7, 2))
    W = 1.0 / (1.0 + manifold.squared_distances(Y))
    np.fill_diagonal(W, 0.0)
    kl, grad = manifold.tsne_kl_and_grad(W / W.sum(), Y)
    assert abs(kl) < 1e-12 and np.abs(grad).max() < 1e-12


def test_separated_clusters_stay_together_in_the_map(xp):
    X, labels = _clusters()
    Y, kl = manifold.tsne(xp.asarray(X), perplexity=10.0, n_iter=300, seed=0)
    assert isinstance(Y, np.ndarray) and Y.shape == (150, 2) and np.isfinite(Y).all()
    D = manifold.squared_distances(Y)
    np.fill_diagonal(D, np.inf)
    agreement = (labels[D.argmin(axis=1)] == labels).mean()
    assert agreement >= 0.95, agreement
    assert 0 < kl < 1.0


def test_same_seed_same_map_and_the_kl_falls():
    """Same seed, same map; and the descent lowers the KL from its random start.

    What does not hold on every platform is how far one seeded run gets: t-SNE's
    descent with gains is chaotic, so a round-off difference of 1e-16 (another
    BLAS kernel, e.g. OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU) ends the same
    seed anywhere from 0.12x to 0.96x of the starting KL after 200 steps.  So
    one run is only asked to be bit-identical to itself and below its start, and
    the "falls a lot" claim is made about the median of five seeds at 300 steps
    (over 100 perturbed inputs the worst run was 0.73x and the worst median 0.36x).
    """
    X, _ = _clusters(n_clusters=3, per=15, dim=8)
    seen = []
    Y1, kl1 = manifold.tsne(X, perplexity=5.0, n_iter=200, seed=3, callback=lambda it, kl: seen.append(kl))
    Y2, kl2 = manifold.tsne(X, perplexity=5.0, n_iter=200, seed=3)
    np.testing.assert_array_equal(Y1, Y2)
    assert kl1 == kl2 and seen[-1] == pytest.approx(kl1)
    ratios = []
    for seed in range(5):
        seen = []
        _, kl = manifold.tsne(X, perplexity=5.0, n_iter=300, seed=seed, callback=lambda it, kl: seen.append(kl))
        ratios.append(kl / seen[0])
    assert max(ratios) < 0.9, ratios
    assert np.median(ratios) < 0.5, ratios


def test_numpy_and_cupy_agree(cp):
    """Same affinities, KL and gradient to round-off, and the same first steps.

    Not the same final map: gradient descent with gains is chaotic, so round-off
    differences (1e-15) grow to 1e-10 after 20 steps and to a different (equally
    good) layout after ~100.  Both must still find the clusters.
    """
    X, labels = _clusters(n_clusters=3, per=15, dim=8)
    P_np, beta_np = manifold.tsne_affinities(X, 5.0)
    P_cp, beta_cp = manifold.tsne_affinities(cp.asarray(X), 5.0)
    np.testing.assert_allclose(backend.asnumpy(P_cp), P_np, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(backend.asnumpy(beta_cp), beta_np, rtol=1e-9)
    Y = np.random.default_rng(0).normal(size=(45, 2))
    kl_np, g_np = manifold.tsne_kl_and_grad(P_np, Y)
    kl_cp, g_cp = manifold.tsne_kl_and_grad(P_cp, cp.asarray(Y))
    assert kl_cp == pytest.approx(kl_np, rel=1e-12)
    np.testing.assert_allclose(backend.asnumpy(g_cp), g_np, rtol=1e-9, atol=1e-13)
    Y_np, kl_np = manifold.tsne(X, perplexity=5.0, n_iter=20, seed=0)
    Y_cp, kl_cp = manifold.tsne(cp.asarray(X), perplexity=5.0, n_iter=20, seed=0)
    np.testing.assert_allclose(Y_cp, Y_np, rtol=1e-6, atol=1e-8)
    Y_cp, kl_cp = manifold.tsne(cp.asarray(X), perplexity=5.0, n_iter=300, seed=0)
    D = manifold.squared_distances(Y_cp)
    np.fill_diagonal(D, np.inf)
    assert (labels[D.argmin(axis=1)] == labels).mean() >= 0.95 and kl_cp < 0.5


def test_too_few_points_for_the_perplexity_is_a_clear_error():
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=r"50 points are too few for perplexity 30.*n >= 3 \* perplexity = 90.*"
                                         r"perplexity <= 16\.7"):
        manifold.tsne(X)


def test_nan_rows_are_named():
    X = np.random.default_rng(0).normal(size=(40, 3))
    X[7, 1] = np.nan
    X[12, 0] = np.inf
    with pytest.raises(ValueError, match=r"X \(40, 3\) has NaN or infinite values in row\(s\) \[7, 12\]"):
        manifold.tsne(X, perplexity=5.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(learning_rate=-1.0), "learning_rate must be 'auto' or a positive number"),
    (dict(init="umap"), "init must be 'random' or 'pca'"),
    (dict(perplexity=0.0), "perplexity must be positive"),
])
def test_other_bad_settings_are_clear_errors(kwargs, message):
    X = np.random.default_rng(0).normal(size=(40, 3))
    kwargs = {"perplexity": 5.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        manifold.tsne(X, **kwargs)
    with pytest.raises(ValueError, match=r"must be a 2-D array .* got shape \(40,\)"):
        manifold.tsne(X[:, 0], perplexity=5.0)


def test_pca_start_keeps_the_clusters_too():
    X, labels = _clusters(n_clusters=4, per=20, dim=20)
    Y, _ = manifold.tsne(md.tensor(X), perplexity=8.0, n_iter=250, init="pca")
    D = manifold.squared_distances(Y)
    np.fill_diagonal(D, np.inf)
    assert (labels[D.argmin(axis=1)] == labels).mean() >= 0.95
