"""Synthetic sequence tasks that test memory: the adding problem, and tagging "a marker comes later".

Generated in code, seeded; each result says ``"source": "synthetic: ..."`` and
carries a ``"description"``.  ``seed`` is an int or a ``numpy.random.Generator``
(pass one Generator to draw successive training batches from a single stream).

**The adding problem** (``make_adding_problem``; Hochreiter & Schmidhuber 1997,
the benchmark of Le et al. 2015).  Each step is a pair (value, marker): values
uniform in [0, 1], and exactly two steps marked 1 -- one in the first half of
the sequence, one in the second::

    y = value at the first marker + value at the second marker

Predicting the mean, 1.0, scores MSE = Var(u1 + u2) = 2/12 ≈ 0.167 (the trivial
baseline); beating it means carrying a number across up to ``length`` steps.

**Marker tagging** (``make_marker_tagging``).  Token sequences of varying real
length (the rest is padding, id 0); half of them contain one marker (id 2),
somewhere in the second half of their real length.  The label of position t is
1 when the marker appears LATER than t.  In the first half of a sequence the
label depends only on the future, so a left-to-right model is at chance (0.5)
there, while a bidirectional one can read it off.
"""
from __future__ import annotations

import numpy as np

TRIVIAL_ADDING_MSE = 2 / 12          # predict 1.0: Var(u1 + u2) for u ~ U(0, 1)
MARKER_ID = 2                        # 0 = padding, 1 = unknown (the token-id convention), 2 = the marker


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def make_adding_problem(n: int, length: int, seed=0) -> dict:
    """The adding problem: x (n, length, 2) float32 [value, marker], y (n, 1) float32.

    Also ``positions`` (n, 2) int: the two marked steps (first in [0, length // 2),
    second in [length // 2, length)).
    """
    if length < 2:
        raise ValueError(f"make_adding_problem: length must be at least 2 (one marker per half), got {length}")
    rng = _rng(seed)
    x = np.zeros((n, length, 2), np.float32)
    x[:, :, 0] = rng.uniform(0, 1, (n, length))
    first = rng.integers(0, length // 2, n)
    second = rng.integers(length // 2, length, n)
    rows = np.arange(n)
    x[rows, first, 1] = x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0])[:, None]
    return {"x": x, "y": y, "positions": np.stack([first, second], axis=1),
            "source": f"synthetic: adding problem, length {length}",
            "description": "sum of the two values whose marker is 1 (one marker in each half); "
                           f"predicting 1.0 gives MSE {TRIVIAL_ADDING_MSE:.3f}"}


def make_marker_tagging(n: int, length: int, vocab_size: int = 10, seed=0) -> dict:
    """Tag every position with "the marker appears later in this sequence".

    ids (n, length) int64: 0 padding, 2 the marker, 3..vocab_size-1 ordinary symbols;
    labels (n, length) int64 in {0, 1} (0 on padding); mask (n, length) bool (True = real step);
    lengths (n,): real lengths, uniform in [length // 2, length];
    future_only (n, length) bool: the real positions in the first half of each sequence,
        where the label depends on the future alone (the marker is never placed there).
    """
    if vocab_size < 4 or length < 2:
        raise ValueError(f"make_marker_tagging: need vocab_size >= 4 and length >= 2, got "
                         f"{vocab_size} and {length}")
    rng = _rng(seed)
    lengths = rng.integers(length // 2, length + 1, n)
    ids = np.zeros((n, length), np.int64)
    labels = np.zeros((n, length), np.int64)
    for b, real in enumerate(lengths):
        ids[b, :real] = rng.integers(MARKER_ID + 1, vocab_size, real)
        if rng.random() < 0.5:                             # half the sequences carry a marker
            where = rng.integers(real // 2, real)
            ids[b, where], labels[b, :where] = MARKER_ID, 1
    mask = ids > 0
    future_only = mask & (np.arange(length)[None, :] < (lengths[:, None] // 2))
    return {"ids": ids, "labels": labels, "mask": mask, "lengths": lengths, "future_only": future_only,
            "source": f"synthetic: marker tagging, length {length}",
            "description": "label_t = 1 when the marker (id 2) appears after position t"}
