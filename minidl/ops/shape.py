"""Shape and indexing ops: reshape, transpose, indexing, concat/stack/split, embedding.

None of these change values, they only move them, so each backward moves the
gradient back to where the value came from:

* reshape/transpose -> the inverse reshape/transpose;
* indexing ``x[idx]`` -> a *scatter-add* into zeros of x's shape (an element that
  was read twice receives both gradients);
* concat -> split the gradient at the same boundaries, and vice versa.
"""
from __future__ import annotations

from ..autograd import Function, Tensor, array_of, as_tensor
from .. import backend


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape {x.shape} ({x.size} values) into {self.shape}") from None

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
        return x[self.idx]

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
            if k <= 0 or n % k:
                raise ValueError(f"split: an axis of length {n} does not split into {k} "
                                 "equal sections")
            k = range(n // k, n, n // k)
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
        if ids.dtype.kind not in "iu":
            raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
        V = W.shape[0]
        if ids.size:
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= V:
                bad = lo if lo < 0 else hi
                raise IndexError(f"embedding: token id {bad} is out of range for a vocabulary "
                                 f"of size {V} (valid ids are 0..{V - 1})")
        self.ids, self.V = ids, V
        return backend.xp_of(W).take(W, ids, axis=0)      # W[ids]; take is the faster gather

    def backward(self, gy):
        return None, backend.scatter_add_rows(self.V, self.ids.reshape(-1), gy.reshape(-1, gy.shape[-1]))


def _cumsum(xs):
    total = 0
    for x in xs:
        total += x
        yield total


def reshape(x, shape): return Reshape(tuple(shape) if not isinstance(shape, int) else (shape,))(x)
def transpose(x, axes=None): return Transpose(axes)(x)
def getitem(x, idx): return GetItem(_raw_index(idx))(x)
def split(x, indices_or_sections, axis=0): return Split(indices_or_sections, axis)(x)
def unstack(x, axis=0): return list(Unstack(axis % x.ndim)(x))


def concat(xs, axis=0):
    like = next(x for x in xs if isinstance(x, Tensor))
    return Concat(axis)(*[as_tensor(x, like) for x in xs])


def stack(xs, axis=0):
    like = next(x for x in xs if isinstance(x, Tensor))
    return Stack(axis)(*[as_tensor(x, like) for x in xs])


def embedding(ids, W, op=EmbeddingOp):
    """Look up rows of ``W`` (V, d) for integer ``ids`` of any shape.

    ``op`` is the Function that does it: EmbeddingOp, or a subclass with another
    backward (``nn.Embedding(..., sparse_grad=True)`` passes minidl/fast's)."""
    ids = array_of(ids)
    if not isinstance(W, Tensor):
        raise TypeError("embedding: W must be a Tensor")
    ids = backend.xp_of(W.data).asarray(ids)   # ids from the host are moved to W's device
    return op()(Tensor(ids), W)
