"""Argument checks: one rule per kind of argument, one message shape, used everywhere.

"The message names what was wrong and what was expected": ``Dense(-5)`` says
``Dense: n_units must be a positive integer, got -5``, not a NumPy error three
calls later.  Every rule here raises a ``TypeError`` (wrong kind of thing) or a
``ValueError`` / ``IndexError`` (right kind, wrong value) whose message reads

    <who>: <argument> must be <what was expected>, got <the value>

==================  ==========================================  ==============================
kind                rule                                        used by
==================  ==========================================  ==============================
sizes               ``positive_int``, ``non_negative_int``      layer widths, batch sizes
numbers             ``positive_number``                         lr, clip, max_norm
axis                ``axes`` (None, an int or a tuple of ints)  reductions, concat, softmax
ids                 ``ids``: integer dtype, 0 <= id < n         Embedding, cross_entropy targets
masks               ``mask``: bool, or numbers exactly 0 / 1    Mean, RNN/GRU/LSTM, metrics
weights             ``weights``: finite and >= 0                cross_entropy / nll_loss masks
value ranges        ``in_range``                                BCE targets, log-probabilities
paths               ``path``: a str or os.PathLike              md.save / md.load, loaders
a Function's call   ``same_backend``, ``broadcast_error``,      every ``Function.__call__``
                    ``forward_outputs``
==================  ==========================================  ==============================

Cheap on the hot path: a rule on an array is one or two vectorised reductions
(``min``/``max``, or one comparison), never a Python loop over elements, and
costs nothing for the dtype that is right by construction (a bool mask).
(A float that is a whole number, 32.0, is accepted as a size: it is what
``n * 0.5`` gives.)
"""
from __future__ import annotations

import math
import numbers
import reprlib
import operator
import os

from . import backend


