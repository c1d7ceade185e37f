"""``trax.supervised.trainer_lib``: the one function the course calls from it."""
from __future__ import annotations

import random

import numpy as np

from ... import backend
from ..fastmath.random import get_prng


def init_random_number_generators(seed=None):
    """Seed Python's ``random``, NumPy's global generator and minidl's (``md.seed``); return a key.

    With ``seed=None`` a seed is drawn from the operating system, as Trax does (it is logged
    nowhere: pass a seed to repeat a run)."""
    random.seed(seed)
    if seed is None:
        seed = random.randint(0, 2 ** 31 - 1)
    np.random.seed(seed)
    backend.seed(seed)
    return get_prng(seed)
