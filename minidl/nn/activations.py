"""Activation layers: the activation ops of ``minidl/ops/activations.py`` as Layers.

They have no parameters; they exist so a model can be written as one list
(``Serial(Dense(32), ReLU(), Dense(2), LogSoftmax())``).  The equations and
their derivatives sit next to the ops:

    ReLU        y = max(0, x)                       any shape -> same shape
    Sigmoid     y = 1 / (1 + e^-x)                  any shape -> same shape
    Tanh        y = tanh(x)                         any shape -> same shape
    Softmax     y_i = e^x_i / sum_j e^x_j           over ``axis`` (default -1, the classes)
    LogSoftmax  y_i = x_i - log sum_j e^x_j         over ``axis`` (default -1)

LogSoftmax is the last layer of the course's classifiers.  Its outputs are
log-probabilities, and log_softmax(log_softmax(x)) = log_softmax(x) (the
log-probabilities already log-sum-exp to 0), so ``md.losses.cross_entropy``,
which applies log_softmax itself, gives the right loss on them too.
"""
from __future__ import annotations

from .. import ops, validate
from .layer import Layer


class ReLU(Layer):
    def forward(self, x):
        return ops.relu(x)


class Sigmoid(Layer):
    def forward(self, x):
        return ops.sigmoid(x)


class Tanh(Layer):
    def forward(self, x):
        return ops.tanh(x)


class Softmax(Layer):
    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = validate.axis_index(axis, "axis", "Softmax")

    def forward(self, x):
        return ops.softmax(x, self.axis)


class LogSoftmax(Layer):
    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = validate.axis_index(axis, "axis", "LogSoftmax")

    def forward(self, x):
        return ops.log_softmax(x, self.axis)


class SigmoidRange(Layer):
    """y = low + (high - low) * sigmoid(x): outputs squashed into (low, high)
    (the last layer of a rating model: fastai's ``y_range``).  Any shape -> same shape."""
    def __init__(self, low: float, high: float):
        super().__init__()
        self.low = validate.number(low, "low", "SigmoidRange", finite=True)
        self.high = validate.number(high, "high", "SigmoidRange", finite=True)
        if not self.low < self.high:
            raise ValueError(f"SigmoidRange: need low < high, got low={low}, high={high}")

    @property
    def name(self):
        return f"SigmoidRange_{self.low:g}_{self.high:g}"

    def forward(self, x):
        return ops.sigmoid_range(x, self.low, self.high)
