"""Optimizers take exactly the steps of their textbook equations (numbers worked out by hand)."""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim


def _param(values):
    with md.default_dtype("float64"):
        return nn.parameter(np.array(values, dtype=float))


def _set_grad(p, g):
    p.grad = md.backend.xp_of(p.data).asarray(g, dtype=p.dtype)


def _close(p, expected, tol=1e-12):
    np.testing.assert_allclose(p.numpy(), expected, rtol=0, atol=tol)


def test_sgd_step_through_backward(backend_name):
    # L = 0.5 |p|^2  ->  g = p;  p <- p - 0.1 p = 0.9 p
    p = _param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1)
    ((p * p).sum() * 0.5).backward()
    opt.step()
    _close(p, [0.9, -1.8])
    opt.zero_grad()
    assert p.grad is None


def test_sgd_momentum_two_steps(backend_name):
    p = _param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    _set_grad(p, [0.5, 1.0])
    opt.step()            # v = g = [0.5, 1];          p = [1 - 0.05, -2 - 0.1]       = [0.95, -2.1]
    _close(p, [0.95, -2.1])
    _set_grad(p, [0.5, 1.0])
    opt.step()            # v = 0.9 v + g = [0.95, 1.9]; p = [0.95 - 0.095, -2.1 - 0.19] = [0.855, -2.29]
    _close(p, [0.855, -2.29])
    assert isinstance(opt.state[p]["v"], md.backend.xp_of(p.data).ndarray)   # state on p's backend


def test_sgd_weight_decay(backend_name):
    p = _param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1, weight_decay=0.1)
    _set_grad(p, [0.5, 1.0])
    opt.step()            # g + 0.1 p = [0.6, 0.8];  p = [1 - 0.06, -2 - 0.08]
    _close(p, [0.94, -2.08])


def test_adam_two_steps(backend_name):
    p = _param([1.0, -2.0])
    opt = optim.Adam([p], lr=0.1)
    # step 1, g = [0.5, 1]: m = [0.05, 0.1], v = [0.00025, 0.001]; m_hat = g, sqrt(v_hat) = |g|
    #   so each coordinate moves by lr * g / (|g| + 1e-8) = 0.1 (minus the eps effect: 2e-9, 1e-9)
    _set_grad(p, [0.5, 1.0])
    opt.step()
    _close(p, [0.900000002, -2.099999999])
    # step 2, g = [-1, 1]: m = [-0.055, 0.19], v = [0.00124975, 0.001999]
    #   m_hat = m / 0.19 = [-0.2894737, 1];  v_hat = v / 0.001999 = [0.6251876, 1]
    #   step = 0.1 * [-0.2894737 / 0.7906884, 1 / 1] = [-0.0366104, 0.1]
    _set_grad(p, [-1.0, 1.0])
    opt.step()
    _close(p, [0.9366103542, -2.199999998], tol=1e-9)
    np.testing.assert_allclose(md.backend.asnumpy(opt.state[p]["m"]), [-0.055, 0.19], rtol=1e-12)
    np.testing.assert_allclose(md.backend.asnumpy(opt.state[p]["v"]), [0.00124975, 0.001999], rtol=1e-12)
    assert opt.state[p]["t"] == 2


def test_adam_weight_decay_enters_the_gradient(backend_name):
    p = _param([1.0, -2.0])
    opt = optim.Adam([p], lr=0.1, weight_decay=0.1)
    _set_grad(p, [-0.05, 0.1])
    opt.step()            # g + 0.1 p = [0.05, -0.1]: the signs flip, so p moves by -0.1 * sign
    _close(p, [0.9, -1.9], tol=1e-6)


def test_parameters_without_grad_are_skipped(backend_name):
    a, b = _param([1.0]), _param([2.0])
    opt = optim.Adam([a, b], lr=0.1)
    _set_grad(a, [1.0])
    opt.step()
    _close(a, [0.9], tol=1e-7)
    _close(b, [2.0])
    assert b not in opt.state


def test_a_parameter_listed_twice_is_updated_once():
    p = _param([1.0])
    opt = optim.SGD([p, p], lr=0.1)
    _set_grad(p, [1.0])
    opt.step()
    _close(p, [0.9])


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_old_norm(backend_name):
    a, b = _param([1.0, 1.0]), _param([1.0])
    _set_grad(a, [3.0, 0.0])
    _set_grad(b, [4.0])
    assert optim.clip_grad_norm([a, b], max_norm=10.0) == pytest.approx(5.0)
    np.testing.assert_allclose(md.backend.asnumpy(a.grad), [3.0, 0.0])       # under the cap: untouched
    norm = optim.clip_grad_norm([a, b], max_norm=1.0)
    assert isinstance(norm, float) and norm == pytest.approx(5.0)
    np.testing.assert_allclose(md.backend.asnumpy(a.grad), [0.6, 0.0], rtol=1e-9)
    np.testing.assert_allclose(md.backend.asnumpy(b.grad), [0.8], rtol=1e-9)
    assert optim.clip_grad_norm([a, b], max_norm=1.0) == pytest.approx(1.0)


def test_optimizer_given_a_lazy_layer_rereads_its_parameters(backend_name):
    model = nn.Serial(nn.Dense(1))                     # W does not exist yet
    opt = optim.SGD(model, lr=0.1)
    x = md.tensor([[1.0, 2.0]])
    loss = model(x).sum()
    W0 = model[0].W.numpy().copy()
    opt.zero_grad()
    loss.backward()
    opt.step()                                          # dL/dW = x^T, dL/db = 1
    np.testing.assert_allclose(model[0].W.numpy(), W0 - 0.1 * np.array([[1.0], [2.0]]), rtol=1e-6)
    np.testing.assert_allclose(model[0].b.numpy(), [-0.1], rtol=1e-6)


def test_empty_parameter_list_explains_lazy_layers():
    with pytest.raises(ValueError, match="empty parameter list.*lazily.*pass the layer itself"):
        optim.Adam(nn.Serial(nn.Dense(3)).parameters())
    opt = optim.SGD(nn.Serial(nn.Dense(3)), lr=0.1)
    with pytest.raises(RuntimeError, match="no parameters yet"):
        opt.step()
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([_param([1.0])], lr=0.0)
