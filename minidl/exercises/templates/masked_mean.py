"""Exercise 07 -- the mean over the real tokens of a padded batch.

Forward (given):   y_bd = sum_t m_bt x_btd / sum_t m_bt
                   x (B, T, D) word vectors,  m (B, T) bool mask (True = real
                   token, False = padding)  ->  y (B, D)

                   Trax's Mean(axis=1) after an Embedding, but padding neither
                   adds to the mean nor dilutes it.

Derive:  dL/dx (B, T, D) from gy = dL/dy (B, D).  Which x_btd does y_bd depend
         on, and with what weight?  What is the gradient at a padding position?

Return:  (dx, None) -- the mask has no gradient.
Used in: the Embedding -> Mean -> Dense sentiment model of lesson
         01_tweet_sentiment; the masked losses in minidl/ops/losses.py use the
         same normaliser (the number of real tokens).

    python -m minidl.exercises check masked_mean
    python -m minidl.exercises hint masked_mean
"""
import numpy as np  # noqa: F401  (your backward will want it)

import minidl as md


class MaskedMean(md.Function):
    def forward(self, x, mask):
        self.m = mask.astype(x.dtype)[:, :, None]           # (B, T, 1): 1 real, 0 padding
        self.count = self.m.sum(axis=1)                      # (B, 1): real tokens per row
        return (x * self.m).sum(axis=1) / self.count         # (B, D)

    def backward(self, gy):
        """gy: dL/dy (B, D).  Return (dL/dx, None)."""
        raise NotImplementedError("your code here")
