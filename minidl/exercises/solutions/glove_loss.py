"""Solution 09: dJ/de_k = 2 f(X_k) e_k; each pair adds it (times the other vector) to its rows."""
import numpy as np

from ..templates import glove_loss


class GloVeLoss(glove_loss.GloVeLoss):
    def backward(self, gy):
        de = 2 * gy * self.weight * self.err                             # (K,)
        dW, dW_ctx = np.zeros_like(self.W), np.zeros_like(self.W_ctx)
        db, db_ctx = np.zeros(len(self.W)), np.zeros(len(self.W_ctx))
        np.add.at(dW, self.i, de[:, None] * self.W_ctx[self.j])          # a word in many pairs
        np.add.at(dW_ctx, self.j, de[:, None] * self.W[self.i])          # collects all of them
        np.add.at(db, self.i, de)
        np.add.at(db_ctx, self.j, de)
        return dW, dW_ctx, db, db_ctx, None, None
