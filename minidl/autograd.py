"""Reverse-mode automatic differentiation: ``Tensor``, ``Function`` and ``backward``.

The whole idea in three sentences.  Every differentiable operation is a
``Function`` with a ``forward`` (arrays in, array out) and a ``backward``
(gradient of the loss w.r.t. the output in, gradients w.r.t. each input out).
Calling a Function on Tensors records it as the ``_ctx`` of the Tensor it
returns, so the Tensors and Functions form a graph.  ``loss.backward()`` walks
that graph from the loss back to the leaves, in reverse topological order,
applying the chain rule  dL/dx = sum over uses of x of  dL/dy * dy/dx.

Rules a learner can rely on (each is pinned by a test in tests/test_autograd.py):

* the walk is an explicit-stack topological sort, never recursion, so a chain of
  20,000 ops does not hit Python's recursion limit;
* gradients *accumulate*: ``a + a`` gives 2, and a value used twice collects both;
* after ``backward`` each Function drops its inputs and saved arrays (memory
  stays flat over thousands of steps); a second ``backward`` through the same
  graph then fails clearly unless the first one passed ``retain_graph=True``;
* inside ``no_grad()`` nothing is recorded;
* broadcasting is undone in backward: ``sum_to(grad, shape)`` sums over the
  axes that forward broadcast.
"""
from __future__ import annotations

import numpy as np

from . import backend, validate
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401  (md.no_grad ...)
from .grad_mode import call_watcher


def array_of(x):
    """The backend array inside ``x`` if it is a Tensor; ``x`` itself otherwise.

    The one place that unwraps: ops, losses, metrics and layers accept a Tensor
    or a plain array wherever a value carries no gradient (ids, masks, targets).
    """
    return x.data if isinstance(x, Tensor) else x


