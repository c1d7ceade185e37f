"""Exercise 13 -- a 2-D convolution via im2col, and col2im, its adjoint.

Forward (given), stride 1, no padding, NCHW as in PyTorch:
    y[n, f, p, q] = b[f] + sum_{c, i, j} w[f, c, i, j] * x[n, c, p + i, q + j]
    x (N, C, H, W),  w (F, C, kh, kw),  b (F,)  ->  y (N, F, OH, OW),  OH = H - kh + 1, OW = W - kw + 1

    im2col turns every kh x kw window into a row, so the convolution is ONE matmul:
        cols (N, OH, OW, C*kh*kw) @ w.reshape(F, -1).T + b  ->  (N, OH, OW, F)

Derive:  dL/dx, dL/dw, dL/db from gy = dL/dy (N, F, OH, OW).
         dL/dw and dL/db: exercise 02 and 01 on the matmul form.
         dL/dx: first dL/dcols, then undo im2col ("col2im").  Windows overlap: one
         pixel x[n, c, P, Q] sits in up to kh * kw windows.

Return:  (dx, dw, db).
Used in: the convolutions lesson and md.ops.conv2d / nn.Conv2d (see python -m
         lessons list); this file is self-contained and does not need them.

    python -m minidl.exercises check conv_im2col
    python -m minidl.exercises hint conv_im2col
"""
import numpy as np

import minidl as md


def im2col(x, kh, kw):
    """x (N, C, H, W) -> cols (N, OH, OW, C*kh*kw): each kh x kw window, flattened as (c, i, j)."""
    N, C, H, W = x.shape
    OH, OW = H - kh + 1, W - kw + 1
    cols = np.empty((N, OH, OW, C, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = x[:, :, i:i + OH, j:j + OW].transpose(0, 2, 3, 1)
    return cols.reshape(N, OH, OW, C * kh * kw)


class Conv2d(md.Function):
    def forward(self, x, w, b):
        F, C, kh, kw = w.shape
        self.x_shape, self.w = x.shape, w
        self.cols = im2col(x, kh, kw)                               # (N, OH, OW, C*kh*kw)
        y = self.cols @ w.reshape(F, -1).T + b                       # (N, OH, OW, F)
        return y.transpose(0, 3, 1, 2)                               # (N, F, OH, OW)

    def backward(self, gy):
        """gy: dL/dy (N, F, OH, OW).  Return (dL/dx, dL/dw, dL/db)."""
        raise NotImplementedError("your code here")
