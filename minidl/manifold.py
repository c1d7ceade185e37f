"""Low-dimensional maps of learned vectors (word embeddings, latent factors).

pca(X, k):  centre the rows of X (n, d), take the top-k right singular vectors
            V_k (d, k) of the centred matrix, and project:  Z = (X - mean) @ V_k  (n, k).
            The singular values give the share of variance each axis explains.
            Signs of the axes are fixed (largest |loading| positive) so a figure
            does not flip between runs.

aligned_correlation(learned, truth):  how well learned vectors recover known
            ones that they can only match up to a rotation (latent factors).

tsne(X, ...): t-SNE (van der Maaten & Hinton 2008), exact version, written out.

The idea: make a map Y (n, k) whose *neighbourhoods* look like those of X (n, d).

1. Similarities in the data.  Row i gets a Gaussian of its own width sigma_i:
       p_{j|i} = exp(-|x_i - x_j|^2 beta_i) / sum_{l != i} exp(-|x_i - x_l|^2 beta_i),
   beta_i = 1 / (2 sigma_i^2), chosen by binary search so that the perplexity
   2^H(P_i) (H in bits; we use e^H with H in nats, the same number) equals the
   requested ``perplexity``: every point gets about ``perplexity`` effective
   neighbours, in dense and sparse regions alike.  Then symmetrise:
       p_ij = (p_{j|i} + p_{i|j}) / (2n)             (sums to 1 over all i != j).
2. Similarities in the map, with a Student-t (one degree of freedom) kernel:
       q_ij = (1 + |y_i - y_j|^2)^-1 / sum_{k != l} (1 + |y_k - y_l|^2)^-1.
   Its heavy tail lets moderately distant points sit far apart in the map, so
   clusters do not crowd into the middle (the "crowding problem").
3. Minimise   KL(P || Q) = sum_{i != j} p_ij log(p_ij / q_ij)   by gradient descent,
       dKL/dy_i = 4 sum_j (p_ij - q_ij) (y_i - y_j) (1 + |y_i - y_j|^2)^-1,
   with the classic tricks: early exaggeration (P multiplied by 12 for the
   first 250 steps, so clusters form first and then spread), momentum 0.5 then
   0.8, and per-coordinate gains (+0.2 while the gradient keeps its sign, x0.8
   when it flips; at least 0.01).

Cost.  This is the *exact* algorithm: each step builds several n x n matrices,
so time and memory grow as n^2.  Measured on one CPU core (NumPy): a step takes
~20 ms at n = 1,000, ~0.1 s at n = 2,000 and ~0.8 s at n = 5,000 (1,000 steps:
13 minutes); on an H100 with CuPy, 1-3 ms up to n = 5,000.  Memory: five
float64 n x n arrays are 160 MB at n = 2,000 but 16 GB at n = 20,000.  So a
few thousand points are fine; beyond that Barnes-Hut t-SNE (van der Maaten
2014) is the way out: it keeps only ~3*perplexity neighbours per point in P and
approximates the far-field repulsion with a quadtree, O(n log n).  (On the same
data and settings, the final KL matches scikit-learn's exact t-SNE: 0.295 vs
0.295 on 300 points in 6 clusters.)

Works on NumPy arrays, CuPy arrays or Tensors; returns NumPy (figures are drawn on the host).
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autograd import Tensor


def _host(X):
    return backend.asnumpy(X.data if isinstance(X, Tensor) else X).astype(np.float64)


def pca(X, k: int = 2):
    """Project the rows of X onto their top-k principal axes.

    Returns (Z (n, k), components (k, d), explained_variance_ratio (k,)).
    """
    X = _host(X)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"pca needs a 2-D array with at least 2 rows, got shape {X.shape}")
    Xc = X - X.mean(axis=0)
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    comps = Vt[:k]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    var = s ** 2
    return Xc @ comps.T, comps, var[:k] / max(var.sum(), 1e-300)


def cosine_neighbours(E, query_ids, k: int = 5, exclude_ids=()):
    """The k rows of E (V, d) most cosine-similar to each query row.

    Returns a list (one per query) of [(id, similarity), ...], best first,
    never including the query itself or ``exclude_ids`` (e.g. pad/unk).
    """
    E = _host(E)
    En = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
    out = []
    for q in query_ids:
        sims = En @ En[q]
        sims[q] = -np.inf
        for e in exclude_ids:
            sims[e] = -np.inf
        top = np.argsort(-sims)[:k]
        out.append([(int(i), float(sims[i])) for i in top])
    return out


def aligned_correlation(learned, truth):
    """Per-column correlation of ``truth`` (n, k) with its best fit from ``learned`` (n, d), d >= k.

    Learned factors are defined only up to a rotation: p_u . q_i = (p_u A) . (q_i A^-T)
    for any invertible A, so comparing learned column f with true column f means
    nothing.  Align first:  Z = pca(learned, k) (n, k), the top-k axes of what was
    learned;  W = argmin |[Z | 1] W - truth|^2  (least squares, (k + 1, k));  then
    corr_f = Pearson correlation of ([Z | 1] W)[:, f] with truth[:, f].

    Returns (k,) correlations in [-1, 1] (near 1: column f is recovered).  Random
    ``learned`` vectors give the chance level, which grows with k / n: run them too.
    """
    learned, truth = _host(learned), _host(truth)
    if truth.ndim != 2 or learned.ndim != 2 or len(learned) != len(truth) or learned.shape[1] < truth.shape[1]:
        raise ValueError(f"aligned_correlation: learned (n, d) and truth (n, k) with d >= k needed, "
                         f"got shapes {learned.shape} and {truth.shape}")
    k = truth.shape[1]
    A = np.c_[pca(learned, k)[0], np.ones(len(truth))]
    fitted = A @ np.linalg.lstsq(A, truth, rcond=None)[0]
    return np.array([np.corrcoef(fitted[:, f], truth[:, f])[0, 1] for f in range(k)])


# ============================================================================ t-SNE
_EPS = 1e-12


def _device_array(X, name="X"):
    """X (ndarray, cupy array or Tensor) as a float64 array on the device it lives on."""
    arr = X.data if isinstance(X, Tensor) else X
    xp = backend.xp_of(arr)
    arr = xp.asarray(arr, dtype=xp.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_points, n_features), got shape {arr.shape}")
    return xp, arr


def squared_distances(X):
    """|x_i - x_j|^2 for every pair of rows of X (n, d): (n, n), never negative."""
    xp = backend.xp_of(X)
    sq = (X * X).sum(axis=1)
    D = sq[:, None] + sq[None, :] - 2.0 * (X @ X.T)
    return xp.maximum(D, 0.0)


def tsne_affinities(X, perplexity: float = 30.0, tol: float = 1e-5, max_steps: int = 100):
    """The symmetric joint probabilities P (n, n) of t-SNE's step 1.

    Binary search on beta_i = 1/(2 sigma_i^2), all rows at once: the entropy
    H_i = log sum_j e^{-D_ij beta_i} + beta_i <D_i>_{P_i} falls as beta_i grows, so
    when H_i > log(perplexity) beta_i is too small (too flat) and we raise it.
    Returns (P, beta): P symmetric, zero diagonal, sums to 1; beta (n,).
    """
    xp, X = _device_array(X)
    n = X.shape[0]
    off = 1.0 - xp.eye(n)                         # masks the i == j terms out
    D = squared_distances(X)
    # Shift each row by its smallest off-diagonal distance: p_{j|i} is unchanged
    # (the factor cancels in the normalisation) but exp() can no longer underflow
    # to 0 for every j, whatever the scale of X.
    D = D - (D + xp.where(off > 0, 0.0, xp.inf)).min(axis=1, keepdims=True)
    D = D * off
    target = np.log(perplexity)
    beta = 1.0 / xp.maximum((D.sum(axis=1) / (n - 1)), 1e-300)   # a scale-free start
    lo = xp.zeros(n)
    hi = xp.full(n, xp.inf)
    for _ in range(max_steps):
        Pc = xp.exp(-D * beta[:, None]) * off
        sumP = Pc.sum(axis=1)                     # >= 1: the nearest neighbour has D = 0
        H = xp.log(sumP) + beta * (D * Pc).sum(axis=1) / sumP
        if float(xp.abs(H - target).max()) < tol:
            break
        too_flat = H > target
        lo = xp.where(too_flat, beta, lo)
        hi = xp.where(too_flat, hi, beta)
        beta = xp.where(xp.isinf(hi), beta * 2.0, (lo + hi) / 2.0)
    Pc = Pc / sumP[:, None]                       # p_{j|i}, each row sums to 1
    P = (Pc + Pc.T) / (2.0 * n)
    return xp.maximum(P, _EPS) * off, beta


def tsne_kl_and_grad(P, Y, need_kl: bool = True):
    """KL(P || Q) and its gradient for the map Y (n, k), given P (n, n).

        w_ij = (1 + |y_i - y_j|^2)^-1  (w_ii = 0),   q_ij = w_ij / sum_kl w_kl
        KL   = sum_{i != j} p_ij log(p_ij / q_ij)
        dKL/dy_i = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j)
                 = 4 [ (sum_j m_ij) y_i - sum_j m_ij y_j ],   m_ij = (p_ij - q_ij) w_ij
    The second line is the same sum as two matrix products: (n,) * (n, k) and
    M (n, n) @ Y (n, k).  Returns (kl float or None, grad (n, k)).
    """
    xp = backend.xp_of(Y)
    n = Y.shape[0]
    W = 1.0 / (1.0 + squared_distances(Y))
    W = W * (1.0 - xp.eye(n))
    Q = W / W.sum()
    M = (P - Q) * W
    grad = 4.0 * (M.sum(axis=1)[:, None] * Y - M @ Y)
    kl = None
    if need_kl:
        off = P > 0                               # the diagonal (and nothing else) is 0
        kl = float((P * xp.log(xp.where(off, P, 1.0) / xp.maximum(Q, _EPS))).sum())
    return kl, grad


def tsne(X, n_components: int = 2, perplexity: float = 30.0, n_iter: int = 1000,
         learning_rate="auto", seed: int = 0, *, early_exaggeration: float = 12.0,
         init: str = "random", callback=None):
    """A t-SNE map of the rows of X (n, d): returns (Y (n, n_components) NumPy, final KL).

    perplexity:    effective number of neighbours per point (5..50 is usual);
                   n must be at least 3 * perplexity.
    n_iter:        gradient steps; the first min(250, n_iter // 4) exaggerate P.
    learning_rate: a number, or "auto" = max(n / early_exaggeration / 4, 50)
                   (Belkina et al. 2019, scikit-learn's default).
    seed:          the random start y_i ~ N(0, 1e-4 I), drawn on the host so
                   NumPy and CuPy start from the same map.
    init:          "random" (the paper) or "pca" (the top principal axes scaled
                   to std 1e-4: keeps more of the global layout, same local one).
    callback:      called as callback(iteration, kl) every 50 steps and at the end.
    Runs on the device X lives on (NumPy or CuPy array, or a Tensor); the map
    comes back as a NumPy array for plotting.
    """
    xp, X = _device_array(X)
    n = X.shape[0]
    bad = np.flatnonzero(~backend.asnumpy(xp.isfinite(X).all(axis=1)))
    if bad.size:
        raise ValueError(f"tsne: X {X.shape} has NaN or infinite values in row(s) {bad[:10].tolist()}"
                         f"{' ...' if bad.size > 10 else ''}; drop or fill them first")
    if not perplexity > 0:
        raise ValueError(f"tsne: perplexity must be positive, got {perplexity}")
    if n < 3 * perplexity:
        raise ValueError(f"tsne: {n} points are too few for perplexity {perplexity}: it needs "
                         f"n >= 3 * perplexity = {3 * perplexity:g}; use perplexity <= {n / 3:.1f}")
    if int(n_components) < 1 or int(n_iter) < 1:
        raise ValueError(f"tsne: n_components and n_iter must be >= 1, got {n_components}, {n_iter}")
    if learning_rate == "auto":
        learning_rate = max(n / early_exaggeration / 4.0, 50.0)
    elif not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"tsne: learning_rate must be 'auto' or a positive number, got {learning_rate!r}")

    P, _ = tsne_affinities(X, perplexity)
    if init == "random":
        Y0 = np.random.default_rng(seed).normal(0.0, 1e-4, size=(n, n_components))
    elif init == "pca":
        Y0 = pca(backend.asnumpy(X), n_components)[0]
        Y0 = Y0 / max(Y0[:, 0].std(), 1e-300) * 1e-4
    else:
        raise ValueError(f"tsne: init must be 'random' or 'pca', got {init!r}")
    Y = xp.asarray(Y0)
    update = xp.zeros_like(Y)
    gains = xp.ones_like(Y)
    n_exaggerated = min(250, n_iter // 4)
    for it in range(n_iter):
        exaggerating = it < n_exaggerated
        report = callback is not None and (it % 50 == 0 or it == n_iter - 1)
        kl, grad = tsne_kl_and_grad(P * early_exaggeration if exaggerating else P, Y, need_kl=False)
        # Gains: a coordinate whose gradient keeps pointing the way we are already
        # moving (update and grad of opposite sign) speeds up; one that overshot slows.
        same_way = (update * grad) < 0
        gains = xp.maximum(xp.where(same_way, gains + 0.2, gains * 0.8), 0.01)
        momentum = 0.5 if exaggerating else 0.8
        update = momentum * update - learning_rate * gains * grad
        Y = Y + update
        Y = Y - Y.mean(axis=0)                    # KL ignores translations; keep the map centred
        if report:
            callback(it, tsne_kl_and_grad(P, Y)[0])
    kl, _ = tsne_kl_and_grad(P, Y)
    return backend.asnumpy(Y), kl
