"""Sequence layers RNN / GRU / LSTM, masks, initial states, Bidirectional, deep stacks."""
import numpy as np
import pytest

import minidl as md
from minidl import nn

B, T, D, H = 2, 5, 3, 4
MASK = np.array([[1, 1, 1, 0, 0],                      # a sequence of length 3, right-padded
                 [1, 1, 1, 1, 1]])

LAYERS = {
    "rnn": lambda **kw: nn.RNN(H, **kw),
    "rnn-relu-identity": lambda **kw: nn.RNN(H, activation="relu", init="identity", **kw),
    "gru": lambda **kw: nn.GRU(H, fused=True, **kw),          # the fast path ...
    "gru-scan": lambda **kw: nn.GRU(H, **kw),                  # ... and the readable default
    "lstm": lambda **kw: nn.LSTM(H, fused=True, **kw),
    "lstm-scan": lambda **kw: nn.LSTM(H, **kw),
}


def _x(seed=0, shape=(B, T, D)):
    return np.random.default_rng(seed).standard_normal(shape)


class WithMask(nn.Layer):
    """layer(x, mask=...) as a one-input layer, so gradcheck sees the layer's parameters."""
    def __init__(self, layer, mask):
        super().__init__()
        self.layer, self.mask = layer, mask

    def forward(self, x):
        return self.layer(x, mask=self.mask)


# ----------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("return_sequences", [True, False])
def test_layer_gradcheck(backend_name, name, return_sequences):
    with md.default_dtype("float64"):
        layer = LAYERS[name](return_sequences=return_sequences)
    report = md.gradcheck(layer, _x())
    assert report, report
    assert [e.name for e in report.entries] == ["input 0", "param cell.W", "param cell.b"]


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradcheck_with_mask_and_state(backend_name, name):
    with md.default_dtype("float64"):
        layer = LAYERS[name](return_state=True)
    report = md.gradcheck(WithMask(layer, MASK), _x())
    assert report, report


@pytest.mark.parametrize("name", ["rnn", "gru", "gru-scan", "lstm", "lstm-scan"])
def test_layer_gradcheck_through_the_initial_state(backend_name, name):
    with md.default_dtype("float64"):
        layer = LAYERS[name]()
    lstm = isinstance(layer, nn.LSTM)

    def f(x, *state):
        return layer(x, initial_state=state if lstm else state[0])

    rng = np.random.default_rng(3)
    states = [rng.standard_normal((B, H)) for _ in range(2 if lstm else 1)]
    report = md.gradcheck(f, _x(), *states, params=None)
    assert report, report


@pytest.mark.parametrize("name", ["rnn", "gru", "lstm", "lstm-scan"])
def test_bidirectional_gradcheck(backend_name, name):
    with md.default_dtype("float64"):
        layer = nn.Bidirectional(LAYERS[name]())
    report = md.gradcheck(WithMask(layer, MASK), _x())
    assert report, report
    assert len(report.entries) == 5                     # x, and W, b of each direction


# ----------------------------------------------------------------------------- what the layer returns
@pytest.mark.parametrize("name", list(LAYERS))
def test_many_to_many_and_many_to_one(name):
    x = md.tensor(_x())
    md.seed(0)
    ys, state = LAYERS[name](return_state=True)(x)
    md.seed(0)
    last = LAYERS[name](return_sequences=False)(x)
    assert ys.shape == (B, T, H) and last.shape == (B, H)
    h = state[0] if isinstance(state, tuple) else state
    np.testing.assert_allclose(last.numpy(), ys.numpy()[:, -1], rtol=1e-6)
    np.testing.assert_allclose(h.numpy(), ys.numpy()[:, -1], rtol=1e-6)
    if name.startswith("lstm"):
        assert len(state) == 2 and state[1].shape == (B, H)