# ----------------------------------------------------------------------------- Tensor
class Tensor:
    """An array (``.data``, NumPy or CuPy) plus what autograd needs to know about it.

    ``.grad``  -- same shape as ``.data``, filled by ``backward`` (leaves only);
    ``._ctx``  -- the Function that produced this tensor (None for leaves).
    """

    __array_priority__ = 1000      # so ``ndarray * Tensor`` defers to Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False):
        if not hasattr(data, "dtype") or not hasattr(data, "shape"):
            raise TypeError(f"Tensor(...) wraps a NumPy or CuPy array, got a {type(data).__name__}; "
                            "to make a tensor from a list or a number use md.tensor(...)")
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require grad, got dtype {data.dtype} "
                            "(integer tensors hold ids and counts, which have no gradient)")
        self._data = data
        self._version = 0          # bumped by every assignment to .data (see the property)
        self.grad = None           # dL/d(this leaf), an array shaped like .data, after backward
        self.requires_grad = bool(requires_grad)
        self._ctx = None           # the Function that made me
        self._out_index = 0        # which of its outputs I am

    @property
    def data(self):
        """The values: a NumPy or CuPy array."""
        return self._data

    @data.setter
    def data(self, value):
        # ``w.data -= lr * g`` and ``w.data = new`` both land here (augmented assignment
        # on an attribute calls the setter).  A Function that saved this tensor for its
        # backward compares versions and refuses a stale graph, as PyTorch does.
        # (An edit through an index, ``w.data[0] = 5``, bypasses the setter: don't.)
        self._data = value
        self._version += 1

    # --- array-like facts
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    backend = property(lambda self: backend.name_of(self.data))
    is_leaf = property(lambda self: self._ctx is None)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(backend.asnumpy(self.data), precision=4, threshold=20,
                               prefix="tensor(")
        return f"tensor({body}, dtype={self.dtype}{grad})"

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied from the GPU when needed)."""
        return backend.asnumpy(self.data)

    def item(self):
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same values, cut off from the graph."""
        return Tensor(self.data)

    def to(self, name: str) -> "Tensor":
        """A leaf copy living on backend ``name`` ("numpy" or "cupy")."""
        return Tensor(backend.to_backend(self.data, name), requires_grad=self.requires_grad)

    def zero_grad(self):
        self.grad = None

    # --- backward
    def backward(self, grad=None, retain_graph: bool = False):
        """Fill ``.grad`` of every leaf that requires grad with d(self)/d(leaf).

        ``grad`` defaults to 1 for a scalar; a non-scalar tensor needs an explicit
        upstream gradient of its own shape (as in PyTorch).
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input of "
                               "the computation had requires_grad=True (or it ran under no_grad)")
        xp = backend.xp_of(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar, got shape "
                                   f"{self.shape}; call loss.sum().backward() or pass grad=")
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=self.dtype)
            grad = grad.copy()             # the caller's array must never become a .grad
            if grad.shape != self.shape:
                raise ValueError(f"backward(grad): grad shape {grad.shape} != tensor shape {self.shape}")
        run_backward(self, grad, retain_graph)

    # --- operators (+ - * / ** @, [], comparisons) and methods (sum, mean, exp, ...)
    # are installed by minidl/ops/tensor_methods.py: the maths lives in minidl/ops,
    # which is built on top of this file.
    __hash__ = object.__hash__     # tensors are graph nodes: hash by identity, even with an elementwise ==

    def __bool__(self):
        """Truth of a one-element tensor, as NumPy: ``if loss > 1:``; an error for more elements."""
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all() on its .data, or compare one element")
        return bool(self.data)


def tensor(data, requires_grad: bool = False, dtype=None, backend_name: str | None = None) -> Tensor:
    """Make a leaf Tensor on the active backend (or ``backend_name``).

    Floating data becomes the default float dtype (float32) unless ``dtype`` says
    otherwise -- even a float64 NumPy array, so one stray array does not silently
    turn a whole model into float64.  Integer and boolean data keep their dtype.
    """
    if isinstance(data, Tensor):
        data = data.data
    name = backend.check_name(backend_name) if backend_name is not None else backend.get_backend()
    xp = backend.module(name)
    try:
        arr = backend.to_backend(data, name) if not isinstance(data, (list, tuple, int, float, bool)) \
            else xp.asarray(data)
    except (TypeError, ValueError):               # a ragged list
        arr = data
    validate.numeric(arr, "data", "md.tensor", given=data)
    if dtype is not None:
        arr = arr.astype(backend.numeric_dtype(dtype, "md.tensor"), copy=False)
    elif arr.dtype.kind == "f" and arr.dtype != backend.get_default_dtype():
        arr = arr.astype(backend.get_default_dtype())
    elif arr.dtype.kind in "iu" and isinstance(data, (list, tuple, int)):
        arr = arr.astype(np.int64)       # Python ints: int64 on every platform
    if arr is data:                      # a tensor never aliases the caller's array
        arr = arr.copy()
    return Tensor(arr, requires_grad=validate.flag(requires_grad, "requires_grad", "md.tensor"))


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """``x`` unchanged if it is a Tensor; otherwise a constant Tensor.

    The dtype policy, in one place:
    * a Python number takes the backend of ``like`` and its dtype when that can hold
      the number (``x * 3`` stays float32 on the GPU); an int tensor * 0.5 becomes
      a float tensor (``backend.scalar_dtype``, NumPy's rule for Python scalars);
    * a floating array next to a floating tensor is cast to the tensor's dtype: a
      stray float64 NumPy array never silently turns a float32 model into float64
      (the same rule as ``md.tensor``);
    * two Tensors of different dtypes follow NumPy's promotion (float32 with
      float64 gives float64): mixing them is a deliberate choice.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None:
        xp = backend.xp_of(like.data)
        if isinstance(x, (int, float, bool)):
            return Tensor(xp.asarray(x, dtype=backend.scalar_dtype(x, like.dtype)))
        if backend.xp_of(x) is not xp and not isinstance(x, (list, tuple)):
            raise TypeError(f"cannot mix a {backend.name_of(x)} array with a "
                            f"{backend.name_of(like.data)} tensor; move one with .to()")
        arr = xp.asarray(x)
        if arr.dtype.kind == "f" and like.dtype.kind == "f" and arr.dtype != like.dtype:
            arr = arr.astype(like.dtype)       # a stray float64 array never upcasts a float32 model
        return Tensor(arr)
    return Tensor(backend.xp().asarray(x))


