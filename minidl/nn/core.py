"""Small parameter-free layers: Mean (with a padding mask), PaddingMask, Dropout, Flatten, Fn.

Mean(axis=1)      y = (1/T) sum_t x[:, t]               x: (B, T, d) -> y: (B, d)
  with a mask     y = sum_t m_t x[:, t] / sum_t m_t     m: (B, T), 1 = real token, 0 = padding

    Without a mask, padding *dilutes* the average: a 3-word tweet padded to 20
    positions averages 3 word vectors with 17 copies of the padding vector.
    With a mask only real tokens count.  A row of pure padding gives 0 (its
    weights are 0 / max(0, 1)), never 0/0 = NaN; averaging an axis of length 0
    (an empty corpus) is an error, since there is nothing to average.

    Two ways to give the mask:
      * by hand:            Mean(axis=1)(x, mask)
      * inside a Serial:    Serial(Branch(Embedding(V, d), PaddingMask()),   # -> (x, mask)
                                   Mean(axis=1), Dense(2), LogSoftmax())
      Serial hands a tuple on as separate arguments, so Mean receives (x, mask).

PaddingMask(pad_id=0)   m = (ids != pad_id)         ids: any int shape -> m: same shape, bool

Dropout(rate)     training: y = x * keep / (1 - rate), keep ~ Bernoulli(1 - rate)  (inverted dropout)
                  eval:     y = x                    any shape -> same shape
    Scaling at training time keeps E[y] = x, so evaluation needs no rescaling.
    ``model.eval()`` switches it off everywhere below ``model``.

Flatten           x: (B, d1, d2, ...) -> y: (B, d1 * d2 * ...)   (keeps the batch axis)

Fn(name, f)       any function of Tensors as a layer (Trax's ``tl.Fn``), e.g.
                  ``Fn("Normalize", lambda x: x / (x * x).sum(-1, keepdims=True).sqrt())``
"""
from __future__ import annotations

from .. import backend, ops, validate
from ..autograd import Tensor, array_of
from ..ops.reductions import normalize_axes
from .layer import Layer


class Mean(Layer):
    def __init__(self, axis: int = 1, keepdims: bool = False):
        super().__init__()
        self.axis = validate.axis_index(axis, "axis", "Mean")
        self.keepdims = validate.flag(keepdims, "keepdims", "Mean")

    def forward(self, x, mask=None):
        if mask is None:
            return ops.mean(x, self.axis, self.keepdims)
        xp = backend.xp_of(x.data)
        m = validate.mask(xp.asarray(array_of(mask)), self.name)      # 0/1 or bool: a state is not a mask
        (axis,) = normalize_axes(self.axis, x.ndim, self.name)
        if m.shape != x.shape[:m.ndim] or axis >= m.ndim:
            raise ValueError(f"{self.name}: mask of shape {tuple(m.shape)} does not fit input of shape "
                             f"{tuple(x.shape)} (the mask must cover the leading axes of the input, "
                             f"including the averaged axis {self.axis}, e.g. (B, T) for (B, T, d))")
        # The weights m_t / sum_t m_t are constants (no gradient flows into the mask),
        # so the masked mean is a weighted sum: two ops whose gradients are already checked.
        m = m.astype(x.dtype)
        w = m / xp.maximum(m.sum(axis=axis, keepdims=True), 1)
        w = w.reshape(w.shape + (1,) * (x.ndim - w.ndim))     # broadcast over the feature axes
        return ops.sum(ops.mul(x, Tensor(w)), axis, self.keepdims)


class PaddingMask(Layer):
    def __init__(self, pad_id: int = 0):
        super().__init__()
        self.pad_id = validate.non_negative_int(pad_id, "pad_id", "PaddingMask")

    def forward(self, ids):
        data = array_of(ids)
        if not hasattr(data, "dtype"):
            data = backend.xp().asarray(data)
        return Tensor(backend.xp_of(data).asarray(data != self.pad_id))


class Dropout(Layer):
    def __init__(self, rate: float):
        super().__init__()
        self.rate = validate.number(rate, "rate", "Dropout", lo=0, hi=1, hi_open=True)

    @property
    def name(self):
        return f"Dropout_{self.rate:g}"

    def forward(self, x):
        return ops.dropout(x, self.rate, self.training)


class Flatten(Layer):
    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"{self.name}: needs a batch axis and at least one more, got shape "
                             f"{tuple(x.shape)}")
        return ops.reshape(x, (x.shape[0], -1))


class Fn(Layer):
    """Wrap a plain function ``f(*xs)`` as a parameter-free layer called ``name``."""
    def __init__(self, name: str, f):
        super().__init__()
        self._name, self.f = str(name), validate.function(f, "f", "Fn")

    @property
    def name(self):
        return self._name

    def __call__(self, *xs, **kwargs):      # any function of anything: no input check here
        return self.forward(*xs, **kwargs)

    def forward(self, *xs):
        return self.f(*xs)
