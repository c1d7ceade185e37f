"""Elementwise arithmetic and matmul, each forward beside its backward.

Broadcasting: ``forward`` lets NumPy broadcast; ``backward`` must hand back a
gradient of each *input's* shape, so every binary op ends with ``sum_to``
(sum over the axes that forward stretched).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Function, Tensor, array_of, as_tensor, sum_to
from .. import backend, validate


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
    """y = a ** p for a constant number p;  dy/da = p a^(p-1)  (and 0 when p = 0).

    p = 0 is its own case: y = 1 everywhere, so dy/da = 0 -- also at a = 0, where
    the formula would give 0 * 0^-1 = 0 * inf = NaN (PyTorch: 0, as here).
    """
    def __init__(self, p):
        self.p = p

    def forward(self, a):
        self.a = a
        return a ** self.p

    def backward(self, gy):
        if self.p == 0:
            return _xp(gy).zeros_like(gy)
        return gy * self.p * self.a ** (self.p - 1)


class Power(Function):
    """y = a ** b with both sides arrays (a tensor exponent, or a number/array base ``2 ** x``).

        dy/da = b a^(b-1)        (0 where b = 0)
        dy/db = y ln a           (0 where a = 0 and b >= 0: y is 0 or 1 there, flat in b)

    Written out, not as exp(b ln a): that shortcut is NaN for every negative base,
    while (-3) ** 2.0 = 9 with dy/da = -6 (PyTorch agrees).  For a < 0, ln a is NaN,
    so dy/db is NaN there: a negative number has no real power for a non-integer b,
    and PyTorch says the same.  Both gradients are summed back to their input's
    shape (``2 ** x`` with a scalar base broadcasts it).
    """
    def forward(self, a, b):
        if a.dtype.kind == "f" and b.dtype.kind != "f":       # an integer exponent keeps a float32 base float32
            b = b.astype(a.dtype)
        elif b.dtype.kind == "f" and a.dtype.kind != "f":
            a = a.astype(b.dtype)
        self.a, self.b = a, b
        with np.errstate(invalid="ignore", divide="ignore"):    # (-2) ** 0.5 is NaN, 0 ** -1 inf: as NumPy
            self.y = _xp(a).power(a, b)
        return self.y

    def backward(self, gy):
        xp = _xp(gy)
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        with np.errstate(invalid="ignore", divide="ignore"):
            if need_a:
                ga = sum_to(xp.where(self.b == 0, 0, gy * self.b * self.a ** (self.b - 1)), self.a.shape)
            if need_b:
                flat = (self.a == 0) & (self.b >= 0)
                gb = sum_to(xp.where(flat, 0, gy * self.y * xp.log(self.a)), self.b.shape)
        return (None if ga is None else ga.astype(gy.dtype, copy=False),
                None if gb is None else gb.astype(gy.dtype, copy=False))


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
    """y = cond ? a : b;  dy/da = cond, dy/db = not cond  (cond is not differentiated).

    The condition is cast to bool ONCE, here in forward: ``~`` of an integer
    condition flips its bits (~1 = -2, so b would receive -2 gy), and ``~`` of a
    float condition is not defined at all.  Nonzero means True, as in NumPy.
    """
    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        xp = _xp(a)
        self.shapes = a.shape, b.shape
        self.cond = backend.to_backend(self.cond, backend.name_of(a)).astype(bool, copy=False)
        try:
            np.broadcast_shapes(self.cond.shape, a.shape, b.shape)
        except ValueError:
            raise ValueError(f"where: cond of shape {self.cond.shape}, a of shape {a.shape} and b of shape "
                             f"{b.shape} do not broadcast together") from None
        return xp.where(self.cond, a, b)

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
            raise ValueError(f"matmul: input 0 of shape {a.shape} and input 1 of shape {b.shape} are not aligned "
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
def cast(a, dtype): return Cast(backend.numeric_dtype(dtype, "cast"))(a)


def pow(a, p):  # noqa: A001
    """a ** p: ``Pow`` for a constant Python number p, ``Power`` for a Tensor or array exponent."""
    if isinstance(p, numbers.Real) and not isinstance(p, Tensor):
        return Pow(p)(a)
    return Power()(a, p)            # a Tensor, array or list exponent: checked as input 1


def rpow(base, a):
    """base ** a for a constant base (a number or an array), with ``a`` the Tensor exponent.

    Any base: (-2) ** x is 4 at x = 2 and 0 ** x is 0 for x > 0 (see ``Power``)."""
    return Power()(base, a)         # the base is checked (and converted) as input 0


def clip(a, lo=None, hi=None):
    """min(max(a, lo), hi) with numbers lo <= hi (either may be None: no bound on that side)."""
    if lo is None and hi is None:
        raise ValueError("clip: give lo, hi or both (both are None)")
    lo = None if lo is None else validate.number(lo, "lo", "clip")
    hi = None if hi is None else validate.number(hi, "hi", "clip")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo must be <= hi, got lo={lo}, hi={hi}")
    return Clip(lo, hi)(a)


def where(cond, a, b):
    """Elementwise choice; ``cond`` is a Tensor or array (nonzero = True, no gradient)."""
    given = cond = array_of(cond)
    if isinstance(cond, (bool, int, float, list, tuple)):
        try:
            cond = np.asarray(cond)
        except ValueError:
            cond = None
    if getattr(getattr(cond, "dtype", None), "kind", None) not in ("b", "i", "u", "f"):
        raise TypeError(f"where: cond must be a Tensor, an array or a list of numbers or booleans, got "
                        f"{type(given).__name__} {given!r}")
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    return Where(cond)(as_tensor(a, like), as_tensor(b, like))
