"""Exercise 12 -- the Siamese triplet loss with hard negatives (the course's definition).

Forward (given):   v1, v2 (B, d): row n of v1 and of v2 are duplicates (anchor and
                   positive); every other row of v2 is a negative for anchor n.
    S = v1 @ v2^T                                        (B, B) similarities
    positive_n    = S_nn
    mean_neg_n    = sum_{m != n} S_nm / (B - 1)
    closest_neg_n = max { S_nm : m != n, S_nm <= S_nn }  the hardest negative still
                    below the positive (if there is none: the max of the masked S - 2)
    L = (1/B) sum_n [ max(0, margin - positive_n + mean_neg_n)
                    + max(0, margin - positive_n + closest_neg_n) ]     a scalar

Derive:  dL/dv1 and dL/dv2 (B, d) from gy = dL/dL.  First find dL/dS (B, B): which
         entries of row n does each hinge touch, and only when is it active?
         Then S = v1 @ v2^T is exercise 02.

Return:  (dv1, dv2).
Used in: the Siamese-network lesson (question duplicates); md.losses.triplet_loss
         in minidl/ops/losses.py is the engine's version.

    python -m minidl.exercises check triplet_loss
    python -m minidl.exercises hint triplet_loss
"""
import numpy as np

import minidl as md


class TripletLoss(md.Function):
    def __init__(self, margin=0.25):
        self.margin = margin

    def forward(self, v1, v2):
        S = v1 @ v2.T                                              # (B, B)
        B = S.shape[0]
        eye = np.eye(B, dtype=bool)
        positive = np.diag(S)                                      # (B,)
        mean_neg = np.where(eye, 0.0, S).sum(axis=1) / (B - 1)     # (B,)
        exclude = eye | (S > positive[:, None])                    # the positive, and anything above it
        masked = S - 2.0 * exclude                                 # excluded entries sink by 2
        self.closest = masked.argmax(axis=1)                       # (B,) column of closest_neg
        closest_neg = masked[np.arange(B), self.closest]
        self.hinge_mean = self.margin - positive + mean_neg          # (B,) arguments of the
        self.hinge_closest = self.margin - positive + closest_neg    # (B,) two max(0, .)
        self.v1, self.v2 = v1, v2
        return (np.maximum(self.hinge_mean, 0) + np.maximum(self.hinge_closest, 0)).mean()

    def backward(self, gy):
        """gy: dL/dL (0-d).  Return (dL/dv1, dL/dv2)."""
        raise NotImplementedError("your code here")
