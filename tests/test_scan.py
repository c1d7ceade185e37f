"""md.scan: the same as a hand-written loop, in values and in gradients (BPTT)."""
import numpy as np
import pytest

import minidl as md
from minidl import nn

B, T, D, H = 2, 5, 3, 4


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    x = md.tensor(rng.standard_normal((B, T, D)), dtype="float64", requires_grad=True)
    h0 = md.tensor(rng.standard_normal((B, H)), dtype="float64", requires_grad=True)
    U = md.tensor(0.5 * rng.standard_normal((D, H)), dtype="float64", requires_grad=True)
    V = md.tensor(0.5 * rng.standard_normal((H, H)), dtype="float64", requires_grad=True)
    return x, h0, U, V


def _step(U, V):
    def fn(x_t, h):
        h = md.functional.tanh(x_t @ U + h @ V)
        return 2 * h, h                               # y_t differs from the carry on purpose
    return fn


def _grads(*ts):
    out = [t.grad.copy() for t in ts]
    for t in ts:
        t.grad = None
    return out


def test_scan_equals_a_hand_unrolled_loop(backend_name):
    x, h0, U, V = _setup()
    fn = _step(U, V)
    R = md.tensor(np.random.default_rng(1).standard_normal((B, T, H)), dtype="float64")

    ys, h = md.scan(fn, x, h0)
    ((ys * R).sum() + (h * h).sum()).backward()
    g_scan = _grads(x, h0, U, V)

    h_loop, ys_loop = h0, []
    for t in range(T):
        y, h_loop = fn(x[:, t], h_loop)
        ys_loop.append(y)
    ys_loop = md.stack(ys_loop, axis=1)
    ((ys_loop * R).sum() + (h_loop * h_loop).sum()).backward()
    g_loop = _grads(x, h0, U, V)

    assert ys.shape == (B, T, H) and h.shape == (B, H)
    np.testing.assert_allclose(ys.numpy(), ys_loop.numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(h.numpy(), h_loop.numpy(), rtol=1e-13, atol=1e-14)
    for a, b in zip(g_scan, g_loop):
        assert np.any(a != 0)
        np.testing.assert_allclose(md.backend.asnumpy(a), md.backend.asnumpy(b), rtol=1e-12, atol=1e-13)


def test_reverse_equals_running_on_the_flipped_sequence(backend_name):
    x, h0, U, V = _setup()
    fn = _step(U, V)
    ys_rev, h_rev = md.scan(fn, x, h0, reverse=True)
    x_flipped = md.tensor(x.numpy()[:, ::-1].copy(), dtype="float64")
    ys_flip, h_flip = md.scan(fn, x_flipped, h0)
    np.testing.assert_allclose(h_rev.numpy(), h_flip.numpy(), rtol=1e-13)
    # ys come back in the original time order: ys_rev[:, t] belongs to x[:, t]
    np.testing.assert_allclose(ys_rev.numpy(), ys_flip.numpy()[:, ::-1], rtol=1e-13)
    assert not np.allclose(ys_rev.numpy(), md.scan(fn, x, h0)[0].numpy())


def test_tuple_inputs_and_tuple_carry():
    """xs = (inputs, mask), carry = (running sum, step count): like a masked mean over time."""
    rng = np.random.default_rng(0)
    x = md.tensor(rng.standard_normal((B, T, D)), requires_grad=True)
    mask = md.tensor(np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=np.float32))

    def fn(inputs, carry):
        x_t, m_t = inputs                             # (B, D), (B,)
        total, count = carry
        m_t = m_t.reshape((B, 1))
        return x_t * m_t, (total + x_t * m_t, count + m_t)

    init = (md.tensor(np.zeros((B, D))), md.tensor(np.zeros((B, 1))))
    ys, (total, count) = md.scan(fn, (x, mask), init)
    m = mask.numpy()[..., None]
    np.testing.assert_allclose(ys.numpy(), x.numpy() * m, rtol=1e-6)
    np.testing.assert_allclose(total.numpy(), (x.numpy() * m).sum(axis=1), rtol=1e-5)
    np.testing.assert_array_equal(count.numpy()[:, 0], [3, 5])
    (total / count).sum().backward()
    np.testing.assert_allclose(x.grad, np.broadcast_to(m / np.array([3, 5])[:, None, None], x.shape), rtol=1e-6)


def test_tuple_outputs_and_no_outputs():
    x = md.tensor(np.ones((B, T, D)))
    ys, _ = md.scan(lambda x_t, c: ((x_t, 2 * x_t), c), x, md.tensor(0.0))
    assert isinstance(ys, tuple) and ys[0].shape == ys[1].shape == (B, T, D)
    ys, total = md.scan(lambda x_t, c: (None, c + x_t.sum()), x, md.tensor(0.0))
    assert ys is None and total.item() == B * T * D


def test_other_time_axis():
    x, h0, U, V = _setup()
    fn = _step(U, V)
    ys1, h1 = md.scan(fn, x, h0, axis=1)
    x_time_major = md.tensor(x.numpy().transpose(1, 0, 2).copy(), dtype="float64")
    ys0, h0_ = md.scan(fn, x_time_major, h0, axis=0)
    np.testing.assert_allclose(ys0.numpy().transpose(1, 0, 2), ys1.numpy(), rtol=1e-13)
    np.testing.assert_allclose(h0_.numpy(), h1.numpy(), rtol=1e-13)


def test_scan_of_a_cell_layer():
    """A cell is a Layer with forward(x_t, carry) -> (y_t, carry): it plugs straight in."""
    cell = nn.LSTMCell(H)
    x = md.tensor(np.random.default_rng(0).standard_normal((B, T, D)))
    ys, (h, c) = md.scan(cell, x, cell.initial_state(B))
    assert ys.shape == (B, T, H) and h.shape == c.shape == (B, H)
    np.testing.assert_allclose(ys.numpy()[:, -1], h.numpy())


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_gradcheck_through_time(backend_name, reverse):
    x, h0, U, V = _setup()

    def f(x, h0, U, V):
        return md.scan(_step(U, V), x, h0, reverse=reverse)

    report = md.gradcheck(f, x, h0, U, V)
    assert report, report
    assert len(report.entries) == 4


def test_scan_errors_are_clear():
    x = md.tensor(np.ones((B, T, D)))
    with pytest.raises(ValueError, match="same length along axis 1"):
        md.scan(lambda i, c: (None, c), (x, md.tensor(np.ones((B, T + 1)))), md.tensor(0.0))
    with pytest.raises(ValueError, match="no steps"):
        md.scan(lambda i, c: (None, c), md.tensor(np.ones((B, 0, D))), md.tensor(0.0))
