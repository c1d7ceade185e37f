"""Recurrent cells: one time step of a vanilla RNN, a GRU and an LSTM.

A cell is a Layer with

    forward(x_t, carry) -> (y_t, new_carry)      x_t: (B, D)   y_t = h_t: (B, H)
    initial_state(batch)                          zeros: h (B, H), or (h, c) for the LSTM

so it plugs straight into ``md.scan`` (``nn.RNN``/``GRU``/``LSTM`` do exactly that).

Each cell follows the slides' equations with ONE fused weight over the
concatenation [h, x] (B, H + D), as the slides write W_h [h_{t-1}, x_t]:

    [h, x] @ W  ==  h @ W[:H] + x @ W[H:]         (W[:H] is the recurrent block,
                                                   W[H:] the input block)

so one matmul computes every gate.  The columns of W are the gates, side by
side, in the slides' order (documented per cell below), and the fused fast
paths in ``minidl/fast/fused_rnn.py`` read the very same ``W`` and ``b``.

Initialisation: each gate's (H + D, H) column block is Glorot-uniform,
biases are zero -- except the LSTM forget-gate bias (1, see LSTMCell) and the
identity-RNN option of RNNCell.  D is inferred at the first call.
"""
from __future__ import annotations

import numpy as np

from .. import backend, ops
from ..autograd import Tensor
from . import init
from .layer import Layer, parameter
from .. import validate
from ..validate import positive_int


class _Cell(Layer):
    """What the three cells share: lazy build, shape checks, zero initial state."""
    n_gates = 1                        # column blocks of W (H each)

    def __init__(self, n_units: int):
        super().__init__()
        self.n_units = positive_int(n_units, "n_units", type(self).__name__)
        self.n_in = None
        self.built = False

    @property
    def name(self):
        return f"{type(self).__name__}_{self.n_units}"

    def build(self, n_in: int):
        """Create W (H + D, n_gates * H) and b (n_gates * H,) once D is known."""
        self.n_in = int(n_in)
        self.W = parameter(self.initial_W())
        self.b = parameter(self.initial_b())
        self.built = True

    def initial_W(self):
        """Glorot-uniform, drawn per gate block: each gate is an (H + D) -> H layer."""
        H, D = self.n_units, self.n_in
        return np.concatenate([init.glorot_uniform(H + D, H) for _ in range(self.n_gates)], axis=1)

    def initial_b(self):
        return init.zeros(self.n_gates * self.n_units)

    def initial_state(self, batch: int, like: Tensor | None = None):
        """Zeros h (batch, H), on the backend and in the dtype of ``like`` (else of W, else the defaults)."""
        ref = like if like is not None else (self.W if self.built else None)
        if ref is None:
            return Tensor(backend.xp().zeros((batch, self.n_units), dtype=backend.get_default_dtype()))
        return Tensor(backend.xp_of(ref.data).zeros((batch, self.n_units), dtype=ref.dtype))

    def _check(self, x_t, h):
        """Build W at the first call (D = x_t's last axis); from then on insist on matching shapes."""
        if not self.built:
            self.build(x_t.shape[-1])
        if x_t.ndim != 2 or x_t.shape[1] != self.n_in:
            raise ValueError(f"{self.name}: x_t of shape {tuple(x_t.shape)} does not fit W of shape "
                             f"{tuple(self.W.shape)} (expected (batch, {self.n_in}))")
        if tuple(h.shape) != (x_t.shape[0], self.n_units):
            raise ValueError(f"{self.name}: state of shape {tuple(h.shape)} does not fit x_t of shape "
                             f"{tuple(x_t.shape)} (expected ({x_t.shape[0]}, {self.n_units}))")


def _hx(h, x_t):
    """The concatenation [h_{t-1}, x_t]: (B, H + D)."""
    return ops.concat([h, x_t], axis=-1)


class RNNCell(_Cell):
    """The vanilla RNN step:

        h_t = g(W_h [h_{t-1}, x_t] + b_h)          g = tanh (default) or relu

    x_t (B, D), h_{t-1} (B, H) -> y_t = h_t (B, H).
    W_h: (H + D, H), rows W_h[:H] recurrent (h -> h), rows W_h[H:] input (x -> h);  b_h: (H,).

    init="glorot"    Glorot-uniform W_h.
    init="identity"  the recurrent block W_h[:H] starts as the identity I (input
                     block Glorot): with relu, h_t = relu(h_{t-1} + ...) copies the
                     state forward unchanged at first, so gradients through time
                     neither vanish nor explode early in training (Le et al. 2015,
                     the identity-RNN remedy for vanishing gradients).
    """
    n_gates = 1

    def __init__(self, n_units: int, activation: str = "tanh", init: str = "glorot"):
        super().__init__(n_units)
        validate.choice(activation, ("tanh", "relu"), "activation", "RNNCell")
        validate.choice(init, ("glorot", "identity"), "init", "RNNCell")
        self.activation, self.init = activation, init

    def initial_W(self):
        W = super().initial_W()
        if self.init == "identity":
            W[:self.n_units] = init.identity(self.n_units)       # recurrent block W_h[:H] = I
        return W

    def forward(self, x_t, h=None):
        if h is None:
            h = self.initial_state(x_t.shape[0], like=x_t)
        self._check(x_t, h)
        z = _hx(h, x_t) @ self.W + self.b                        # (B, H)
        h = ops.tanh(z) if self.activation == "tanh" else ops.relu(z)
        return h, h


