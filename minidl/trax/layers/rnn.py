"""Trax's GRU and LSTM: ``minidl.nn.GRU`` / ``nn.LSTM`` underneath, Trax's weights on the outside.

Both scan a cell over axis 1: x (B, T, D) -> ys (B, T, H).  The equations are
the same as minidl's cells (``minidl/nn/cells.py``); only the way Trax stores
the weights differs, and ``weights`` translates in both directions, exactly:

LSTM (Trax's LSTMCell)   y = [x, h] @ w + b, split into i, j, f, o (each H wide)
                         c' = c * sigmoid(f) + sigmoid(i) * tanh(j);  h' = tanh(c') * sigmoid(o)
    w (D + H, 4H) rows [x; h], columns [i | j | f | o]     nn.LSTMCell: W (H + D, 4H) rows [h; x],
                                                           columns [f | i | g | o], with g = j
GRU (Trax's GRUCell)     u, r = split(sigmoid([x, h] @ w1 + b1));  c = [x, r * h] @ w2 + b2
                         h' = u * h + (1 - u) * tanh(c)
    (w1 (D + H, 2H), b1, w2 (D + H, H), b2)                nn.GRUCell: W (H + D, 3H) = [W_u | W_r | W_h]
    Trax's u keeps the old state where minidl's Γu takes the new one: Γu = 1 - u =
    sigmoid(-z), so minidl's W_u, b_u are Trax's u-block negated (rows reordered).

Trax's nesting is kept too: ``GRU(n).weights`` is ((( ), (( ), ( ))), ((w1, b1, w2, b2),), ( ))
-- a Serial of Branch([], MakeZeroState), Scan(GRUCell), Select([0]) in Trax -- and
LSTM's the same with (w, b).  Initial weights follow Trax: the LSTM's w Glorot-uniform
and b ~ N(0, 1e-6^2) + 1 (forget_bias=1.0 is added to all four gates' biases, as in
Trax); the GRU's w1, w2 uniform in +-0.01 and b1, b2 ~ N(0, 1e-6^2).

``fused=True`` (not in Trax) runs minidl's fused sequence Function (the same numbers, faster).
"""
from __future__ import annotations

import numpy as np

from ... import backend, nn, ops
from ...autograd import Tensor
from ..fastmath import random
from . import initializers as init
from .base import Layer
from .core import as_weight, is_empty, set_parameter

_BRANCH = ((), ((), ()))          # Trax's Branch([], MakeZeroState) holds no weights


def _rows_x_h(w, H, xp):
    """minidl's rows [h; x] -> Trax's rows [x; h] (and back: the same swap with D for H)."""
    return xp.concatenate([w[H:], w[:H]], axis=0)


class _Recurrent(Layer):
    has_weights = True

    def __init__(self, n_units, n_in=1, n_out=1, fused=False):
        super().__init__(n_in=n_in, n_out=n_out, name=f"{type(self).__name__}_{n_units}")
        self._n_units, self._fused = n_units, fused

    def _make_nn(self):
        raise NotImplementedError

    def _cell_weights(self, W, b):
        """(minidl W, b) -> Trax's tuple of cell weights."""
        raise NotImplementedError

    def _minidl_weights(self, cell_weights, D):
        """Trax's cell weights -> (minidl W, b)."""
        raise NotImplementedError

    def _nest(self, cell):
        return (_BRANCH, (cell,), ())

    def _unnest(self, weights):
        try:
            (cell,) = weights[1]
            return cell
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"{self.name}: weights should be nested as Trax nests them, "
                             f"{self._nest(('...',))}") from None

    def _leaf_weights(self):
        if self._nn is None:
            return ()
        return self._nest(self._cell_weights(self._nn.cell.W.data, self._nn.cell.b.data))

    def _set_leaf_weights(self, weights):
        if is_empty(weights):
            self._nn, self._initialized = None, False
            return
        cell = tuple(as_weight(w, self.name) for w in self._unnest(weights))
        D = cell[0].shape[0] - self._n_units
        W, b = self._minidl_weights(cell, D)
        if self._nn is None or self._nn.cell.n_in != D:
            # an unbuilt minidl layer (no weights drawn); its cell's W and b are set below
            self._nn = self._make_nn()
            self._nn.cell.n_in, self._nn.cell.built = D, True
        set_parameter(self._nn.cell, "W", W)
        set_parameter(self._nn.cell, "b", b)
        self._initialized = True


