"""Tensor's operators and methods, installed by ONE explicit step.

``minidl/autograd.py`` defines ``Tensor`` and knows nothing of the maths; the
ops in this package are built on top of it.  So the arrow points one way only,
and this file closes the loop once, when ``minidl.ops`` is imported:

    a + b      ->  arithmetic.add(a, b)          a @ b   ->  arithmetic.matmul(a, b)
    a[i]       ->  shape.getitem(a, i)           a.sum() ->  reductions.sum(a)

Comparisons (< <= > >= == !=) are not differentiable: they return boolean
tensors, elementwise, as in NumPy and PyTorch.
"""
from __future__ import annotations

from ..autograd import Tensor, array_of
from . import activations, arithmetic, reductions, shape


def _compare(op):
    return lambda self, other: Tensor(op(self.data, array_of(other)))


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
}

METHODS = {
    "sum": lambda self, axis=None, keepdims=False: reductions.sum(self, axis, keepdims),
    "mean": lambda self, axis=None, keepdims=False: reductions.mean(self, axis, keepdims),
    "max": lambda self, axis=None, keepdims=False: reductions.max(self, axis, keepdims),
    "min": lambda self, axis=None, keepdims=False: reductions.min(self, axis, keepdims),
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


def install(cls=Tensor):
    """Give ``cls`` the operators and methods above (called once, by ``minidl/ops/__init__.py``)."""
    for name, fn in {**OPERATORS, **METHODS}.items():
        setattr(cls, name, fn)
    cls.T = property(lambda self: shape.transpose(self, None))
    cls.__hash__ = object.__hash__      # == is elementwise now; hashing stays by identity
