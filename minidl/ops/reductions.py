"""Reductions: sum, mean, max, min over an axis (or all axes).

Backward of a reduction *broadcasts* the incoming gradient back over the axes
that forward collapsed.  ``keepdims`` is handled once, in ``_expand``: the
gradient is reshaped to keep size-1 axes so NumPy broadcasting does the rest.
"""
from __future__ import annotations

from ..autograd import Function
from .. import backend, validate


def normalize_axes(axis, ndim, who="reduction"):
    """``axis`` (None, an integer -- NumPy integers too -- or a tuple of them, negatives allowed)
    as a sorted tuple; the one rule for axes lives in ``minidl/validate.py``."""
    return validate.axes(axis, ndim, who)


def _expand(gy, in_shape, axes, keepdims):
    """Reshape ``gy`` so it broadcasts against the input (re-insert collapsed axes)."""
    if not keepdims:
        shape = [1 if i in axes else n for i, n in enumerate(in_shape)]
        gy = gy.reshape(shape)
    return gy


class Sum(Function):
    """y = sum_i x_i over ``axis``;  dy/dx_i = 1 (the gradient is copied to each x_i)."""
    who = "sum"
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.in_shape, self.axes = x.shape, normalize_axes(self.axis, x.ndim, self.who)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        # A read-only broadcast view, not a copy: no backward writes into a gradient it
        # receives (the Function rule), and an Embedding after a Mean gathers its rows
        # straight from the view instead of from a (B, T, d) array of repeated rows.
        xp = backend.xp_of(gy)
        return xp.broadcast_to(_expand(gy, self.in_shape, self.axes, self.keepdims), self.in_shape)


class MeanOp(Function):
    """y = (1/n) sum_i x_i;  dy/dx_i = 1/n."""
    who = "mean"
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.in_shape, self.axes = x.shape, normalize_axes(self.axis, x.ndim, self.who)
        self.n = 1
        for a in self.axes:
            self.n *= x.shape[a]
        if self.n == 0:                    # NumPy would return NaN with only a warning
            raise ValueError(f"mean over axes {self.axes} of a tensor of shape {x.shape}: there is nothing "
                             "to average (length 0), the mean is undefined. An empty text encodes to no "
                             "tokens: give the vectorizer an output_sequence_length, or drop empty rows")
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        xp = backend.xp_of(gy)
        g = (_expand(gy, self.in_shape, self.axes, self.keepdims) / self.n).astype(gy.dtype, copy=False)
        return xp.broadcast_to(g, self.in_shape)             # a view, as in Sum.backward


class Max(Function):
    """y = max_i x_i;  the gradient goes to the arg-max.

    Ties split the gradient evenly between the tied elements, so the result is
    the average of the one-sided derivatives (what a central difference sees).
    """
    largest, who = True, "max"

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.in_shape, self.axes = x.shape, normalize_axes(self.axis, x.ndim, self.who)
        if any(x.shape[a] == 0 for a in self.axes):
            raise ValueError(f"{self.who}: x of shape {x.shape} is empty along axis {self.axes}: the {self.who} "
                             "of nothing is undefined")
        y = x.max(axis=self.axes, keepdims=True) if self.largest else x.min(axis=self.axes, keepdims=True)
        self.winners = (x == y)
        return y if self.keepdims else y.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, gy):
        g = _expand(gy, self.in_shape, self.axes, self.keepdims)
        share = self.winners / self.winners.sum(axis=self.axes, keepdims=True)
        return (g * share).astype(gy.dtype)


class Min(Max):
    """y = min_i x_i;  the gradient goes to the arg-min (ties share it)."""
    largest, who = False, "min"


def sum(x, axis=None, keepdims=False): return Sum(axis, validate.flag(keepdims, "keepdims", "sum"))(x)  # noqa: A001
def mean(x, axis=None, keepdims=False): return MeanOp(axis, validate.flag(keepdims, "keepdims", "mean"))(x)
def max(x, axis=None, keepdims=False): return Max(axis, validate.flag(keepdims, "keepdims", "max"))(x)  # noqa: A001
def min(x, axis=None, keepdims=False): return Min(axis, validate.flag(keepdims, "keepdims", "min"))(x)  # noqa: A001