# ----------------------------------------------------------------------------- Function
class Function:
    """Base class of every differentiable operation (and of learners' exercises).

    A subclass writes two methods on *backend arrays* (NumPy or CuPy):

        forward(self, *xs)  -> y  (or a tuple of outputs)
        backward(self, gy)  -> one gradient per input, same shape as that input
                               (None for an input with no gradient, e.g. ids)

    ``forward`` may save what ``backward`` needs on ``self`` (``self.y = y``).
    ``self.needs_input_grad`` (one bool per input) lets backward skip work.
    ``backward`` must not modify ``gy`` in place: the same array may already be
    another tensor's gradient.  A Function object is used once: ``Sigmoid()(x)``.
    """

    def __call__(self, *inputs):
        if self.__dict__.get("_called") or self.__dict__.get("freed"):
            # its saved arrays belong to the first call: the first output's gradient would reach these inputs
            raise RuntimeError(f"{type(self).__name__}: this Function object was already called once; a Function "
                               f"is used once -- make a new one per call: {type(self).__name__}(...)(x)")
        self._called = True
        tensors = list(inputs)
        if not all(isinstance(x, Tensor) for x in inputs):     # numbers, arrays: constants
            like = next((t for t in inputs if isinstance(t, Tensor)), None)
            tensors = [x if isinstance(x, Tensor) else _constant(self, k, x, like) for k, x in enumerate(inputs)]
        validate.same_backend(tensors, type(self).__name__)
        # Known before forward, so backward can skip gradients nobody asked for
        # (dL/dx of the input batch is a whole wasted matmul in a Dense layer).
        recording = is_grad_enabled()
        self.needs_input_grad = tuple(t.requires_grad and recording for t in tensors)
        watcher = call_watcher()           # None, unless a tracer watches (md.scan(..., replay=True))
        settings = dict(self.__dict__) if watcher is not None else None
        try:
            outs = self.forward(*[t.data for t in tensors])
        except ValueError as exc:
            raise validate.broadcast_error(exc, type(self).__name__, tensors)
        multi = isinstance(outs, tuple)
        outs = validate.forward_outputs(outs if multi else (outs,), type(self).__name__)
        needs = any(self.needs_input_grad)
        results = tuple(Tensor(o, requires_grad=needs and o.dtype.kind == "f") for o in outs)
        if needs:
            self.inputs = tensors
            self.input_versions = [t._version for t in tensors]
            self.out_meta = [(o.shape, o.dtype) for o in outs]
            for i, r in enumerate(results):
                r._ctx, r._out_index = self, i
        if watcher is not None:
            watcher(self, settings, inputs, tensors, results)
        return results if multi else results[0]

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not written yet")

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__}.backward is not written yet")

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _constant(fn, k, x, like):
    """Input ``k`` of ``fn`` given as a number, list or array: a constant Tensor of real numbers."""
    try:
        t = as_tensor(x, like)
    except (TypeError, ValueError) as exc:        # a ragged list, a device mix-up
        raise TypeError(f"{type(fn).__name__}: input {k}: {exc}") from None
    validate.numeric(t.data, f"input {k}", type(fn).__name__, given=x)
    return t


class GradShapeError(ValueError):
    """A ``backward`` returned a gradient whose shape differs from its input's."""
    def __init__(self, fn, got, want):
        super().__init__(f"{type(fn).__name__}.backward returned a gradient of shape {tuple(got)} "
                         f"for an input of shape {tuple(want)}")
        self.got, self.want = tuple(got), tuple(want)