class GRU(_Recurrent):
    """GRU(n_units): x (B, T, D) -> ys (B, T, n_units), zero initial state."""

    def __init__(self, n_units, mode="train", fused=False):
        super().__init__(n_units, fused=fused)

    def _make_nn(self):
        return nn.GRU(self._n_units, fused=self._fused)

    def init_weights_and_state(self, input_signature):
        D, H = input_signature.shape[-1], self._n_units
        k1, k2, k3, k4 = random.split(self.rng, 4)
        kernel, bias = init.RandomUniformInitializer(0.01), init.RandomNormalInitializer(1e-6)
        self.weights = self._nest((kernel((D + H, 2 * H), k1), bias((2 * H,), k2),
                                   kernel((D + H, H), k3), bias((H,), k4)))

    def _cell_weights(self, W, b):
        H, xp = self._n_units, backend.xp_of(W)
        w1 = _rows_x_h(xp.concatenate([-W[:, :H], W[:, H:2 * H]], axis=1), H, xp)
        b1 = xp.concatenate([-b[:H], b[H:2 * H]])
        return w1, b1, _rows_x_h(W[:, 2 * H:], H, xp), b[2 * H:]

    def _minidl_weights(self, cell, D):
        w1, b1, w2, b2 = cell
        H, xp = self._n_units, backend.xp_of(w1)
        W = _rows_x_h(xp.concatenate([-w1[:, :H], w1[:, H:], w2], axis=1), D, xp)
        return W, xp.concatenate([-b1[:H], b1[H:], b2])

    def forward(self, x):
        return self._nn(x)


class LSTM(_Recurrent):
    """LSTM(n_units): x (B, T, D) -> ys (B, T, n_units).

    initial_state=True: a second input, the state (B, 2 n_units) = [c, h];
    return_state=True: a second output, the final state [c, h]."""

    def __init__(self, n_units, mode="train", return_state=False, initial_state=False, fused=False):
        super().__init__(n_units, n_in=2 if initial_state else 1, n_out=2 if return_state else 1, fused=fused)
        self._return_state, self._initial_state = return_state, initial_state

    def _make_nn(self):
        return nn.LSTM(self._n_units, return_state=self._return_state, fused=self._fused)

    def _nest(self, cell):
        body = ((cell,),)
        body = body if self._initial_state else (_BRANCH,) + body
        return body if self._return_state else body + ((),)

    def _unnest(self, weights):
        try:
            (cell,) = weights[0 if self._initial_state else 1]
            return cell
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"{self.name}: weights should be nested as Trax nests them, "
                             f"{self._nest(('w', 'b'))}") from None

    def init_weights_and_state(self, input_signature):
        x_sig = input_signature[0] if self._initial_state else input_signature
        D, H = x_sig.shape[-1], self._n_units
        k1, k2 = random.split(self.rng, 2)
        w = init.GlorotUniformInitializer()((D + H, 4 * H), k1)
        b = init.RandomNormalInitializer(1e-6)((4 * H,), k2) + np.float32(1.0)     # Trax's forget_bias, on every gate
        self.weights = self._nest((w, b))

    def _cell_weights(self, W, b):
        H, xp = self._n_units, backend.xp_of(W)
        f, i, g, o = _gates(W, H)
        bf, bi, bg, bo = _gates(b, H)
        return (_rows_x_h(xp.concatenate([i, g, f, o], axis=1), H, xp), xp.concatenate([bi, bg, bf, bo]))

    def _minidl_weights(self, cell, D):
        w, b = cell
        H, xp = self._n_units, backend.xp_of(w)
        i, j, f, o = _gates(w, H)
        bi, bj, bf, bo = _gates(b, H)
        return _rows_x_h(xp.concatenate([f, i, j, o], axis=1), D, xp), xp.concatenate([bf, bi, bj, bo])

    def forward(self, inputs):
        x, state = inputs if self._initial_state else (inputs, None)
        if state is not None:                      # Trax's [c, h] -> minidl's (h, c)
            H = self._n_units
            state = tuple(s if isinstance(s, Tensor) else Tensor(s) for s in (state[:, H:], state[:, :H]))
        out = self._nn(x, initial_state=state)
        if not self._return_state:
            return out
        ys, (h, c) = out
        return ys, ops.concat([c, h], axis=-1)


def _gates(a, H):
    """The four H-wide column blocks of an LSTM weight (or bias)."""
    return tuple(a[..., k * H:(k + 1) * H] for k in range(4))
