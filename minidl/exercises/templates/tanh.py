"""Exercise 04 -- the hyperbolic tangent: y = tanh(x).

Forward (given):   y = tanh(x) = (e^x - e^-x) / (e^x + e^-x)      any shape

Derive:  dL/dx from gy = dL/dy.  As for the sigmoid, express tanh'(x) through
         the saved output y.

Return:  dL/dx, the shape of x.
Used in: the vanilla RNN cell h_t = tanh(W_h [h, x] + b) and the LSTM's
         candidate g and tanh(c_t) (minidl/nn/cells.py, lesson 02_char_language_model).

    python -m minidl.exercises check tanh
    python -m minidl.exercises hint tanh
"""
import numpy as np

import minidl as md


class Tanh(md.Function):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, gy):
        """gy: dL/dy.  Return dL/dx."""
        raise NotImplementedError("your code here")
