"""Pooling: ``max_pool2d`` and ``avg_pool2d`` over (kh, kw) windows, NCHW, forward beside backward.

    x: (N, C, H, W)  ->  y: (N, C, Ho, Wo),   Ho = (H - kh) // s + 1   (stride s defaults to k)

    max:  y[n, c, i, j] = max_{u, v}  x[n, c, i*s + u, j*s + v]
    avg:  y[n, c, i, j] = 1/(kh kw) sum_{u, v} x[n, c, i*s + u, j*s + v]

Each channel is pooled on its own; there are no weights.  Both reuse the
window machinery of ``conv.py``: the same strided view ``windows`` (N, C, Ho,
Wo, kh, kw) in forward, the same per-offset ``col2im`` in backward (so
overlapping windows, stride < k, accumulate correctly).

Backward of max: the gradient of each window goes to the element that won,
    dL/dx[winner] += dL/dy,   0 for the others.
Ties (two equal maxima in one window, common after a ReLU: all zeros) are
broken deterministically: the FIRST maximum in row-major order within the
window wins, as ``argmax`` returns it -- the same rule as PyTorch's CPU
``max_pool2d``, so their gradients agree even on tied inputs.  (A tie is a
kink: the one-sided derivatives differ, and any choice among the tied
elements is a valid subgradient.)

Backward of avg: every element of a window gets dL/dy / (kh kw).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function
from .conv import check_input_4d, check_window, col2im, pair, windows


def _check_pool(x_shape, k, stride, who):
    check_input_4d(x_shape, who)
    check_window(x_shape, k, stride, (0, 0), who, what="pooling window")


class MaxPool2d(Function):
    def __init__(self, k, stride=None):
        self.k = pair(k, "kernel_size")
        self.stride = self.k if stride is None else pair(stride, "stride")

    def forward(self, x):
        _check_pool(x.shape, self.k, self.stride, "max_pool2d")
        (kh, kw), (sh, sw) = self.k, self.stride
        win = windows(x, kh, kw, sh, sw)                        # (N, C, Ho, Wo, kh, kw) view
        flat = win.reshape(win.shape[:4] + (kh * kw,))          # (N, C, Ho, Wo, kh*kw) copy
        self.winner = flat.argmax(axis=-1)                      # first maximum: the tie rule
        self.x_shape = x.shape
        return flat.max(axis=-1)

    def backward(self, gy):
        (kh, kw), (sh, sw) = self.k, self.stride
        xp = backend.xp_of(gy)
        # One-hot of the winner in each window, times that window's gradient.
        onehot = self.winner[..., None] == xp.arange(kh * kw)   # (N, C, Ho, Wo, kh*kw) bool
        gwin = (onehot * gy[..., None]).astype(gy.dtype).reshape(gy.shape + (kh, kw))
        return col2im(gwin.transpose(4, 5, 0, 1, 2, 3), self.x_shape, sh, sw)   # (kh, kw) first


class AvgPool2d(Function):
    def __init__(self, k, stride=None):
        self.k = pair(k, "kernel_size")
        self.stride = self.k if stride is None else pair(stride, "stride")

    def forward(self, x):
        _check_pool(x.shape, self.k, self.stride, "avg_pool2d")
        (kh, kw), (sh, sw) = self.k, self.stride
        self.x_shape = x.shape
        return windows(x, kh, kw, sh, sw).mean(axis=(-2, -1))

    def backward(self, gy):
        (kh, kw), (sh, sw) = self.k, self.stride
        xp = backend.xp_of(gy)
        share = gy / (kh * kw)                                  # (N, C, Ho, Wo)
        gwin = xp.broadcast_to(share, (kh, kw) + gy.shape)      # a view: col2im only reads it
        return col2im(gwin, self.x_shape, sh, sw)


def max_pool2d(x, k, stride=None):
    """Max over each (k, k) window (k an int or pair); stride defaults to k (no overlap)."""
    return MaxPool2d(k, stride)(x)


def avg_pool2d(x, k, stride=None):
    """Mean over each (k, k) window; stride defaults to k."""
    return AvgPool2d(k, stride)(x)
