"""``trax.fastmath.random``: random numbers from explicit keys, JAX style.

    key = get_prng(0)                    # a key: two uint32 words, as in JAX
    k1, k2 = split(key)                  # two new, independent keys
    normal(k1, (3, 4)); uniform(k2, (5,), minval=-1.0, maxval=1.0)

The same key always gives the same numbers and a key is never changed by use,
so code that splits keys the way Trax does is reproducible.  The *values* are
NumPy's (a ``numpy.random.Generator`` seeded from the key through a
``SeedSequence``), not JAX's threefry: the same program gives other random
numbers than on Trax -- other initial weights, other samples -- with the same
distributions.
"""
from __future__ import annotations

import numpy as np

_MASK = 0xFFFFFFFF


def get_prng(seed):
    """A key from an integer seed (JAX's ``PRNGKey``): uint32 array of shape (2,)."""
    seed = int(seed)
    return np.array([(seed >> 32) & _MASK, seed & _MASK], dtype=np.uint32)


def _generator(key) -> np.random.Generator:
    words = np.asarray(key, dtype=np.uint32).reshape(-1)
    if words.size != 2:
        raise ValueError(f"a random key is 2 uint32 words (from get_prng or split), got shape {np.shape(key)}")
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


def split(key, num=2):
    """``num`` new keys, shape (num, 2), all different from ``key`` and from each other."""
    return _generator(key).integers(0, 2 ** 32, size=(int(num), 2), dtype=np.uint32)


def fold_in(key, data):
    """A new key from ``key`` and an integer ``data`` (e.g. a step number)."""
    words = [int(w) for w in np.asarray(key, dtype=np.uint32).reshape(-1)] + [int(data) & _MASK]
    return np.random.default_rng(np.random.SeedSequence(words)).integers(0, 2 ** 32, size=2, dtype=np.uint32)


def normal(key, shape=(), dtype=np.float32):
    return _generator(key).standard_normal(tuple(shape)).astype(dtype)


def uniform(key, shape=(), dtype=np.float32, minval=0.0, maxval=1.0):
    return _generator(key).uniform(minval, maxval, size=tuple(shape)).astype(dtype)


def randint(key, shape, minval, maxval, dtype=np.int32):
    return _generator(key).integers(minval, maxval, size=tuple(shape)).astype(dtype)


def bernoulli(key, p=0.5, shape=None):
    shape = np.shape(p) if shape is None else tuple(shape)
    return _generator(key).random(shape) < p


def categorical(key, logits, axis=-1, shape=None):
    """Sample indices with probabilities softmax(logits) along ``axis`` (the Gumbel-max trick)."""
    logits = np.asarray(logits)
    gumbel = _generator(key).gumbel(size=logits.shape if shape is None else tuple(shape) + logits.shape[-1:])
    return np.argmax(logits + gumbel, axis=axis)