# ----------------------------------------------------------------------------- plain values
def positive_int(value, name: str, who: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a ValueError/TypeError naming ``who`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value != int(value):
        raise TypeError(f"{who}: {name} must be a whole number, got {value!r}")
    if int(value) < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{who}: {name} must be {what}, got {value!r}")
    return int(value)


def non_negative_int(value, name: str, who: str) -> int:
    """``value`` as an int >= 0 (a padding, a seed, a count that may be zero)."""
    return positive_int(value, name, who, minimum=0)


def positive_number(value, name: str, who: str, allow_inf: bool = False) -> float:
    """``value`` as a float > 0 (finite unless ``allow_inf``): a learning rate, a clipping norm."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a positive number, got {type(value).__name__} {value!r}")
    value = float(value)
    finite = "" if allow_inf else " finite"
    if math.isnan(value) or value <= 0 or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{who}: {name} must be a positive{finite} number, got {value!r}")
    return value


def number(value, name: str, who: str, lo=None, hi=None, lo_open=False, hi_open=False,
           finite=False) -> float:
    """A real number (not NaN, within [lo, hi] when given; ``*_open`` excludes the bound): a rate, an eps."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if finite and math.isinf(value):
        raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
    low_bad = lo is not None and (value <= lo if lo_open else value < lo)
    high_bad = hi is not None and (value >= hi if hi_open else value > hi)
    if math.isnan(value) or low_bad or high_bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        span = f" in {left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}" \
            if lo is not None or hi is not None else " (not NaN)"
        raise ValueError(f"{who}: {name} must be a number{span}, got {value!r}")
    return value


def flag(value, name: str, who: str) -> bool:
    """A switch: True/False (or 0/1); an array or a string is refused, not judged by its truthiness."""
    if isinstance(value, (bool,)) or (isinstance(value, numbers.Integral) and value in (0, 1)) \
            or type(value).__name__ == "bool_":
        return bool(value)
    raise TypeError(f"{who}: {name} must be True or False, got {type(value).__name__} {value!r}")


def choice(value, options, name: str, who: str):
    """One of ``options`` (strings, or None when listed): e.g. reduction in ('mean', 'sum', 'none')."""
    if not (value is None or isinstance(value, str)) or value not in options:
        names = [repr(o) for o in options]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise ValueError(f"{who}: {name} must be {listed}, got {value!r}")
    return value


def function(value, name: str, who: str):
    """Something to call: a function, a lambda, a Layer."""
    if not callable(value):
        raise TypeError(f"{who}: {name} must be a function (or a Layer), got {type(value).__name__} {value!r}")
    return value


def layer(value, name: str, who: str):
    """A minidl Layer (anything with ``named_parameters``)."""
    if not (hasattr(value, "named_parameters") and hasattr(value, "parameters")):
        raise TypeError(f"{who}: {name} must be a Layer (e.g. nn.Serial(...)), got {type(value).__name__} {value!r}")
    return value


def numeric(a, name: str, who: str, given=None):
    """An array (or Tensor data) of numbers: bool, int or float -- not strings, objects or complex.
    ``given``: what the caller passed before conversion (named in the message instead of ``a``)."""
    kind = getattr(getattr(a, "dtype", None), "kind", None)
    if kind not in ("b", "i", "u", "f"):
        shown = a if given is None else given
        raise TypeError(f"{who}: {name} must be real numbers (a Tensor, an array, a list or a number), "
                        f"got {type(shown).__name__} {reprlib.repr(shown)}")
    return a


def path(value, name: str, who: str) -> str:
    """``value`` as a path string: a ``str`` or ``os.PathLike`` (``pathlib.Path``), nothing else."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{who}: {name} must be a file path (str or pathlib.Path), "
                        f"got {type(value).__name__} {value!r}")
    value = os.fspath(value)
    if not value:
        raise ValueError(f"{who}: {name} must be a file path, got an empty string")
    return value


# ----------------------------------------------------------------------------- a Function's call
def same_backend(tensors, who: str) -> None:
    """Refuse inputs that live on different backends, naming each (Function.__call__)."""
    # one array type is one backend (the fast check); only a mix needs the names
    if len({type(t.data) for t in tensors}) > 1 and len({t.backend for t in tensors}) > 1:
        shapes = ", ".join(f"{t.backend}{t.shape}" for t in tensors)
        raise TypeError(f"{who}: inputs live on different backends ({shapes}); "
                        "move them to one with .to('numpy') or .to('cupy')")


def broadcast_error(exc: ValueError, who: str, tensors) -> ValueError:
    """The error to raise for a ValueError from a forward: NumPy's "operands could not be
    broadcast together" names no input, so it becomes one naming each input's shape."""
    if not str(exc).startswith("operands could not be broadcast"):
        return exc
    shapes = ", ".join(f"input {k} of shape {tuple(t.shape)}" for k, t in enumerate(tensors))
    err = ValueError(f"{who}: the inputs do not broadcast together ({shapes})")
    err.__suppress_context__ = True                # NumPy's message adds nothing to this one
    return err


def forward_outputs(outs: tuple, who: str) -> tuple:
    """``outs`` (a forward's outputs), or a TypeError naming the one that is not an array."""
    for k, o in enumerate(outs):
        if not (hasattr(o, "dtype") and hasattr(o, "shape")):
            raise TypeError(f"{who}.forward returned {type(o).__name__} {o!r} as output {k}; forward must "
                            "return backend arrays (or a tuple of them): wrap a number as xp.asarray(value, dtype=x.dtype)")
    return outs


# ----------------------------------------------------------------------------- axes
def axis_index(value, name: str = "axis", who: str = "") -> int:
    """One axis as a Python int: an int or a NumPy integer (``np.int64(1)``), never 1.5 or True."""
    if isinstance(value, bool):
        raise TypeError(f"{who}: {name} must be an integer, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{who}: {name} must be an integer or a tuple of integers, "
                        f"got {type(value).__name__} {value!r}") from None


def axes(axis, ndim: int, who: str = "", name: str = "axis") -> tuple:
    """Normalise ``axis`` (None, an integer or a tuple/list of them, negatives allowed) to a sorted tuple.

    Out of range (axis=5 of a 2-D tensor) is an error, never a silent wrap onto axis 1."""
    who = who or "reduction"
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        a = axis_index(a, name, who)
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of bounds for a tensor with {ndim} dimension(s) "
                             f"(valid axes: {-ndim}..{ndim - 1})")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{who}: {name} {axis!r} names an axis twice")
    return tuple(sorted(out))


def axis(value, ndim: int, who: str = "", name: str = "axis") -> int:
    """One axis, normalised to 0..ndim-1 (concat, stack, split, softmax)."""
    (a,) = axes(axis_index(value, name, who), ndim, who, name)
    return a


# ----------------------------------------------------------------------------- arrays
def _described(a) -> str:
    return f"a {a.dtype} array of shape {tuple(a.shape)}"


def ids(a, n: int, who: str, name: str = "ids", one: str = "id", of: str = "a vocabulary of size {n}") -> None:
    """Integer ids, each in 0..n-1: the dtype, then ``min`` and ``max`` once (no loop).

    ``name`` is the argument (``targets``), ``one`` a single value of it (``target class``),
    ``of`` what they index (``{n} classes``)."""
    if a.dtype.kind not in "iu":
        raise TypeError(f"{who}: {name} must be integers, got {_described(a)}")
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise IndexError(f"{who}: {one} {bad} is out of range for {of.format(n=n)} "
                             f"(valid {name} are 0..{n - 1})")


def mask(m, who: str, name: str = "mask"):
    """A padding mask: booleans, or numbers that are exactly 0 or 1 (1 = real, 0 = padding).

    A hidden state that lands where a mask belongs (``Serial(GRU(8, return_state=True),
    Mean())`` with T == 8 passes h as the mask) is refused here, as are NaN and 2.
    Returns ``m`` unchanged.
    """
    kind = m.dtype.kind
    if kind == "b":
        return m
    if kind not in "iuf":
        raise TypeError(f"{who}: {name} must be booleans or 0/1 numbers, got {_described(m)}")
    if m.size and not bool(backend.xp_of(m).all((m == 0) | (m == 1))):
        raise ValueError(f"{who}: {name} must hold only 0 and 1 (or booleans: 1 = real step, 0 = padding), "
                         f"got {_described(m)} with values such as {_offender(m, lambda v: (v != 0) & (v != 1))}"
                         " (is a state or a score being passed where the mask belongs?)")
    return m


def weights(w, who: str, name: str = "mask"):
    """Per-element weights (a mask is the 0/1 case): finite and >= 0.  Returns ``w``."""
    if w.dtype.kind == "b":
        return w
    if w.dtype.kind not in "iuf":
        raise TypeError(f"{who}: {name} must be numbers (weights >= 0) or booleans, got {_described(w)}")
    xp = backend.xp_of(w)
    if w.size and not bool(xp.all(w >= 0) & xp.all(xp.isfinite(w))):
        raise ValueError(f"{who}: {name} must hold finite weights >= 0, got {_described(w)} with values "
                         f"such as {_offender(w, lambda v: ~((v >= 0) & xp.isfinite(v)))}")
    return w


def in_range(a, lo, hi, who: str, name: str, why: str = ""):
    """Every value of ``a`` within [lo, hi] (a bound may be None), NaN refused.  Returns ``a``."""
    xp = backend.xp_of(a)
    if a.dtype.kind not in "iufb":
        raise TypeError(f"{who}: {name} must be numbers, got {_described(a)}")
    if not a.size:
        return a
    ok = True
    if lo is not None:
        ok = ok & xp.all(a >= lo)
    if hi is not None:
        ok = ok & xp.all(a <= hi)
    if not bool(ok):
        low = "-inf" if lo is None else lo
        high = "inf" if hi is None else hi

        def outside(v):
            bad = xp.isnan(v) if v.dtype.kind == "f" else xp.zeros(v.shape, bool)
            bad = bad | (v < lo) if lo is not None else bad
            return bad | (v > hi) if hi is not None else bad
        raise ValueError(f"{who}: {name} must lie in [{low}, {high}]{why}, got {_described(a)} with values "
                         f"such as {_offender(a, outside)}")
    return a


def _offender(a, is_bad) -> str:
    """The first offending value, for the message (computed only once a check has failed)."""
    flat = a.reshape(-1)
    where = backend.asnumpy(is_bad(flat)).nonzero()[0]
    if not where.size:
        return "?"
    value = backend.asnumpy(flat[int(where[0])]).item()
    return f"{value:.6g}" if isinstance(value, float) else repr(value)
