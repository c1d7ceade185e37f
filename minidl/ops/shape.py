"""Shape and indexing ops: reshape, transpose, indexing, concat/stack/split, embedding.

None of these change values, they only move them, so each backward moves the
gradient back to where the value came from:

* reshape/transpose -> the inverse reshape/transpose;
* indexing ``x[idx]`` -> a *scatter-add* into zeros of x's shape (an element that
  was read twice receives both gradients);
* concat -> split the gradient at the same boundaries, and vice versa.
"""
from __future__ import annotations

from ..autograd import Function, Tensor, array_of, as_tensor, tensor
from .. import backend, validate


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape x of shape {x.shape} ({x.size} values) into {self.shape}") from None

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class Transpose(Function):
    """y = x.transpose(axes); backward applies the inverse permutation."""
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        self.axes = tuple(self.axes) if self.axes else tuple(reversed(range(x.ndim)))
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return gy.transpose(inverse)


def _raw_index(idx):
    """Unwrap Tensors inside an index (x[ids] with ids a Tensor)."""
    if isinstance(idx, tuple):
        return tuple(array_of(i) for i in idx)
    return array_of(idx)


class GetItem(Function):
    """y = x[idx] for slices, integer arrays and boolean masks.

    Backward scatter-adds into zeros, because with integer arrays the same
    element may be read several times and must collect every gradient.
    """
    def __init__(self, idx):
        self.idx = idx

    def forward(self, x):
        self.in_shape, self.dtype = x.shape, x.dtype
        try:
            return x[self.idx]
        except (IndexError, TypeError, ValueError) as exc:
            raise IndexError(f"getitem: index {self.idx!r} does not index a tensor of shape {x.shape} "
                             f"(idx: {exc})") from None

    def backward(self, gy):
        gx = backend.xp_of(gy).zeros(self.in_shape, dtype=gy.dtype)
        return backend.scatter_add(gx, self.idx, gy)


class Concat(Function):
    """y = [x_1, x_2, ...] joined along ``axis``; backward splits gy at the seams."""
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return backend.xp_of(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        return _cut(gy, list(_cumsum(self.sizes))[:-1], self.axis)


class Stack(Function):
    """y = stack of equal-shape x_i along a new ``axis``; backward takes slices."""
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.n = len(xs)
        return backend.xp_of(xs[0]).stack(xs, axis=self.axis)

    def backward(self, gy):
        xp = backend.xp_of(gy)
        return tuple(xp.take(gy, i, axis=self.axis) for i in range(self.n))


class Split(Function):
    """(y_1, ..., y_k) = x cut along ``axis`` at ``indices_or_sections``."""
    def __init__(self, indices_or_sections, axis):
        self.ios, self.axis = indices_or_sections, axis

    def forward(self, x):
        n, k = x.shape[self.axis], self.ios
        if isinstance(k, int):                    # k equal sections, as numpy.split
            if n % k:
                raise ValueError(f"split: axis {self.axis} of x has length {n}, which does not split into "
                                 f"indices_or_sections = {k} equal sections")
            k = [n // k * i for i in range(1, k)]
        return _cut(x, list(k), self.axis)

    def backward(self, *gys):
        return backend.xp_of(gys[0]).concatenate(gys, axis=self.axis)


class Unstack(Function):
    """(x_0, ..., x_{T-1}) = the slices of x along ``axis``; backward stacks their gradients.

    What ``md.scan`` uses to walk the time axis: ONE graph node for all T slices.
    T indexing nodes x[:, t] would each scatter into a fresh zeros array of x's
    full shape in backward (O(T^2) work).  (The inverse of Stack.)
    """
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        lead = (slice(None),) * self.axis
        return tuple(x[lead + (t,)] for t in range(x.shape[self.axis]))     # views, no copies

    def backward(self, *gys):
        return backend.xp_of(gys[0]).stack(gys, axis=self.axis)


def _cut(x, cuts, axis):
    """Views of ``x`` between the positions ``cuts`` along ``axis`` (numpy.split's result,
    by plain slicing: np.split's generality costs ~15 µs a call, and a scanned cell splits
    at every step)."""
    lead = (slice(None),) * (axis % x.ndim)
    bounds = [0, *cuts, x.shape[axis]]
    return tuple(x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))


class EmbeddingOp(Function):
    """Row lookup: y[..., :] = W[ids[...], :]   (ids: any int shape S, W: (V, d) -> y: S + (d,)).

    Backward is the scatter-add dW[v] = sum of gy at every position where ids == v
    (``backend.scatter_add_rows``: one vectorised pass, repeated ids accumulate).
    """
    def forward(self, ids, W):
        V = W.shape[0]
        validate.ids(ids, V, "embedding", "ids", "token id", "a vocabulary of size {n} (the rows of W)")
        self.ids, self.V = ids, V
        return backend.xp_of(W).take(W, ids, axis=0)      # W[ids]; take is the faster gather

    def backward(self, gy):
        return None, backend.scatter_add_rows(self.V, self.ids.reshape(-1), gy.reshape(-1, gy.shape[-1]))


def _cumsum(xs):
    total = 0
    for x in xs:
        total += x
        yield total


def reshape(x, shape):
    """x with a new ``shape`` (an int or a sequence of ints, one of them may be -1)."""
    items = shape if isinstance(shape, (tuple, list)) else (shape,)
    dims = tuple(validate.axis_index(n, "shape", "reshape") for n in items)
    if any(n < -1 for n in dims) or dims.count(-1) > 1:
        raise ValueError(f"reshape: shape must hold sizes >= 0 and at most one -1, got {shape!r}")
    return Reshape(dims)(x)


def transpose(x, axes=None):
    """x with its axes permuted (``axes`` a permutation of 0..ndim-1; None reverses them)."""
    if axes is not None:
        ndim = len(getattr(x, "shape", ()))
        items = axes if isinstance(axes, (tuple, list)) else (axes,)
        given = [validate.axis_index(a, "axes", "transpose") for a in items]
        if sorted(a % ndim if -ndim <= a < ndim else a for a in given) != list(range(ndim)):
            raise ValueError(f"transpose: axes must be a permutation of 0..{ndim - 1}, got {axes!r}")
        axes = tuple(a % ndim for a in given)
    return Transpose(axes)(x)


def getitem(x, idx):
    """x[idx]; an index NumPy refuses is named, with the tensor's shape."""
    return GetItem(_raw_index(idx))(x)


def split(x, indices_or_sections, axis=0):
    """x cut along ``axis``: into k equal sections (an integer k) or at the given indices.

    An axis of length 0 splits into k empty sections, as ``numpy.split`` does."""
    x = as_tensor(x)
    axis = validate.axis(axis, x.ndim, "split")
    ios = indices_or_sections
    if isinstance(ios, (list, tuple, range)) or getattr(ios, "ndim", 0) > 0:      # cut positions
        ios = [validate.non_negative_int(i, "indices_or_sections (a cut position)", "split") for i in ios]
    else:
        ios = validate.positive_int(ios, "indices_or_sections (a number of sections)", "split")
    return Split(ios, axis)(x)


def unstack(x, axis=0):
    """The slices of x along ``axis``, as a list of Tensors."""
    x = x if isinstance(x, Tensor) else _tensors([x], "unstack")[0]
    return list(Unstack(validate.axis(axis, x.ndim, "unstack"))(x))


def _tensors(xs, who):
    """The list of ``xs`` as Tensors sharing the first Tensor's backend and dtype policy."""
    if isinstance(xs, Tensor) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"{who}: xs must be a list or tuple of tensors, got {type(xs).__name__}")
    if not xs:
        raise ValueError(f"{who}: xs must hold at least one tensor, got an empty {type(xs).__name__}")
    like = next((x for x in xs if isinstance(x, Tensor)), None)
    out = []
    for k, x in enumerate(xs):
        if isinstance(x, Tensor):
            out.append(x)
            continue
        try:                      # plain arrays: constants under md.tensor's dtype policy
            t = tensor(x) if like is None else as_tensor(x, like)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{who}: xs[{k}] must be a tensor or an array of numbers ({exc})") from None
        validate.numeric(t.data, f"xs[{k}]", who)
        like = t if like is None else like
        out.append(t)
    if who != "unstack" and any(t.ndim == 0 for t in out):
        k = next(k for k, t in enumerate(out) if t.ndim == 0)
        raise ValueError(f"{who}: xs[{k}] is a scalar (shape ()); {who} joins tensors of at least one axis")
    return out


