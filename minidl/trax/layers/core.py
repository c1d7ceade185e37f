"""Trax's core layers, each a thin shell around a ``minidl.nn`` layer or a ``minidl.ops`` op.

    Dense(n_units)                  nn.Dense: y = x @ w + b;  weights (w (n_in, n_units), b (n_units,))
    Embedding(vocab_size, d_feature) nn.Embedding: y = W[ids];  weights: the bare W (vocab_size, d_feature)
    Mean(axis=-1, keepdims=False)   ops.mean (also Sum, Max, Min)
    Relu  Sigmoid  Tanh  Exp  Log   ops.relu ...                 LogSoftmax(axis=-1), Softmax(axis=-1)
    LayerNorm(center=True, epsilon=1e-6)   (x - mean) / sqrt(var + eps) * scale + bias over the last axis
    ShiftRight(n_positions=1, mode='train')  ids (B, T) -> (B, T): n zeros in front, the last n dropped
    Dropout(rate, mode='train')  Flatten(n_axes_to_keep=1)  ArgMax(axis=-1)
    one_hot(x, n_categories)  log_softmax(x)  logsoftmax_sample(log_probs, temperature)   (functions)

Weights start from Trax's initializers (``initializers.py``): Dense's w Glorot-uniform,
its b N(0, 1e-6^2); Embedding's W uniform with std 1/sqrt(d_feature).

Embedding and ids out of range: Trax *clips* them (an id >= vocab_size reads the
last row, a negative id row 0), silently; this facade does the same, with a
warning, where ``nn.Embedding`` raises an IndexError naming the id.
"""
from __future__ import annotations

import warnings

import numpy as np

from ... import backend, nn, ops
from ...autograd import Tensor, array_of
from ...ops.losses import one_hot as _one_hot
from .. import fastmath
from ..fastmath import random
from . import initializers as init
from .base import Fn, Layer


# ----------------------------------------------------------------------------- weights <-> Parameters
def as_weight(value, who):
    """A weight array for a Parameter: on the active backend, floating, in the default float dtype."""
    data = backend.to_backend(array_of(value), backend.get_backend())
    if data.dtype.kind != "f":
        raise TypeError(f"{who}: weights must be floating arrays, got dtype {data.dtype}")
    return data if data.dtype == backend.get_default_dtype() else data.astype(backend.get_default_dtype())


def is_empty(weights):
    return isinstance(weights, (tuple, list)) and len(weights) == 0


def set_parameter(layer, name, data):
    """``layer.<name>`` holds ``data``: the existing Parameter is updated in place when the shape
    fits (an optimizer or a Loop holding it keeps working), else a new one is made."""
    p = getattr(layer, name, None)
    if p is not None and tuple(p.shape) == tuple(data.shape):
        p.data, p.grad = data, None
    else:
        setattr(layer, name, nn.Parameter(data))


def _floating(x, like):
    """Integer inputs (Dense on ids) are computed in the weights' dtype, as JAX promotes them."""
    if isinstance(x, Tensor) or x.dtype.kind == "f":
        return x
    return Tensor(x.astype(like.dtype))


