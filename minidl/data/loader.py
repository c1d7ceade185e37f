"""Mini-batches: ``DataLoader`` for rectangular data, bucketing for ragged text.

**DataLoader.**  Give it aligned arrays (same first dimension N), e.g. features
(N, d) and labels (N,).  Each epoch it shuffles one permutation of 0..N-1 and
cuts it into batches, so row i of every array stays with row i of the others:

    loader = DataLoader(X, y, batch_size=32, seed=0)
    len(loader)                 # ceil(N / 32)   (floor with drop_last=True)
    for xb, yb in loader:       # minidl Tensors on the active backend:
        ...                     #   xb (32, d) float32, yb (32,) int64

Floating arrays become the default float dtype (float32), integer arrays keep
their integer dtype (token ids and class labels stay ints).  ``numpy_batches()``
yields the same batches as NumPy arrays (no Tensor, no device copy).

Shuffling: with ``seed=None`` the permutation is drawn from ``md.seed``'s host
RNG (``backend.host_rng()``); with a seed the loader owns its own Generator, so
two loaders with the same seed give the same sequence of epochs.  Each epoch
draws a new permutation either way.

**Bucketing.**  Sentences have different lengths.  Padding a random batch to its
longest sentence wastes work on pad tokens; sorting the whole data set by length
removes the randomness.  The middle way (torchtext's BucketIterator): shuffle,
take a *pool* of ``pool_batches`` batches' worth of examples, sort the pool by
length, cut it into batches, pad each batch only to its own longest row, and
shuffle the order of the batches.

    for x, y in bucket_batches(id_lists, labels, batch_size=32, seed=0):
        x: (B, T_batch) int64 post-padded with 0,  y: (B,) labels

``bucket_batches`` yields NumPy arrays; ``BucketIterator`` is the same as an
object with ``len()`` that yields Tensors like ``DataLoader``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import validate
from ..validate import positive_int
from .padding import pad_sequences


def _make_rng(seed):
    """Own Generator for a given seed; None means "ask ``md.seed``'s host RNG each epoch"."""
    return None if seed is None else np.random.default_rng(seed)


def _epoch_rng(own):
    # Looked up every epoch, so an md.seed(...) after building the loader still counts.
    return own if own is not None else backend.host_rng()


def _as_host_array(a, i):
    try:
        out = backend.asnumpy(a)
    except ValueError as exc:          # NumPy refuses ragged lists
        raise ValueError(f"DataLoader: array {i} is ragged ({exc}); pad it with pad_sequences, "
                         f"or use bucket_batches for variable-length sequences") from None
    if out.ndim == 0 or out.dtype.kind not in "biuf":
        raise TypeError(f"DataLoader: array {i} must be an array of numbers with a batch axis (N, ...), got "
                        f"{type(a).__name__} {a!r}")
    return out


def _to_tensor(array):
    """A NumPy batch as a minidl Tensor on the active backend."""
    from ..autograd import tensor      # lazy: the data pipeline imports without autograd
    return tensor(array)               # copies to the active backend; floats -> default dtype


class DataLoader:
    """Shuffled, aligned mini-batches over one or more arrays.

    arrays:     any number of array-likes with the same length N along axis 0.
    batch_size: rows per batch (the last batch may be smaller unless drop_last).
    shuffle:    new random order each epoch (False: 0..N-1 in order).
    seed:       int for a private RNG, None to use ``md.seed``'s host RNG.
    drop_last:  skip a final batch smaller than batch_size.
    """

    def __init__(self, *arrays, batch_size, shuffle=True, seed=None, drop_last=False):
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        positive_int(batch_size, "batch_size", "DataLoader")
        self.arrays = [_as_host_array(a, i) for i, a in enumerate(arrays)]
        sizes = [len(a) for a in self.arrays]
        if len(set(sizes)) != 1:
            raise ValueError(f"all arrays must have the same length along axis 0, got lengths {sizes}")
        self.n = sizes[0]
        self.batch_size = int(batch_size)
        self.shuffle = validate.flag(shuffle, "shuffle", "DataLoader")
        self.drop_last = validate.flag(drop_last, "drop_last", "DataLoader")
        if seed is not None:
            validate.non_negative_int(seed, "seed", "DataLoader")
        self._rng = _make_rng(seed)

    def __len__(self):
        if self.drop_last:
            return self.n // self.batch_size
        return math.ceil(self.n / self.batch_size)

    def numpy_batches(self):
        """One epoch of batches as tuples of NumPy arrays."""
        order = _epoch_rng(self._rng).permutation(self.n) if self.shuffle else np.arange(self.n)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield tuple(a[idx] for a in self.arrays)

    def __iter__(self):
        for batch in self.numpy_batches():
            yield tuple(_to_tensor(a) for a in batch)

    def __repr__(self):
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"DataLoader({shapes}, batch_size={self.batch_size}, shuffle={self.shuffle}, batches={len(self)})"


def _bucket_plan(lengths, batch_size, shuffle, rng, pool_batches, drop_last):
    """The batches (lists of example indices) of one bucketed epoch."""
    n = len(lengths)
    order = rng.permutation(n) if shuffle else np.arange(n)
    pool = batch_size * pool_batches
    batches = []
    for start in range(0, n, pool):
        chunk = order[start:start + pool]
        # A stable sort keeps the shuffled order among equal lengths.
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    if drop_last:
        batches = [b for b in batches if len(b) == batch_size]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _check_bucket_args(seqs, labels, batch_size, pool_batches):
    positive_int(batch_size, "batch_size", "bucket_batches")
    positive_int(pool_batches, "pool_batches", "bucket_batches")
    if isinstance(seqs, (str, bytes)) or not hasattr(seqs, "__len__"):
        raise TypeError(f"bucket_batches: seqs must be a list of sequences of ids, got {type(seqs).__name__} {seqs!r}")
    if not all(isinstance(s, (list, tuple)) or getattr(s, "ndim", 0) == 1 for s in seqs):
        raise TypeError("bucket_batches: seqs must be a list of sequences of ids (lists or 1-D arrays)")
    if labels is not None and len(labels) != len(seqs):
        raise ValueError(f"seqs and labels must have the same length, got {len(seqs)} and {len(labels)}")
    return np.array([len(s) for s in seqs], dtype=np.int64)


def bucket_batches(seqs, labels=None, batch_size=32, shuffle=True, seed=None,
                   pool_batches=50, drop_last=False, pad_value=0):
    """Length-bucketed batches of ragged sequences, each padded to its own longest.

    seqs:   list of N id sequences (lists or 1-D arrays) of varying length.
    labels: array-like (N, ...) aligned with seqs, or None.
    Yields ``(x, y)`` with x (B, T_batch) int64 post-padded with ``pad_value``
    and y = labels[batch] (or just ``x`` when labels is None).
    """
    batches = BucketIterator(seqs, labels, batch_size, shuffle, seed, pool_batches, drop_last, pad_value)
    for batch in batches.numpy_batches():
        yield batch[0] if labels is None else batch


class BucketIterator:
    """``bucket_batches`` as a re-iterable object with ``len()`` yielding Tensors.

    Each ``iter()`` is a new epoch (new shuffle from the iterator's own RNG).
    Yields ``(x, y)`` Tensors, or a 1-tuple ``(x,)`` when labels is None.
    """

    def __init__(self, seqs, labels=None, batch_size=32, shuffle=True, seed=None,
                 pool_batches=50, drop_last=False, pad_value=0):
        self.lengths = _check_bucket_args(seqs, labels, batch_size, pool_batches)
        self.seqs = list(seqs)
        self.labels = None if labels is None else np.asarray(labels)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.pool_batches = pool_batches
        self.drop_last = drop_last
        self.pad_value = pad_value
        self._rng = _make_rng(seed)

    def __len__(self):
        # Pools hold a whole number of batches, so only the last pool can end short.
        full_pools, rest = divmod(len(self.seqs), self.batch_size * self.pool_batches)
        tail = rest // self.batch_size if self.drop_last else math.ceil(rest / self.batch_size)
        return full_pools * self.pool_batches + tail

    def numpy_batches(self):
        """One epoch as tuples of NumPy arrays ``(x, y)`` or ``(x,)``."""
        plan = _bucket_plan(self.lengths, self.batch_size, self.shuffle, _epoch_rng(self._rng),
                            self.pool_batches, self.drop_last)
        for idx in plan:
            x = pad_sequences([self.seqs[i] for i in idx], value=self.pad_value)
            yield (x,) if self.labels is None else (x, self.labels[idx])

    def __iter__(self):
        for batch in self.numpy_batches():
            yield tuple(_to_tensor(a) for a in batch)
