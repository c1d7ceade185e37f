"""Solution 08: scatter-add -- every occurrence of id v adds its gradient to row v."""
import numpy as np

from ..templates import embedding


class Embedding(embedding.Embedding):
    def backward(self, gy):
        dW = np.zeros(self.W_shape, dtype=gy.dtype)
        np.add.at(dW, self.ids, gy)                      # dW[ids] += gy would drop repeats
        return dW, None
