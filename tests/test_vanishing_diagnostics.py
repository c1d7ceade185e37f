"""nn.diagnostics for vanishing/exploding gradients (step Jacobians, their product's largest singular
value, gradient per layer) and the identity-ReLU RNN initialisation (IRNN, Le et al. 2015)."""
import numpy as np
import pytest

import minidl as md
from minidl import nn
from minidl.nn import diagnostics

T, D, H = 6, 3, 4


def _seq(seed=0, T=T):
    return np.random.default_rng(seed).standard_normal((T, D))


# ----------------------------------------------------------------------------- step Jacobians
def test_tanh_rnn_jacobian_is_the_slide_formula(backend_name):
    """J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh^T for h_t = tanh(h_{t-1} W_hh + x_t W_xh + b)."""
    with md.default_dtype("float64"):
        layer = nn.RNN(H)
        x = _seq()
        J = diagnostics.state_jacobians(layer, x)
        hs = layer(md.tensor(x[None])).numpy()[0]                          # (T, H)
    W_hh = layer.cell.W.numpy()[:H]
    assert J.shape == (T, H, H)
    for t in range(T):
        np.testing.assert_allclose(J[t], np.diag(1 - hs[t] ** 2) @ W_hh.T, rtol=1e-12, atol=1e-14)


def _one_step(cell, x_t, state):
    """s_t from s_{t-1} (flat [h] or [h, c]) with no gradient tracking, float64."""
    h_dim = cell.n_units
    carry = (md.tensor(state[None, :h_dim]), md.tensor(state[None, h_dim:])) \
        if isinstance(cell, nn.LSTMCell) else md.tensor(state[None])
    _, new = cell(md.tensor(x_t[None]), carry)
    return np.concatenate([s.numpy()[0] for s in (new if isinstance(new, tuple) else (new,))])


@pytest.mark.parametrize("make", [lambda: nn.GRU(H), lambda: nn.LSTM(H)], ids=["gru", "lstm"])
def test_gated_jacobians_match_finite_differences(make):
    """Column j of J_t is (s_t(s_{t-1} + eps e_j) - s_t(s_{t-1} - eps e_j)) / 2eps; the LSTM's
    state is [h, c], so its Jacobian is (2H, 2H) and includes the cell path dc_t/dc_{t-1} = f."""
    with md.default_dtype("float64"):
        layer = make()
        x = _seq(1)
        J = diagnostics.state_jacobians(layer, x)
        cell = layer.cell
        S = J.shape[1]
        assert S == (2 * H if isinstance(cell, nn.LSTMCell) else H)
        state, eps = np.zeros(S), 1e-6
        for t in range(T):
            numeric = np.stack([(_one_step(cell, x[t], state + eps * e) - _one_step(cell, x[t], state - eps * e))
                                / (2 * eps) for e in np.eye(S)], axis=1)
            np.testing.assert_allclose(J[t], numeric, rtol=1e-6, atol=1e-9)
            state = _one_step(cell, x[t], state)


def test_jacobians_leave_parameter_gradients_alone():
    layer = nn.LSTM(H)
    x = md.tensor(_seq()[None])
    layer(x).sum().backward()
    before = [p.grad.copy() for p in layer.parameters()]
    diagnostics.state_jacobians(layer, x)
    for g, p in zip(before, layer.parameters()):
        np.testing.assert_array_equal(g, p.grad)


def test_jacobians_reject_a_batch():
    with pytest.raises(ValueError, match=r"one sequence .* got shape \(2, 6, 3\)"):
        diagnostics.state_jacobians(nn.RNN(H), np.zeros((2, T, D)))


# ----------------------------------------------------------------------------- products of Jacobians
def test_product_norms_are_those_of_the_matrix_product():
    rng = np.random.default_rng(0)
    J = rng.standard_normal((5, 3, 3))
    norms = diagnostics.jacobian_product_norms(J)
    product = np.eye(3)
    for d in range(1, 6):
        product = product @ J[5 - d]                                      # J_T J_{T-1} ... (last first)
        np.testing.assert_allclose(norms[d - 1], np.linalg.norm(product, 2), rtol=1e-10)


def test_product_norms_measure_extreme_scales():
    """0.01 I for 150 steps is 1e-300 and 10 I is 1e+150: measured, not lost on the way."""
    tiny = diagnostics.jacobian_product_norms(np.stack([0.01 * np.eye(2)] * 150))
    np.testing.assert_allclose(tiny, 0.01 ** np.arange(1, 151), rtol=1e-9)
    huge = diagnostics.jacobian_product_norms(np.stack([10.0 * np.eye(2)] * 150))
    np.testing.assert_allclose(huge, 10.0 ** np.arange(1, 151), rtol=1e-9)
    np.testing.assert_array_equal(diagnostics.jacobian_product_norms(np.zeros((3, 2, 2))), 0.0)
    with pytest.raises(ValueError, match=r"\(T, S, S\)"):
        diagnostics.jacobian_product_norms(np.zeros((3, 2, 4)))


