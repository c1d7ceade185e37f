"""nn.Bidirectional against two separate scans per sequence: forward over its real steps, and
backward = a plain forward scan over the REVERSED real steps -- so with padding the backward
direction must start at each sequence's real end, not at the padding."""
import numpy as np
import pytest

import minidl as md
from minidl import nn

B, T, D, H = 4, 6, 3, 4
MASK = np.array([[1, 1, 1, 1, 1, 1],            # full length
                 [1, 1, 1, 1, 0, 0],            # right-padded: real end at t = 3
                 [1, 1, 0, 0, 0, 0],            # right-padded: real end at t = 1
                 [0, 0, 1, 1, 1, 1]])           # left-padded: real start at t = 2

LAYERS = {
    "rnn": lambda **kw: nn.RNN(H, **kw),
    "irnn": lambda **kw: nn.RNN(H, activation="relu", init="identity", **kw),
    "gru": lambda **kw: nn.GRU(H, **kw),
    "gru-fused": lambda **kw: nn.GRU(H, fused=True, **kw),
    "lstm": lambda **kw: nn.LSTM(H, **kw),
    "lstm-fused": lambda **kw: nn.LSTM(H, fused=True, **kw),
}


def _x(seed=0):
    return np.random.default_rng(seed).standard_normal((B, T, D))


def _hidden(state):
    return state[0] if isinstance(state, tuple) else state


def _reference(layer, x, mask):
    """Per sequence b: forward scan over its real steps, and the backward cell scanned FORWARD over
    the real steps in reversed order; outputs put back at the real positions (0 at padding).

    Returns (ys (B, T, 2H) Tensor, forward final states, backward final states) built from
    plain ``md.scan`` calls, so its gradients reach the same cells' parameters and x."""
    f_cell, b_cell = layer.forward_layer.cell, layer.backward_layer.cell
    rows, f_states, b_states = [], [], []
    for b in range(x.shape[0]):
        real = np.flatnonzero(mask[b])
        x_b = x[b:b + 1, real]                                        # (1, L, D): the real steps
        ys_f, s_f = md.scan(f_cell, x_b, f_cell.initial_state(1, like=x), axis=1)
        ys_r, s_b = md.scan(b_cell, x_b[:, ::-1], b_cell.initial_state(1, like=x), axis=1)
        ys_b = ys_r[:, ::-1]                                          # back to time order
        y_real = md.functional.concat([ys_f, ys_b], axis=-1)[0]      # (L, 2H)
        pieces, k = [], 0
        zero = md.tensor(np.zeros((1, 2 * H)), dtype=x.dtype)
        for t in range(x.shape[1]):                                   # scatter into (T, 2H)
            if mask[b, t]:
                pieces.append(y_real[k:k + 1]); k += 1
            else:
                pieces.append(zero)
        rows.append(md.functional.concat(pieces, axis=0))
        f_states.append(s_f)
        b_states.append(s_b)
    return md.functional.stack(rows, axis=0), f_states, b_states


def _grads(params, x):
    """Host copies (NumPy) of every gradient, so the comparisons work on either backend."""
    return [md.backend.asnumpy(p.grad).copy() for p in params] + [md.backend.asnumpy(x.grad).copy()]


@pytest.mark.parametrize("name", list(LAYERS))
def test_bidirectional_equals_two_scans_on_the_real_steps(backend_name, name):
    """Values, final states and every gradient (x and both directions' W, b), in float64."""
    with md.default_dtype("float64"):
        layer = nn.Bidirectional(LAYERS[name](return_state=True))
        x = md.tensor(_x(), requires_grad=True)
        ys, (s_f, s_b) = layer(x, mask=MASK)
        R = md.tensor(np.random.default_rng(1).standard_normal((B, T, 2 * H)))
        (ys * R).sum().backward()
        got = _grads(layer.parameters(), x)

        layer.zero_grad()
        x_ref = md.tensor(_x(), requires_grad=True)
        ys_ref, f_states, b_states = _reference(layer, x_ref, MASK)
        (ys_ref * R).sum().backward()
        want = _grads(layer.parameters(), x_ref)

    np.testing.assert_allclose(ys.numpy(), ys_ref.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ys.numpy()[MASK == 0], 0.0)                 # padded outputs are 0
    for b in range(B):    # forward: after the last real step; backward: after the first real step
        np.testing.assert_allclose(_hidden(s_f).numpy()[b], _hidden(f_states[b]).numpy()[0], rtol=1e-10)
        np.testing.assert_allclose(_hidden(s_b).numpy()[b], _hidden(b_states[b]).numpy()[0], rtol=1e-10)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(got[-1][MASK == 0], 0.0)                   # no gradient into padding


def test_the_backward_direction_really_starts_at_the_real_end():
    """The same sequence, padded or not, gives the same backward outputs on its real steps -- and
    running the backward cell from the padded end instead would give different numbers."""
    x = _x()
    layer = nn.Bidirectional(nn.GRU(H))
    padded = layer(md.tensor(x), mask=MASK).numpy()
    alone = layer(md.tensor(x[1:2, :4])).numpy()                  # sequence 1 without its padding
    np.testing.assert_allclose(padded[1, :4], alone[0], rtol=1e-5, atol=1e-6)
    from_padded_end = layer(md.tensor(x[1:2])).numpy()            # ignoring the mask: starts at t = 5
    assert not np.allclose(from_padded_end[0, :4, H:], alone[0, :, H:], atol=1e-3)


@pytest.mark.parametrize("name", ["gru", "lstm"])
def test_bidirectional_many_to_one_joins_the_right_states(name):
    """return_sequences=False: [forward h after the last real step, backward h after the first]."""
    layer = nn.Bidirectional(LAYERS[name](return_sequences=False))
    x = md.tensor(_x())
    h = layer(x, mask=MASK).numpy()                                        # (B, 2H)
    ys, _, _ = _reference(layer, x, MASK)
    ys = ys.numpy()
    for b in range(B):
        real = np.flatnonzero(MASK[b])
        np.testing.assert_allclose(h[b, :H], ys[b, real[-1], :H], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h[b, H:], ys[b, real[0], H:], rtol=1e-5, atol=1e-6)


class _WithMask(nn.Layer):
    def __init__(self, layer, mask):
        super().__init__()
        self.layer, self.mask = layer, mask

    def forward(self, x):
        return self.layer(x, mask=self.mask)


def test_bidirectional_gradcheck_with_mask(backend_name):
    """Central differences through both directions and the mask (the gated cells' gradients are
    compared exactly with the reference scans above; their own gradchecks live in test_recurrent)."""
    with md.default_dtype("float64"):
        layer = nn.Bidirectional(LAYERS["rnn"]())
    report = md.gradcheck(_WithMask(layer, MASK[:2]), _x()[:2])
    assert report, report
    assert len(report.entries) == 1 + 4                  # x, and W, b of each direction