class Dense(Layer):
    """y = x @ w + b over the last axis (minidl's nn.Dense does the work)."""
    has_weights = True

    def __init__(self, n_units, kernel_initializer=init.GlorotUniformInitializer(),
                 bias_initializer=init.RandomNormalInitializer(1e-6), use_bias=True, use_bfloat16=False):
        super().__init__(name=f"Dense_{n_units}")
        if use_bfloat16:
            raise ValueError("Dense(use_bfloat16=True): NumPy has no bfloat16; minidl computes in float32")
        self._n_units, self._use_bias = n_units, use_bias
        self._kernel_initializer, self._bias_initializer = kernel_initializer, bias_initializer

    def init_weights_and_state(self, input_signature):
        rng_w, rng_b = random.split(self.rng, 2)
        w = self._kernel_initializer((input_signature.shape[-1], self._n_units), rng_w)
        self.weights = (w, self._bias_initializer((self._n_units,), rng_b)) if self._use_bias else w

    def _leaf_weights(self):
        if self._nn is None:
            return ()
        return (self._nn.W.data, self._nn.b.data) if self._use_bias else self._nn.W.data

    def _set_leaf_weights(self, weights):
        if is_empty(weights):
            self._nn, self._initialized = None, False
            return
        if self._use_bias and not (isinstance(weights, (tuple, list)) and len(weights) == 2):
            raise ValueError(f"{self.name}: weights should be a (w, b) tuple, got {type(weights).__name__}")
        w, b = weights if self._use_bias else (weights, None)
        w = as_weight(w, self.name)
        if w.ndim != 2 or w.shape[1] != self._n_units:
            raise ValueError(f"{self.name}: w of shape {tuple(w.shape)} should be (n_in, {self._n_units})")
        if self._nn is None or self._nn.n_in != w.shape[0]:
            # an unbuilt nn.Dense (no weights drawn) whose W and b are set below
            self._nn = nn.Dense(self._n_units, use_bias=self._use_bias)
            self._nn.n_in, self._nn.built = int(w.shape[0]), True
        set_parameter(self._nn, "W", w)
        if self._use_bias:
            set_parameter(self._nn, "b", as_weight(b, self.name))
        self._initialized = True

    def forward(self, x):
        return self._nn(_floating(x, self._nn.W))


class Embedding(Layer):
    """W[ids] for integer ids of any shape (minidl's nn.Embedding: the scatter-add backward)."""
    has_weights = True

    def __init__(self, vocab_size, d_feature, use_bfloat16=False,
                 kernel_initializer=init.ScaledInitializer(-1, -2, 1.0, "fan_out", "uniform")):
        super().__init__(name=f"Embedding_{vocab_size}_{d_feature}")
        if use_bfloat16:
            raise ValueError("Embedding(use_bfloat16=True): NumPy has no bfloat16; minidl computes in float32")
        self._vocab_size, self._d_feature, self._kernel_initializer = vocab_size, d_feature, kernel_initializer

    def init_weights_and_state(self, input_signature):
        self.weights = self._kernel_initializer((self._vocab_size, self._d_feature), self.rng)

    def _leaf_weights(self):
        return () if self._nn is None else self._nn.W.data

    def _set_leaf_weights(self, weights):
        if is_empty(weights):
            self._nn, self._initialized = None, False
            return
        w = as_weight(weights, self.name)
        if w.ndim != 2:
            raise ValueError(f"{self.name}: the weights are one (vocab_size, d_feature) matrix, got shape {tuple(w.shape)}")
        if self._nn is None or tuple(self._nn.W.shape) != tuple(w.shape):
            self._nn = nn.Embedding(*w.shape, weights=w)
        set_parameter(self._nn, "W", w)
        self._initialized = True

    def forward(self, ids):
        ids = array_of(ids)
        V = self._nn.vocab_size
        if ids.dtype.kind in "iu" and ids.size and (int(ids.min()) < 0 or int(ids.max()) >= V):
            warnings.warn(f"{self.name}: token ids outside 0..{V - 1} are clipped into that range, as Trax "
                          "does (minidl's nn.Embedding raises instead)", stacklevel=2)
            ids = backend.xp_of(ids).clip(ids, 0, V - 1)
        return self._nn(ids)


class LayerNorm(Layer):
    """Layer normalisation over the last axis, composed from minidl ops; weights (scale, bias), each (d,)."""
    has_weights = True

    def __init__(self, center=True, epsilon=1e-6):
        super().__init__()
        self._center, self._epsilon = center, epsilon

    def init_weights_and_state(self, input_signature):
        d = input_signature.shape[-1]
        self.weights = (np.ones(d, np.float32), np.zeros(d, np.float32))

    def _leaf_weights(self):
        return () if self._nn is None else (self._nn.scale.data, self._nn.bias.data)

    def _set_leaf_weights(self, weights):
        if is_empty(weights):
            self._nn, self._initialized = None, False
            return
        scale, bias = weights
        self._nn = self._nn or nn.Layer()            # a holder for the two Parameters
        set_parameter(self._nn, "scale", as_weight(scale, self.name))
        set_parameter(self._nn, "bias", as_weight(bias, self.name))
        self._initialized = True

    def forward(self, x):
        centered = x - ops.mean(x, -1, keepdims=True) if self._center else x
        variance = ops.mean(centered * centered, -1, keepdims=True)
        scaled = centered / ops.sqrt(variance + self._epsilon) * self._nn.scale
        return scaled + self._nn.bias if self._center else scaled


