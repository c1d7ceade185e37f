"""``trax.fastmath``: ``numpy``, ``random``, ``grad`` and friends, on minidl.

    from trax import fastmath
    grad_f = fastmath.grad(lambda x: 3 * x ** 2 + x)
    grad_f(np.array(2.0))                     # 13.0  (6x + 1)

``grad`` / ``value_and_grad`` are JAX's: f must return a scalar; the gradient
comes back as an array.  They are minidl's ``md.value_and_grad`` underneath
(the arguments become leaf Tensors, f builds a graph, backward walks it), so f
is written with ``fastmath.numpy`` or Tensor operators.  ``jit`` compiles
nothing (it returns f): minidl runs every op eagerly, which is what lets you
step into it.
"""
from __future__ import annotations

import numpy as _np

from ... import backend as _backend
from ... import ops as _ops
from ...autograd import Tensor as _Tensor
from ...ops.activations import stable_sigmoid as _stable_sigmoid
from ...ops.reductions import normalize_axes as _normalize_axes
from ...transforms import value_and_grad as _md_value_and_grad
from . import numpy, random  # noqa: F401  (trax.fastmath.numpy, trax.fastmath.random)


def _array(x):
    return x.data if isinstance(x, _Tensor) else x


def value_and_grad(f, argnums=0, has_aux=False):
    """``value_and_grad(f)(x) -> (f(x), df/dx)`` (with ``has_aux``: ``((f(x), aux), df/dx)``)."""
    aux_seen = []

    def scalar_f(*args):
        out = f(*args)
        if has_aux:
            out, aux = out
            aux_seen.append(aux)
        if not isinstance(out, _Tensor):
            raise TypeError(f"fastmath.grad: f returned a {type(out).__name__}, not a minidl Tensor, so its "
                            "value does not depend on the inputs through minidl ops (write f with "
                            "trax.fastmath.numpy or Tensor operators, not NumPy)")
        if out.size != 1:
            raise TypeError(f"fastmath.grad: f must return a scalar (as in JAX), got shape {tuple(out.shape)}; "
                            "sum it, or use md.grad, which sums for you")
        return out

    md_vg = _md_value_and_grad(scalar_f, argnums)

    def wrapped(*args):
        aux_seen.clear()
        value, grads = md_vg(*args)
        grads = tuple(g.data for g in grads) if isinstance(grads, tuple) else grads.data
        value = value.data
        return ((value, aux_seen[-1]) if has_aux else value), grads
    return wrapped


def grad(f, argnums=0, has_aux=False):
    """``grad(f)(x)`` is df/dx at x, an array shaped like x (JAX's ``grad``)."""
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args):
        value, g = vg(*args)
        return (g, value[1]) if has_aux else g
    return wrapped


def logsumexp(a, axis=None, b=None, keepdims=False):
    """log(sum(exp(a))) along ``axis``, computed as m + log(sum(exp(a - m))) with m = max(a).

    m is a constant (no gradient flows through it), so on a Tensor the gradient is
    exactly softmax(a): minidl's exp, sum and log ops composed."""
    if b is not None:
        raise NotImplementedError("fastmath.logsumexp(..., b=) is not supported")
    xp = _backend.xp_of(_array(a))
    m = _array(a).max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)           # an all -inf row: log(0) = -inf, not nan
    if isinstance(a, _Tensor):
        out = _ops.add(_ops.log(_ops.sum(_ops.exp(_ops.sub(a, m)), axis, keepdims=True)), m)
    else:
        with _np.errstate(divide="ignore"):      # log(0) = -inf is the right answer for an all -inf row
            out = xp.log(xp.sum(xp.exp(a - m), axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    shape = [n for i, n in enumerate(out.shape) if i not in _normalize_axes(axis, out.ndim)]
    return _ops.reshape(out, shape) if isinstance(out, _Tensor) else out.reshape(shape)


def expit(x):
    """The logistic sigmoid 1 / (1 + e^-x) (ops.sigmoid on a Tensor)."""
    return _ops.sigmoid(x) if isinstance(x, _Tensor) else _stable_sigmoid(x)


sigmoid = expit


def stop_gradient(x):
    """The same values, cut off from the graph."""
    return x.detach() if isinstance(x, _Tensor) else x


def jit(f, *args, **kwargs):
    """No compilation in minidl: ``jit(f)`` is ``f`` (every op runs eagerly, and can be stepped into)."""
    return f


# ----------------------------------------------------------------------------- trees of arrays
def tree_flatten(tree):
    """The leaves of nested tuples / lists / dicts (dict values in order), depth first."""
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in tree_flatten(t)]
    if isinstance(tree, dict):
        return [leaf for v in tree.values() for leaf in tree_flatten(v)]
    return [tree]


def tree_leaves(tree, ignore_nones=True):
    return [x for x in tree_flatten(tree) if not (ignore_nones and x is None)]


def tree_unflatten(flat, tree, copy_from_tree=None):
    """(new tree shaped like ``tree`` with leaves taken from ``flat`` in order, the unused rest of ``flat``).

    A subtree equal to an element of ``copy_from_tree`` (e.g. ``()`` for a layer without
    weights) is copied from ``tree`` and takes nothing from ``flat``."""
    if copy_from_tree is not None and any(_same(tree, c) for c in copy_from_tree):
        return tree, flat
    if isinstance(tree, (list, tuple)):
        out = []
        for t in tree:
            new, flat = tree_unflatten(flat, t, copy_from_tree)
            out.append(new)
        return (tuple(out) if isinstance(tree, tuple) else out), flat
    if isinstance(tree, dict):
        out = {}
        for k, t in tree.items():
            out[k], flat = tree_unflatten(flat, t, copy_from_tree)
        return out, flat
    return flat[0], flat[1:]


def _same(a, b):
    return type(a) is type(b) and isinstance(a, (tuple, list, dict)) and a == b


def nested_map(f, obj):
    """f applied to every leaf of nested tuples / lists / dicts, keeping the nesting."""
    if isinstance(obj, (list, tuple)):
        return type(obj)(nested_map(f, x) for x in obj)
    if isinstance(obj, dict):
        return {k: nested_map(f, v) for k, v in obj.items()}
    return f(obj)