class GRUCell(_Cell):
    """The GRU step, in the course's formulation:

        Γu = σ(W_u [h_{t-1}, x_t] + b_u)                 update gate      (B, H)
        Γr = σ(W_r [h_{t-1}, x_t] + b_r)                 relevance gate   (B, H)
        h' = tanh(W_h [Γr * h_{t-1}, x_t] + b_h)          candidate        (B, H)
        h_t = (1 - Γu) * h_{t-1} + Γu * h'                                  (B, H)

    x_t (B, D), h_{t-1} (B, H) -> y_t = h_t (B, H).

    One weight W (H + D, 3H) with column slices, in the slides' order:

        W[:, 0:H]    W_u    update gate Γu
        W[:, H:2H]   W_r    relevance (reset) gate Γr
        W[:, 2H:3H]  W_h    candidate h'

    and b (3H,) sliced the same way.  The candidate cannot share the gates'
    matmul -- its input is [Γr * h, x], which needs Γr first -- so the step
    takes two matmuls: [h, x] @ W[:, :2H] for both gates, then
    [Γr * h, x] @ W[:, 2H:] for the candidate.  Keeping the three blocks in one
    matrix still lets the fused path project the inputs x for all three in one
    matmul (x @ W[H:]).

    ``reset_after=True`` is the variant of PyTorch, cuDNN and Keras (default
    there): the relevance gate is applied AFTER the recurrent product, which
    then has a bias of its own, b_hn (H,):

        h' = tanh(W_h[H:] x_t + b_h  +  Γr * (W_h[:H] h_{t-1} + b_hn))

    so all three recurrent products h @ W[:H] can be done at once, before Γr is
    known (why the GPU libraries prefer it).  The two variants are different
    functions, not a re-parametrisation: weights trained with one do not carry
    over to the other.  PyTorch also writes the update as h_t = (1 - z) h' + z h,
    i.e. its z is our 1 - Γu: ``minidl.io.to_torch_state_dict`` negates that
    block when it exchanges weights.
    """
    n_gates = 3

    def __init__(self, n_units: int, reset_after: bool = False):
        super().__init__(n_units)
        self.reset_after = validate.flag(reset_after, "reset_after", "GRUCell")

    def build(self, n_in: int):
        super().build(n_in)
        if self.reset_after:
            self.b_hn = parameter(init.zeros(self.n_units))     # the recurrent candidate's own bias

    def forward(self, x_t, h=None):
        if h is None:
            h = self.initial_state(x_t.shape[0], like=x_t)
        self._check(x_t, h)
        H = self.n_units
        W_ur, W_h = ops.split(self.W, [2 * H], axis=1)          # (H + D, 2H), (H + D, H)
        b_ur, b_h = ops.split(self.b, [2 * H], axis=0)          # (2H,), (H,)
        gates = ops.sigmoid(_hx(h, x_t) @ W_ur + b_ur)          # (B, 2H)
        u, r = ops.split(gates, 2, axis=-1)                     # Γu, Γr: (B, H) each
        if self.reset_after:                                    # Γr * (W_hh h + b_hn)
            W_hh, W_xh = ops.split(W_h, [H], axis=0)            # (H, H), (D, H)
            h_cand = ops.tanh(x_t @ W_xh + b_h + r * (h @ W_hh + self.b_hn))
        else:
            h_cand = ops.tanh(_hx(r * h, x_t) @ W_h + b_h)      # h': (B, H)
        h = (1 - u) * h + u * h_cand
        return h, h


class LSTMCell(_Cell):
    """The LSTM step:

        f = σ(W_f [h_{t-1}, x_t] + b_f)        forget gate        (B, H)
        i = σ(W_i [h_{t-1}, x_t] + b_i)        input gate         (B, H)
        g = tanh(W_g [h_{t-1}, x_t] + b_g)     gate (candidate)   (B, H)
        o = σ(W_o [h_{t-1}, x_t] + b_o)        output gate        (B, H)
        c_t = f ⊙ c_{t-1} + i ⊙ g                                  (B, H)
        h_t = o ⊙ tanh(c_t)                                        (B, H)

    x_t (B, D), carry (h_{t-1}, c_{t-1}) each (B, H) -> y_t = h_t, carry (h_t, c_t).

    One weight W (H + D, 4H) with column slices, in the slides' order:

        W[:, 0:H] W_f   W[:, H:2H] W_i   W[:, 2H:3H] W_g   W[:, 3H:4H] W_o

    and b (4H,) sliced the same way, so one matmul [h, x] @ W gives all four gates.

    Forget-gate bias b_f starts at 1 (the other biases at 0): σ(1) ≈ 0.73, so
    at the start of training the cell keeps most of c_{t-1} and gradients flow
    back through c over many steps, instead of being halved by σ(0) = 0.5 at
    every step (Gers et al. 2000; Jozefowicz et al. 2015).
    """
    n_gates = 4

    def initial_b(self):
        b = super().initial_b()
        b[:self.n_units] = 1.0                                  # b_f = 1
        return b

    def initial_state(self, batch: int, like: Tensor | None = None):
        """(h, c), both zeros of shape (batch, H)."""
        return (super().initial_state(batch, like), super().initial_state(batch, like))

    def forward(self, x_t, carry=None):
        if carry is None:
            carry = self.initial_state(x_t.shape[0], like=x_t)
        h, c = carry
        self._check(x_t, h)
        if c.shape != h.shape:
            raise ValueError(f"{self.name}: c of shape {tuple(c.shape)} differs from h of shape "
                             f"{tuple(h.shape)}")
        z = _hx(h, x_t) @ self.W + self.b                       # (B, 4H): all gates at once
        z_f, z_i, z_g, z_o = ops.split(z, 4, axis=-1)           # (B, H) each
        f, i, g, o = ops.sigmoid(z_f), ops.sigmoid(z_i), ops.tanh(z_g), ops.sigmoid(z_o)
        c = f * c + i * g
        h = o * ops.tanh(c)
        return h, (h, c)