# ----------------------------------------------------------------------------- weightless layers
def Relu(): return Fn("Relu", lambda x: ops.relu(x))
def Sigmoid(): return Fn("Sigmoid", lambda x: ops.sigmoid(x))
def Tanh(): return Fn("Tanh", lambda x: ops.tanh(x))
def Exp(): return Fn("Exp", lambda x: ops.exp(x))
def Log(): return Fn("Log", lambda x: ops.log(x))
def LogSoftmax(axis=-1): return Fn("LogSoftmax", lambda x: ops.log_softmax(x, axis))
def Softmax(axis=-1): return Fn("Softmax", lambda x: ops.softmax(x, axis))


def Mean(axis=-1, keepdims=False):
    return Fn("Mean", lambda x: fastmath.numpy.mean(x, axis=axis, keepdims=keepdims))


def Sum(axis=None, keepdims=False):
    return Fn("Sum", lambda x: fastmath.numpy.sum(x, axis=axis, keepdims=keepdims))


def Max(axis=-1, keepdims=False):
    return Fn("Max", lambda x: fastmath.numpy.max(x, axis=axis, keepdims=keepdims))


def Min(axis=-1, keepdims=False):
    return Fn("Min", lambda x: fastmath.numpy.min(x, axis=axis, keepdims=keepdims))


def ArgMax(axis=-1):
    return Fn("ArgMax", lambda x: fastmath.numpy.argmax(x, axis=axis))


def Flatten(n_axes_to_keep=1):
    def f(x):
        if x.ndim <= n_axes_to_keep:
            raise ValueError(f"Input rank ({x.ndim}) must exceed the number of axes to keep ({n_axes_to_keep})")
        return fastmath.numpy.reshape(x, tuple(x.shape[:n_axes_to_keep]) + (-1,))
    return Fn(f"Flatten_keep{n_axes_to_keep}", f)


def Dropout(rate=0.0, shared_axes=None, mode="train"):
    """Inverted dropout in mode 'train' (ops.dropout; the mask comes from minidl's RNG), else identity."""
    if shared_axes:
        raise NotImplementedError("Dropout(shared_axes=...) is not supported by the minidl facade")
    return Fn("Dropout", lambda x: ops.dropout(x, rate, mode == "train") if rate else x)


def ShiftRight(n_positions=1, mode="train"):
    """Shift a batch of sequences one (n) step(s) right along axis 1, zeros in front (identity in 'predict')."""
    def f(x):
        if mode == "predict":
            return x
        if isinstance(x, Tensor):
            pad = Tensor(backend.xp_of(x.data).zeros((x.shape[0], n_positions) + tuple(x.shape[2:]), x.dtype))
            return ops.concat([pad, x[:, :-n_positions]], axis=1)
        widths = [(0, 0)] * x.ndim
        widths[1] = (n_positions, 0)
        return backend.xp_of(x).pad(x, widths)[:, :-n_positions]
    return Fn(f"ShiftRight({n_positions})", f)


# ----------------------------------------------------------------------------- functions
def one_hot(x, n_categories, dtype=np.float32):
    """(..., ) integer ids -> (..., n_categories) rows of 0s with a 1 at each id."""
    return _one_hot(array_of(x), n_categories, dtype)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis) if isinstance(x, Tensor) else x - fastmath.logsumexp(x, axis, keepdims=True)


def logsoftmax_sample(log_probs, temperature=1.0):
    """A sample from softmax(log_probs / temperature) by the Gumbel-max trick (temperature 0: argmax).

    Uses NumPy's global random generator, as Trax does."""
    log_probs = backend.asnumpy(array_of(log_probs))
    u = np.random.uniform(low=1e-6, high=1.0 - 1e-6, size=log_probs.shape)
    return np.argmax(log_probs + -np.log(-np.log(u)) * temperature, axis=-1)
