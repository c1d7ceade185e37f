"""The data stack between Trax layers: how items are taken off, pushed back, and converted.

A layer reads its ``n_in`` items from the top of the stack and its ``n_out``
results replace them; everything below is left for the layers after it:

    stack (a, b, c)  --layer with n_in=2, n_out=1-->  (f(a, b), c)

One item travels bare, several as a tuple, none as ``()`` (Trax's packaging).
Items are minidl Tensors (floating values, which can carry gradients) or
arrays (token ids, masks, targets): ``to_stack`` makes them from what a caller
passes, ``to_arrays`` turns results back into plain arrays.
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd import Tensor, tensor
from ..shapes import ShapeDtype


def inputs_from_stack(stack, n):
    """The top ``n`` items: one bare item for n = 1, else a tuple."""
    items = _as_tuple(stack)[:n]
    return items[0] if len(items) == 1 else items


def outputs_onto_stack(outputs, stack, n):
    """The stack after popping ``n`` items and pushing ``outputs`` in their place."""
    items = _as_tuple(outputs) + _as_tuple(stack)[n:]
    return items[0] if len(items) == 1 else items


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def to_stack(x):
    """What a caller hands a layer -> stack items: float arrays become Tensors (the default float dtype,
    the active backend), integer and boolean arrays (ids, masks) stay arrays; a tuple or list is
    several items."""
    if isinstance(x, (tuple, list)):
        return tuple(_stack_item(a) for a in x)
    return _stack_item(x)


def _stack_item(a):
    if isinstance(a, Tensor) or isinstance(a, ShapeDtype) or not (hasattr(a, "dtype") and hasattr(a, "shape")):
        return a
    data = backend.to_backend(a, backend.get_backend())
    return tensor(data) if data.dtype.kind == "f" else data


def to_arrays(x):
    """Stack items -> what a layer call returns: Tensors become their arrays."""
    if isinstance(x, (tuple, list)):
        return tuple(to_arrays(a) for a in x)
    return x.data if isinstance(x, Tensor) else x


def zeros_like_signature(sig):
    """Zeros of the signature's shapes and dtypes (what ``Layer.init`` runs the model on)."""
    if isinstance(sig, (tuple, list)):
        return tuple(zeros_like_signature(s) for s in sig)
    return np.zeros(sig.shape, dtype=sig.dtype)
