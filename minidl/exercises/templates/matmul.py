"""Exercise 02 -- matrix product: Y = A @ B.

Forward (given):   Y = A @ B        A (N, K),  B (K, M)  ->  Y (N, M)
                   Y_nm = sum_k A_nk B_km

Derive:  dL/dA (N, K) and dL/dB (K, M) from gy = dL/dY (N, M).
         Start from one element: dL/dA_nk = sum_m dL/dY_nm * dY_nm/dA_nk.
         Then write the sum as a matrix product; the shapes leave only one
         way to combine (N, M) with B (K, M) into (N, K).

Return:  (dA, dB).
Used in: nn.Dense (minidl/nn/dense.py, x @ W + b) and every recurrent cell's
         [h, x] @ W (minidl/nn/cells.py); the engine's MatMul is in
         minidl/ops/arithmetic.py.

    python -m minidl.exercises check matmul
    python -m minidl.exercises hint matmul
"""
import numpy as np  # noqa: F401  (your backward will want it)

import minidl as md


class MatMul(md.Function):
    def forward(self, A, B):
        self.A, self.B = A, B
        return A @ B

    def backward(self, gy):
        """gy: dL/dY (N, M).  Return (dL/dA, dL/dB)."""
        raise NotImplementedError("your code here")
