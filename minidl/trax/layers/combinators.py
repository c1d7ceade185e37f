"""Trax's combinators: layers built from layers, all threading one data stack.

    Serial(f, g, h)        each layer takes its n_in items off the stack and pushes its n_out;
                           nested lists of layers are flattened: Serial(a, [b, [c]]) = Serial(a, b, c)
    Parallel(f, g)         f gets the first f.n_in items, g the next g.n_in; outputs side by side
    Branch(f, g)           f and g each get copies of the top items: Select(...) then Parallel
    Residual(f, ...)       Serial(Branch(shortcut, Serial(f, ...)), Add()):  F(x) + x
    Select([1, 0], n_in=2) copy, reorder or drop the top items: [a, b] -> [b, a]
    Dup()  Drop()  Swap()  Add()  SubtractTop()  Multiply()  Concatenate(n_items=2, axis=-1)  Split(n)

The Trax rule that differs from ``minidl.nn``: a layer reads only what it
needs, and leaves the rest of the stack untouched.  So

    Serial(Branch(Embedding(10, 4), Fn('Mask', lambda x: x != 0)), Mean(axis=1))

averages the embeddings WITHOUT the mask (Mean has n_in = 1) and leaves the
mask on the stack below the mean: two outputs.  (``nn.Serial`` would hand both
to Mean, which averages over the unmasked positions.)

Counting items (Serial): with the layers' (n_in, n_out) in order, the stack
must hold at the deepest point  n_in = max over prefixes of (sum n_in - sum n_out
of the layers before); n_out = n_in - sum n_in + sum n_out.  None (or []) is a
layer that passes one item through.
"""
from __future__ import annotations

from .. import fastmath
from .base import Fn, Layer, PureLayer
from .stack import inputs_from_stack, outputs_onto_stack


def _deep_flatten(items):
    for x in items:
        if isinstance(x, (list, tuple)):
            yield from _deep_flatten(x)
        else:
            yield x


def _ensure_flat(layers):
    """Layers from Serial's arguments: nested lists flattened, a lone None is no layer at all."""
    if len(layers) == 1 and layers[0] is None:
        return []
    layers = list(_deep_flatten(layers))
    for i, obj in enumerate(layers):
        if not isinstance(obj, Layer):
            hint = " (a layer maker such as tl.Relu must be called: tl.Relu())" if callable(obj) else ""
            raise ValueError(f"Found nonlayer object ({obj!r}) at position {i} of the layers{hint}")
    return layers


class Serial(Layer):
    """Layers applied in order, threading the data stack (see the module docstring)."""
    _checks_packaging = False

    def __init__(self, *sublayers, name=None, sublayers_to_print=None):
        super().__init__(name=name, sublayers_to_print=sublayers_to_print)
        layers = _ensure_flat(sublayers)
        self._sublayers = tuple(layers)
        if layers:
            self._n_in, self._n_out = _n_inputs_n_outputs(layers)

    def forward(self, xs):
        if not self._sublayers:
            return xs                                   # the no-op: everything passes through
        have = len(xs) if isinstance(xs, (tuple, list)) else 1
        if have < self.n_in:
            raise ValueError(f"Number of inputs ({have}) to Serial.forward less than n_in ({self.n_in})")
        stack = xs
        for layer in self._sublayers:
            outputs = layer._apply(inputs_from_stack(stack, layer.n_in))
            stack = outputs_onto_stack(outputs, stack, layer.n_in)
        return stack


def _n_inputs_n_outputs(layers):
    """(n_in, n_out) of a Serial: the deepest the stack must be, and what is left on it."""
    deepest = total = 0
    for layer in layers:
        total += layer.n_in
        deepest = max(deepest, total)
        total -= layer.n_out
    return deepest, deepest - total


