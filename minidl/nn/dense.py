"""Dense: the fully connected layer  y = x @ W + b.

    x: (..., n_in)    W: (n_in, n_units)    b: (n_units,)    y: (..., n_units)

W is Glorot-uniform, b starts at zero.  ``n_in`` is inferred from the first
input when not given (Trax/Keras style); after that a mismatching input is an
error that names the layer and both shapes.
"""
from __future__ import annotations

from .. import ops
from . import init
from .layer import Layer, parameter
from ..validate import flag, positive_int


class Dense(Layer):
    def __init__(self, n_units: int, n_in: int | None = None, use_bias: bool = True):
        super().__init__()
        self.n_units = positive_int(n_units, "n_units", "Dense")
        self.n_in, self.use_bias = n_in, flag(use_bias, "use_bias", "Dense")
        self.built = False
        if n_in is not None:
            self.build(positive_int(n_in, "n_in", "Dense"))

    @property
    def name(self):
        return f"Dense_{self.n_units}"

    def build(self, n_in: int):
        self.n_in = int(n_in)
        self.W = parameter(init.glorot_uniform(self.n_in, self.n_units))
        if self.use_bias:
            self.b = parameter(init.zeros(self.n_units))
        self.built = True

    def forward(self, x):
        if x.ndim == 0:
            raise ValueError(f"{self.name}: got a 0-d input (a single number); Dense needs (..., n_in), "
                             "e.g. x.reshape(1, 1) for one example with one feature")
        if not self.built:
            self.build(x.shape[-1])
        if x.shape[-1] != self.n_in:
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} does not fit W of shape "
                             f"{tuple(self.W.shape)} (the last input axis must be {self.n_in})")
        # (..., n_in) -> (N, n_in) with N = prod(...): ONE big 2-D product, and dL/dW
        # = x^T @ dL/dy needs no sum over a stack of small ones (BLAS is fastest so).
        lead = tuple(x.shape[:-1])
        y = ops.matmul(x.reshape(-1, self.n_in) if len(lead) != 1 else x, self.W)
        y = ops.add(y, self.b) if self.use_bias else y
        return y.reshape(lead + (self.n_units,)) if len(lead) != 1 else y
