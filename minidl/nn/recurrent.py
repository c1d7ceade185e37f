"""Sequence layers: RNN, GRU, LSTM (a cell scanned over time) and Bidirectional.

    layer = nn.LSTM(n_units)                 # or nn.GRU, nn.RNN
    ys = layer(x)                            # x (B, T, D) -> ys (B, T, H)   many-to-many
    nn.LSTM(n_units, return_sequences=False)(x)          -> h (B, H)       many-to-one
    ys, state = nn.LSTM(n_units, return_state=True)(x)   state: h, or (h, c) for the LSTM
    ys = layer(x, mask)                      # mask (B, T), 1 = real step, 0 = padding
    ys = layer(x, initial_state=h0)          # default: zeros

Each layer owns a cell (``layer.cell``: RNNCell, GRUCell, LSTMCell) and runs it
with ``md.scan`` -- the readable path, where BPTT is plain autograd over the
slide equations in ``nn/cells.py``.  This is the default, so a traceback from
a lesson lands in the equations.  Two speed switches, both off by default:

* ``fused=True`` (GRU and LSTM): ``minidl/fast/fused_rnn.py``, one Function for
  the whole sequence with hand-written BPTT over the same ``cell.W`` and
  ``cell.b`` -- "the same numbers, faster" (tests/test_fused_rnn.py);
* ``replay=True`` (all three): the scan records step 0's ops and replays them
  as one graph node per later step (``minidl/fast/replay.py``).

Padding.  With a mask, a padded step neither changes the state nor receives
gradient -- the state is carried through it:

    h_t = m_t * h_new + (1 - m_t) * h_{t-1}        (and c_t likewise)
    y_t = m_t * h_t                                (padded outputs are 0)

so the final state is the state after the LAST REAL step of each sequence,
which is what ``return_sequences=False`` returns (many-to-one).

``reverse=True`` reads the sequence from the last step to the first (outputs
still in time order); ``Bidirectional(layer)`` pairs a layer with a reversed
copy that has its own weights.  Deep RNNs are plain stacks:
``nn.Serial(nn.LSTM(64), nn.LSTM(64))``.
"""
from __future__ import annotations

from .. import backend, ops, validate
from ..autograd import Tensor, array_of
from .cells import GRUCell, LSTMCell, RNNCell
from .layer import Layer
from .scan import scan


def _hidden(state):
    """h from a carry: the LSTM carries (h, c), the others just h."""
    return state[0] if isinstance(state, tuple) else state


def _hold_state(m, new, old):
    """m * new + (1 - m) * old, for a state or a tuple of states (m: (B, 1))."""
    if isinstance(new, tuple):
        return tuple(_hold_state(m, n, o) for n, o in zip(new, old))
    return m * new + (1 - m) * old


class _Recurrent(Layer):
    """What RNN, GRU and LSTM share: argument checks, masks, scan, output selection."""

    def __init__(self, cell, return_sequences=True, return_state=False, reverse=False, replay=False):
        super().__init__()
        self.cell = cell
        self.n_units = cell.n_units
        who = type(self).__name__
        self.return_sequences = validate.flag(return_sequences, "return_sequences", who)
        self.return_state = validate.flag(return_state, "return_state", who)
        self.reverse = validate.flag(reverse, "reverse", who)
        self.replay = validate.flag(replay, "replay", who)

    @property
    def name(self):
        return f"{type(self).__name__}_{self.n_units}"

    def __repr__(self):                  # one line, like Dense: the cell is an implementation detail
        return self.name

    def forward(self, x, mask=None, initial_state=None):
        """x (B, T, D); mask (B, T) or None; initial_state h0 (B, H) [or (h0, c0)] or None (zeros)."""
        if x.ndim != 3:
            raise ValueError(f"{self.name}: expected a batch of sequences (batch, time, features), "
                             f"got an input of shape {tuple(x.shape)}")
        B, T, D = x.shape
        if T == 0:                       # every path (scan, fused, replay) refuses it the same way
            raise ValueError(f"{self.name}: the sequence has no steps: input of shape {tuple(x.shape)} has "
                             "T = 0 on axis 1 (batch, time, features); there is no state to compute")
        if not self.cell.built:
            self.cell.build(D)
        if D != self.cell.n_in:
            raise ValueError(f"{self.name}: input of shape {tuple(x.shape)} does not fit W of shape "
                             f"{tuple(self.cell.W.shape)} (the feature axis must be {self.cell.n_in})")
        m = self._mask_array(mask, x)
        state = self.cell.initial_state(B, like=x) if initial_state is None else initial_state
        self._check_state(state, B)
        ys, state = self._run(x, state, m)
        out = ys if self.return_sequences else _hidden(state)
        return (out, state) if self.return_state else out

    def _run(self, x, state, m):
        """The readable path: the cell scanned over time (subclasses may take a fused path)."""
        if m is None:
            return scan(self.cell, x, state, axis=1, reverse=self.reverse, replay=self.replay)

        def step(inputs, carry):
            x_t, m_t = inputs                              # (B, D), (B, 1)
            _, new = self.cell(x_t, carry)
            new = _hold_state(m_t, new, carry)          # padded steps keep the old state
            return m_t * _hidden(new), new

        return scan(step, (x, Tensor(m[..., None])), state, axis=1, reverse=self.reverse,
                    replay=self.replay)

    def _mask_array(self, mask, x):
        """mask -> a backend array (B, T) in x's dtype (1 = real step), or None."""
        if mask is None:
            return None
        m = validate.mask(backend.to_backend(array_of(mask), x.backend), self.name).astype(x.dtype)
        if m.shape != x.shape[:2]:
            raise ValueError(f"{self.name}: mask of shape {tuple(m.shape)} does not fit the input of "
                             f"shape {tuple(x.shape)} (expected (batch, time) = {tuple(x.shape[:2])})")
        return m

    def _check_state(self, state, B):
        want = (B, self.n_units)
        for s in (state if isinstance(state, tuple) else (state,)):
            if tuple(s.shape) != want:
                raise ValueError(f"{self.name}: initial state of shape {tuple(s.shape)} should be "
                                 f"{want} (batch, n_units)")

    def reversed_copy(self):
        """A new layer with the same settings reading the sequence the other way (own, fresh weights)."""
        raise NotImplementedError


