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
The saving measured on the LSTM language model of the benchmarks (scan path)
is in minidl/README of benchmarks and tests/test_lazy_grad.py proves the values
equal the step-by-step sum.

A compact gradient behaves enough like an array for autograd's walk: it has
``shape``, ``dtype``, ``copy()``, ``astype()``, ``+`` with another gradient
(dense or compact) and ``np.asarray``.  Only leaves that can expand it on read
are given one: ``Tensor.accepts_lazy_grad`` (True for ``nn.Parameter``).
"""
from __future__ import annotations

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
    gy_k (B_k, N)   dL/d(a_k @ W), the gradient that product received

    The arrays are referenced, not copied: a forward input and a gradient are
    never written to after backward has used them (autograd's rules).
    """

    def __init__(self, lefts, rights, shape, dtype):
        self.lefts, self.rights = list(lefts), list(rights)
        self.shape, self._dtype = tuple(shape), dtype

    dtype = property(lambda self: self._dtype)

    def copy(self):
        return MatMulWeightGrad(self.lefts, self.rights, self.shape, self._dtype)

    def astype(self, dtype):
        return MatMulWeightGrad([a.astype(dtype) for a in self.lefts],
                                [g.astype(dtype) for g in self.rights], self.shape, dtype)

    def to_dense(self):
        """ONE product of the stacked pairs: (K, sum B_k) @ (sum B_k, N)."""
        if len(self.lefts) == 1:
            return self.lefts[0].T @ self.rights[0]
        xp = backend.xp_of(self.lefts[0])
        return xp.concatenate(self.lefts).T @ xp.concatenate(self.rights)

    def __add__(self, other):
        if isinstance(other, MatMulWeightGrad):                # W used by one more matmul
            return MatMulWeightGrad(self.lefts + other.lefts, self.rights + other.rights,
                                    self.shape, self._dtype)
        if isinstance(other, LazyGrad):                        # e.g. a row-sparse one: expand it
            other = other.to_dense()
        return self.to_dense() + other                         # any other gradient: add densely

    __radd__ = __add__

    def __repr__(self):
        return (f"MatMulWeightGrad({len(self.lefts)} products, shape {self.shape}, dtype "
                f"{self.dtype}; .to_dense() for the array)")
