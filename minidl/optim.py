"""Optimizers: SGD (with momentum), Adam, AdamW, a one-cycle schedule, and gradient clipping.

Each step reads ``p.grad`` (filled by ``loss.backward()``) and changes ``p.data``
in place, outside any graph.  For every parameter p with gradient g:

SGD        g <- g + wd * p                        (weight decay = L2 penalty wd/2 |p|^2)
           v <- mu * v + g                        (momentum; v starts at 0; mu = 0: plain SGD)
           p <- p - lr * v
    This is the Sutskever / PyTorch form.  The slides' form v <- b v + (1 - b) g
    is the same method with the learning rate rescaled by 1 / (1 - b).

Adam       g <- g + wd * p                        (L2 weight decay, as torch.optim.Adam)
           m <- b1 m + (1 - b1) g                 first moment  (mean of g)
           v <- b2 v + (1 - b2) g^2               second moment (mean of g^2)
           m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)    (t = this parameter's step count)
           p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    The bias corrections undo the zero start of m and v: without them the first
    steps would be ~10x (m) and ~30x (v) too small.

AdamW      p <- p (1 - lr wd), then the Adam step on g   (decoupled weight decay;
           see "weight decay, two ways" below)

OneCycle   lr: max_lr/div -> max_lr -> max_lr/div_final along half cosines,
           momentum (Adam's b1) the opposite way; ``one_cycle(t, ...)`` gives step t.

clip_grad_norm(params, max_norm)
           n = sqrt( sum over all parameters of sum(g^2) )   (the global L2 norm)
           if n > max_norm:  g <- g * max_norm / n           (direction kept, length capped)
    The remedy for exploding gradients in RNNs; returns n before clipping.

Parameters.  Give either a list of Parameters or a Layer.  With a Layer the
optimizer asks it for ``parameters()`` at every step, so a lazily built layer
(``Dense(32)`` creates W at its first call) works even when the optimizer is
made before the first forward pass.  Parameters whose grad is None are skipped.

State (v, m, ...) lives next to each parameter, created with the parameter's
own array module, so on the GPU nothing crosses to the host.

A compact gradient.  ``nn.Embedding(V, d, sparse_grad=True)`` (a speed switch)
leaves a row-sparse ``W.grad`` that knows its own update, with the numbers of
the dense one (minidl/fast/sparse_embedding.py); ``step`` hands it over in one line.
"""
from __future__ import annotations

import math

import numpy as np

from . import backend, validate
from .autograd import Tensor, no_grad


def _is_layer(obj):
    return hasattr(obj, "named_parameters") and hasattr(obj, "parameters")