@pytest.mark.parametrize("name", list(LAYERS))
def test_padded_steps_neither_change_the_state_nor_get_gradient(name):
    """A padded sequence gives, on its real steps, exactly what the unpadded one gives."""
    with md.default_dtype("float64"):
        layer = LAYERS[name](return_state=True)
        x = md.tensor(_x(), requires_grad=True)
        ys, state = layer(x, mask=MASK)
        short_ys, short_state = layer(md.tensor(x.numpy()[:1, :3]))     # sequence 0 without padding
    np.testing.assert_allclose(ys.numpy()[:1, :3], short_ys.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(ys.numpy()[0, 3:], 0.0)               # padded outputs are 0
    for s, s_short in zip(state if isinstance(state, tuple) else (state,),
                          short_state if isinstance(short_state, tuple) else (short_state,)):
        np.testing.assert_allclose(s.numpy()[:1], s_short.numpy(), rtol=1e-12, atol=1e-14)
    h = state[0] if isinstance(state, tuple) else state
    (ys.sum() + (h * h).sum()).backward()
    np.testing.assert_array_equal(x.grad[0, 3:], 0.0)                   # no gradient into padding
    assert np.all(np.abs(x.grad[0, :3]).sum(axis=-1) > 0)
    assert np.all(np.abs(x.grad[1]).sum(axis=-1) > 0)


def test_many_to_one_with_mask_is_the_last_real_step():
    x = md.tensor(_x())
    md.seed(0)
    ys = nn.GRU(H)(x, mask=MASK)
    md.seed(0)
    last = nn.GRU(H, return_sequences=False)(x, mask=MASK)
    np.testing.assert_allclose(last.numpy()[0], ys.numpy()[0, 2], rtol=1e-6)   # step 3 of 5
    np.testing.assert_allclose(last.numpy()[1], ys.numpy()[1, 4], rtol=1e-6)


def test_mask_may_be_bool_or_a_tensor():
    x = md.tensor(_x())
    layer = nn.LSTM(H)
    a = layer(x, mask=MASK).numpy()
    np.testing.assert_array_equal(layer(x, mask=MASK.astype(bool)).numpy(), a)
    np.testing.assert_array_equal(layer(x, mask=md.tensor(MASK)).numpy(), a)


@pytest.mark.parametrize("name", ["rnn", "gru", "lstm"])
def test_initial_state_is_used(name):
    x = md.tensor(_x())
    layer = LAYERS[name](return_state=True)
    rng = np.random.default_rng(5)
    lstm = isinstance(layer, nn.LSTM)
    s0 = tuple(md.tensor(rng.standard_normal((B, H))) for _ in range(2)) if lstm \
        else md.tensor(rng.standard_normal((B, H)))
    ys, _ = layer(x, initial_state=s0)
    assert not np.allclose(ys.numpy(), layer(x)[0].numpy())
    # the same as stepping the cell by hand from that state
    carry = s0
    for t in range(T):
        y, carry = layer.cell(x[:, t], carry)
        np.testing.assert_allclose(ys.numpy()[:, t], y.numpy(), rtol=1e-5, atol=1e-6)


def test_reverse_reads_the_sequence_backwards():
    x = _x()
    md.seed(0)
    fwd = nn.LSTM(H)
    ys_fwd = fwd(md.tensor(x[:, ::-1].copy()))
    bwd = nn.LSTM(H, reverse=True)
    bwd(md.tensor(x))
    bwd.cell.W.data, bwd.cell.b.data = fwd.cell.W.data, fwd.cell.b.data
    np.testing.assert_allclose(bwd(md.tensor(x)).numpy(), ys_fwd.numpy()[:, ::-1], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- Bidirectional
def test_bidirectional_joins_both_directions_along_features():
    x = md.tensor(_x())
    layer = nn.Bidirectional(nn.GRU(H))
    y = layer(x, mask=MASK)
    assert y.shape == (B, T, 2 * H)
    f, b = layer.forward_layer, layer.backward_layer
    assert not f.reverse and b.reverse
    np.testing.assert_allclose(y.numpy()[..., :H], f(x, mask=MASK).numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.numpy()[..., H:], b(x, mask=MASK).numpy(), rtol=1e-6)
    # the backward direction has its own weights
    assert f.cell.W is not b.cell.W
    assert not np.allclose(f.cell.W.numpy(), b.cell.W.numpy())
    assert len(layer.parameters()) == 4


def test_bidirectional_backward_direction_starts_at_the_last_real_step():
    """With padding, the reversed layer on sequence 0 equals the reversed layer on its 3 real steps."""
    x = _x()
    layer = nn.Bidirectional(nn.LSTM(H))
    y = layer(md.tensor(x), mask=MASK).numpy()
    short = layer(md.tensor(x[:1, :3])).numpy()
    np.testing.assert_allclose(y[:1, :3], short, rtol=1e-5, atol=1e-6)


def test_bidirectional_many_to_one_and_states():
    x = md.tensor(_x())
    y = nn.Bidirectional(nn.LSTM(H, return_sequences=False))(x)
    assert y.shape == (B, 2 * H)
    y, (s_f, s_b) = nn.Bidirectional(nn.GRU(H, return_state=True))(x)
    assert y.shape == (B, T, 2 * H) and s_f.shape == s_b.shape == (B, H)
    np.testing.assert_allclose(s_b.numpy(), y.numpy()[:, 0, H:], rtol=1e-6)    # backward ends at t = 0
    with pytest.raises(TypeError, match="Bidirectional wraps"):
        nn.Bidirectional(nn.Dense(3))


# ----------------------------------------------------------------------------- deep RNNs, names, errors
def test_deep_rnn_is_a_serial_stack(backend_name):
    """Stacked recurrent layers are a plain Serial: each layer's sequence feeds the next."""
    with md.default_dtype("float64"):
        layers = [nn.LSTM(H), nn.GRU(H, fused=False), nn.RNN(H, return_sequences=False), nn.Dense(2)]
        if hasattr(nn, "Serial"):
            model = nn.Serial(*layers)
        else:                                  # fallback while Serial is not there yet
            class Stack(nn.Layer):
                def __init__(self):
                    super().__init__()
                    for i, layer in enumerate(layers):
                        self.add_layer(str(i), layer)

                def forward(self, x):
                    for layer in layers:
                        x = layer(x)
                    return x
            model = Stack()
    x = _x()
    y = model(md.tensor(x, dtype="float64"))
    by_hand = md.tensor(x, dtype="float64")
    for layer in layers:
        by_hand = layer(by_hand)
    assert y.shape == (B, 2)
    np.testing.assert_allclose(y.numpy(), by_hand.numpy(), rtol=1e-13)
    report = md.gradcheck(model, x)
    assert report, report
    assert len(report.entries) == 1 + 2 * 4


def test_names_and_parameters():
    layer = nn.LSTM(8)
    assert layer.name == "LSTM_8" and repr(layer) == "LSTM_8"
    layer(md.tensor(np.ones((1, 2, 3))))
    assert [n for n, _ in layer.named_parameters()] == ["cell.W", "cell.b"]
    assert nn.Bidirectional(nn.GRU(5)).name == "Bidirectional_GRU_5"


def test_layer_errors_name_the_layer_and_the_shapes():
    layer = nn.LSTM(H)
    with pytest.raises(ValueError, match=r"LSTM_4.*\(batch, time, features\).*\(2, 3\)"):
        layer(md.tensor(np.ones((2, 3))))
    layer(md.tensor(np.ones((B, T, D))))
    with pytest.raises(ValueError, match=r"LSTM_4: input of shape \(2, 5, 6\) does not fit W of shape \(7, 16\)"):
        layer(md.tensor(np.ones((B, T, 6))))
    with pytest.raises(ValueError, match=r"LSTM_4: mask of shape \(2, 4\)"):
        layer(md.tensor(np.ones((B, T, D))), mask=np.ones((B, 4)))
    with pytest.raises(ValueError, match=r"GRU_4: initial state of shape \(3, 4\) should be \(2, 4\)"):
        nn.GRU(H)(md.tensor(np.ones((B, T, D))), initial_state=md.tensor(np.ones((3, H))))
