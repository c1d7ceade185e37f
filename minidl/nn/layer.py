"""The ``Layer`` base class: parameters, sublayers, train/eval, moving devices.

A layer is a function with state.  Assigning a ``Parameter`` or another
``Layer`` to an attribute registers it (``self.W = Parameter(...)``), so

    model.parameters()          every Parameter below this layer, in order;
    model.named_parameters()    ("0.W", W), ("0.b", b), ... stable dotted names;
    model.named_buffers()       state that is not learned by gradient but belongs to
                                the model (BatchNorm's running statistics): saved by
                                md.save, moved by .to(), never seen by an optimizer;
    model.train() / .eval()     switch Dropout and friends everywhere below;
    model.to("cupy")            move every parameter to another backend;
    print(model)                a Trax-style tree: Serial[ Embedding_1000_32, Mean, Dense_2 ].

Layers may create their parameters lazily, at the first call, once the input
shape is known (``Dense(32)`` needs no ``n_in``), as in Trax and Keras.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor, tensor


class Parameter(Tensor):
    """A leaf Tensor that a Layer owns and an optimizer updates (requires grad unless
    frozen, e.g. ``Embedding(..., trainable=False)``)."""

    def __init__(self, data):
        super().__init__(data, requires_grad=True)
        self.name = None           # "Dense.W", set when a Layer takes it (for error messages)


def parameter(np_array) -> Parameter:
    """Wrap a NumPy array (e.g. from ``nn.init``) as a Parameter on the active backend,
    in the default float dtype."""
    return Parameter(tensor(np_array).data)


_RESERVED = ("_params", "_layers", "_buffers")     # what Layer.__init__ sets up: the registries


def _check_attribute_name(layer, name, value):
    """Refuse a name that would break the layer instead of naming a part of it."""
    cls = type(layer).__name__
    if name in _RESERVED or (name.startswith("__") and name.endswith("__")):
        # overwriting the registries (or __dict__) would lose every parameter
        raise AttributeError(f"{cls}: {name!r} is the layer's own bookkeeping; give the parameter "
                             "or sublayer another name")
    on_class = getattr(type(layer), name, None)
    if isinstance(value, (Parameter, Layer)) and (callable(on_class) or isinstance(on_class, property)):
        raise AttributeError(f"{cls}: {name!r} is a method of the layer; a parameter or sublayer "
                             "by that name would hide it")


def _checked_input(x, who):
    """What a layer can be called on: a Tensor, an array of real numbers (a nested list of numbers
    becomes one), or a tuple/list of those (a data stack); anything else is refused here, by name,
    not three calls down as "'NoneType' object has no attribute 'ndim'"."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)) and x and all(isinstance(e, (Tensor, tuple)) or hasattr(e, "dtype")
                                                  for e in x):
        return type(x)(_checked_input(e, who) for e in x)
    data = x
    if isinstance(x, list):
        try:
            data = backend.xp().asarray(x)
        except ValueError:                      # ragged
            data = None
    if getattr(getattr(data, "dtype", None), "kind", None) not in ("b", "i", "u", "f"):
        shown = repr(x) if len(repr(x)) < 60 else repr(x)[:57] + "..."
        raise TypeError(f"{who}: the input must be a Tensor, an array of real numbers or a tuple of them, "
                        f"got {type(x).__name__} {shown}")
    return tensor(data)        # an array: a constant Tensor, under md.tensor's backend and dtype policy