def test_full_product_is_the_sensitivity_of_the_last_state_to_the_first():
    """sigma_max(ds_T/ds_0) by finite differences through the whole LSTM sequence."""
    with md.default_dtype("float64"):
        layer = nn.LSTM(H)
        x = _seq(2)
        norms = diagnostics.jacobian_product_norms(diagnostics.state_jacobians(layer, x))

        def last_state(s0):
            s = s0
            for t in range(T):
                s = _one_step(layer.cell, x[t], s)
            return s
        eps = 1e-6
        full = np.stack([(last_state(eps * e) - last_state(-eps * e)) / (2 * eps) for e in np.eye(2 * H)], axis=1)
    np.testing.assert_allclose(norms[-1], np.linalg.norm(full, 2), rtol=1e-6)


def test_tanh_rnn_product_obeys_the_slide_bound():
    """|tanh'| <= 1, so sigma_max(J_T ... J_{T-d+1}) <= sigma_max(W_hh)^d; with small weights it vanishes."""
    layer = nn.RNN(8)
    x = _seq(3, T=40)
    layer(md.tensor(x[None]))
    layer.cell.W.data *= 0.5
    norms = diagnostics.jacobian_product_norms(diagnostics.state_jacobians(layer, x))
    sigma = np.linalg.norm(layer.cell.W.numpy()[:8], 2)
    assert sigma < 1
    assert np.all(norms <= sigma ** np.arange(1, 41) * (1 + 1e-4))
    assert norms[-1] < 1e-6


# ----------------------------------------------------------------------------- gradient per layer
def test_grad_norms_per_layer():
    model = nn.Serial(nn.Dense(3), nn.Tanh(), nn.Dense(2))
    x = md.tensor(_seq()[:, :3])
    assert np.all(diagnostics.grad_norms_per_layer(list(model)) == 0)          # no backward yet
    model(x).sum().backward()
    norms = diagnostics.grad_norms_per_layer(list(model))
    d1 = np.sqrt(sum((p.grad.astype(np.float64) ** 2).sum() for p in model[0].parameters()))
    np.testing.assert_allclose(norms, [d1, 0.0, np.sqrt(sum((p.grad.astype(np.float64) ** 2).sum()
                                                           for p in model[2].parameters()))], rtol=1e-6)


# ----------------------------------------------------------------------------- the IRNN
def test_irnn_layer_starts_from_the_identity_and_zero_bias():
    layer = nn.RNN(H, activation="relu", init="identity")
    layer(md.tensor(np.ones((1, 2, D))))
    np.testing.assert_array_equal(layer.cell.W.numpy()[:H], np.eye(H))
    np.testing.assert_array_equal(layer.cell.b.numpy(), 0.0)
    bi = nn.Bidirectional(layer)                                # the backward copy is an IRNN too
    bi(md.tensor(np.ones((1, 2, D))))
    np.testing.assert_array_equal(bi.backward_layer.cell.W.numpy()[:H], np.eye(H))
    assert bi.backward_layer.cell.activation == "relu"


def test_irnn_passes_gradients_through_time_unchanged_while_its_units_are_active():
    """With every ReLU active (non-negative inputs and input weights), h_t = h_{t-1} + x_t W_xh:
    each J_t is exactly I and ||dL/dh_t|| is the same at every distance; a Glorot-initialised
    ReLU RNN on the same inputs is not."""
    x = np.abs(_seq(4, T=50))
    norms = {}
    for init in ("identity", "glorot"):
        md.seed(0)
        layer = nn.RNN(H, activation="relu", init=init)
        layer(md.tensor(x[None]))
        layer.cell.W.data[H:] = np.abs(layer.cell.W.data[H:])        # all pre-activations >= 0
        J = diagnostics.state_jacobians(layer, x)
        norms[init] = nn.grad_norms_through_time(layer, md.tensor(x[None]))
        if init == "identity":
            np.testing.assert_array_equal(J, np.broadcast_to(np.eye(H), J.shape))
    np.testing.assert_allclose(norms["identity"], np.sqrt(H), rtol=1e-6)    # L = sum(h_T): dL/dh_T = 1
    assert norms["glorot"].min() < 0.5 * norms["glorot"].max()


def test_grad_norms_through_layers_is_the_gradient_at_each_output():
    """Probe l's gradient is dL/dy_l: check it by cutting the stack after layer l."""
    layers = [nn.Dense(5), nn.Tanh(), nn.Dense(5), nn.Tanh(), nn.Dense(1)]
    x_np = _seq()[:, :3]
    loss_fn = lambda y: (y * y).sum()
    norms = diagnostics.grad_norms_through_layers(layers, md.tensor(x_np), loss_fn)
    assert norms.shape == (5,) and all(p.grad is None for layer in layers for p in layer.parameters())
    for cut in range(5):
        y = md.tensor(x_np)
        for layer in layers[:cut + 1]:
            y = layer(y)
        y_l = md.Tensor(y.data, requires_grad=True)                          # a leaf at layer l's output
        out = y_l
        for layer in layers[cut + 1:]:
            out = layer(out)
        loss_fn(out).backward()
        np.testing.assert_allclose(norms[cut], np.linalg.norm(y_l.grad), rtol=1e-5)
