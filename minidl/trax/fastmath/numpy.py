"""``trax.fastmath.numpy`` (the course imports it as ``np`` or ``fastnp``): NumPy that differentiates.

In Trax this is ``jax.numpy``: the same functions as NumPy, traced by JAX when
a loss is differentiated.  Here each function looks at its arguments:

* given a minidl **Tensor** (a model's output inside a loss, or anything
  ``fastmath.grad`` is differentiating), it runs minidl's op, so the result is
  a Tensor in the graph and ``backward`` reaches the weights:

      scores = np.dot(v1, v2.T)                    # ops.matmul
      positive = np.diagonal(scores)               # indexing op: scores[i, i]
      closest = (scores - 2.0 * np.eye(B)).max(axis=[1])
      loss = np.mean(np.maximum(0.0, margin - positive + closest))

* given plain arrays (or numbers), it *is* NumPy (CuPy for CuPy arrays): the
  result is an ordinary array.  ``np.eye(B)``, ``np.arange(n)``, ``np.float32``
  and every name not listed below come straight from NumPy.

Differentiable here (the Tensor path, each one minidl op or a short composition
of them): dot, matmul, sum, mean, average, max/amax, min/amin, maximum,
minimum, exp, log, sqrt, abs, tanh, square, power, add, subtract, multiply,
divide, negative, where, clip, diagonal, transpose, swapaxes, reshape, squeeze,
expand_dims, concatenate, stack, split, asarray, array, linalg.norm.
Functions whose result has no gradient (argmax, equal, isnan, zeros_like,
...) accept Tensors too and return arrays.  Any other NumPy function given a
Tensor that requires grad refuses with an error, instead of silently turning
it into an array and cutting the graph.
"""
from __future__ import annotations

import builtins

import numpy as _np

from ... import backend as _backend
from ... import ops as _ops
from ...autograd import Tensor as _Tensor, as_tensor as _as_tensor

# NumPy functions whose result carries no gradient: a Tensor argument is read as its values.
_NO_GRADIENT = frozenset("""argmax argmin argsort sort equal not_equal greater greater_equal less less_equal
isnan isinf isfinite sign floor ceil round rint logical_and logical_or logical_not logical_xor all any
nonzero count_nonzero zeros_like ones_like full_like empty_like shape ndim size unique searchsorted
allclose isclose array_equal bincount""".split())


# ----------------------------------------------------------------------------- dispatch
def _tensors(args):
    """Every Tensor in ``args`` (looking into lists and tuples: np.concatenate([a, b]))."""
    for a in args:
        if isinstance(a, _Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from _tensors(a)


def _plain(x):
    """Tensors -> their arrays, inside lists and tuples too."""
    if isinstance(x, _Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(a) for a in x)
    return x


def _module_for(args):
    """NumPy, or CuPy when an argument lives on the GPU; the active backend for constants (np.eye(3))."""
    for a in args:
        a = _plain(a)
        if isinstance(a, (list, tuple)):
            a = next((b for b in a if hasattr(b, "dtype")), None)
        if hasattr(a, "dtype") and hasattr(a, "shape"):
            return _backend.xp_of(a)
    return _backend.xp()


def _numpy(name, args, kwargs):
    """NumPy's (or CuPy's) ``name`` on plain arrays; a Tensor that requires grad is refused."""
    if name not in _NO_GRADIENT and any(t.requires_grad for t in _tensors(list(args) + list(kwargs.values()))):
        raise NotImplementedError(
            f"fastmath.numpy.{name} has no differentiable version in minidl, and applying NumPy's to a "
            f"tensor that requires grad would cut the graph. Differentiable here: {', '.join(sorted(_DIFFERENTIABLE))}")
    xp = _module_for(list(args) + list(kwargs.values()))
    fn = getattr(xp, name)
    return fn(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})


_DIFFERENTIABLE = set()


def _differentiable(tensor_fn):
    """Use ``tensor_fn`` (minidl ops) when a Tensor is among the arguments, NumPy's function otherwise."""
    name = tensor_fn.__name__
    _DIFFERENTIABLE.add(name)

    def fn(*args, **kwargs):
        if any(True for _ in _tensors(list(args) + list(kwargs.values()))):
            return tensor_fn(*args, **kwargs)
        return _numpy(name, args, kwargs)
    fn.__name__, fn.__qualname__, fn.__doc__ = name, name, tensor_fn.__doc__
    return fn


def _t(a, like=None):
    return _as_tensor(a, like)


def _like(*args):
    return next(_tensors(args))


# ----------------------------------------------------------------------------- the Tensor path
@_differentiable
def dot(a, b):
    """a . b for vectors and matrices (ops.matmul)."""
    if builtins.max(_np.ndim(_plain(a)), _np.ndim(_plain(b))) > 2:
        raise NotImplementedError("fastmath.numpy.dot on tensors of more than 2 dimensions: use matmul "
                                  "(numpy's dot and matmul differ there)")
    return _ops.matmul(a, b)


@_differentiable
def matmul(a, b):
    return _ops.matmul(a, b)


@_differentiable
def sum(a, axis=None, dtype=None, out=None, keepdims=False):  # noqa: A001  (NumPy's name)
    return _t(a).sum(axis, dtype, out, keepdims)


@_differentiable
def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    return _t(a).mean(axis, dtype, out, keepdims)


@_differentiable
def average(a, axis=None, weights=None):
    """The mean, or sum(a * w) / sum(w) along ``axis`` with weights."""
    if weights is None:
        return _ops.mean(_t(a), axis)
    a = _t(a, _like(a, weights))
    return _ops.div(_ops.sum(_ops.mul(a, weights), axis), _ops.sum(_t(weights, a), axis))


