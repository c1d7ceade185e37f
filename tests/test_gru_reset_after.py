"""The reset_after GRU (PyTorch's / cuDNN's candidate): its equation, gradients, and guards.

    h' = tanh(W_h[H:] x_t + b_h + Γr * (W_h[:H] h_{t-1} + b_hn))

It is checked against a NumPy transcription here, by a float64 gradient check
through time, and (when PyTorch is installed) against torch.nn.GRU in
tests/test_torch_parity.py.
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn

B, T, D, H = 2, 4, 3, 5


def _np_step(x, h, W, b, b_hn):
    sig = lambda z: 1 / (1 + np.exp(-z))
    hx = np.concatenate([h, x], axis=1)
    u, r = sig(hx @ W[:, :H] + b[:H]), sig(hx @ W[:, H:2 * H] + b[H:2 * H])
    cand = np.tanh(x @ W[H:, 2 * H:] + b[2 * H:] + r * (h @ W[:H, 2 * H:] + b_hn))
    return (1 - u) * h + u * cand


def test_reset_after_follows_its_equation_and_differs_from_the_course_gru(backend_name):
    rng = np.random.default_rng(1)
    with md.default_dtype("float64"):
        cell, course = nn.GRUCell(H, reset_after=True), nn.GRUCell(H)
        cell.build(D)
        course.build(D)
    cell.b_hn.data[...] = backend_xp(cell).asarray(rng.standard_normal(H))
    course.W.data[...] = cell.W.data
    x, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    y, _ = cell(md.tensor(x, dtype="float64"), md.tensor(h, dtype="float64"))
    want = _np_step(x, h, cell.W.numpy(), cell.b.numpy(), cell.b_hn.numpy())
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    y_course, _ = course(md.tensor(x, dtype="float64"), md.tensor(h, dtype="float64"))
    assert np.abs(y_course.numpy() - want).max() > 1e-3          # a different function, not a renaming


def backend_xp(layer):
    return md.backend.xp_of(layer.W.data)


def test_reset_after_gradients_through_time(backend_name):
    rng = np.random.default_rng(2)
    with md.default_dtype("float64"):
        layer = nn.GRU(H, reset_after=True)
        layer.cell.build(D)
    report = md.gradcheck(lambda x, h0: layer(x, initial_state=h0), rng.standard_normal((B, T, D)),
                          rng.standard_normal((B, H)), params=layer.parameters())
    assert report, report
    assert len(report.entries) == 2 + 3                    # x, h0, W, b, b_hn


def test_reset_after_has_no_fused_path():
    with pytest.raises(ValueError, match="fused=False with reset_after=True"):
        nn.GRU(H, fused=True, reset_after=True)
