"""The fused LSTM/GRU Functions against the readable scan path: same values, same gradients.

On CuPy the fused path runs the elementwise kernels of minidl/fast/cupy_kernels.py,
so the same tests (via the ``backend_name`` fixture) check those kernels.
"""
import pathlib
import re

import numpy as np
import pytest

import minidl as md
from minidl import nn
from minidl.fast import fused_rnn

B, T, D, H = 2, 5, 3, 4
MASK = np.array([[1, 1, 1, 0, 0],
                 [0, 1, 1, 1, 1]])                   # right padding and a gap at the front


def _run(layer, x, mask, state, R, R_state):
    """Outputs and every gradient (x, initial state, W, b) of a fixed scalar of all outputs."""
    layer.zero_grad()
    x = md.tensor(x, dtype="float64", requires_grad=True)
    state = tuple(md.tensor(s, dtype="float64", requires_grad=True) for s in state)
    ys, final = layer(x, mask=mask, initial_state=state if len(state) == 2 else state[0])
    final = final if isinstance(final, tuple) else (final,)
    loss = (ys * md.tensor(R, dtype="float64")).sum()
    for s, r in zip(final, R_state):
        loss = loss + (s * md.tensor(r, dtype="float64")).sum()
    loss.backward()
    values = [ys.numpy()] + [s.numpy() for s in final]
    grads = [x.grad] + [s.grad for s in state] + [p.grad for p in layer.parameters()]
    return values, [md.backend.asnumpy(g) for g in grads]


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("mask", [None, MASK], ids=["no-mask", "mask"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_fused_equals_scan_in_value_and_every_gradient(backend_name, cls, mask, reverse):
    rng = np.random.default_rng(0)
    n_state = 2 if cls is nn.LSTM else 1
    x = rng.standard_normal((B, T, D))
    state = [0.5 * rng.standard_normal((B, H)) for _ in range(n_state)]
    R = rng.standard_normal((B, T, H))
    R_state = [rng.standard_normal((B, H)) for _ in range(n_state)]
    with md.default_dtype("float64"):
        layer = cls(H, return_state=True, reverse=reverse)
        layer.cell.build(D)
    for p in layer.parameters():                       # not the init values: every slice matters
        p.data = p.data + 0.3 * md.tensor(rng.standard_normal(p.shape), dtype="float64",
                                          backend_name=backend_name).data
    layer.fused = True
    fused_values, fused_grads = _run(layer, x, mask, state, R, R_state)
    layer.fused = False
    scan_values, scan_grads = _run(layer, x, mask, state, R, R_state)
    assert len(fused_grads) == 1 + n_state + 2
    for a, b in zip(fused_values, scan_values):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    for a, b in zip(fused_grads, scan_grads):
        assert np.any(a != 0)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mask", [None, MASK], ids=["no-mask", "mask"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_fused_lstm_gradcheck(backend_name, mask, reverse):
    xp = md.backend.module(backend_name)
    rng = np.random.default_rng(1)
    W = 0.5 * rng.standard_normal((H + D, 4 * H))
    b = 0.5 * rng.standard_normal(4 * H)
    m = None if mask is None else xp.asarray(mask, dtype=np.float64)

    def f(x, h0, c0, W, b):
        return fused_rnn.lstm_sequence(x, h0, c0, W, b, mask=m, reverse=reverse)

    report = md.gradcheck(f, rng.standard_normal((B, T, D)), rng.standard_normal((B, H)),
                          rng.standard_normal((B, H)), W, b)
    assert report, report
    assert len(report.entries) == 5


@pytest.mark.parametrize("mask", [None, MASK], ids=["no-mask", "mask"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_fused_gru_gradcheck(backend_name, mask, reverse):
    xp = md.backend.module(backend_name)
    rng = np.random.default_rng(2)
    W = 0.5 * rng.standard_normal((H + D, 3 * H))
    b = 0.5 * rng.standard_normal(3 * H)
    m = None if mask is None else xp.asarray(mask, dtype=np.float64)

    def f(x, h0, W, b):
        return fused_rnn.gru_sequence(x, h0, W, b, mask=m, reverse=reverse)

    report = md.gradcheck(f, rng.standard_normal((B, T, D)), rng.standard_normal((B, H)), W, b)
    assert report, report
    assert len(report.entries) == 4


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_fused_path_is_one_graph_node_over_the_cell_parameters(cls):
    layer = cls(H, fused=True)
    x = md.tensor(np.ones((B, T, D)), requires_grad=True)
    ys = layer(x)
    fn = ys._ctx
    assert isinstance(fn, fused_rnn.LSTMSequence if cls is nn.LSTM else fused_rnn.GRUSequence)
    assert fn.inputs[0] is x
    assert fn.inputs[-2] is layer.cell.W and fn.inputs[-1] is layer.cell.b
    layer.fused = False
    assert not isinstance(layer(x)._ctx, (fused_rnn.LSTMSequence, fused_rnn.GRUSequence))


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("mask", [None, MASK], ids=["no-mask", "mask"])
def test_float32_stays_float32(cls, mask):
    """No accidental float64 upcast anywhere: outputs, states and every gradient stay float32."""
    layer = cls(H, return_state=True, fused=True)
    x = md.tensor(np.random.default_rng(0).standard_normal((B, T, D)), requires_grad=True)
    ys, state = layer(x, mask=mask)
    states = state if isinstance(state, tuple) else (state,)
    assert ys.dtype == np.float32 and all(s.dtype == np.float32 for s in states)
    (ys.sum() + sum(s.sum() for s in states)).backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    # and float32 agrees with the scan path to float32 precision
    x.grad = None
    grads = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    layer.fused = False
    ys2, state2 = layer(x, mask=mask)
    np.testing.assert_allclose(ys.numpy(), ys2.numpy(), rtol=1e-5, atol=1e-6)
    states2 = state2 if isinstance(state2, tuple) else (state2,)
    (ys2.sum() + sum(s.sum() for s in states2)).backward()
    for g, p in zip(grads, layer.parameters()):
        np.testing.assert_allclose(g, p.grad, rtol=1e-4, atol=1e-5)


def test_numpy_arrays_never_select_a_kernel():
    assert fused_rnn._kernel("lstm_forward", np.zeros((2, 16))) is None


def test_every_numpy_step_function_has_a_cupy_kernel_twin():
    """The kernels cannot run without a GPU; at least check that the names line up."""
    wing = pathlib.Path(fused_rnn.__file__).resolve().parent
    kernels = set(re.findall(r'^    "(\w+)": \(', (wing / "cupy_kernels.py").read_text(), re.M))
    used = set(re.findall(r'_kernel\("(\w+)"', (wing / "fused_rnn.py").read_text()))
    assert used == kernels == {"lstm_forward", "lstm_backward", "gru_gates_forward",
                               "gru_candidate_forward", "gru_candidate_backward", "gru_gates_backward"}
    for name in kernels:                               # each kernel has its NumPy twin of the same name
        assert callable(getattr(fused_rnn, name))


def _both(cp, *host):
    """Host arrays and their device copies (the twin runs on the first, the kernel on the second)."""
    return [a.copy() for a in host], [cp.asarray(a) for a in host]


def _assert_same(cp, host, device, tol):
    for h, d in zip(host, device):
        np.testing.assert_allclose(cp.asnumpy(d), h, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_cupy_kernel_equals_its_numpy_twin_step_by_step(cp, dtype):
    """One step of each kernel against its NumPy twin, on the same numbers, every array it writes.

    On a GPU this is the kernels' own check (the sequence tests above check them only
    through whole sequences); on the CPU stand-in there are no kernels, so it checks
    that the twins compute the same on device arrays as on host arrays.
    """
    rng = np.random.default_rng(0)
    Bk, Hk = 3, 5
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)

    def draw(*shapes):
        return [(2 * rng.standard_normal(s)).astype(dtype) for s in shapes]

    # LSTM forward: gates (pre-activations in, activations out), c, tanh(c), h
    gates, c_prev = draw((Bk, 4 * Hk), (Bk, Hk))
    hs, ds = _both(cp, gates, c_prev, *np.zeros((3, Bk, Hk), dtype))
    fused_rnn.lstm_forward(*hs)
    fused_rnn.lstm_forward(*ds)
    _assert_same(cp, hs, ds, tol)
    # LSTM backward from those activations: dz (pre-activations) and dc_prev
    gates, c_prev, _, tanh_c, _ = hs
    dh, dc_next = draw((Bk, Hk), (Bk, Hk))
    local = np.empty_like(gates)
    o_dtanh = fused_rnn.lstm_backward_factors(gates, tanh_c, local)     # the twin wants them precomputed
    host = [local, np.empty_like(c_prev)]
    fused_rnn.lstm_backward(gates, c_prev, tanh_c, dh, dc_next, *host, o_dtanh=o_dtanh, scratch=np.empty_like(gates))
    device = [cp.zeros_like(cp.asarray(a)) for a in host]
    d_in = [cp.asarray(a) for a in (gates, c_prev, tanh_c, dh, dc_next)]
    if fused_rnn.lstm_backward_factors(d_in[0], d_in[2], cp.empty_like(d_in[0])) is None:
        fused_rnn.lstm_backward(*d_in, *device)                         # the kernel: no factors needed
    else:                                                               # the stand-in: the twin again
        local_d = cp.empty_like(d_in[0])
        o_d = fused_rnn.lstm_backward_factors(d_in[0], d_in[2], local_d)
        device[0] = local_d
        fused_rnn.lstm_backward(*d_in, *device, o_dtanh=o_d, scratch=cp.empty_like(d_in[0]))
    _assert_same(cp, host, device, tol)

    # GRU forward, part 1 then part 2: gates [u|r|h'] in place, rh, then h
    gates, h_prev = draw((Bk, 3 * Hk), (Bk, Hk))
    hs, ds = _both(cp, gates, h_prev, np.zeros((Bk, Hk), dtype))
    fused_rnn.gru_gates_forward(*hs)
    fused_rnn.gru_gates_forward(*ds)
    _assert_same(cp, hs, ds, tol)
    gates_h, gates_d = hs[0], ds[0]
    hs, ds = [gates_h, h_prev, np.zeros((Bk, Hk), dtype)], [gates_d, ds[1], cp.zeros((Bk, Hk), dtype=dtype)]
    fused_rnn.gru_candidate_forward(*hs)
    fused_rnn.gru_candidate_forward(*ds)
    _assert_same(cp, hs, ds, tol)
    # GRU backward, part 1 then part 2: dz (u, h' then r) and dh_prev (direct path, then + d_rh r)
    dh, d_rh = draw((Bk, Hk), (Bk, Hk))
    host = [np.zeros_like(gates_h), np.zeros((Bk, Hk), dtype)]
    device = [cp.zeros_like(gates_d), cp.zeros((Bk, Hk), dtype=dtype)]
    fused_rnn.gru_candidate_backward(gates_h, h_prev, dh, *host)
    fused_rnn.gru_candidate_backward(gates_d, cp.asarray(h_prev), cp.asarray(dh), *device)
    _assert_same(cp, host, device, tol)
    fused_rnn.gru_gates_backward(gates_h, h_prev, d_rh, *host)
    fused_rnn.gru_gates_backward(gates_d, cp.asarray(h_prev), cp.asarray(d_rh), *device)
    _assert_same(cp, host, device, tol)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_the_readable_path_is_the_default(cls):
    """Lessons teach with the slide equations: a default layer scans its cell (DESIGN, readability)."""
    layer = cls(H)
    assert layer.fused is False
    ys = layer(md.tensor(np.ones((B, T, D)), requires_grad=True))
    assert not isinstance(ys._ctx, (fused_rnn.LSTMSequence, fused_rnn.GRUSequence))
