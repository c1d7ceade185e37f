"""Tensor's operators and methods, installed by ONE explicit step.

``minidl/autograd.py`` defines ``Tensor`` and knows nothing of the maths; the
ops in this package are built on top of it.  So the arrow points one way only,
and this file closes the loop once, when ``minidl.ops`` is imported:

    a + b      ->  arithmetic.add(a, b)          a @ b   ->  arithmetic.matmul(a, b)
    a[i]       ->  shape.getitem(a, i)           a.sum() ->  reductions.sum(a)

Comparisons (< <= > >= == !=), the logical operators on boolean tensors
(& | ^ ~) and ``argmax`` are not differentiable: they return tensors without a
graph, elementwise, as in NumPy and PyTorch.

**What array-minded code expects** (the array protocol, bottom of the file):
``np.asarray(t)`` is ``t``'s NumPy array (a CuPy-backed tensor refuses, as CuPy
does: convert with ``t.numpy()``); ``float(t)``, ``int(t)``, ``f"{t:.4f}"`` work
on a one-element tensor; a 0-d integer tensor is an index.  NumPy's reductions
``np.sum(t, axis=1)`` / ``np.mean(t)`` call the methods below, so they stay
differentiable; NumPy's ufuncs (``np.exp(t)``) refuse a Tensor instead of
silently dropping its graph (``__array_ufunc__ = None``), which also makes
``ndarray * Tensor`` hand over to ``Tensor.__rmul__``.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor, array_of
from . import activations, arithmetic, reductions, shape


def _compare(op):
    return lambda self, other: Tensor(op(self.data, array_of(other)))


def _reflected(op):
    return lambda self, other: Tensor(op(array_of(other), self.data))


def _no_out(out, name):
    """NumPy's reductions pass ``out=None`` to a method; a real ``out`` would write in place."""
    if out is not None:
        raise TypeError(f"Tensor.{name}(out=...) is not supported: a tensor's values are never "
                        "written in place (the graph would go stale); use the returned tensor")


def _reduction(fn, name):
    def method(self, axis=None, dtype=None, out=None, keepdims=False):
        _no_out(out, name)
        y = fn(self, axis, keepdims)
        return y if dtype is None else arithmetic.cast(y, dtype)
    method.__name__ = name
    return method


OPERATORS = {
    "__add__": lambda self, o: arithmetic.add(self, o),
    "__radd__": lambda self, o: arithmetic.add(o, self),
    "__sub__": lambda self, o: arithmetic.sub(self, o),
    "__rsub__": lambda self, o: arithmetic.sub(o, self),
    "__mul__": lambda self, o: arithmetic.mul(self, o),
    "__rmul__": lambda self, o: arithmetic.mul(o, self),
    "__truediv__": lambda self, o: arithmetic.div(self, o),
    "__rtruediv__": lambda self, o: arithmetic.div(o, self),
    "__pow__": lambda self, p: arithmetic.pow(self, p),
    "__rpow__": lambda self, base: arithmetic.rpow(base, self),
    "__matmul__": lambda self, o: arithmetic.matmul(self, o),
    "__rmatmul__": lambda self, o: arithmetic.matmul(o, self),
    "__neg__": lambda self: arithmetic.neg(self),
    "__getitem__": lambda self, idx: shape.getitem(self, idx),
    "__lt__": _compare(lambda a, b: a < b),
    "__le__": _compare(lambda a, b: a <= b),
    "__gt__": _compare(lambda a, b: a > b),
    "__ge__": _compare(lambda a, b: a >= b),
    "__eq__": _compare(lambda a, b: a == b),
    "__ne__": _compare(lambda a, b: a != b),
    "__and__": _compare(lambda a, b: a & b),
    "__or__": _compare(lambda a, b: a | b),
    "__xor__": _compare(lambda a, b: a ^ b),
    "__rand__": _reflected(lambda a, b: a & b),
    "__ror__": _reflected(lambda a, b: a | b),
    "__rxor__": _reflected(lambda a, b: a ^ b),
    "__invert__": lambda self: Tensor(~self.data),
}

METHODS = {
    "sum": _reduction(reductions.sum, "sum"),
    "mean": _reduction(reductions.mean, "mean"),
    "max": _reduction(reductions.max, "max"),
    "min": _reduction(reductions.min, "min"),
    "reshape": lambda self, *shp: shape.reshape(self, shp[0] if len(shp) == 1 else shp),
    "transpose": lambda self, *axes: shape.transpose(self, axes or None),
    "exp": lambda self: arithmetic.exp(self),
    "log": lambda self: arithmetic.log(self),
    "sqrt": lambda self: arithmetic.sqrt(self),
    "abs": lambda self: arithmetic.abs(self),
    "clip": lambda self, lo, hi: arithmetic.clip(self, lo, hi),
    "astype": lambda self, dtype: arithmetic.cast(self, dtype),
    "tanh": lambda self: activations.tanh(self),
    "sigmoid": lambda self: activations.sigmoid(self),
    "relu": lambda self: activations.relu(self),
}


# ----------------------------------------------------------------------------- the array protocol
def _array(self, dtype=None, copy=None):
    # np.asarray on a CuPy array raises (no silent device-to-host copy): so does this.
    if copy:
        return np.array(self.data, dtype=dtype, copy=True)
    return np.asarray(self.data, dtype=dtype)


def _index(self):
    if self.ndim != 0 or self.dtype.kind not in "iu":
        raise TypeError(f"only a 0-d integer tensor can be used as an index, got dtype {self.dtype} "
                        f"and shape {tuple(self.shape)}")
    return int(self.data)


def _format(self, spec):
    if not spec:
        return str(self)
    if self.ndim != 0:
        raise TypeError(f"format spec {spec!r} needs a 0-d tensor, got shape {tuple(self.shape)}; "
                        "format t.item() or the elements one by one")
    return format(self.data.item(), spec)


def _argmax(self, axis=None, keepdims=False):
    """Index of the largest value (along ``axis``): an integer tensor, no gradient."""
    out = self.data.argmax(axis=axis)
    if keepdims:
        out = out.reshape([1 if axis is None or i == axis % self.ndim else n for i, n in enumerate(self.shape)])
    return Tensor(out)


ARRAY_PROTOCOL = {
    "__array__": _array,
    "__array_ufunc__": None,
    "__float__": lambda self: float(self.data),
    "__int__": lambda self: int(self.data),
    "__index__": _index,
    "__format__": _format,
    "argmax": _argmax,
}


def install(cls=Tensor):
    """Give ``cls`` the operators and methods above (called once, by ``minidl/ops/__init__.py``)."""
    for name, fn in {**OPERATORS, **METHODS, **ARRAY_PROTOCOL}.items():
        setattr(cls, name, fn)
    cls.T = property(lambda self: shape.transpose(self, None))
    cls.__hash__ = object.__hash__      # == is elementwise now; hashing stays by identity
