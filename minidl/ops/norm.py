"""Batch normalisation in training mode as ONE Function: ``batch_norm(x, gamma, beta, eps)``.

The slide equations, per channel c (axis 1), over the m values of that channel
(axis 0 and every axis after 1):

    mu      = 1/m sum x                      var = 1/m sum (x - mu)^2      (biased)
    x_hat   = (x - mu) / sqrt(var + eps)
    y       = gamma * x_hat + beta

    x: (N, C) or (N, C, H, W)     gamma, beta: (C,)     y: like x

Backward.  Written out, so it costs a handful of passes over x instead of the
~20 graph nodes of the composed version (``nn.norm.batch_norm_simple``, which
tests/test_conv_layers.py holds equal to this one).  With g = dL/dy:

    dL/dbeta  = sum g                        dL/dgamma = sum g * x_hat
    dL/dx     = gamma / sqrt(var + eps) * ( g - mean(g) - x_hat * mean(g * x_hat) )

The two means are what the batch statistics add: moving one x moves mu and
var, and so every y of its channel.  Without them (treating mu and var as
constants) the gradient would be just gamma * g / sqrt(var + eps).

After the call, ``fn.mean`` and ``fn.var`` (shape (C,)) hold the batch
statistics, for the layer's running averages.
"""
from __future__ import annotations

from .. import backend, validate
from ..autograd import Function


class BatchNorm(Function):
    def __init__(self, eps: float = 1e-5):
        self.eps = validate.number(eps, "eps", "batch_norm", lo=0, lo_open=True)

    def forward(self, x, gamma, beta):
        if x.ndim < 2:
            raise ValueError(f"batch_norm: x must be (batch, channels, ...), got shape {x.shape}")
        for name, p in (("gamma", gamma), ("beta", beta)):
            if p.shape != (x.shape[1],):
                raise ValueError(f"batch_norm: {name} of shape {p.shape} does not fit x of shape {x.shape} "
                                 f"(one value per channel: ({x.shape[1]},))")
        self.axes = (0,) + tuple(range(2, x.ndim))
        if x.size == 0:
            raise ValueError(f"batch_norm: x of shape {x.shape} holds no values to normalise")
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)             # broadcast over batch and grid
        xp = backend.xp_of(x)
        mu = x.mean(axis=self.axes, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(axis=self.axes, keepdims=True)
        self.inv_std = 1.0 / xp.sqrt(var + self.eps)
        self.x_hat = xc * self.inv_std
        self.gamma = gamma.reshape(shape)
        self.mean, self.var = mu.reshape(-1), var.reshape(-1)
        return self.x_hat * self.gamma + beta.reshape(shape)

    def backward(self, gy):
        x_hat, axes = self.x_hat, self.axes
        g_beta = gy.sum(axis=axes)
        g_gamma = (gy * x_hat).sum(axis=axes)
        g_xhat = gy * self.gamma
        gx = self.inv_std * (g_xhat - g_xhat.mean(axis=axes, keepdims=True)
                             - x_hat * (g_xhat * x_hat).mean(axis=axes, keepdims=True))
        return gx.astype(gy.dtype, copy=False), g_gamma, g_beta


def batch_norm(x, gamma, beta, eps: float = 1e-5):
    """Training-mode batch norm of x (N, C, ...) with per-channel gamma, beta (C,).

    Returns (y, mean, var): y like x, and the batch mean and biased variance (C,)
    as plain arrays (for running averages).
    """
    fn = BatchNorm(eps)
    y = fn(x, gamma, beta)
    return y, fn.mean, fn.var
