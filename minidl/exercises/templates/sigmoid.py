"""Exercise 03 -- the sigmoid: y = 1 / (1 + e^-x).

Forward (given):   y = sigma(x) = 1 / (1 + exp(-x))      x, y: any shape, e.g. (N, D)

Derive:  dL/dx from gy = dL/dy (same shape).  Differentiate 1 / (1 + e^-x)
         and write the result in terms of y itself: forward saved y, not x.

Return:  dL/dx, the shape of x.
Used in: nn.Sigmoid, the LSTM/GRU gates (minidl/nn/cells.py, lesson
         02_char_language_model); the engine's Sigmoid is in minidl/ops/activations.py.

    python -m minidl.exercises check sigmoid
    python -m minidl.exercises hint sigmoid
"""
import numpy as np

import minidl as md


class Sigmoid(md.Function):
    def forward(self, x):
        self.y = 1.0 / (1.0 + np.exp(-x))
        return self.y

    def backward(self, gy):
        """gy: dL/dy.  Return dL/dx."""
        raise NotImplementedError("your code here")