# ----------------------------------------------------------------------------- the walk
def topological_order(root: Tensor):
    """Functions reachable from ``root``, each after every Function that consumes its output.

    Iterative post-order DFS (an explicit stack instead of recursion).
    """
    order, seen = [], set()
    stack = [(root._ctx, False)]
    while stack:
        fn, expanded = stack.pop()
        if fn is None:
            continue
        if expanded:
            order.append(fn)
            continue
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if getattr(fn, "freed", False):
            raise RuntimeError(f"backward through {type(fn).__name__} a second time: its saved values were freed "
                               "after the first backward. Pass retain_graph=True to the first "
                               "backward() if you need to call it twice.")
        stack.append((fn, True))
        for t in fn.inputs:
            if t._ctx is not None and id(t._ctx) not in seen:
                stack.append((t._ctx, False))
    order.reverse()                # consumers before producers
    return order


def run_backward(root: Tensor, grad, retain_graph: bool = False):
    """Chain rule over the graph below ``root``, starting from d(root) = ``grad``."""
    if root._ctx is None:          # backward on a leaf: its gradient is the seed itself
        _accumulate_leaf(root, grad)
        return
    # Gradients waiting for their producer, keyed by (producer, output index) rather
    # than by tensor: an intermediate may already be garbage once its consumers freed it.
    pending = {(id(root._ctx), root._out_index): grad}
    for fn in topological_order(root):
        gys = [pending.pop((id(fn), i), None) for i in range(len(fn.out_meta))]
        if all(g is None for g in gys):
            continue               # this branch does not reach the root
        _check_versions(fn)
        gxs = chain_rule(fn, gys, fn.out_meta, [t.shape for t in fn.inputs])
        for t, g in zip(fn.inputs, gxs):
            if g is None or not t.requires_grad:
                continue
            if t._ctx is None:
                _accumulate_leaf(t, g)
            else:
                key = (id(t._ctx), t._out_index)
                pending[key] = g if key not in pending else pending[key] + g
        if not retain_graph:
            _free(fn)


def chain_rule(fn: Function, gys, out_meta, in_shapes):
    """One Function's share of backward: dL/d(inputs) from dL/d(outputs), checked.

    An output nobody used gets a zero gradient; ``fn.backward`` must return one
    gradient (or None) per input, each of its input's shape.  (The walk above
    calls this for every node; a replayed scan step calls it for the ops it replays.)
    """
    if any(g is None for g in gys):
        xp = backend.xp_of(next(g for g in gys if g is not None))
        gys = [xp.zeros(s, dtype=d) if g is None else g for g, (s, d) in zip(gys, out_meta)]
    gxs = fn.backward(*gys)
    if not isinstance(gxs, tuple):
        gxs = (gxs,)
    if len(gxs) != len(in_shapes):
        raise RuntimeError(f"{type(fn).__name__}.backward returned {len(gxs)} gradients "
                           f"for {len(in_shapes)} inputs")
    for g, shape in zip(gxs, in_shapes):
        if g is not None and g.shape != shape:
            raise GradShapeError(fn, g.shape, shape)
    return gxs


def _accumulate_leaf(t: Tensor, g):
    """t.grad += g.  The first gradient is copied: ``g`` may be an array that
    another leaf also receives (``a + b`` hands the same gy to both), and an
    in-place edit of one .grad (clipping) must not reach the other."""
    if g.dtype != t.dtype:
        g = g.astype(t.dtype)
    t.grad = g.copy() if t.grad is None else t.grad + g


def _check_versions(fn: Function):
    """Refuse to differentiate through an input whose values were replaced after forward."""
    for i, (t, v) in enumerate(zip(fn.inputs, fn.input_versions)):
        if t._version != v:
            who = getattr(t, "name", None) or f"a tensor of shape {tuple(t.shape)}"
            raise RuntimeError(f"{type(fn).__name__}: its input {i} ({who}) was modified in place after the "
                               f"forward pass (version {v} -> {t._version}), so backward would mix old and new "
                               "values and give a wrong gradient. Change parameters only after backward() "
                               "(that is what optimizer.step() is for), or run the forward pass again.")


def _free(fn: Function):
    """Drop inputs and saved arrays so intermediates can be garbage-collected."""
    fn.__dict__.clear()
    fn.freed = True


def sum_to(g, shape):
    """Undo broadcasting: sum ``g`` down to ``shape`` (leading axes, then size-1 axes)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)

