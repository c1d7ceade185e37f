"""Normalize: scale every vector to unit length (L2) along the last axis, Trax's ``Fn('Normalize')``.

    y = x / sqrt( sum_k x_k^2 + eps )            x: (..., d) -> y: (..., d),  ||y[..., :]|| = 1

Why a Siamese network wants it: after Normalize, the dot product of two
vectors IS their cosine similarity,

    cos(u, v) = u . v / (||u|| ||v||) = Normalize(u) . Normalize(v),

so a whole batch of cosines is one matrix product ``v1 @ v2.T``, every value
lies in [-1, 1], and the triplet loss's margin has a fixed scale.

``eps`` (default 1e-12) only matters for an all-zero vector, which then maps to
zero instead of 0/0 = NaN; for any real embedding it changes nothing visible.
The layer is composed from differentiable ops (mul, sum, sqrt, div), so its
backward is autograd's, checked in tests/test_siamese.py:

    dy_i/dx_j = (delta_ij - y_i y_j) / ||x||      (the projection off the direction of x)
"""
from __future__ import annotations

from .. import ops, validate
from .layer import Layer


class Normalize(Layer):
    def __init__(self, eps: float = 1e-12):
        super().__init__()
        self.eps = validate.number(eps, "eps", "Normalize", lo=0)

    def forward(self, x):
        norm = ops.sqrt(ops.sum(ops.mul(x, x), axis=-1, keepdims=True) + self.eps)   # (..., 1)
        return ops.div(x, norm)
