"""Solution 05: the gradient passes where x > 0 and stops elsewhere (0 at the kink itself)."""
from ..templates import relu


class ReLU(relu.ReLU):
    def backward(self, gy):
        return gy * (self.x > 0)
