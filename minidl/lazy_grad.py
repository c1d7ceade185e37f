"""Gradients kept in a compact form and expanded only when somebody reads them.

A speed trick, like ``sparse.py``; the textbook gradient is always the dense
array, and that is what ``Tensor.grad`` shows (the first read expands the
compact form, once, and keeps the result).  Two forms exist:

* ``sparse.RowSparseGrad`` -- an Embedding's dL/dW: only the rows it looked up;
* ``MatMulWeightGrad`` (below) -- the dL/dW of a weight that several matmuls
  used, e.g. the cell weight W of an RNN run through ``md.scan``.

Why the second one pays.  A scanned cell computes z_t = [h_{t-1}, x_t] @ W at
every step t, and the chain rule gives one term per step:

    dL/dW = sum_t a_t^T @ gy_t          a_t = [h_{t-1}, x_t]  (B, K),  gy_t = dL/dz_t  (B, N)

Computed as it arrives, that is T small products with an inner size of only
B (32 rows: BLAS runs far from its peak) plus T additions of a (K, N) array.
Stacking the terms turns the same sum into ONE product,

    dL/dW = [a_1; ...; a_T]^T @ [gy_1; ...; gy_T]       (K, T*B) @ (T*B, N),

which is exactly how the fused path (``ops/fused_rnn.py``) computes dW.  So
``MatMul.backward`` hands a Parameter the pair (a, gy) instead of the product,
the walk's ``old + new`` just collects pairs, and the one big product happens
when the gradient is read (``W.grad``, an optimizer, ``clip_grad_norm``).
Measured on the benchmarks' language models (scan path, one thread, deferral
switched on and off in one process): LSTM 6% faster a step, GRU 26% (its W is
split into two column blocks every step, so it also skips T concatenations of
the full dW).  tests/test_lazy_grad.py proves the values equal the step-by-step sum.

A compact gradient behaves enough like an array for autograd's walk: it has
``shape``, ``dtype``, ``copy()``, ``astype()``, ``+`` with another gradient
(dense or compact) and ``np.asarray``.  Only tensors that can take it are given
one: ``Tensor.accepts_lazy_grad`` is True for ``nn.Parameter`` (which expands it
on read) and for the column blocks ``ops.split`` cuts from one (whose
``Split.backward`` passes the pairs on to the Parameter).
"""
from __future__ import annotations

import math

from . import backend


class LazyGrad:
    """What a compact gradient must provide; ``to_dense()`` gives the ordinary array."""
    __array_ufunc__ = None            # ndarray + LazyGrad -> our __radd__, not NumPy's loop

    shape: tuple

    def to_dense(self):
        raise NotImplementedError

    ndim = property(lambda self: len(self.shape))

    def __array__(self, dtype=None, copy=None):
        dense = backend.asnumpy(self.to_dense())
        return dense if dtype is None else dense.astype(dtype)


class MatMulWeightGrad(LazyGrad):
    """dL/dW = sum_k a_k^T @ gy_k for W (K, N), kept as the pairs until it is read.

    a_k (B_k, K)    the left operand of the k-th product a_k @ W (its forward input)
    gy_k (B_k, n_k) dL/d(a_k @ W[:, c_k:c_k + n_k]), the gradient that product received

    c_k is 0 and n_k = N when the product used all of W.  A cell that multiplies
    column blocks of one weight (the GRU: [h, x] @ W[:, :2H], then
    [Γr h, x] @ W[:, 2H:], the blocks cut by ``ops.split``) gets one pair per
    block and step, and ``Split.backward`` shifts each block's c_k into place.
    The arrays are referenced, not copied: a forward input and a gradient are
    never written to after backward has used them (autograd's rules).  Holding
    them costs memory, so once the pairs hold more than ``HELD_LIMIT`` times W's
    size (many backward passes accumulating without a read), they are multiplied
    out and the sum goes on as an ordinary dense gradient.
    """
    HELD_LIMIT = 16      # a 64-step LSTM scan (B=32, H=256) holds about 8x W: it stays deferred

    def __init__(self, lefts, rights, shape, dtype, cols=None, held=None):
        self.lefts, self.rights = list(lefts), list(rights)
        self.cols = [0] * len(self.lefts) if cols is None else list(cols)
        self.shape, self._dtype = tuple(shape), dtype
        # numbers the pairs keep alive (counted once, then carried along by + and side_by_side)
        self.held = sum(a.size + g.size for a, g in zip(lefts, rights)) if held is None else held

    dtype = property(lambda self: self._dtype)

    def copy(self):
        return MatMulWeightGrad(self.lefts, self.rights, self.shape, self._dtype, self.cols, self.held)

    def astype(self, dtype):
        return MatMulWeightGrad([a.astype(dtype) for a in self.lefts], [g.astype(dtype) for g in self.rights],
                                self.shape, dtype, self.cols, self.held)

    @classmethod
    def side_by_side(cls, blocks, dtype):
        """The gradient of a matrix whose column blocks had the gradients ``blocks``
        (what ``Split.backward`` along the columns returns): the pairs, shifted."""
        lefts, rights, cols, offset = [], [], [], 0
        for g in blocks:
            lefts += g.lefts
            rights += g.rights
            cols += [offset + c for c in g.cols]
            offset += g.shape[1]
        return cls(lefts, rights, (blocks[0].shape[0], offset), dtype, cols, sum(g.held for g in blocks))

    def to_dense(self):
        """ONE product per column block of the stacked pairs: (K, sum B_k) @ (sum B_k, n)."""
        xp = backend.xp_of(self.lefts[0])
        blocks = {}                                            # (first column, width) -> pair indices
        for k, (c, g) in enumerate(zip(self.cols, self.rights)):
            blocks.setdefault((c, g.shape[1]), []).append(k)

        def product(ks):
            if len(ks) == 1:
                return self.lefts[ks[0]].T @ self.rights[ks[0]]
            return (xp.concatenate([self.lefts[k] for k in ks]).T
                    @ xp.concatenate([self.rights[k] for k in ks]))

        if list(blocks) == [(0, self.shape[1])]:               # all of W in every product
            return product(blocks[(0, self.shape[1])])
        dense = xp.zeros(self.shape, dtype=self._dtype)
        for (c, n), ks in blocks.items():
            dense[:, c:c + n] += product(ks)
        return dense

    def __add__(self, other):
        if isinstance(other, MatMulWeightGrad):                # W used by one more matmul
            both = MatMulWeightGrad(self.lefts + other.lefts, self.rights + other.rights, self.shape,
                                    self._dtype, self.cols + other.cols, self.held + other.held)
            return both if both.held <= self.HELD_LIMIT * math.prod(self.shape) else both.to_dense()
        if isinstance(other, LazyGrad):                        # e.g. a row-sparse one: expand it
            other = other.to_dense()
        return self.to_dense() + other                         # any other gradient: add densely

    __radd__ = __add__

    def __repr__(self):
        return (f"MatMulWeightGrad({len(self.lefts)} products, shape {self.shape}, dtype "
                f"{self.dtype}; .to_dense() for the array)")