def concat(xs, axis=0):
    """Join ``xs`` (tensors or arrays, same shape but along ``axis``) along ``axis``."""
    xs = _tensors(xs, "concat")
    axis = validate.axis(axis, xs[0].ndim, "concat")
    _same_shapes(xs, "concat", axis)
    return Concat(axis)(*xs)


def stack(xs, axis=0):
    """Stack equal-shape ``xs`` along a new ``axis``."""
    xs = _tensors(xs, "stack")
    axis = validate.axis(axis, xs[0].ndim + 1, "stack")
    _same_shapes(xs, "stack", None)
    return Stack(axis)(*xs)


def _same_shapes(xs, who, but):
    """Every shape equal to the first's (except along axis ``but``), or an error naming both."""
    first = xs[0].shape
    for k, x in enumerate(xs[1:], 1):
        other = x.shape
        same = len(other) == len(first) and all(a == b for i, (a, b) in enumerate(zip(first, other)) if i != but)
        if not same:
            along = "" if but is None else f" except along axis {but}"
            raise ValueError(f"{who}: xs[{k}] has shape {tuple(other)} but xs[0] has {tuple(first)}; "
                             f"the shapes must be equal{along}")


def embedding(ids, W, op=EmbeddingOp):
    """Look up rows of ``W`` (V, d) for integer ``ids`` of any shape.

    ``op`` is the Function that does it: EmbeddingOp, or a subclass with another
    backward (``nn.Embedding(..., sparse_grad=True)`` passes minidl/fast's)."""
    ids = array_of(ids)
    if not isinstance(W, Tensor) or W.ndim != 2 or W.dtype.kind != "f":
        got = f"a {W.dtype} Tensor of shape {tuple(W.shape)}" if isinstance(W, Tensor) else type(W).__name__
        raise TypeError(f"embedding: W must be a floating Tensor of shape (vocab_size, d), got {got}")
    if not hasattr(ids, "dtype"):
        given = ids
        try:
            ids = backend.xp_of(W.data).asarray(given)
        except (TypeError, ValueError):
            ids = None
        if ids is None or ids.dtype.kind not in "iu":
            raise TypeError(f"embedding: ids must be integers (an array or a nested list), got "
                            f"{type(given).__name__} {given!r}")
    ids = backend.xp_of(W.data).asarray(ids)   # ids from the host are moved to W's device
    return op()(Tensor(ids), W)
