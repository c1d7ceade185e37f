"""``md.losses``: the loss functions (implemented in ``minidl/ops/losses.py``)."""
from .ops.losses import (cross_entropy, cross_entropy_simple, binary_cross_entropy,  # noqa: F401
                         mse, triplet_loss, nll_loss)
