"""Trax's layer contract on minidl: a layer takes ``n_in`` items off a data stack and pushes ``n_out``.

    layer.n_in, layer.n_out        how many stack items it reads and writes (Fn: from f's signature)
    layer(x)                       arrays in, arrays out; n_in > 1: one tuple x = (x0, x1, ...);
                                   n_out > 1: a tuple back
    layer.init(signature(x))       create the weights for inputs shaped like x (``Loop`` does it)
    layer.weights                  Trax's nested tuples: a combinator's is one entry per sublayer,
                                   Dense's (w, b), Embedding's the bare matrix; assignable
    print(layer)                   Serial[ Embedding_9088_256 Mean Dense_2 LogSoftmax ], one per line

Inputs and outputs are packaged as in Trax: one item bare, several as a tuple,
none as ``()``.  A float array handed to ``layer(x)`` becomes a minidl Tensor
(float32, on the active backend), integer arrays (token ids) stay arrays, and
``layer(x)`` runs without recording a graph and returns arrays.  Inside
``training.Loop`` the same ``forward`` runs with autograd on: the facade has
no engine of its own, every layer calls ``minidl.nn`` layers and ``minidl.ops``,
so a debugger steps from ``Serial.forward`` into ``nn.Dense.forward`` and the ops.

Weights are created lazily -- by ``init``, or at the first call -- and live in
minidl Parameters; ``weights`` reads them in Trax's layout (``parameters()``
lists the Parameters themselves).  A layer that appears twice (Siamese towers)
is one set of weights; the second appearance shows Trax's
``GET_WEIGHTS_FROM_CACHE`` marker in ``weights`` and adds nothing to a flat list.
"""
from __future__ import annotations

import inspect
import os
import random as _py_random

import numpy as np

from ... import backend
from ...autograd import no_grad
from .. import _checkpoint
from ..fastmath import nested_map, random, tree_flatten, tree_unflatten
from ..shapes import ShapeDtype, signature
from .stack import to_arrays, to_stack, zeros_like_signature

EMPTY_WEIGHTS = ()
EMPTY_STATE = ()
GET_WEIGHTS_FROM_CACHE = {"__marker_for_cached_weights_": ()}
GET_STATE_FROM_CACHE = {"__marker_for_cached_state_": ()}
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))      # minidl/trax


class LayerError(Exception):
    """An exception inside a layer, told with the layer's name, where it was made and its input shapes."""

    def __init__(self, layer, where, inputs, exc):
        self.layer_name, self.original = layer.name, exc
        file, line = layer._caller
        super().__init__(f"Exception passing through layer {layer.name} (in {where}):\n"
                         f"  layer created in file [...]/{'/'.join(file.split(os.sep)[-3:])}, line {line}\n"
                         f"  layer input shapes: {_describe(inputs)}\n\n  {type(exc).__name__}: {exc}")


def _describe(inputs):
    try:
        return str(signature(inputs))
    except TypeError:
        return repr(inputs)


def _creation_site():
    """(file, line) of the code that made the layer: the first frame outside minidl/trax."""
    frame = inspect.currentframe()
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_HERE):
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else ("?", 0)


