"""Solution 04: tanh'(x) = 1 - tanh(x)^2 = 1 - y^2."""
from ..templates import tanh


class Tanh(tanh.Tanh):
    def backward(self, gy):
        return gy * (1 - self.y ** 2)