class Layer:
    """Base class.  Subclasses write ``forward(self, x, ...)`` and set attributes."""

    def __init__(self):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_layers", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "training", True)

    # --- registration happens on assignment
    def __setattr__(self, name, value):
        if "_params" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before assigning attributes")
        _check_attribute_name(self, name, value)
        if name in self._buffers:                 # a new value for a registered buffer
            self._buffers[name] = value
        elif isinstance(value, Parameter):
            self._params[name] = value
            value.name = value.name or f"{type(self).__name__}.{name}"
        elif isinstance(value, Layer):
            self._layers[name] = value
        else:                       # rebinding e.g. ``self.W = None`` unregisters the old value
            self._params.pop(name, None)
            self._layers.pop(name, None)
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array):
        """Keep ``array`` (a backend array) as the layer's state ``name``: an attribute like
        any other, listed by ``named_buffers()``, saved with the model and moved by ``.to()``."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def named_buffers(self, prefix: str = ""):
        """Yield (dotted name, array) for every buffer below this layer, depth first."""
        seen = set()
        for name, layer in [("", self)] + [(n + ".", s) for n, s in self._named_sublayers("")]:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            for b, array in layer._buffers.items():
                yield prefix + name + b, array

    def _named_sublayers(self, prefix):
        for name, layer in self._layers.items():
            yield prefix + name, layer
            yield from layer._named_sublayers(prefix + name + ".")

    def add_layer(self, name: str, layer: "Layer"):
        """Register a sublayer under ``name`` (used by combinators: "0", "1", ...)."""
        self._layers[name] = layer

    # --- calling
    def __call__(self, *args, **kwargs):
        if args:
            args = (_checked_input(args[0], self.name),) + args[1:]
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    # --- walking the tree
    def named_parameters(self, prefix: str = ""):
        """Yield (dotted name, Parameter) for this layer and every sublayer, depth first.

        A Parameter reachable twice (Siamese towers: ``Parallel(tower, tower)``) is
        yielded once, under its first name, so an optimizer never updates it twice
        and a checkpoint stores it once.
        """
        seen = set()
        for name, p in self._walk_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _walk_parameters(self, prefix):
        for name, p in self._params.items():
            yield prefix + name, p
        for name, layer in self._layers.items():
            yield from layer._walk_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def sublayers(self):
        return list(self._layers.values())

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True):
        object.__setattr__(self, "training", mode)
        for layer in self._layers.values():
            layer.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def predict(self, x, batch_size: int = 256):
        """The outputs for every example of ``x``, as Keras's ``model.predict``: eval mode (Dropout off,
        BatchNorm's running statistics), no graph (``no_grad``), ``batch_size`` examples at a time.

        x: an array or Tensor (N, ...), or a tuple of them for a model of several inputs
        (``model(q1, q2)``).  Returns a Tensor (a tuple for a model with several outputs), N first,
        on the model's backend (``.numpy()`` for a NumPy array).  Every layer gets back the
        train/eval mode it had.
        """
        from ..autograd import no_grad
        from ..ops import concat
        from ..validate import positive_int
        positive_int(batch_size, "batch_size", f"{self.name}.predict")
        xs = tuple(t if isinstance(t, Tensor) else tensor(t) for t in (x if isinstance(x, tuple) else (x,)))
        sizes = {len(t) if t.ndim else None for t in xs}
        if len(sizes) != 1 or None in sizes or 0 in sizes:
            raise ValueError(f"{self.name}.predict: every input needs the same number N >= 1 of examples on "
                             f"axis 0, got shapes {[tuple(t.shape) for t in xs]}")
        (n,) = sizes
        modes = [(layer, layer.training) for layer in [self] + [s for _, s in self._named_sublayers("")]]
        self.eval()
        try:
            with no_grad():
                outs = [self(*[t[s:s + batch_size] for t in xs]) for s in range(0, n, batch_size)]
        finally:
            for layer, mode in modes:
                object.__setattr__(layer, "training", mode)
        if isinstance(outs[0], tuple):
            return tuple(concat([o[k] for o in outs], axis=0) if len(outs) > 1 else outs[0][k]
                         for k in range(len(outs[0])))
        return concat(outs, axis=0) if len(outs) > 1 else outs[0]

    def to(self, name: str):
        """Move every parameter and buffer to backend ``name`` in place (gradients are dropped)."""
        for p in self.parameters():
            p.data, p.grad = backend.to_backend(p.data, name), None
        for layer in [self] + [s for _, s in self._named_sublayers("")]:
            for b, array in list(layer._buffers.items()):
                setattr(layer, b, backend.to_backend(array, name))
        return self

    # --- describing
    @property
    def name(self) -> str:
        """The Trax-style short name, e.g. ``Dense_32``; subclasses add their sizes."""
        return type(self).__name__

    def n_params(self) -> int:
        return sum(p.size for p in self.parameters())

    def __repr__(self):
        subs = list(self._layers.values())
        if not subs:
            return self.name
        inner = "\n".join("  " + line for s in subs for line in repr(s).splitlines())
        return f"{self.name}[\n{inner}\n]"

    def summary(self) -> str:
        """A table of every layer (Trax name with its sizes), its parameter shapes and counts.

        A layer that appears twice (shared weights) is listed again as "shared"
        and counted once, so the total equals ``n_params()``.
        """
        rows = [("layer", "parameters", "count")]
        self._summary_rows(rows, "", "", set())
        rows.append(("total", "", f"{self.n_params():,}"))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines = [f"{a:<{w0}}  {b:<{w1}}  {c:>10}" for a, b, c in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        return "\n".join(lines)

    def _summary_rows(self, rows, indent, prefix, seen):
        if id(self) in seen:
            rows.append((indent + self.name, "(shared: counted above)", ""))
            return
        seen.add(id(self))
        # full dotted names (``0.W``), the same ones named_parameters and md.save use
        own = ", ".join(f"{prefix}{n}{tuple(p.shape)}" for n, p in self._params.items())
        if not self._params and getattr(self, "built", True) is False:
            own = "(built at first call)"
        count = sum(p.size for p in self._params.values())
        rows.append((indent + self.name, own, f"{count:,}" if self._params else ""))
        for name, layer in self._layers.items():
            layer._summary_rows(rows, indent + "  ", prefix + name + ".", seen)
