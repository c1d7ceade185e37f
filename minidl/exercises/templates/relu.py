"""Exercise 05 -- ReLU and its kink: y = max(x, 0).

Forward (given):   y = max(x, 0)      elementwise, any shape

Derive:  dL/dx from gy = dL/dy.  ReLU is linear on each side of 0; at x = 0
         it has a kink and no derivative (pick 0 or 1 there: any value in
         [0, 1] is a valid subgradient).  The checker sees the kink -- the
         one-sided slopes disagree -- and nudges such elements off it.

Return:  dL/dx, the shape of x.
Used in: nn.ReLU and Dense -> ReLU stacks; the engine's ReLU is in
         minidl/ops/activations.py.

    python -m minidl.exercises check relu
    python -m minidl.exercises hint relu
"""
import numpy as np

import minidl as md


class ReLU(md.Function):
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, gy):
        """gy: dL/dy.  Return dL/dx."""
        raise NotImplementedError("your code here")
