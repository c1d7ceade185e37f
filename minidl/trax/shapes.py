"""``trax.shapes``: data described by shape and dtype only (what ``Layer.init`` needs).

    ShapeDtype((32, 50), np.int32)       one array: shape (32, 50), dtype int32
    signature(x)                         the ShapeDtype of an array (or Tensor), or a tuple of
                                         them for a tuple of arrays: signature((ids, labels))

A model is initialised from a signature, not from data: ``model.init(signature(batch))``
creates every weight with the shape the batch implies (an Embedding's table, a Dense's
(n_in, n_units) matrix), as in Trax.
"""
from __future__ import annotations

import numpy as np


class ShapeDtype:
    """An array abstracted as its ``shape`` (a tuple) and ``dtype``."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype=np.float32):
        if isinstance(shape, list):
            shape = tuple(shape)
        if not isinstance(shape, tuple):
            raise TypeError(f"ShapeDtype: shape must be a tuple or list, got {shape!r}")
        self.shape, self.dtype = shape, dtype

    def __eq__(self, other):
        return isinstance(other, ShapeDtype) and self.shape == other.shape and self.dtype == other.dtype

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.shape, str(np.dtype(self.dtype))))

    def __repr__(self):
        return f"ShapeDtype{{shape:{self.shape}, dtype:{self.dtype}}}"

    def __len__(self):
        return 1                      # one item on the data stack

    def as_tuple(self):
        return self.shape, self.dtype

    def replace(self, **kwargs):
        return ShapeDtype(kwargs.pop("shape", self.shape), kwargs.pop("dtype", self.dtype))


def signature(obj):
    """The ShapeDtype of ``obj`` (anything with .shape and .dtype), or the same nesting of them
    for a tuple / list / dict of such objects."""
    if isinstance(obj, (list, tuple)):
        out = tuple(signature(x) for x in obj)
        return out if isinstance(obj, tuple) else list(out)
    if isinstance(obj, dict):
        return {k: signature(v) for k, v in obj.items()}
    if not (hasattr(obj, "shape") and hasattr(obj, "dtype")):
        raise TypeError(f"signature: {type(obj).__name__} has no shape and dtype; give an array, a "
                        "Tensor, a ShapeDtype or a tuple of them")
    return ShapeDtype(tuple(obj.shape), obj.dtype)


def splice_signatures(*sigs):
    """One flat signature from several: (sd1, (sd2, sd3), sd4) -> (sd1, sd2, sd3, sd4)."""
    out = []
    for s in sigs:
        out.extend(s) if isinstance(s, (list, tuple)) else out.append(s)
    return out[0] if len(out) == 1 else tuple(out)


def assert_shape_equals(array, shape):
    assert tuple(array.shape) == tuple(shape), f"Invalid shape {tuple(array.shape)}; expected {tuple(shape)}."


def assert_same_shape(array1, array2):
    assert_shape_equals(array1, array2.shape)
