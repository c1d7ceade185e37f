"""Low-dimensional maps of learned vectors (word embeddings, latent factors).

pca(X, k):  centre the rows of X (n, d), take the top-k right singular vectors
            V_k (d, k) of the centred matrix, and project:  Z = (X - mean) @ V_k  (n, k).
            The singular values give the share of variance each axis explains.
            Signs of the axes are fixed (largest |loading| positive) so a figure
            does not flip between runs.

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
