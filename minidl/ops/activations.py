"""Activations (and dropout), each with its derivative written next to it.

=============  ==============================  ==================================
name           forward                         backward (dL/dx = dL/dy * ...)
=============  ==============================  ==================================
relu           max(0, x)                       1[x > 0]
leaky_relu     x if x > 0 else a x             1 if x > 0 else a
sigmoid        1 / (1 + e^-x)                  y (1 - y)
tanh           tanh x                          1 - y^2
softmax        e^x_i / sum_j e^x_j             y * (g - sum_j g_j y_j)
log_softmax    x_i - log sum_j e^x_j           g - softmax(x) * sum_j g_j
dropout        x * m / (1 - rate)              m / (1 - rate)   (m ~ Bernoulli(1-rate))
sigmoid_range  lo + (hi - lo) sigmoid(x)       (y - lo)(hi - y) / (hi - lo)
=============  ==============================  ==================================

Numerical stability: sigmoid never evaluates e^x for large positive x, and the
softmax family subtracts max(x) first, so logits of +-1e4 neither overflow nor
produce NaN.
"""
from __future__ import annotations

from ..autograd import Function
from .. import backend, validate


class ReLUOp(Function):
    """y = max(0, x), as ``maximum`` -- not ``x * (x > 0)``, which gives -inf * 0 = NaN at -inf.

    The gradient passes where x is not <= 0: at NaN too, as in PyTorch (a NaN stays visible)."""
    def forward(self, x):
        self.positive = ~(x <= 0)
        return backend.xp_of(x).maximum(x, 0).astype(x.dtype, copy=False)

    def backward(self, gy):
        return gy * self.positive


class LeakyReLU(Function):
    def __init__(self, slope=0.01):
        self.slope = slope

    def forward(self, x):
        self.positive = x > 0
        return backend.xp_of(x).where(self.positive, x, self.slope * x)

    def backward(self, gy):
        return backend.xp_of(gy).where(self.positive, gy, self.slope * gy)


def stable_sigmoid(x):
    """1/(1+e^-x) computed as 0.5 * (1 + tanh(x/2)): the same function, but tanh
    saturates instead of overflowing, so it is exact for any |x| and one kernel."""
    xp = backend.xp_of(x)
    return 0.5 * (1.0 + xp.tanh(0.5 * x))


class SigmoidOp(Function):
    def forward(self, x):
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


class TanhOp(Function):
    def forward(self, x):
        self.y = backend.xp_of(x).tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


def stable_log_softmax(x, axis=-1):
    """x - logsumexp(x), shifting by max(x) so exp never overflows."""
    xp = backend.xp_of(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class SoftmaxOp(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        xp = backend.xp_of(x)
        self.axis = validate.axis(self.axis, x.ndim, "softmax")
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        # Jacobian dy_i/dx_j = y_i (delta_ij - y_j), applied without building it
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmaxOp(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        self.axis = validate.axis(self.axis, x.ndim, "log_softmax")
        self.y = stable_log_softmax(x, self.axis)
        return self.y

    def backward(self, gy):
        xp = backend.xp_of(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


class DropoutOp(Function):
    """Inverted dropout: keep each unit with probability 1 - rate and scale by
    1/(1 - rate), so the expected activation is unchanged and eval needs no rescale."""
    def __init__(self, rate):
        self.rate = validate.number(rate, "rate", "dropout", lo=0, hi=1, hi_open=True)

    def forward(self, x):
        rng = backend.device_rng(backend.name_of(x))
        keep = rng.random_sample(x.shape) >= self.rate
        self.scale = keep.astype(x.dtype) / (1 - self.rate)
        return x * self.scale

    def backward(self, gy):
        return gy * self.scale


def relu(x): return ReLUOp()(x)
def leaky_relu(x, slope=0.01): return LeakyReLU(validate.number(slope, "slope", "leaky_relu"))(x)
def sigmoid(x): return SigmoidOp()(x)
def tanh(x): return TanhOp()(x)
def softmax(x, axis=-1): return SoftmaxOp(axis)(x)
def log_softmax(x, axis=-1): return LogSoftmaxOp(axis)(x)


def dropout(x, rate, training=True):
    """Identity when not training or rate == 0 (no graph node, no RNG draw)."""
    rate = validate.number(rate, "rate", "dropout", lo=0, hi=1, hi_open=True)
    if not validate.flag(training, "training", "dropout") or rate == 0:
        return x
    return DropoutOp(rate)(x)


class SigmoidRange(Function):
    """y = low + (high - low) * sigmoid(x): a sigmoid stretched onto (low, high).

    dy/dx = (high - low) * s (1 - s) = (y - low)(high - y) / (high - low)   (s = sigmoid(x))

    Collaborative filtering squashes a predicted rating into the rating range
    this way.  fastai's y_range = (0, 5.5) lets the model *reach* a 5-star
    rating: a sigmoid only approaches its upper end, so (0, 5) would need x = +inf.
    """
    def __init__(self, low, high):
        low = validate.number(low, "low", "sigmoid_range", finite=True)
        high = validate.number(high, "high", "sigmoid_range", finite=True)
        if not low < high:
            raise ValueError(f"sigmoid_range: need low < high, got low={low}, high={high}")
        self.low, self.high = low, high

    def forward(self, x):
        self.s = stable_sigmoid(x)
        return self.low + (self.high - self.low) * self.s

    def backward(self, gy):
        return gy * ((self.high - self.low) * self.s * (1 - self.s))


def sigmoid_range(x, low, high):
    """low + (high - low) * sigmoid(x), elementwise; any shape -> same shape."""
    return SigmoidRange(low, high)(x)
