"""Exercise 08 -- embedding lookup, and what repeated ids do to its gradient.

Forward (given):   out[b, t] = W[ids[b, t]]
                   W (V, d) embedding table,  ids (B, T) integer token ids
                   ->  out (B, T, d)

Derive:  dL/dW (V, d) from gy = dL/dout (B, T, d).  Row v of W was copied to
         every position where ids == v.  Most sentences repeat a token ("the",
         padding) -- what must row v of the gradient collect?  Rows of words
         that do not occur get 0.

Return:  (dW, None) -- ids have no gradient.
Used in: nn.Embedding (minidl/nn/embedding.py) in every lesson; the engine does
         the scatter-add with backend.scatter_add (minidl/backend.py).

    python -m minidl.exercises check embedding
    python -m minidl.exercises hint embedding
"""
import numpy as np  # noqa: F401  (your backward will want it)

import minidl as md


class Embedding(md.Function):
    def forward(self, W, ids):
        self.ids, self.W_shape = ids, W.shape
        return W[ids]

    def backward(self, gy):
        """gy: dL/dout (B, T, d).  Return (dL/dW, None)."""
        raise NotImplementedError("your code here")
