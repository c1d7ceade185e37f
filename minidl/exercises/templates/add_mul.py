"""Exercise 01 -- broadcasting: y = a * b + c, and the sum_to trap.

Forward (given):   y = a * b + c   with NumPy broadcasting, for example
                   a (N, D),    b (D,),    c (1, D)  ->  y (N, D)
                   a (B, T, D), b (T, 1),  c ()      ->  y (B, T, D)
                   a (N, 1),    b (1, M),  c (M,)    ->  y (N, M)

Derive:  dL/da, dL/db and dL/dc from gy = dL/dy (shape of y).
         Elementwise the chain rule is easy (d(a*b)/da = b, ...), but that gives
         arrays of y's shape.  Each gradient must have the shape of ITS input:
         forward used one element of b for many elements of y, so ...?

Return:  (da, db, dc), each with the shape of its input.
Used in: every ``x @ W + b`` and gate product of minidl.  The engine's answer is
         ``sum_to`` in minidl/autograd.py with Add/Mul in minidl/ops/arithmetic.py
         (peek after you pass).

    python -m minidl.exercises check add_mul      # grade your backward
    python -m minidl.exercises hint add_mul       # one more hint per call
"""
import numpy as np  # noqa: F401  (your backward will want it)

import minidl as md


class MulAdd(md.Function):
    def forward(self, a, b, c):
        self.a, self.b, self.c_shape = a, b, c.shape      # what backward will need
        return a * b + c

    def backward(self, gy):
        """gy: dL/dy, y's shape.  Return (dL/da, dL/db, dL/dc)."""
        raise NotImplementedError("your code here")
