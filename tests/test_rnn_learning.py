"""Long-range memory: an LSTM learns what a vanilla RNN cannot, and why (gradient norms through time)."""
import numpy as np

import minidl as md
from minidl import nn, optim

T, D, H = 30, 3, 16


def first_token_task(rng, n):
    """30 steps of Gaussian noise; the class (0/1) is written only in the first step (feature 0 = -1/+1)."""
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, T, D))
    x[:, 0, :] = 0.0
    x[:, 0, 0] = 2.0 * y - 1.0
    return x.astype(np.float32), y


def train_and_evaluate(recurrent_layer, steps=400, batch=32, lr=0.005, seed=0):
    """Adam with gradient clipping (BPTT's guard against exploding gradients); returns test accuracy."""
    md.seed(seed)
    rng = np.random.default_rng(seed)
    model = nn.Serial(recurrent_layer, nn.Dense(2))
    x_test, y_test = first_token_task(np.random.default_rng(1234), 512)
    model(md.tensor(x_test[:2]))                                 # build the lazy layers
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        x, y = first_token_task(rng, batch)
        loss = md.losses.cross_entropy(model(md.tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm(model.parameters(), 1.0)
        opt.step()
    with md.no_grad():
        predicted = model(md.tensor(x_test)).numpy().argmax(axis=-1)
    return float((predicted == y_test).mean())


def test_lstm_remembers_the_first_token_where_a_vanilla_rnn_fails():
    """Same size (16 units), same data, same optimiser and budget: 400 steps of Adam."""
    lstm_accuracy = train_and_evaluate(nn.LSTM(H, return_sequences=False))
    rnn_accuracy = train_and_evaluate(nn.RNN(H, return_sequences=False))
    assert lstm_accuracy >= 0.9, lstm_accuracy
    assert rnn_accuracy <= 0.7, rnn_accuracy                     # chance is 0.5


def _small_tanh_rnn(scale):
    layer = nn.RNN(H, return_sequences=False)
    layer(md.tensor(np.zeros((1, 1, D))))
    layer.cell.W.data *= scale
    return layer


def test_gradient_norms_vanish_through_time_in_a_tanh_rnn_with_small_weights():
    x = md.tensor(np.random.default_rng(0).standard_normal((4, T, D)))
    norms = nn.grad_norms_through_time(_small_tanh_rnn(0.3), x)
    assert norms.shape == (T,)
    # the loss sits on the last step: the gradient reaching earlier steps decays geometrically
    assert np.all(np.diff(norms) > 0)                             # strictly growing towards t = T
    assert norms[0] < 1e-6 * norms[-1]
    np.testing.assert_allclose(norms[-1], np.sqrt(4 * H), rtol=1e-6)   # dL/dh_T = 1 for L = sum(h_T)


def test_gradient_norms_match_backprop_to_the_initial_state():
    """||dL/dh_t|| at t = 1 relates to dL/dh_0 by one more Jacobian: check the probe against a plain backward."""
    layer = _small_tanh_rnn(1.0)
    x_np = np.random.default_rng(1).standard_normal((2, 6, D)).astype(np.float32)
    norms = nn.grad_norms_through_time(layer, md.tensor(x_np), loss_fn=lambda ys: (ys * ys).sum())
    # the same number from scratch: the gradient reaching h_3 (t = 4, index 3) by splitting the sequence
    x = md.tensor(x_np)
    _, h3 = md.scan(layer.cell, x[:, :4], layer.cell.initial_state(2))
    h3 = md.Tensor(h3.data, requires_grad=True)
    ys_rest, _ = md.scan(layer.cell, x[:, 4:], h3)
    loss = (h3 * h3).sum() + (ys_rest * ys_rest).sum()           # the loss terms that depend on h_3
    loss.backward()
    np.testing.assert_allclose(norms[3], np.linalg.norm(h3.grad), rtol=1e-5)


def test_grad_norms_leave_parameter_gradients_alone():
    layer = nn.GRU(H)
    x = md.tensor(np.ones((2, 5, D)))
    layer(x).sum().backward()
    before = [p.grad.copy() for p in layer.parameters()]
    nn.grad_norms_through_time(layer, x)
    for g, p in zip(before, layer.parameters()):
        np.testing.assert_array_equal(g, p.grad)
