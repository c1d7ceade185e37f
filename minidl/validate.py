"""Argument checks shared by layers and loaders: one rule, one message shape.

"The message names what was wrong and what was expected": ``Dense(-5)`` says
``Dense: n_units must be a positive integer, got -5``, not a NumPy error three
calls later.  (A float that is a whole number, 32.0, is accepted: it is what
``n * 0.5`` gives.)
"""
from __future__ import annotations

import numbers


def positive_int(value, name: str, who: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a ValueError/TypeError naming ``who`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if value != int(value):
        raise TypeError(f"{who}: {name} must be a whole number, got {value!r}")
    if int(value) < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{who}: {name} must be {what}, got {value!r}")
    return int(value)
