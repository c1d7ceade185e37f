"""Weight initialisers.  All draw on the host from ``backend.host_rng()`` (seeded by
``md.seed``) and return NumPy arrays, so a model built on NumPy and the same model
built on CuPy start from identical weights -- CPU/GPU comparisons stay honest.

glorot_uniform(n_in, n_out):  U(-a, a), a = sqrt(6 / (n_in + n_out))
    keeps the variance of activations and of gradients roughly constant through
    a layer (Glorot & Bengio 2010); the Trax and Keras default for Dense.
normal(shape, std):           N(0, std^2), e.g. embeddings (Trax uses std 0.01... we use 1/sqrt(d)).
identity(n):                  I, the identity-RNN remedy (Le et al. 2015).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend


def glorot_uniform(n_in: int, n_out: int, shape=None) -> np.ndarray:
    a = math.sqrt(6.0 / (n_in + n_out))
    return backend.host_rng().uniform(-a, a, size=shape or (n_in, n_out))


def normal(shape, std: float = 1.0) -> np.ndarray:
    return backend.host_rng().normal(0.0, std, size=shape)


def zeros(shape) -> np.ndarray:
    return np.zeros(shape)


def identity(n: int) -> np.ndarray:
    return np.eye(n)
