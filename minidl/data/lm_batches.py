"""Batches for language models: predict token t+1 from tokens up to t.

A language model reads one long stream of ids (a whole corpus, e.g. the
characters of Shakespeare) and its target is the same stream shifted by one:

    ids  = [T, o, _, b, e, _, o, r, ...]
    x    = [T, o, _, b, e, _, o]          y = [o, _, b, e, _, o, r]

Two ways to cut the stream into (batch, seq_len) pieces:

**Contiguous streams (truncated backprop through time).**  Cut the stream into
``batch_size`` equal rows laid side by side, then walk along them ``seq_len``
columns at a time:

    stream 0..23, batch_size=2, seq_len=4  ->  rows  [ 0 .. 10] and [11 .. 21]
    batch 0: x = [[ 0  1  2  3]      batch 1: x = [[ 4  5  6  7]     ...
                  [11 12 13 14]]                   [15 16 17 18]]

Row r of batch k+1 continues row r of batch k, so an RNN may carry its hidden
state from one batch to the next (detached: gradients stop at the batch edge,
which is what "truncated" BPTT means).  The last batch is shorter when the row
length is not a multiple of seq_len (``drop_last=True`` skips it).

**Random windows.**  Each example is an independent window at a random start.
No state is carried; every batch is a fresh sample of the corpus (what
transformer and n-gram-style training do).

Both yield NumPy int64 arrays ``x, y`` of shape (batch_size, seq_len); wrap
them with ``md.tensor`` or use them as indices directly.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, validate


def _as_stream(ids, who="lm_stream_rows"):
    try:
        ids = np.asarray(backend.asnumpy(getattr(ids, "data", ids)) if hasattr(ids, "requires_grad") else ids)
    except (TypeError, ValueError):
        ids = np.asarray(None)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"{who}: ids must be one 1-D stream of integer token ids, got "
                         f"{ids.dtype} of shape {ids.shape}")
    return ids.astype(np.int64, copy=False)


def lm_stream_rows(ids, batch_size):
    """The stream as ``batch_size`` contiguous rows: ``(X, Y)``, each (B, L).

    L = (len(ids) - 1) // batch_size; Y is X shifted one step to the left in
    the original stream.  Up to batch_size trailing ids are dropped.
    """
    ids = _as_stream(ids)
    batch_size = validate.positive_int(batch_size, "batch_size", "lm_stream_rows")
    row_len = (len(ids) - 1) // batch_size
    if row_len < 1:
        raise ValueError(f"a stream of {len(ids)} ids is too short for batch_size={batch_size} "
                         f"(need at least {batch_size + 1})")
    n = batch_size * row_len
    return ids[:n].reshape(batch_size, row_len), ids[1:n + 1].reshape(batch_size, row_len)


def lm_stream_num_batches(ids, batch_size, seq_len, drop_last=False):
    """How many batches ``lm_stream_batches`` yields (for progress bars)."""
    batch_size = validate.positive_int(batch_size, "batch_size", "lm_stream_num_batches")
    seq_len = validate.positive_int(seq_len, "seq_len", "lm_stream_num_batches")
    row_len = (len(_as_stream(ids, "lm_stream_num_batches")) - 1) // batch_size
    return row_len // seq_len if drop_last else math.ceil(row_len / seq_len)


def lm_stream_batches(ids, batch_size, seq_len, drop_last=False):
    """Contiguous (x, y) batches for truncated BPTT, both (batch_size, <=seq_len).

    Batch k+1's row r starts exactly where batch k's row r ended.
    """
    seq_len = validate.positive_int(seq_len, "seq_len", "lm_stream_batches")
    drop_last = validate.flag(drop_last, "drop_last", "lm_stream_batches")
    X, Y = lm_stream_rows(_as_stream(ids, "lm_stream_batches"), batch_size)
    for t in range(0, X.shape[1], seq_len):
        if drop_last and t + seq_len > X.shape[1]:
            return
        yield X[:, t:t + seq_len], Y[:, t:t + seq_len]


def lm_random_windows(ids, batch_size, seq_len, n_batches, seed=None):
    """``n_batches`` batches of independent random windows, x and y (B, seq_len).

    Each row starts at a uniform random position s in 0 .. len(ids)-seq_len-1
    and is x = ids[s : s+seq_len], y = ids[s+1 : s+seq_len+1].
    seed: an int for a private RNG; None uses ``md.seed``'s host RNG.
    """
    ids = _as_stream(ids, "lm_random_windows")
    seq_len = validate.positive_int(seq_len, "seq_len", "lm_random_windows")
    batch_size = validate.positive_int(batch_size, "batch_size", "lm_random_windows")
    n_batches = validate.non_negative_int(n_batches, "n_batches", "lm_random_windows")
    n_starts = len(ids) - seq_len
    if n_starts < 1:
        raise ValueError(f"a stream of {len(ids)} ids is too short for seq_len={seq_len} "
                         f"(need at least {seq_len + 1})")
    rng = backend.host_rng() if seed is None else np.random.default_rng(seed)
    offsets = np.arange(seq_len)
    for _ in range(n_batches):
        starts = rng.integers(0, n_starts, size=batch_size)
        idx = starts[:, None] + offsets[None, :]          # (B, seq_len) gather indices
        yield ids[idx], ids[idx + 1]
