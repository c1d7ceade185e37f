"""Combinators: build a model out of layers, the Trax way.

Serial(f, g, h)       y = h(g(f(x)))                 layers in order
Branch(f, g)          (f(x), g(x))                   the same input to every layer
Parallel(f, g)        (f(x1), g(x2))                 one input per layer
Residual(f, g)        g(f(x)) + x                    a skip connection around the layers

The one rule about tuples: a layer that returns a tuple hands it on to the
next layer of a Serial as *separate arguments*.  So

    Serial(Branch(Embedding(V, d), PaddingMask()), Mean(axis=1), ...)

calls ``Mean.forward(x, mask)``, and a Siamese model is

    tower = Serial(Embedding(V, d), LSTM(d), Mean(axis=1))
    model = Parallel(tower, tower)          # the SAME object twice: shared weights
    v1, v2 = model(q1, q2)                  # or model((q1, q2))

Both towers use one set of parameters, so backward adds the gradients from
both branches into them (autograd accumulates over every use of a value), and
``model.parameters()`` lists each parameter once.

Sublayers are registered under "0", "1", ..., so parameter names read
``0.W``, ``2.b``: the position of the layer, then the parameter.
"""
from __future__ import annotations

from .layer import Layer


class _Combinator(Layer):
    def __init__(self, *layers: Layer):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"{type(self).__name__}: argument {i} is a {type(layer).__name__}, "
                                f"not a Layer (did you pass the class, e.g. ReLU instead of ReLU()?)")
            self.add_layer(str(i), layer)
        self.layers = list(layers)

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]


class Serial(_Combinator):
    """Layers applied one after the other; a tuple result is spread over the next layer's arguments."""
    def forward(self, *xs):
        x = xs if len(xs) > 1 else xs[0]
        for layer in self.layers:
            x = layer(*x) if type(x) is tuple else layer(x)
        return x


class Branch(_Combinator):
    """Every layer gets the same input(s); returns the tuple of their outputs."""
    def forward(self, *xs):
        return tuple(layer(*xs) for layer in self.layers)


class Parallel(_Combinator):
    """Layer i gets input i; takes n inputs (or one n-tuple), returns an n-tuple."""
    def forward(self, *xs):
        if len(xs) == 1 and type(xs[0]) is tuple:
            xs = xs[0]
        if len(xs) != len(self.layers):
            raise ValueError(f"{self.name}: got {len(xs)} inputs for {len(self.layers)} layers "
                             "(Parallel gives one input to each layer)")
        return tuple(layer(x) for layer, x in zip(self.layers, xs))


class Residual(_Combinator):
    """A skip connection around a stack of layers (He et al. 2016; Trax ``tl.Residual``):

        y = F(x) + shortcut(x)          F = Serial(*layers), shortcut = identity by default

    x (B, ..., n) -> y of the same shape (F must keep the shape, or the shortcut
    must map x to F's output shape, e.g. a Dense).

    Why it helps a deep stack: the gradient reaching x is
        dL/dx = dL/dy · (dF/dx + I)
    so even when dF/dx is tiny (saturated tanh units, many layers), the identity
    term carries dL/dy down to the first layer unshrunk.

    Extra arguments (e.g. a padding mask) go to the layers only; the shortcut
    adds the first argument:  Residual(nn.LSTM(n))(x, mask) = LSTM(x, mask) + x.
    Sublayers are registered "0", "1", ... (and "shortcut"), so names read ``0.cell.W``.
    """

    def __init__(self, *layers: Layer, shortcut: Layer | None = None):
        if not layers:
            raise ValueError("Residual needs at least one layer (the branch F in F(x) + x)")
        if shortcut is not None and not isinstance(shortcut, Layer):
            raise TypeError(f"Residual: shortcut is a {type(shortcut).__name__}, not a Layer")
        super().__init__(*layers)
        self.shortcut = shortcut                     # a Layer here registers itself as "shortcut"

    def forward(self, x, *rest):
        y = x if not rest else (x,) + rest
        for layer in self.layers:                    # F: the same spreading rule as Serial
            y = layer(*y) if type(y) is tuple else layer(y)
        skip = x if self.shortcut is None else self.shortcut(x)
        if type(y) is tuple or tuple(y.shape) != tuple(skip.shape):
            got = "a tuple" if type(y) is tuple else f"shape {tuple(y.shape)}"
            raise ValueError(f"{self.name}: the layers return {got} but the shortcut carries shape "
                             f"{tuple(skip.shape)}; F(x) + x needs equal shapes (pass "
                             "shortcut=Dense(n) to project x)")
        return y + skip