class Optimizer:
    """Base class: holds the parameters (or the layer that owns them) and per-parameter state."""

    def __init__(self, params, lr: float):
        self.lr = validate.positive_number(lr, "lr (the learning rate)", type(self).__name__)
        self.state = {}               # Parameter -> dict of arrays (hashed by identity)
        if _is_layer(params):
            self._layer, self._params = params, None
        else:
            self._layer = None
            if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
                raise TypeError(f"{type(self).__name__}: params must be a Layer or a list of Parameters, got "
                                f"{type(params).__name__} {params!r}")
            params = list(params)
            bad = next((p for p in params if not (isinstance(p, Tensor) and p.dtype.kind == "f")), None)
            if bad is not None:
                raise TypeError(f"{type(self).__name__}: params must hold floating Parameters (Tensors), got "
                                f"{type(bad).__name__} {bad!r}")
            unique = {id(p): p for p in params}          # a tied parameter is updated once
            self._params = list(unique.values())
            if not self._params:
                raise ValueError(
                    f"{type(self).__name__}: params is an empty parameter list. If the model builds its "
                    "weights lazily (e.g. Dense(32) learns n_in at its first call), either pass "
                    "the layer itself -- optim." + type(self).__name__ + "(model, ...) re-reads "
                    "model.parameters() at every step -- or call the model once on an example "
                    "batch before model.parameters().")

    def parameters(self) -> list:
        """The parameters this optimizer updates (re-read from the layer when given one)."""
        if self._layer is None:
            return self._params
        params = self._layer.parameters()
        if not params:
            raise RuntimeError(f"{type(self).__name__}: the layer {self._layer.name} has no "
                               "parameters yet; call it on a batch (forward + backward) before step()")
        return params

    def zero_grad(self):
        # a lazily-built layer may have no parameters yet: then there is nothing to zero
        params = self._layer.parameters() if self._layer is not None else self._params
        for p in params:
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient -- or none at all: a NaN or inf gradient
        raises ``NonFiniteGradientError`` naming the parameter, before any weight or state moves."""
        params = [p for p in self.parameters() if p.grad is not None]
        self._refuse_non_finite(params)
        with no_grad():
            for p in params:
                if hasattr(p.grad, "apply_update"):      # row-sparse (a speed switch): it updates its rows
                    p.grad.apply_update(self, p)
                else:
                    self._update(p, p.grad)

    def _refuse_non_finite(self, params):
        """One check per step, one host sync: the sum of every gradient's sum is finite unless some
        entry is NaN or inf (or the sum overflowed, float16: then each gradient is looked at)."""
        if not params:
            return
        xp = backend.xp_of(params[0].data)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is looked at below, not warned about
            sums = [p.grad.sum() for p in params]         # one reduction each, no temporaries
        if math.isfinite(float(xp.stack(sums).astype(np.float64).sum() if len(sums) > 1 else sums[0])):
            return
        names = {id(p): n for n, p in self._layer.named_parameters()} if self._layer is not None else {}
        bad = [_label(names.get(id(p)), p) for p in params if not bool(xp.isfinite(getattr(p.grad, "rows", p.grad)).all())]
        if bad:
            raise NonFiniteGradientError(None, bad, who=f"{type(self).__name__}.step")

    def _buffer(self, p, key):
        """State array ``key`` of parameter p: zeros at first use, always on p's backend."""
        st = self.state.setdefault(p, {})
        buf = st.get(key)
        if buf is None or buf.shape != p.data.shape:
            buf = st[key] = backend.xp_of(p.data).zeros_like(p.data)
        elif backend.xp_of(buf) is not backend.xp_of(p.data):   # the layer was moved with .to()
            buf = st[key] = backend.to_backend(buf, backend.name_of(p.data))
        return buf

    def _update(self, p, g):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(Optimizer):
    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = validate.number(momentum, "momentum", "SGD", lo=0, hi=1, hi_open=True)
        self.weight_decay = validate.number(weight_decay, "weight_decay", "SGD", lo=0)

    def _update(self, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p.data        # a new array: p.grad stays as backward left it
        if self.momentum:
            v = self._buffer(p, "v")
            v *= self.momentum
            v += g
            g = v
        # lr * g into a scratch buffer kept between steps: a fresh temporary the size of
        # an embedding table costs page faults every step (measured ~1.8 ms for 10 MB)
        scaled = self._buffer(p, "scratch")
        backend.xp_of(g).multiply(g, self.lr, out=scaled)
        p.data -= scaled


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        who = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{who}: betas must be a pair (b1, b2), got {betas!r}")
        self.b1, self.b2 = (validate.number(b, "betas", who, lo=0, hi=1, hi_open=True) for b in betas)
        self.eps = validate.number(eps, "eps", who, lo=0, lo_open=True)
        self.weight_decay = validate.number(weight_decay, "weight_decay", who, lo=0)

    def _update(self, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        m, v, t = self._moments(p)
        m *= self.b1
        m += (1 - self.b1) * g
        v *= self.b2
        v += (1 - self.b2) * (g * g)
        self._step(p, m, v, t)

    def _moments(self, p):
        """m, v and this parameter's step count t (counted from 1)."""
        st = self.state.setdefault(p, {})
        t = st["t"] = st.get("t", 0) + 1
        return self._buffer(p, "m"), self._buffer(p, "v"), t

    def _step(self, p, m, v, t):
        xp = backend.xp_of(p.data)
        m_hat = m / (1 - self.b1 ** t)
        v_hat = v / (1 - self.b2 ** t)
        p.data -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)


def _label(dotted, p):
    """How an error names a parameter: its dotted name in the model and its own (``0.W (Dense.W)``)."""
    own = getattr(p, "name", None)
    if dotted and own and dotted != own:
        return f"{dotted} ({own})"
    return dotted or own or f"a parameter of shape {tuple(p.shape)}"


class NonFiniteGradientError(FloatingPointError):
    """A gradient holds NaN or inf; ``.params`` names the parameters whose gradient does."""
    def __init__(self, norm, params, step=None, who=None):
        self.norm, self.params, self.step = norm, params, step
        where = "" if step is None else f" at step {step}"
        head = (f"{who}: the gradient holds NaN or inf{where}" if who is not None
                else f"the gradient norm is {norm}{where}")
        super().__init__(f"{head}: non-finite gradient in {', '.join(params)}. The parameters (and the "
                         "optimizer's state) were left untouched. Usual causes: sqrt or log at 0, a division "
                         "by zero, or overflow in a hand-written op.")


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    ``params``: a list of Parameters or a Layer.  Returns the norm *before*
    clipping, as a Python float (log it: a spike is an exploding gradient).
    A NaN or infinite norm raises ``NonFiniteGradientError`` naming the culprits,
    with every gradient left as it was (clipping cannot rescue it).
    """
    max_norm = validate.positive_number(max_norm, "max_norm", "clip_grad_norm", allow_inf=True)
    if _is_layer(params):
        params = params.parameters()
    elif isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"clip_grad_norm: params must be a Layer or a list of Parameters, got "
                        f"{type(params).__name__} {params!r}")
    params = list(params)
    if not all(isinstance(p, Tensor) for p in params):
        raise TypeError("clip_grad_norm: params must hold Parameters (Tensors), got "
                        f"{next(type(p).__name__ for p in params if not isinstance(p, Tensor))}")
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return 0.0
    # Sum on the device and read back one number: one host sync, not one per parameter.
    norm = math.sqrt(float(sum(_squared_sum(p.grad) for p in with_grad)))
    if not math.isfinite(norm):                # scaling by max_norm / inf would write NaN everywhere
        bad = [getattr(p, "name", None) or f"a parameter of shape {tuple(p.shape)}" for p in with_grad
               if not math.isfinite(float(_squared_sum(p.grad)))]
        raise NonFiniteGradientError(norm, bad)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for p in with_grad:
            p.grad *= scale
    return norm


def _squared_sum(g):
    """sum(g^2), accumulated in float32 at least: float16 squares overflow above 256."""
    if g.dtype.itemsize < 4:
        g = g.astype(np.float32)
    return (g * g).sum()


# ----------------------------------------------------------------------------- weight decay, two ways
# ``weight_decay`` in SGD and Adam above is the L2 penalty *in the gradient*:
#     loss + (wd/2) |p|^2   ->   g + wd * p        (PyTorch's convention)
# fastai's collaborative-filtering lesson writes the penalty as  loss + wd * sum(p^2),
# whose gradient adds 2 * wd * p: that is ``weight_decay = 2 * wd`` here.
# With SGD the penalty shrinks p by lr * wd every step, whatever the gradient.
# With Adam it does not: the extra wd * p is divided by sqrt(v_hat) like the rest of
# g, so weights with large gradients are barely decayed.  AdamW (Loshchilov & Hutter
# 2019) *decouples* the decay from the gradient and shrinks every weight by the same
# factor; this is what fastai's Learner does with wd=0.1 and PyTorch's AdamW.

class AdamW(Adam):
    """Adam with decoupled weight decay (the default ``weight_decay=0.01`` is PyTorch's):

        p <- p * (1 - lr * wd)                  every weight shrinks by the same factor
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)   the Adam step on the raw gradient g
    """
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay=0.0)
        self.decoupled_wd = validate.number(weight_decay, "weight_decay", "AdamW", lo=0)

    def _update(self, p, g):
        if self.decoupled_wd:
            p.data *= 1 - self.lr * self.decoupled_wd
        super()._update(p, g)

    def __repr__(self):
        return f"AdamW(lr={self.lr:g}, weight_decay={self.decoupled_wd:g})"


# ----------------------------------------------------------------------------- AdaGrad
class Adagrad(Optimizer):
    """AdaGrad (Duchi, Hazan & Singer 2011), the optimizer of the GloVe paper:

        G <- G + g^2                    every squared gradient so far, per coordinate
        p <- p - lr * g / (sqrt(G) + eps)

    Each coordinate gets its own step size, lr / sqrt(sum of its squared
    gradients): a rare word's vector (few, small gradients) keeps large steps,
    a frequent one's shrink.  ``initial_accumulator_value`` starts G above 0
    (GloVe's reference code starts it at 1, which caps the first step at lr * g).
    As in torch.optim.Adagrad: lr=0.01, eps=1e-10, weight_decay adds wd * p to g.
    A coordinate whose gradient is 0 this step (an embedding row not in the
    batch) does not move and its G does not grow: the same as sparse AdaGrad.
    """
    def __init__(self, params, lr: float = 0.01, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.initial = validate.number(initial_accumulator_value, "initial_accumulator_value", "Adagrad", lo=0)
        self.eps = validate.number(eps, "eps", "Adagrad", lo=0, lo_open=True)
        self.weight_decay = validate.number(weight_decay, "weight_decay", "Adagrad", lo=0)

    def _update(self, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        G = self._accumulator(p)
        G += g * g
        p.data -= self.lr * g / (backend.xp_of(G).sqrt(G) + self.eps)

    def _accumulator(self, p):
        """G, created at ``initial_accumulator_value`` at the first step."""
        fresh = "G" not in self.state.setdefault(p, {})
        G = self._buffer(p, "G")
        if fresh:
            G += self.initial
        return G


# The learning-rate schedule lives in its own file; optim.one_cycle / optim.OneCycle stay the names.
from .schedule import OneCycle, one_cycle  # noqa: E402,F401
