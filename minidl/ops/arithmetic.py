"""Elementwise arithmetic and matmul, each forward beside its backward.

Broadcasting: ``forward`` lets NumPy broadcast; ``backward`` must hand back a
gradient of each *input's* shape, so every binary op ends with ``sum_to``
(sum over the axes that forward stretched).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function, Tensor, array_of, as_tensor, sum_to
from .. import backend


def _xp(a):
    return backend.xp_of(a)


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        return sum_to(gy, self.shapes[0]), sum_to(gy, self.shapes[1])


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, gy):
        return sum_to(gy, self.shapes[0]), sum_to(-gy, self.shapes[1])


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * self.b, self.a.shape) if need_a else None,
                sum_to(gy * self.a, self.b.shape) if need_b else None)


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2 = -y/b."""
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        ga = gy / self.b
        return sum_to(ga, self.a.shape), sum_to(-ga * self.a / self.b, self.b.shape)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = a ** p for a constant exponent p;  dy/da = p a^(p-1)."""
    def __init__(self, p):
        self.p = p

    def forward(self, a):
        self.a = a
        return a ** self.p

    def backward(self, gy):
        return gy * self.p * self.a ** (self.p - 1)


class Exp(Function):
    """y = e^a;  dy/da = y (reuse the output instead of recomputing)."""
    def forward(self, a):
        self.y = _xp(a).exp(a)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    """y = ln a;  dy/da = 1/a."""
    def forward(self, a):
        self.a = a
        return _xp(a).log(a)

    def backward(self, gy):
        return gy / self.a


class Sqrt(Function):
    """y = sqrt(a);  dy/da = 1 / (2 y)."""
    def forward(self, a):
        self.y = _xp(a).sqrt(a)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Abs(Function):
    """y = |a|;  dy/da = sign(a) (0 at the kink, as PyTorch does)."""
    def forward(self, a):
        self.a = a
        return _xp(a).abs(a)

    def backward(self, gy):
        return gy * _xp(gy).sign(self.a)


class Clip(Function):
    """y = min(max(a, lo), hi);  gradient flows only where a was inside [lo, hi]."""
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, a):
        xp = _xp(a)
        lo = -xp.inf if self.lo is None else self.lo      # a missing bound clips nothing
        hi = xp.inf if self.hi is None else self.hi
        self.inside = (a >= lo) & (a <= hi)
        return xp.clip(a, lo, hi)

    def backward(self, gy):
        return gy * self.inside


class Maximum(Function):
    """y = max(a, b) elementwise; the gradient goes to the larger input (to a on ties)."""
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        self.a_wins = a >= b
        return _xp(a).maximum(a, b)

    def backward(self, gy):
        return (sum_to(gy * self.a_wins, self.shapes[0]),
                sum_to(gy * ~self.a_wins, self.shapes[1]))


class Where(Function):
    """y = cond ? a : b (cond is not differentiated)."""
    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return _xp(a).where(self.cond, a, b)

    def backward(self, gy):
        return sum_to(gy * self.cond, self.shapes[0]), sum_to(gy * ~self.cond, self.shapes[1])


class Cast(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        self.in_dtype = a.dtype
        return a.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.in_dtype)


class MatMul(Function):
    """Y = A @ B  (A: (..., n, k), B: (..., k, m) -> Y: (..., n, m)).

        dL/dA = dL/dY @ B^T          dL/dB = A^T @ dL/dY

    summed back to each input's shape where the batch axes ``...`` broadcast.
    1-D operands are a row (A) or a column (B) vector, as ``numpy.matmul`` has it.
    (``nn.Dense`` flattens a (B, T, k) input to (B*T, k) before calling this, so
    the layer case is one big 2-D product: see minidl/nn/dense.py.)
    """
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                             f"(last axis of the first must equal the "
                             f"{'second-to-last' if b.ndim > 1 else 'only'} axis of the second)")
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        xp = _xp(gy)
        a = self.a[None, :] if self.a.ndim == 1 else self.a      # a vector is a (1, k) row ...
        b = self.b[:, None] if self.b.ndim == 1 else self.b      # ... or a (k, 1) column
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        gy = gy.reshape(batch + (a.shape[-2], b.shape[-1]))      # put back the vector axes
        need_a, need_b = self.needs_input_grad                 # skip a product nobody needs
        ga = sum_to(gy @ xp.swapaxes(b, -1, -2), a.shape).reshape(self.a.shape) if need_a else None
        gb = sum_to(xp.swapaxes(a, -1, -2) @ gy, b.shape).reshape(self.b.shape) if need_b else None
        return ga, gb


# ----------------------------------------------------------------------------- functional API
def add(a, b): return Add()(a, b)
def sub(a, b): return Sub()(a, b)
def mul(a, b): return Mul()(a, b)
def div(a, b): return Div()(a, b)
def neg(a): return Neg()(a)
def exp(a): return Exp()(a)
def log(a): return Log()(a)
def sqrt(a): return Sqrt()(a)
def abs(a): return Abs()(a)  # noqa: A001  (the course calls it abs)
def matmul(a, b): return MatMul()(a, b)
def maximum(a, b): return Maximum()(a, b)
def cast(a, dtype): return Cast(dtype)(a)


def pow(a, p):  # noqa: A001
    """a ** p for a constant (Python number) exponent."""
    if isinstance(p, Tensor):
        # a ** b with a tensor exponent: exp(b * ln a), valid for a > 0
        return exp(mul(p, log(a)))
    return Pow(p)(a)


def rpow(base, a):
    """base ** a for a constant base > 0: exp(a ln base)."""
    import math
    return exp(mul(a, math.log(base)))


def clip(a, lo=None, hi=None):
    if lo is None and hi is None:
        raise ValueError("clip needs lo, hi or both")
    return Clip(lo, hi)(a)


def where(cond, a, b):
    """Elementwise choice; ``cond`` is a boolean Tensor or array (no gradient)."""
    cond = array_of(cond)
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    return Where(cond)(as_tensor(a, like), as_tensor(b, like))
