"""Exercise 09 -- the GloVe loss (Pennington et al. 2014).

Forward (given):   J = sum_k f(X_k) (w_i . w~_j + b_i + b~_j - log X_k)^2,   i = i_k, j = j_k
                   f(x) = (x / x_max)^alpha  if x < x_max  else 1      (x_max = 100, alpha = 3/4)

                   W, W_ctx (V, d) word and context vectors,  b, b_ctx (V,) biases,
                   i, j (K,) integer ids of K co-occurring pairs,
                   counts X (K,) their co-occurrence counts (given to the constructor)
                   ->  J, a scalar

Derive:  dJ/dW, dJ/dW_ctx, dJ/db, dJ/db_ctx from gy = dJ/dJ.  Call
         e_k = w_i . w~_j + b_i + b~_j - log X_k the error of pair k.  Each pair
         touches one row of each table -- and a frequent word takes part in many
         pairs.

Return:  (dW, dW_ctx, db, db_ctx, None, None) -- ids have no gradient.
Used in: the GloVe word-vector lesson (python -m lessons list); pretrained GloVe
         vectors are loaded by minidl/datasets/vectors.py.

    python -m minidl.exercises check glove_loss
    python -m minidl.exercises hint glove_loss
"""
import numpy as np

import minidl as md


class GloVeLoss(md.Function):
    def __init__(self, counts, x_max=100.0, alpha=0.75):
        self.counts, self.x_max, self.alpha = counts, x_max, alpha

    def forward(self, W, W_ctx, b, b_ctx, i, j):
        self.weight = np.minimum((self.counts / self.x_max) ** self.alpha, 1.0)   # f(X_k) (K,)
        self.err = (W[i] * W_ctx[j]).sum(axis=1) + b[i] + b_ctx[j] - np.log(self.counts)
        self.W, self.W_ctx, self.i, self.j = W, W_ctx, i, j
        return (self.weight * self.err ** 2).sum()

    def backward(self, gy):
        """gy: dJ/dJ (0-d).  Return (dW, dW_ctx, db, db_ctx, None, None)."""
        raise NotImplementedError("your code here")
