"""``trax.data``: the input helpers the course uses (``inputs.add_loss_weights``)."""
from . import inputs  # noqa: F401
from .inputs import add_loss_weights  # noqa: F401