@_differentiable
def max(a, axis=None, out=None, keepdims=False):  # noqa: A001
    return _t(a).max(axis, None, out, keepdims)


@_differentiable
def min(a, axis=None, out=None, keepdims=False):  # noqa: A001
    return _t(a).min(axis, None, out, keepdims)


amax, amin = max, min


@_differentiable
def maximum(a, b):
    return _ops.maximum(a, b)


@_differentiable
def minimum(a, b):
    """min(a, b) = -max(-a, -b)."""
    like = _like(a, b)
    return _ops.neg(_ops.maximum(_ops.neg(_t(a, like)), _ops.neg(_t(b, like))))


@_differentiable
def exp(a): return _ops.exp(a)
@_differentiable
def log(a): return _ops.log(a)
@_differentiable
def sqrt(a): return _ops.sqrt(a)
@_differentiable
def abs(a): return _ops.abs(a)  # noqa: A001
@_differentiable
def tanh(a): return _ops.tanh(a)
@_differentiable
def square(a): return _ops.mul(a, a)
@_differentiable
def power(a, p): return _ops.pow(_t(a, _like(a, p)), p)
@_differentiable
def add(a, b): return _ops.add(a, b)
@_differentiable
def subtract(a, b): return _ops.sub(a, b)
@_differentiable
def multiply(a, b): return _ops.mul(a, b)
@_differentiable
def divide(a, b): return _ops.div(a, b)
@_differentiable
def negative(a): return _ops.neg(a)


absolute, true_divide = abs, divide


@_differentiable
def where(condition, x=None, y=None):
    """x where condition holds, else y (the condition gets no gradient)."""
    if x is None or y is None:
        raise ValueError("fastmath.numpy.where on tensors needs x and y (the one-argument form is np.nonzero)")
    return _ops.where(condition, x, y)


@_differentiable
def clip(a, a_min=None, a_max=None):
    return _ops.clip(_t(a), a_min, a_max)


@_differentiable
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The main diagonal of a matrix: a[i, i] (one indexing op; its gradient lands on the diagonal)."""
    if _np.ndim(_plain(a)) != 2 or offset != 0 or (axis1, axis2) != (0, 1):
        raise NotImplementedError("fastmath.numpy.diagonal on a tensor: the main diagonal of a 2-D tensor only")
    n = builtins.min(a.shape)
    i = _backend.xp_of(a.data).arange(n)
    return _ops.getitem(a, (i, i))


@_differentiable
def transpose(a, axes=None): return _ops.transpose(a, axes)


@_differentiable
def swapaxes(a, axis1, axis2):
    axes = list(range(a.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _ops.transpose(a, axes)


@_differentiable
def reshape(a, newshape): return _ops.reshape(a, newshape)


@_differentiable
def squeeze(a, axis=None):
    axes = range(a.ndim) if axis is None else [x % a.ndim for x in ((axis,) if isinstance(axis, int) else axis)]
    return _ops.reshape(a, [n for i, n in enumerate(a.shape) if not (i in axes and n == 1)])


@_differentiable
def expand_dims(a, axis):
    shape = list(a.shape)
    shape.insert(axis % (a.ndim + 1), 1)
    return _ops.reshape(a, shape)


@_differentiable
def concatenate(arrays, axis=0): return _ops.concat(list(arrays), axis)
@_differentiable
def stack(arrays, axis=0): return _ops.stack(list(arrays), axis)
@_differentiable
def split(a, indices_or_sections, axis=0): return list(_ops.split(a, indices_or_sections, axis))


@_differentiable
def asarray(a, dtype=None):
    """A Tensor stays itself (cast when a dtype is given), so its graph is kept; a list of them is stacked."""
    a = _ops.stack(list(a)) if isinstance(a, (list, tuple)) else a
    return a if dtype is None else _ops.cast(a, dtype)


@_differentiable
def array(a, dtype=None):
    """As asarray on Tensors (a Tensor is never written in place, so no copy is needed); np.array otherwise."""
    return asarray(a, dtype)


class _Linalg:
    """``fastmath.numpy.linalg``: norm is differentiable; the rest is NumPy's."""

    @staticmethod
    def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's name)
        if isinstance(x, _Tensor) and ord in (None, 2, "fro") and (ord != 2 or axis is not None or x.ndim == 1):
            return _ops.sqrt(_ops.sum(_ops.mul(x, x), axis, keepdims))
        return _numpy_linalg("norm", (x,), {"ord": ord, "axis": axis, "keepdims": keepdims})

    def __getattr__(self, name):
        return lambda *args, **kwargs: _numpy_linalg(name, args, kwargs)


def _numpy_linalg(name, args, kwargs):
    if any(t.requires_grad for t in _tensors(list(args))):
        raise NotImplementedError(f"fastmath.numpy.linalg.{name} is not differentiable in minidl (norm is)")
    return getattr(_module_for(args).linalg, name)(*[_plain(a) for a in args], **kwargs)


linalg = _Linalg()
ndarray = _np.ndarray


# ----------------------------------------------------------------------------- everything else: NumPy
def __getattr__(name):
    """Any other name is NumPy's: dtypes and constants as they are, functions through ``_numpy``."""
    try:
        value = getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'trax.fastmath.numpy' (minidl) has no attribute {name!r}: "
                             "NumPy has no such name either") from None
    if not callable(value) or isinstance(value, type):
        return value

    def fn(*args, **kwargs):
        return _numpy(name, args, kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"NumPy's {name} (CuPy's on GPU arrays); not differentiable."
    globals()[name] = fn                   # look it up once
    return fn