class Parallel(Layer):
    """Layer i applied to its own span of n_in_i items; the outputs side by side."""
    _checks_packaging = False

    def __init__(self, *sublayers, name=None):
        super().__init__(name=name)
        if len(sublayers) < 2:
            raise ValueError(f"Parallel needs at least two layers, got {len(sublayers)}")
        layers = []
        for obj in sublayers:
            if obj is None or obj == []:
                obj = Serial(None)
            elif isinstance(obj, (list, tuple)):
                obj = Serial(obj)
            elif not isinstance(obj, Layer):
                raise ValueError(f"Found nonlayer object ({obj!r}) in the layers of Parallel")
            if obj.n_in == 0:
                raise ValueError(f"Sublayer with n_in = 0 not allowed in Parallel: {obj}")
            layers.append(obj)
        self._sublayers = tuple(layers)
        self._n_in = sum(x.n_in for x in layers)
        self._n_out = sum(x.n_out for x in layers)

    def forward(self, inputs):
        items = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
        if len(items) < self.n_in:
            raise ValueError(f"{self.name} takes {self.n_in} inputs, got {len(items)}")
        outputs, start = [], 0
        for layer in self._sublayers:
            span = items[start:start + layer.n_in]
            start += layer.n_in
            out = layer._apply(span[0] if layer.n_in == 1 else span)
            outputs.extend(out if layer.n_out != 1 else [out])
        return outputs[0] if self.n_out == 1 else tuple(outputs)


def Branch(*layers, name="Branch"):
    """Each layer gets copies of as many top items as it needs; their outputs side by side.

    Branch(F, G, H) with n_in 1, 3, 2 takes 3 items a, b, c and gives F(a), G(a, b, c), H(a, b).
    (Trax builds it so: Select the copies, then Parallel.)"""
    if len(layers) == 1:
        return layers[0]
    parallel = Parallel(*layers)
    indices = [list(range(layer.n_in)) for layer in parallel.sublayers]
    return Serial(Select(list(_deep_flatten(indices))), parallel, name=name, sublayers_to_print=layers)


def Residual(*layers, shortcut=None):
    """F(x) + x, with F = Serial(*layers); ``shortcut``: a layer applied to x instead of the identity."""
    flat = _ensure_flat(layers)
    body = flat[0] if len(flat) == 1 else Serial(flat)
    return Serial(Branch(shortcut, body), Add())


def Select(indices, n_in=None, name=None):
    """Pop n_in items (default max(indices) + 1) and push the items at ``indices`` (0 = the top)."""
    indices = list(indices)
    n_in = max(indices) + 1 if n_in is None else n_in
    name = f"Select{indices}".replace(" ", "") if name is None else name

    def select(xs):
        xs = xs if isinstance(xs, (tuple, list)) else (xs,)
        picked = tuple(xs[i] for i in indices)
        return picked[0] if len(picked) == 1 else picked
    return PureLayer(select, n_in=n_in, n_out=len(indices), name=name)


def Dup():
    """Copy the top item: x -> x, x."""
    return Fn("Dup", lambda x: (x, x), n_out=2)


def Drop():
    """Throw away the top item."""
    return Fn("Drop", lambda x: (), n_out=0)


def Swap():
    """Swap the top two items."""
    return Fn("Swap", lambda x0, x1: (x1, x0), n_out=2)


def Add():
    return Fn("Add", lambda x0, x1: x0 + x1)


def SubtractTop():
    """x1 - x0 (the second item minus the top one)."""
    return Fn("SubtractTop", lambda x0, x1: x1 - x0)


def Multiply():
    return Fn("Multiply", lambda x0, x1: x0 * x1)


class Concatenate(Layer):
    """n_items items joined along ``axis`` (ops.concat on Tensors)."""

    def __init__(self, n_items=2, axis=-1):
        super().__init__(n_in=n_items, name="Concatenate" if axis == -1 else f"Concatenate_axis{axis}")
        self._axis = axis

    def forward(self, xs):
        return fastmath.numpy.concatenate(list(xs), self._axis)


class Split(Layer):
    """One item cut into n_items equal parts along ``axis`` (ops.split on a Tensor)."""

    def __init__(self, n_items=2, axis=-1):
        super().__init__(n_out=n_items)
        self._n_items, self._axis = n_items, axis

    def forward(self, x):
        return tuple(fastmath.numpy.split(x, self._n_items, self._axis))

