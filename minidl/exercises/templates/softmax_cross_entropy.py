"""Exercise 06 -- softmax cross-entropy, fused: the famous "softmax - onehot".

Forward (given):   p_n = softmax(z_n),   L = -(1/N) sum_n log p_n[y_n]
                   z (N, C) logits,  y (N,) integer class ids  ->  L, a scalar

Derive:  dL/dz (N, C) from gy = dL/dL (a scalar, 1 in training).
         Write -log p_n[y_n] = logsumexp(z_n) - z_n[y_n] and differentiate each
         part with respect to z_nc.  The result is strikingly simple; do not
         forget where the 1/N went.

Return:  (dz, None) -- one gradient per input; class ids have no gradient.
Used in: md.losses.cross_entropy (minidl/ops/losses.py, the fused twin of
         cross_entropy_simple), which trains lessons 01 and 02.

    python -m minidl.exercises check softmax_cross_entropy
    python -m minidl.exercises hint softmax_cross_entropy
"""
import numpy as np

import minidl as md


class SoftmaxCrossEntropy(md.Function):
    def forward(self, z, y):
        shifted = z - z.max(axis=1, keepdims=True)          # stable: exp never overflows
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p, self.y = np.exp(logp), y                     # softmax (N, C), targets (N,)
        return -logp[np.arange(len(y)), y].mean()

    def backward(self, gy):
        """gy: dL/dL, a 0-d array.  Return (dL/dz, None)."""
        raise NotImplementedError("your code here")
