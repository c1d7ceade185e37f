"""BatchNorm: normalise each channel with the statistics of the batch (Ioffe & Szegedy 2015).

The slide equations, per channel (feature) c, over the m values of that
channel in the batch (all examples, and all pixels for an image batch):

    mu_B      = 1/m sum_i x_i                       batch mean
    sigma2_B  = 1/m sum_i (x_i - mu_B)^2            batch variance (biased: 1/m)
    x_hat_i   = (x_i - mu_B) / sqrt(sigma2_B + eps)
    y_i       = gamma * x_hat_i + beta              gamma, beta: learned, one per channel

Shapes.  The channel axis is axis 1, statistics run over every other axis:

    x: (N, C)        -> statistics over axis 0         (after a Dense layer)
    x: (N, C, H, W)  -> statistics over axes 0, 2, 3   (after a Conv2d: per-channel)
    gamma, beta: (C,)   (gamma starts at 1, beta at 0: the layer starts as a pure normaliser)
    running_mean, running_var: (C,) arrays, not parameters (no gradient, no optimizer)

Training vs evaluation (``model.train()`` / ``model.eval()``, which also switch Dropout):

* training: normalise with the batch's own mu_B and sigma2_B -- so backward
  flows through them too: each example's gradient depends on the rest of its
  batch -- and update exponential moving averages
      running_mean <- (1 - momentum) running_mean + momentum mu_B
      running_var  <- (1 - momentum) running_var  + momentum sigma2_B * m / (m - 1)
  (PyTorch's convention: momentum 0.1, the *unbiased* variance in the average);
* evaluation: normalise with running_mean and running_var, constants, so a
  prediction depends on its own input only (and a batch of one works).

Two ways to compute the training-mode forward, the same numbers:

* ``fused=True`` (default): ``md.ops.batch_norm``, one Function with the
  backward written out (minidl/ops/norm.py) -- a few passes over the data;
* ``fused=False``: ``batch_norm_simple`` below, composed of already-checked ops
  (mean, subtract, multiply, sqrt, divide), so autograd derives the backward
  by itself -- readable, ~20 graph nodes, slower.
tests/test_conv_layers.py proves the two equal in value and every gradient.

The running statistics are the layer's *buffers* (``named_buffers()``): not
learned by gradient, but part of the model, so ``md.save`` keeps them and
``.to()`` moves them with the parameters.
"""
from __future__ import annotations

import numpy as np

from .. import backend, ops, validate
from ..autograd import Tensor, no_grad
from ..ops.norm import batch_norm
from . import init
from .layer import Layer, parameter


class BatchNorm(Layer):
    def __init__(self, momentum: float = 0.1, eps: float = 1e-5, n_channels: int | None = None,
                 fused: bool = True):
        super().__init__()
        self.fused = validate.flag(fused, "fused", "BatchNorm")
        self.momentum = validate.number(momentum, "momentum", "BatchNorm", lo=0, hi=1)
        self.eps = validate.number(eps, "eps", "BatchNorm", lo=0, lo_open=True)
        self.n_channels, self.built = n_channels, False
        if n_channels is not None:
            self.build(validate.positive_int(n_channels, "n_channels", "BatchNorm"))

    @property
    def name(self):
        return "BatchNorm" if self.n_channels is None else f"BatchNorm_{self.n_channels}"

    def build(self, n_channels: int):
        self.n_channels = int(n_channels)
        self.gamma = parameter(np.ones(self.n_channels))
        self.beta = parameter(init.zeros(self.n_channels))
        xp = backend.xp_of(self.gamma.data)
        self.register_buffer("running_mean", xp.zeros(self.n_channels, dtype=self.gamma.dtype))
        self.register_buffer("running_var", xp.ones(self.n_channels, dtype=self.gamma.dtype))
        self.built = True

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"{self.name}: needs (batch, channels, ...) input, got shape {tuple(x.shape)}")
        if x.shape[1] == 0:
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} has no channels on axis 1")
        if not self.built:
            self.build(x.shape[1])
        if x.shape[1] != self.n_channels:
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} has {x.shape[1]} channels "
                             f"on axis 1, but the layer was built for {self.n_channels}")
        if self.training:
            m = x.size // self.n_channels
            if m < 2:
                raise ValueError(f"{self.name}: training mode needs more than one value per channel "
                                 f"to estimate a variance, got input of shape {tuple(x.shape)} "
                                 "(use model.eval() to predict single examples)")
            y, mu, var = (batch_norm if self.fused else batch_norm_simple)(x, self.gamma, self.beta, self.eps)
            self._update_running(mu, var, m)
            return y
        # Evaluation: the running statistics are constants, so this is a fixed affine map per channel.
        shape = (1, self.n_channels) + (1,) * (x.ndim - 2)           # broadcast over the batch/grid
        xp = backend.xp_of(x.data)
        mean = Tensor(self.running_mean.reshape(shape).astype(x.dtype, copy=False))
        std = Tensor(xp.sqrt(self.running_var.reshape(shape) + self.eps).astype(x.dtype, copy=False))
        return (x - mean) / std * ops.reshape(self.gamma, shape) + ops.reshape(self.beta, shape)

    def _update_running(self, mu, var, m):
        with no_grad():
            k = self.momentum
            self.running_mean = (1 - k) * self.running_mean + k * mu.astype(self.running_mean.dtype)
            self.running_var = (1 - k) * self.running_var + k * (var * (m / (m - 1))).astype(
                self.running_var.dtype)


def batch_norm_simple(x, gamma, beta, eps: float = 1e-5):
    """The slide equations composed of checked ops; returns (y, batch mean, batch variance)."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mu = ops.mean(x, axes, keepdims=True)
    xc = x - mu
    var = ops.mean(xc * xc, axes, keepdims=True)
    x_hat = xc / ops.sqrt(var + eps)
    y = x_hat * ops.reshape(gamma, shape) + ops.reshape(beta, shape)
    return y, mu.data.reshape(-1), var.data.reshape(-1)
