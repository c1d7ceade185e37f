"""Row-sparse gradients: an Embedding's dL/dW stored as (the rows it used, their sums).

A speed trick, kept in this one file (the textbook backward is a dense
scatter-add, ``backend.scatter_add_rows``).  An Embedding lookup y = W[ids]
reads only the rows ``ids`` of W (V, d), so its gradient is zero everywhere
else:

    dL/dW[v] = sum of dL/dy over the positions holding id v     (v in ids)
    dL/dW[v] = 0                                                 (every other row)

With V = 10,000 words and a batch of 64 x 50 tokens, the dense (V, d) gradient
is ~70 % zeros that are still allocated, filled and then read by the
optimizer.  ``RowSparseGrad`` keeps only

    ids   (U,)     the distinct ids of the batch, sorted
    rows  (U, d)   rows[k] = dL/dW[ids[k]]  (repeated ids already summed)

and the optimizers (minidl/optim.py, ``_update_rows``) apply it row by row,
with results identical to the dense gradient's (tests/test_sparse_grad.py).

What a learner sees is unchanged: ``W.grad`` expands it to the ordinary dense
(V, d) array on first access (see ``nn.Parameter``), ``np.asarray(g)`` and
``g.to_dense()`` do the same, and the gradient checker compares dense arrays.
Optimizers find the compact form in ``W.sparse_grad``.  Only a Parameter (the
``accepts_lazy_grad`` flag) is handed one: a plain tensor or an intermediate
result gets the dense scatter-add.  Autograd's walk treats it as it treats any
gradient (shape, dtype, ``copy``, ``+``), so the core needs no special case.

Measured (one thread, V=10k, d=256, 3,200 ids): summing the rows as below
takes 5.9 ms against 14.2 ms for ``np.add.at`` over every row and 18.2 ms for
the dense zeros + scatter-add; the SGD update then touches 2,720 rows instead
of 10,000.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .lazy_grad import LazyGrad


_RANK_PASSES = 8        # repeats of an id summed by plain indexing, one pass per occurrence


class RowSparseGrad(LazyGrad):
    """dL/dW for W of ``shape`` (V, d...), nonzero only at rows ``ids`` (unique, sorted).

    It behaves enough like an array for autograd's bookkeeping: ``shape``,
    ``dtype``, ``copy()``, ``astype()``, ``dense + sparse`` (a W used twice:
    the result is dense), and ``np.asarray``.
    """
    def __init__(self, ids, rows, shape):
        self.ids, self.rows, self.shape = ids, rows, tuple(shape)

    @classmethod
    def from_lookup(cls, ids, grads, n_rows: int):
        """Sum the gradient rows ``grads`` (S + (d,)) that belong to the ids ``ids`` (S)
        of a table of ``n_rows`` rows.

        The distinct ids in sorted order, each with the sum of its rows.  The first
        occurrence of each id is copied in one gather.  Then the k-th occurrences,
        k = 1, 2, ... up to ``_RANK_PASSES``: within one k every id appears at most
        once, so a plain ``summed[group] += rows`` is exact (no accumulating
        scatter needed).  Only occurrences beyond that (a frequent word in Zipfian
        text) go through the slower accumulating scatter-add.  Measured, one
        thread, d=256: 0.68 -> 0.50 ms for 64 x 50 uniform ids of a 10k vocabulary,
        13.2 -> 5.8 ms for 256 x 50, against a scatter-add of every repeat.
        Rows are picked by their position in ``ids``' shape, so ``grads`` may be a
        broadcast view (the gradient of a Mean over time repeats one row per
        sequence): it is never expanded to (N, d).
        """
        xp = backend.xp_of(grads)
        shape = (n_rows,) + tuple(grads.shape[ids.ndim:])
        flat = ids.reshape(-1)

        def rows_at(positions):                               # grads of the tokens at these flat positions
            return grads[xp.unravel_index(positions, ids.shape)] if ids.ndim > 1 else grads[positions]

        if flat.size == 0:
            return cls(flat.astype(np.int64), xp.zeros((0,) + shape[1:], dtype=grads.dtype), shape)
        order = xp.argsort(flat, kind="stable")
        sorted_ids = flat[order]
        first = xp.ones(flat.shape, dtype=bool)              # first occurrence of each id
        first[1:] = sorted_ids[1:] != sorted_ids[:-1]
        summed = rows_at(order[first])                       # (U, d): one row per distinct id
        if not bool(first.all()):                            # add every repeat to its group's row
            group = xp.cumsum(first) - 1                     # (N,) index into the distinct ids
            rank = xp.arange(flat.size) - xp.flatnonzero(first)[group]   # 0 = first occurrence
            most = int(rank.max())
            for k in range(1, min(most, _RANK_PASSES) + 1):
                kth = rank == k                              # distinct groups: plain += is exact
                summed[group[kth]] += rows_at(order[kth])
            if most > _RANK_PASSES:
                rest = rank > _RANK_PASSES
                backend.scatter_add_rows(len(summed), group[rest], rows_at(order[rest]), out=summed)
        return cls(sorted_ids[first].astype(np.int64), summed, shape)

    # --- array-like facts (what autograd's walk asks of a gradient)
    dtype = property(lambda self: self.rows.dtype)

    def copy(self):
        return RowSparseGrad(self.ids.copy(), self.rows.copy(), self.shape)

    def astype(self, dtype):
        return RowSparseGrad(self.ids, self.rows.astype(dtype), self.shape)

    def to_dense(self):
        """The ordinary (V, d) gradient: zeros with ``rows`` at ``ids``."""
        xp = backend.xp_of(self.rows)
        dense = xp.zeros(self.shape, dtype=self.rows.dtype)
        dense[self.ids] = self.rows                          # ids are distinct: plain assignment
        return dense

    # --- accumulation (a W used twice, or two backward passes without zero_grad)
    def __radd__(self, dense):
        if isinstance(dense, LazyGrad):                      # another compact form: expand it
            dense = dense.to_dense()
        out = backend.xp_of(dense).array(dense, copy=True)
        out[self.ids] += self.rows                           # ids are distinct: plain +=
        return out

    __add__ = __radd__

    def __repr__(self):
        return (f"RowSparseGrad({len(self.ids)} of {self.shape[0]} rows, shape {self.shape}, "
                f"dtype {self.dtype}; .to_dense() for the full array)")
