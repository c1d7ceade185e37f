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

from .. import backend, validate

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
    who = "pad_sequences"
    validate.choice(padding, ("post", "pre"), "padding", who)
    validate.choice(truncating, ("post", "pre"), "truncating", who)
    validate.number(value, "value", who)
    dtype = backend.numeric_dtype(dtype, who)
    if isinstance(seqs, (str, bytes)) or not hasattr(seqs, "__iter__"):
        raise TypeError(f"{who}: seqs must be a list of sequences of ids, got {type(seqs).__name__} {seqs!r}")
    seqs = [_sequence(s, i) for i, s in enumerate(seqs)]
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    maxlen = validate.non_negative_int(maxlen, "maxlen", who)

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


def _sequence(s, i):
    """Sequence ``i`` of ``seqs`` as a 1-D array of numbers."""
    try:
        a = np.asarray(s)
    except (TypeError, ValueError):
        a = None
    if a is None or a.dtype.kind not in "biuf" or a.ndim != 1:
        raise ValueError(f"pad_sequences: seqs[{i}] must be a 1-D sequence of ids, got {s!r}")
    return a


def _ids_array(ids, who):
    """``ids`` (a Tensor, an array or a nested list) as an array of numbers."""
    ids = _array_of(ids)
    if not hasattr(ids, "shape"):
        try:
            ids = np.asarray(ids)
        except (TypeError, ValueError):
            ids = np.asarray(None)
    return validate.numeric(ids, "ids", who)


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
    ids = _ids_array(ids, "padding_mask")
    validate.number(pad_id, "pad_id", "padding_mask")
    return ids != pad_id


def sequence_mask(lengths, maxlen=None):
    """Boolean mask (N, T) with ``mask[i, t] = t < lengths[i]``.

    lengths: (N,) non-negative ints; maxlen: T, default ``max(lengths)``.
    The mask of a post-padded batch built from its row lengths.
    """
    try:
        lengths = np.asarray(lengths)
    except (TypeError, ValueError):
        lengths = np.asarray(None)
    if lengths.dtype.kind not in "iu" or lengths.ndim != 1:
        raise ValueError(f"sequence_mask: lengths must be a 1-D array of integers, got {lengths!r}")
    validate.in_range(lengths, 0, None, "sequence_mask", "lengths")
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    maxlen = validate.non_negative_int(maxlen, "maxlen", "sequence_mask")
    return np.arange(maxlen)[None, :] < lengths[:, None]


def sequence_lengths(ids, pad_id=PAD_ID):
    """Number of non-pad tokens in each row of ``ids`` (N, T) -> (N,) int64 (same device)."""
    ids = _ids_array(ids, "sequence_lengths")
    if ids.ndim != 2:
        raise ValueError(f"sequence_lengths: ids must be 2-D (N, T), got shape {tuple(ids.shape)}")
    return padding_mask(ids, pad_id).sum(axis=1).astype("int64")