class RNN(_Recurrent):
    """Vanilla RNN over a sequence: h_t = g(W_h [h_{t-1}, x_t] + b_h) (see nn.RNNCell).

    x (B, T, D) -> ys (B, T, H), or h_T (B, H) with return_sequences=False.
    Always the scan path (there is no fused RNN Function); replay=True speeds it up.
    """

    def __init__(self, n_units, activation="tanh", init="glorot", return_sequences=True,
                 return_state=False, reverse=False, replay=False):
        super().__init__(RNNCell(n_units, activation, init), return_sequences, return_state, reverse, replay)

    def reversed_copy(self):
        return RNN(self.n_units, self.cell.activation, self.cell.init, self.return_sequences,
                   self.return_state, not self.reverse, self.replay)


class GRU(_Recurrent):
    """GRU over a sequence (see nn.GRUCell for the equations and the W slices [u | r | h']).

    reset_after=True: PyTorch's/cuDNN's variant of the candidate (see nn.GRUCell).

    x (B, T, D) -> ys (B, T, H), or h_T (B, H) with return_sequences=False.
    fused=False (default) scans the cell; fused=True runs fast.fused_rnn.GRUSequence (faster, same numbers).
    """

    def __init__(self, n_units, return_sequences=True, return_state=False, reverse=False, fused=False,
                 reset_after=False, replay=False):
        super().__init__(GRUCell(n_units, reset_after=reset_after), return_sequences, return_state, reverse,
                         replay)
        fused = validate.flag(fused, "fused", "GRU")
        if fused and validate.flag(reset_after, "reset_after", "GRU"):
            raise ValueError("GRU: the fused path implements the course's GRU (reset_after=False); "
                             "use fused=False with reset_after=True")
        self.fused = fused

    def _run(self, x, h0, m):
        if not self.fused:
            return super()._run(x, h0, m)
        from ..fast import fused_rnn                    # the speed wing, only when asked for
        return fused_rnn.gru_sequence(x, h0, self.cell.W, self.cell.b, mask=m, reverse=self.reverse)

    def reversed_copy(self):
        return GRU(self.n_units, self.return_sequences, self.return_state, not self.reverse, self.fused,
                   self.cell.reset_after, self.replay)


class LSTM(_Recurrent):
    """LSTM over a sequence (see nn.LSTMCell for the equations and the W slices [f | i | g | o]).

    x (B, T, D) -> ys (B, T, H), or h_T (B, H) with return_sequences=False;
    the state is (h, c), each (B, H).
    fused=False (default) scans the cell; fused=True runs fast.fused_rnn.LSTMSequence (faster, same numbers).
    """

    def __init__(self, n_units, return_sequences=True, return_state=False, reverse=False, fused=False,
                 replay=False):
        super().__init__(LSTMCell(n_units), return_sequences, return_state, reverse, replay)
        self.fused = validate.flag(fused, "fused", "LSTM")

    def _run(self, x, state, m):
        if not self.fused:
            return super()._run(x, state, m)
        from ..fast import fused_rnn                    # the speed wing, only when asked for
        h0, c0 = state
        ys, h, c = fused_rnn.lstm_sequence(x, h0, c0, self.cell.W, self.cell.b, mask=m,
                                           reverse=self.reverse)
        return ys, (h, c)

    def reversed_copy(self):
        return LSTM(self.n_units, self.return_sequences, self.return_state, not self.reverse, self.fused,
                    self.replay)


class Bidirectional(Layer):
    """Run ``layer`` forward in time and a reversed copy of it backward; join along features.

        y_t = [ y_t(forward), y_t(backward) ]          (B, T, 2H)   or (B, 2H) many-to-one

    The backward copy (``reverse=True``) has its own weights, drawn afresh.
    With a mask, both directions skip the padding, so the backward direction
    starts at each sequence's last real step.  Many-to-one joins the forward
    state after the last real step with the backward state after the first step.
    ``initial_state`` is a pair (forward state, backward state); with
    ``return_state=True`` on the wrapped layer the result is (ys, (state_fwd, state_bwd)).
    """

    def __init__(self, layer):
        super().__init__()
        if not isinstance(layer, _Recurrent):
            raise TypeError(f"Bidirectional wraps an nn.RNN, nn.GRU or nn.LSTM: layer must be one, got {type(layer).__name__}")
        self.forward_layer = layer
        self.backward_layer = layer.reversed_copy()

    @property
    def name(self):
        return f"Bidirectional_{self.forward_layer.name}"

    def forward(self, x, mask=None, initial_state=None):
        s_fwd, s_bwd = (None, None) if initial_state is None else initial_state
        out_f = self.forward_layer(x, mask=mask, initial_state=s_fwd)
        out_b = self.backward_layer(x, mask=mask, initial_state=s_bwd)
        if not self.forward_layer.return_state:
            return ops.concat([out_f, out_b], axis=-1)
        (y_f, state_f), (y_b, state_b) = out_f, out_b
        return ops.concat([y_f, y_b], axis=-1), (state_f, state_b)
