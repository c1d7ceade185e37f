"""Recurrent cells: the slide equations, shapes, initialisation, gradients through time.

Each cell's forward is compared with an independent NumPy transcription of the
slide equations written here (no minidl inside), step by step over a sequence.
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn

B, T, D, H = 2, 5, 3, 4


# ----------------------------------------------------------------------------- the slides, in NumPy
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def rnn_step(x, h, W, b, g):
    """h_t = g(W_h [h_{t-1}, x_t] + b_h)"""
    return g(np.concatenate([h, x], axis=1) @ W + b)


def gru_step(x, h, W, b):
    """Γu, Γr over [h, x]; h' = tanh(W_h [Γr * h, x] + b_h); h = (1 - Γu) * h + Γu * h'."""
    W_u, W_r, W_h = W[:, :H], W[:, H:2 * H], W[:, 2 * H:]
    b_u, b_r, b_h = b[:H], b[H:2 * H], b[2 * H:]
    hx = np.concatenate([h, x], axis=1)
    u = sigmoid(hx @ W_u + b_u)
    r = sigmoid(hx @ W_r + b_r)
    h_cand = np.tanh(np.concatenate([r * h, x], axis=1) @ W_h + b_h)
    return (1 - u) * h + u * h_cand


def lstm_step(x, h, c, W, b):
    """f, i, g, o over [h, x]; c = f c + i g; h = o tanh(c)."""
    hx = np.concatenate([h, x], axis=1)
    f = sigmoid(hx @ W[:, :H] + b[:H])
    i = sigmoid(hx @ W[:, H:2 * H] + b[H:2 * H])
    g = np.tanh(hx @ W[:, 2 * H:3 * H] + b[2 * H:3 * H])
    o = sigmoid(hx @ W[:, 3 * H:] + b[3 * H:])
    c = f * c + i * g
    return o * np.tanh(c), c


def relu(z):
    return np.maximum(z, 0)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, D)), 0.5 * rng.standard_normal((B, H)), 0.5 * rng.standard_normal((B, H))


def _randomise(cell, seed=1):
    """Random (not init-shaped) parameters, so every slice and bias matters in the comparison."""
    rng = np.random.default_rng(seed)
    for p in cell.parameters():
        p.data = md.tensor(0.5 * rng.standard_normal(p.shape), dtype="float64", backend_name=p.backend).data


# ----------------------------------------------------------------------------- forward = the equations
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_cell_follows_the_slide_equation(backend_name, activation):
    x, h0, _ = _data()
    with md.default_dtype("float64"):
        cell = nn.RNNCell(H, activation=activation)
        cell.build(D)
    _randomise(cell)
    W, b = cell.W.numpy(), cell.b.numpy()
    h, h_ref = md.tensor(h0, dtype="float64"), h0
    for t in range(T):
        y, h = cell(md.tensor(x[:, t], dtype="float64"), h)
        h_ref = rnn_step(x[:, t], h_ref, W, b, np.tanh if activation == "tanh" else relu)
        np.testing.assert_allclose(h.numpy(), h_ref, rtol=1e-12, atol=1e-12)
        assert y is h


def test_gru_cell_follows_the_slide_equations(backend_name):
    x, h0, _ = _data()
    with md.default_dtype("float64"):
        cell = nn.GRUCell(H)
        cell.build(D)
    _randomise(cell)
    W, b = cell.W.numpy(), cell.b.numpy()
    h, h_ref = md.tensor(h0, dtype="float64"), h0
    for t in range(T):
        y, h = cell(md.tensor(x[:, t], dtype="float64"), h)
        h_ref = gru_step(x[:, t], h_ref, W, b)
        np.testing.assert_allclose(h.numpy(), h_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(y.numpy(), h_ref, rtol=1e-12, atol=1e-12)


def test_lstm_cell_follows_the_slide_equations(backend_name):
    x, h0, c0 = _data()
    with md.default_dtype("float64"):
        cell = nn.LSTMCell(H)
        cell.build(D)
    _randomise(cell)
    W, b = cell.W.numpy(), cell.b.numpy()
    carry = (md.tensor(h0, dtype="float64"), md.tensor(c0, dtype="float64"))
    h_ref, c_ref = h0, c0
    for t in range(T):
        y, carry = cell(md.tensor(x[:, t], dtype="float64"), carry)
        h_ref, c_ref = lstm_step(x[:, t], h_ref, c_ref, W, b)
        np.testing.assert_allclose(carry[0].numpy(), h_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(carry[1].numpy(), c_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(y.numpy(), h_ref, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- shapes and initialisation
@pytest.mark.parametrize("cls, n_gates", [(nn.RNNCell, 1), (nn.GRUCell, 3), (nn.LSTMCell, 4)])
def test_one_fused_weight_over_h_and_x(cls, n_gates):
    cell = cls(H)
    assert not cell.built and cell.parameters() == []
    y, _ = cell(md.tensor(np.ones((B, D))))           # D is inferred at the first call
    assert cell.W.shape == (H + D, n_gates * H)
    assert cell.b.shape == (n_gates * H,)
    assert y.shape == (B, H) and y.dtype == np.float32
    assert [n for n, _ in cell.named_parameters()] == ["W", "b"]
    # Glorot-uniform per gate block: every block within its own bound sqrt(6 / (H + D + H))
    bound = np.sqrt(6.0 / (H + D + H))
    assert np.abs(cell.W.numpy()).max() <= bound
    assert np.abs(cell.W.numpy()).max() > 0.5 * bound


def test_lstm_forget_bias_starts_at_one():
    cell = nn.LSTMCell(H)
    cell.build(D)
    b = cell.b.numpy()
    np.testing.assert_array_equal(b[:H], 1.0)          # b_f
    np.testing.assert_array_equal(b[H:], 0.0)          # b_i, b_g, b_o


def test_gru_and_rnn_biases_start_at_zero():
    for cell in (nn.GRUCell(H), nn.RNNCell(H)):
        cell.build(D)
        np.testing.assert_array_equal(cell.b.numpy(), 0.0)


def test_identity_rnn_starts_with_identity_recurrent_block():
    cell = nn.RNNCell(H, activation="relu", init="identity")
    cell.build(D)
    W = cell.W.numpy()
    np.testing.assert_array_equal(W[:H], np.eye(H))
    assert np.any(W[H:] != 0)                           # the input block is still random
    # with zero input weights the state is copied unchanged: relu(I h) = h for h >= 0
    cell.W.data[H:] = 0
    h = md.tensor(np.abs(np.random.default_rng(0).standard_normal((B, H))))
    _, h1 = cell(md.tensor(np.ones((B, D))), h)
    np.testing.assert_allclose(h1.numpy(), h.numpy(), rtol=1e-6)


def test_initial_state_is_zeros_of_the_right_shape(backend_name):
    with md.default_dtype("float64"):
        h = nn.GRUCell(H).initial_state(B)
        h_like = nn.GRUCell(H).initial_state(B, like=md.tensor(np.ones((B, D)), dtype="float32"))
        hc = nn.LSTMCell(H).initial_state(B)
    assert h.shape == (B, H) and h.dtype == np.float64 and not np.any(h.numpy())
    assert h_like.dtype == np.float32 and h_like.backend == backend_name
    assert isinstance(hc, tuple) and len(hc) == 2
    assert all(s.shape == (B, H) and not np.any(s.numpy()) for s in hc)


def test_cell_without_carry_starts_from_zeros():
    cell = nn.LSTMCell(H)
    x = md.tensor(np.ones((B, D)))
    y1, _ = cell(x)
    y2, _ = cell(x, cell.initial_state(B))
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())


def test_cell_shape_errors_name_the_cell_and_both_shapes():
    cell = nn.LSTMCell(H)
    cell(md.tensor(np.ones((B, D))))
    with pytest.raises(ValueError, match=r"LSTMCell_4.*\(2, 5\).*\(7, 16\)"):
        cell(md.tensor(np.ones((B, 5))))
    with pytest.raises(ValueError, match=r"LSTMCell_4: state of shape \(2, 3\)"):
        cell(md.tensor(np.ones((B, D))), (md.tensor(np.ones((B, 3))), md.tensor(np.ones((B, 3)))))
    with pytest.raises(ValueError, match="activation"):
        nn.RNNCell(H, activation="sigmoid")
    with pytest.raises(ValueError, match="init"):
        nn.RNNCell(H, init="orthogonal")


# ----------------------------------------------------------------------------- gradients through time
@pytest.mark.parametrize("make", [lambda: nn.RNNCell(H), lambda: nn.RNNCell(H, "relu", "identity"),
                                  lambda: nn.GRUCell(H), lambda: nn.LSTMCell(H)],
                         ids=["rnn-tanh", "rnn-relu-identity", "gru", "lstm"])
def test_cell_gradients_through_time(backend_name, make):
    """BPTT over T = 5 steps, float64: inputs x, the initial state, and W, b."""
    x, h0, c0 = _data()
    with md.default_dtype("float64"):
        cell = make()
        cell.build(D)
    lstm = isinstance(cell, nn.LSTMCell)

    def unrolled(x, *state):
        ys, carry = md.scan(cell, x, state if lstm else state[0])
        return (ys,) + (carry if lstm else (carry,))

    inputs = (x, h0, c0) if lstm else (x, h0)
    report = md.gradcheck(unrolled, *inputs, params=cell.parameters())
    assert report, report
    assert len(report.entries) == len(inputs) + 2          # every input, W and b were checked
