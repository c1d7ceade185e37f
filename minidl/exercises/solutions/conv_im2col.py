"""Solution 13: the matmul rules on the im2col form, then col2im ADDS overlapping windows back."""
import numpy as np

from ..templates import conv_im2col


def col2im(dcols, x_shape, kh, kw):
    """The adjoint of im2col: (N, OH, OW, C*kh*kw) -> (N, C, H, W), summing where windows overlap."""
    N, C, H, W = x_shape
    OH, OW = H - kh + 1, W - kw + 1
    dcols = dcols.reshape(N, OH, OW, C, kh, kw)
    dx = np.zeros(x_shape, dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + OH, j:j + OW] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx


class Conv2d(conv_im2col.Conv2d):
    def backward(self, gy):
        F, C, kh, kw = self.w.shape
        g = gy.transpose(0, 2, 3, 1)                              # (N, OH, OW, F), the matmul's layout
        g2, cols2 = g.reshape(-1, F), self.cols.reshape(-1, C * kh * kw)
        dw = (g2.T @ cols2).reshape(self.w.shape)                 # (F, C*kh*kw) -> (F, C, kh, kw)
        db = g2.sum(axis=0)                                       # b broadcast over N, OH, OW
        dcols = g2 @ self.w.reshape(F, -1)                        # (N*OH*OW, C*kh*kw)
        return col2im(dcols, self.x_shape, kh, kw), dw, db