class Layer:
    """Base class.  Subclasses write ``forward(self, inputs)``; layers with weights also
    ``init_weights_and_state(input_signature)`` and the two Trax-layout accessors below."""

    has_weights = False          # True: init_weights_and_state must run before forward
    _checks_packaging = True     # n_in / n_out checked around forward (combinators: by their sublayers)

    def __init__(self, n_in=1, n_out=1, name=None, sublayers_to_print=None):
        self._n_in, self._n_out = n_in, n_out
        self._name = type(self).__name__ if name is None else name
        self._sublayers = ()
        self._sublayers_to_print = sublayers_to_print
        self._rng = None
        self._rng_seed_int = _py_random.randint(0, 2 ** 31 - 1)    # as Trax: python's random seeds layers
        self._nn = None              # the minidl layer (or Parameter holder) with this layer's weights
        self._initialized = False
        self._state = EMPTY_STATE
        self._caller = _creation_site()

    def __setattr__(self, name, value):
        # Trax's typo guard: ``layer.weighs = w`` is an error, not a new attribute.
        if not name.startswith("_") and name not in ("weights", "state", "rng"):
            raise ValueError(f"Trax layers only allow setting weights, state and rng as public attributes, "
                             f"not {name!r}")
        object.__setattr__(self, name, value)

    # --- what a subclass writes
    def forward(self, inputs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def init_weights_and_state(self, input_signature):
        """Create the weights for inputs of this signature (layers with weights override it)."""

    def _leaf_weights(self):
        return EMPTY_WEIGHTS

    def _set_leaf_weights(self, weights):
        if not (weights is None or (isinstance(weights, (tuple, list)) and len(weights) == 0)):
            raise ValueError(f"{self.name} has no weights, but was given {_describe(weights)}")

    # --- Trax's properties
    name = property(lambda self: self._name)
    n_in = property(lambda self: self._n_in)
    n_out = property(lambda self: self._n_out)
    sublayers = property(lambda self: tuple(self._sublayers))

    @property
    def weights(self):
        return self._weights_tree(set())

    def _weights_tree(self, seen):
        if id(self) in seen:
            return GET_WEIGHTS_FROM_CACHE
        seen.add(id(self))
        if self._sublayers:
            return tuple(s._weights_tree(seen) for s in self._sublayers)
        return self._leaf_weights()

    @weights.setter
    def weights(self, weights):
        if isinstance(weights, dict) and weights == GET_WEIGHTS_FROM_CACHE:
            return
        if not self._sublayers:
            self._set_leaf_weights(weights)
            return
        if not isinstance(weights, (tuple, list)) or len(weights) != len(self._sublayers):
            got = len(weights) if isinstance(weights, (tuple, list)) else type(weights).__name__
            raise ValueError(f"Number of weight elements ({got}) does not equal the number of sublayers "
                             f"({len(self._sublayers)}) in: {self}")
        for layer, w in zip(self._sublayers, weights):
            layer.weights = w

    @property
    def state(self):
        if self._sublayers:
            return tuple(s.state for s in self._sublayers)
        return self._state

    @state.setter
    def state(self, state):
        if self._sublayers and isinstance(state, (tuple, list)) and len(state) == len(self._sublayers):
            for layer, s in zip(self._sublayers, state):
                layer.state = s
        elif not self._sublayers:
            self._state = state

    @property
    def rng(self):
        if self._rng is None:
            self._rng = random.get_prng(self._rng_seed_int)
        return self._rng

    @rng.setter
    def rng(self, rng):
        """Set this layer's key and, split from it, one for each sublayer (recursively)."""
        self._rng = rng
        if self._sublayers:
            for layer, key in zip(self._sublayers, random.split(rng, len(self._sublayers))):
                layer.rng = key

    def parameters(self):
        """The minidl Parameters behind this layer's weights, each once (shared layers too)."""
        seen, out = set(), []
        for layer in self._walk():
            for p in (layer._nn.parameters() if layer._nn is not None else []):
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append(p)
        return out

    def _walk(self):
        """This layer and every layer below it, each once, depth first."""
        seen, stack = set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                yield layer
                stack.extend(reversed(layer._sublayers))

    # --- running
    def __call__(self, x, weights=None, state=None, rng=None):
        """Arrays in, arrays out (no graph is recorded)."""
        if weights is not None and not isinstance(weights, (tuple, list)) and self.n_in > 1:
            raise TypeError(f"{self.name} takes {self.n_in} inputs as ONE tuple: layer((x0, x1, ...)); the "
                            "second argument of a layer call is its weights")
        if rng is not None:
            self.rng = rng
        if state is not None:
            self.state = state
        saved = self.weights if weights is not None and not _is_uninitialized(self) else None
        if weights is not None:
            self.weights = weights
        try:
            with no_grad():
                return to_arrays(self._apply(to_stack(x)))
        finally:
            if saved is not None:
                self.weights = saved

    def _apply(self, inputs):
        """Run on stack items (Tensors or arrays): initialise first if needed, check what comes back."""
        try:
            if self.has_weights and not self._initialized:
                self.init_weights_and_state(signature(inputs))
                self._initialized = True
            if self._checks_packaging and self._n_in != 1:
                _check_inputs(self, inputs)
            outputs = self.forward(inputs)
            if self._checks_packaging:
                _check_outputs(self, outputs)
            return outputs
        except LayerError:
            raise
        except Exception as exc:
            raise LayerError(self, "forward", inputs, exc) from exc

    def init(self, input_signature, rng=None, use_cache=False):
        """(Re)create every weight for inputs of ``input_signature``; returns (weights, state).

        A forward pass on zeros of that signature runs with no graph, and each layer
        with weights creates them from the shape it sees (from its key: ``rng``)."""
        if rng is not None:
            self.rng = rng
        for layer in self._walk():
            layer._initialized = False
        self._dry_run(input_signature)
        return self.weights, self.state

    def _dry_run(self, input_signature):
        with no_grad(), np.errstate(all="ignore"):     # zeros may divide by zero (a norm): no warning
            return self._apply(to_stack(zeros_like_signature(input_signature)))

    def output_signature(self, input_signature):
        return signature(to_arrays(self._dry_run(input_signature)))

    def weights_and_state_signature(self, input_signature):
        """(signature of the weights, of the state) for inputs of this signature; nothing changes."""
        fresh = [layer for layer in self._walk() if layer.has_weights and not layer._initialized]
        self._dry_run(input_signature)
        sigs = nested_map(_leaf_signature, self.weights), nested_map(_leaf_signature, self.state)
        for layer in fresh:
            layer._nn, layer._initialized = None, False
        return sigs

    # --- files
    def save_to_file(self, file_name, weights_only=False, input_signature=None):
        """Write the flat weights (and the input signature) to ``file_name`` in minidl's pickle-free format."""
        flat, _ = flatten_weights_and_state(self.weights, self.state)
        _checkpoint.write(file_name, flat, input_signature=input_signature)

    def init_from_file(self, file_name, weights_only=False, input_signature=None):
        """Set the weights from a checkpoint: minidl's (``Loop`` writes ``model.pkl.gz``) or Trax's own
        pickled one, read through an allow-list that accepts arrays and containers only."""
        ckpt = _checkpoint.read(file_name)
        sig = input_signature if input_signature is not None else ckpt["input_signature"]
        if _is_uninitialized(self):
            if sig is None:
                raise _checkpoint.CheckpointError(f"{file_name} holds no input signature and {self.name} has "
                                                  "no weights yet: pass input_signature= or init the model first")
            self.init(sig)
        self.weights = unflatten_into(self.weights, ckpt["flat_weights"], file_name, self.name)
        return self.weights, self.state

    # --- printing
    def __repr__(self):
        name = self._name + (f"_in{self.n_in}" if self.n_in != 1 else "") + (f"_out{self.n_out}" if self.n_out != 1 else "")
        subs = self._sublayers if self._sublayers_to_print is None else self._sublayers_to_print
        lines = [s for s in (str(x) for x in subs) if s]
        if not lines:
            return name
        return name + "[\n" + "\n".join("  " + s.replace("\n", "\n  ") for s in lines) + "\n]"


def _is_uninitialized(layer):
    """True when no layer below ``layer`` has weights yet (while some need them)."""
    weighted = [x for x in layer._walk() if x.has_weights]
    return bool(weighted) and not any(x._initialized for x in weighted)


def _leaf_signature(x):
    return ShapeDtype(tuple(x.shape), x.dtype) if hasattr(x, "shape") else x


def _check_inputs(layer, inputs):
    if not isinstance(inputs, (tuple, list)) or len(inputs) != layer.n_in:
        got = len(inputs) if isinstance(inputs, (tuple, list)) else "one item"
        raise ValueError(f"{layer.name} takes n_in={layer.n_in} inputs (a tuple of {layer.n_in}), got {got}")


def _check_outputs(layer, outputs):
    n = layer.n_out
    many = isinstance(outputs, (tuple, list))
    if (n == 1 and many) or (n != 1 and (not many or len(outputs) != n)):
        got = f"{len(outputs)} outputs" if many else "one output"
        raise ValueError(f"{layer.name} returned {got} but its n_out is {n} (for a function with several "
                         "outputs, say so: Fn(name, f, n_out=k))")


class PureLayer(Layer):
    """A layer without weights: ``forward_fn(inputs)`` packaged as a layer."""

    def __init__(self, forward_fn, n_in=1, n_out=1, name="PureLayer"):
        super().__init__(n_in, n_out, name)
        self._forward_fn = forward_fn

    def forward(self, inputs):
        out = self._forward_fn(inputs)
        return () if isinstance(out, (tuple, list)) and len(out) == 0 else out


def Fn(name, f, n_out=1):
    """A weightless layer applying ``f``; n_in = the number of f's positional arguments (Trax's rule).

        Fn('Normalize', lambda x: x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True)))
        Fn('SumAndMax', lambda x0, x1: (x0 + x1, np.maximum(x0, x1)), n_out=2)
    """
    try:
        spec = inspect.getfullargspec(f)
    except TypeError as exc:
        raise ValueError(f"Fn({name!r}): cannot read the arguments of {f!r} ({exc}); wrap it in a lambda") from None
    if spec.defaults is not None:
        raise ValueError(f"Fn({name!r}): the function has default arguments (not allowed: n_in comes from the "
                         "positional arguments; bind settings with functools.partial)")
    if spec.varkw is not None or spec.varargs is not None:
        raise ValueError(f"Fn({name!r}): the function takes *args or **kwargs (not allowed: n_in must be fixed)")

    def forward(xs):
        return f(*(xs if isinstance(xs, (tuple, list)) else (xs,)))
    return PureLayer(forward, n_in=len(spec.args), n_out=n_out, name=name or "Fn")


# ----------------------------------------------------------------------------- flat weights
def flatten_weights_and_state(weights, state):
    """(flat list of weight arrays, flat list of state arrays): empty entries and cache markers vanish."""
    return tree_flatten(weights), tree_flatten(state)


def unflatten_weights_and_state(flat_weights, flat_state, weights_and_state_signature, weights_only=False):
    weights_tree, state_tree = weights_and_state_signature
    weights, _ = tree_unflatten(list(flat_weights), weights_tree, copy_from_tree=[EMPTY_WEIGHTS, GET_WEIGHTS_FROM_CACHE])
    state = None
    if not weights_only:
        state, _ = tree_unflatten(list(flat_state), state_tree, copy_from_tree=[EMPTY_STATE, GET_STATE_FROM_CACHE])
    return weights, state


def unflatten_into(weights, flat, source, model_name):
    """``flat`` arrays in the nesting of ``weights``, after checking their number and shapes."""
    leaves = tree_flatten(weights)
    if len(flat) != len(leaves):
        raise _checkpoint.CheckpointError(
            f"{source} holds {len(flat)} weight arrays but {model_name} has {len(leaves)}: "
            f"{[tuple(a.shape) for a in flat]} vs {[tuple(w.shape) for w in leaves]}")
    for i, (a, w) in enumerate(zip(flat, leaves)):
        if tuple(a.shape) != tuple(w.shape):
            raise _checkpoint.CheckpointError(f"{source}: weight {i} has shape {tuple(a.shape)} there but "
                                              f"{tuple(w.shape)} in {model_name}")
    new, _ = tree_unflatten(list(flat), weights, copy_from_tree=[EMPTY_WEIGHTS, GET_WEIGHTS_FROM_CACHE])
    return new


def to_list(outputs):
    """Layer outputs as nested Python lists (for equality tests)."""
    if isinstance(outputs, (list, tuple)):
        return [to_list(y) for y in outputs]
    return backend.asnumpy(outputs).tolist()
