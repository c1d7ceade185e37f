"""Padding and masks: turning ragged lists of token ids into one rectangle.

A batch of sentences has sentences of different lengths, but an array (and so
a model) wants a rectangle ``(batch, time)``.  We make one by *padding* short
rows with the pad id 0 and *truncating* long ones:

    seqs = [[5, 8, 2], [7], [3, 3, 3, 3, 9]]
    pad_sequences(seqs, maxlen=4)          ->  [[5, 8, 2, 0],
                                                [7, 0, 0, 0],
                                                [3, 3, 3, 3]]     (int64, (3, 4))

``padding="post"`` puts the zeros at the end (what an RNN reading left to right
wants, so the real tokens come first); ``"pre"`` puts them in front.
``truncating`` says which end loses tokens when a row is too long.

The model must then ignore the padding: a mean over time should divide by the
number of *real* tokens, a loss should not count pad positions.  That is what a
mask is for:

    padding_mask(ids)        -> ids != 0                 bool, same shape as ids
    sequence_mask(lengths)   -> [[T, T, T, F], [T, F, F, F], ...]

Token id 0 is padding everywhere in minidl (and 1 is the unknown token), so a
mask can always be recovered from the ids alone.
"""
from __future__ import annotations

import numpy as np

PAD_ID = 0
UNK_ID = 1


def pad_sequences(seqs, maxlen=None, value=0, padding="post", truncating="post", dtype="int64"):
    """Pad / truncate a list of sequences into a 2-D array.

    seqs:       list of sequences of ints (lists, tuples or 1-D arrays), length N.
    maxlen:     length T of every output row; None means the longest sequence.
    value:      what to fill the padding with (the pad id 0 by default).
    padding:    "post" (pad at the end) or "pre" (pad at the front).
    truncating: "post" (drop the end of long rows) or "pre" (drop the start).
    Returns an array of shape (N, T) and the given dtype.

    The defaults are "post" for both, unlike Keras (whose defaults are "pre"):
    with post-padding, position t holds the t-th real token of every row, which
    is what a left-to-right RNN and a language-model loss expect.
    """
    if padding not in ("post", "pre"):
        raise ValueError(f"padding must be 'post' or 'pre', got {padding!r}")
    if truncating not in ("post", "pre"):
        raise ValueError(f"truncating must be 'post' or 'pre', got {truncating!r}")
    seqs = [np.asarray(s) for s in seqs]
    for i, s in enumerate(seqs):
        if s.ndim != 1:
            raise ValueError(f"sequence {i} must be 1-D, got shape {s.shape}")
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    if maxlen < 0:
        raise ValueError(f"maxlen must be >= 0, got {maxlen}")

    out = np.full((len(seqs), maxlen), value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, s in enumerate(seqs):
        s = s[:maxlen] if truncating == "post" else s[-maxlen:]
        if padding == "post":
            out[i, :len(s)] = s
        else:
            out[i, maxlen - len(s):] = s
    return out


def _array_of(ids):
    """The array inside a minidl Tensor, or ``ids`` itself (NumPy/CuPy array)."""
    # A Tensor carries its array in ``.data``; NumPy arrays also have a ``.data``
    # attribute (a raw buffer), so we recognise Tensors by ``requires_grad``.
    return ids.data if hasattr(ids, "requires_grad") else ids


def padding_mask(ids, pad_id=PAD_ID):
    """``ids != pad_id``: True on real tokens, False on padding.

    ids: integer array (N, T) (NumPy, CuPy, or a minidl Tensor).
    Returns a boolean array of the same shape, on the same device as ``ids``.
    """
    ids = _array_of(ids)
    if not hasattr(ids, "shape"):
        ids = np.asarray(ids)
    return ids != pad_id


def sequence_mask(lengths, maxlen=None):
    """Boolean mask (N, T) with ``mask[i, t] = t < lengths[i]``.

    lengths: (N,) non-negative ints; maxlen: T, default ``max(lengths)``.
    The mask of a post-padded batch built from its row lengths.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D, got shape {lengths.shape}")
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    return np.arange(maxlen)[None, :] < lengths[:, None]


def sequence_lengths(ids, pad_id=PAD_ID):
    """Number of non-pad tokens in each row of ``ids`` (N, T) -> (N,) int64 (same device)."""
    return padding_mask(ids, pad_id).sum(axis=1).astype("int64")
