"""scan(..., replay=True): the replayed steps give the eager scan's values and gradients.

minidl/fast/replay.py (a speed switch, off by default) runs step 0 eagerly and
every later step as one node that replays step 0's ops.  These tests compare it
with the plain scan for every cell, with masks, reversed, bidirectional; check
that replay really happens (the graph is small), that it steps aside wherever
step 0's values would leak into later steps, and that its recording is
context-local (another thread's ops never land on the tape).
"""
import threading

import numpy as np
import pytest

import minidl as md
from minidl import nn, ops
from minidl.autograd import topological_order
from minidl.fast.replay import ReplayStep, trace

B, T, D, H = 3, 6, 4, 5

CELLS = {
    "rnn_tanh": lambda: nn.RNNCell(H),
    "rnn_relu_identity": lambda: nn.RNNCell(H, activation="relu", init="identity"),
    "gru": lambda: nn.GRUCell(H),
    "gru_reset_after": lambda: nn.GRUCell(H, reset_after=True),
    "lstm": lambda: nn.LSTMCell(H),
}


def _inputs(cell, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    x = md.tensor(rng.standard_normal((B, T, D)), dtype=dtype, requires_grad=True)
    state = cell.initial_state(B, like=x)
    if isinstance(state, tuple):
        state = tuple(md.tensor(0.3 * rng.standard_normal((B, H)), dtype=dtype, requires_grad=True)
                      for _ in state)
    else:
        state = md.tensor(0.3 * rng.standard_normal((B, H)), dtype=dtype, requires_grad=True)
    return x, state


def _leaves(x, state, cell):
    return [x, *(state if isinstance(state, tuple) else (state,)), *cell.parameters()]


def _run(cell, x, state, replay, reverse=False, seed=1):
    """Forward with scan, a loss touching every output and the final carry, backward;
    returns the outputs and the gradients of x, the initial state and the parameters."""
    for t in _leaves(x, state, cell):
        t.grad = None
    ys, carry = md.scan(cell, x, state, reverse=reverse, replay=replay)
    R = md.tensor(np.random.default_rng(seed).standard_normal(ys.shape), dtype=ys.dtype)
    final = carry if isinstance(carry, tuple) else (carry,)
    loss = (ys * R).sum() + sum((c * c).sum() for c in final)
    nodes = topological_order(loss)
    loss.backward()
    return ys.numpy(), [md.backend.asnumpy(t.grad) for t in _leaves(x, state, cell)], nodes


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind", sorted(CELLS))
def test_replay_equals_the_eager_scan(kind, reverse):
    with md.default_dtype("float64"):
        cell = CELLS[kind]()
        cell.build(D)
    x, state = _inputs(cell)
    ys_e, g_e, nodes_e = _run(cell, x, state, replay=False, reverse=reverse)
    ys_r, g_r, nodes_r = _run(cell, x, state, replay=True, reverse=reverse)
    np.testing.assert_allclose(ys_r, ys_e, rtol=1e-13, atol=1e-14)
    for a, b in zip(g_r, g_e):
        assert np.any(a != 0)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    # step 0 is eager, steps 1..T-1 are one ReplayStep node each
    assert sum(isinstance(fn, ReplayStep) for fn in nodes_r) == T - 1
    assert not any(isinstance(fn, ReplayStep) for fn in nodes_e)
    assert len(nodes_r) < len(nodes_e)


def test_the_layers_replay_and_match_the_fused_path_with_a_mask():
    rng = np.random.default_rng(2)
    x = md.tensor(rng.standard_normal((B, T, D)), dtype="float64")
    mask = np.ones((B, T))
    mask[0, 4:] = 0
    mask[1, 2:] = 0
    for layer_cls in (nn.LSTM, nn.GRU):
        with md.default_dtype("float64"):
            readable, fused = layer_cls(H, replay=True), layer_cls(H, fused=True)
            readable(x)
            fused.cell.build(D)
        fused.cell.W.data, fused.cell.b.data = readable.cell.W.data.copy(), readable.cell.b.data.copy()
        outs = []
        for layer in (readable, fused):
            ys = layer(x, mask=mask)
            (ys * ys).sum().backward()
            outs.append((ys.numpy(), layer.cell.W.grad.copy(), layer.cell.b.grad.copy()))
        y = readable(x, mask=mask)
        assert any(isinstance(fn, ReplayStep) for fn in topological_order(y.sum()))
        for a, b in zip(*outs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bidirectional_replays_both_directions():
    layer = nn.Bidirectional(nn.GRU(3, replay=True))
    y = layer(md.tensor(np.random.default_rng(3).standard_normal((2, 4, 2))))
    n_replayed = sum(isinstance(fn, ReplayStep) for fn in topological_order(y.sum()))
    assert n_replayed == 2 * (4 - 1)


def test_a_second_backward_with_retain_graph_doubles_the_gradients():
    with md.default_dtype("float64"):
        cell = nn.LSTMCell(H)
        cell.build(D)
    x, state = _inputs(cell)
    ys, _ = md.scan(cell, x, state, replay=True)
    loss = (ys * ys).sum()
    loss.backward(retain_graph=True)
    once = cell.W.grad.copy()
    loss.backward()
    np.testing.assert_allclose(cell.W.grad, 2 * once, rtol=1e-12)


def test_no_replay_without_grad_or_for_a_learners_own_step_function():
    cell = nn.GRUCell(H)
    x, state = _inputs(cell)
    with md.no_grad():
        ys_ng, _ = md.scan(cell, x, state, replay=True)
    ys, _ = md.scan(cell, x, state)                        # replay defaults to False
    assert not any(isinstance(fn, ReplayStep) for fn in topological_order(ys.sum()))
    np.testing.assert_allclose(ys_ng.numpy(), ys.numpy(), rtol=1e-13)


def test_a_step_that_changes_its_carry_shape_is_not_replayed():
    def grow(x_t, h):                                  # the carry gains a column each step
        h = md.concat([2 * h, x_t[:, :1]], axis=1)
        return h.sum(axis=1), h

    x = md.tensor(np.ones((2, 3, 2)), dtype="float64")
    _, tape = trace(grow, x[:, 0], md.tensor(np.ones((2, 1)), dtype="float64"))
    assert tape is None
    ys, h = md.scan(grow, x, md.tensor(np.ones((2, 1)), dtype="float64"), replay=True)
    assert ys.shape == (2, 3) and h.shape == (2, 4)


def test_a_step_whose_carry_is_not_a_tuple_of_tensors_is_not_replayed():
    def step(x_t, carry):               # a list carry is one leaf to the tape: its output is not a slot
        h = md.functional.tanh(x_t + carry[0])
        return h, [h]

    x = md.tensor(np.linspace(-1, 1, 12).reshape(2, 3, 2), dtype="float64", requires_grad=True)
    _, tape = trace(step, x[:, 0], [md.tensor(np.zeros((2, 2)), dtype="float64")])
    assert tape is None
    ys, _ = md.scan(step, x, [md.tensor(np.zeros((2, 2)), dtype="float64")], replay=True)
    ys_eager, _ = md.scan(step, x, [md.tensor(np.zeros((2, 2)), dtype="float64")])
    np.testing.assert_array_equal(ys.numpy(), ys_eager.numpy())


def test_a_replayed_step_draws_fresh_dropout_masks():
    md.seed(0)

    def step(x_t, h):
        h = md.functional.dropout(x_t + h, 0.5, training=True)
        return h, h

    x = md.tensor(np.ones((4, 5, 50)), dtype="float64", requires_grad=True)
    ys, _ = md.scan(step, x, md.tensor(np.zeros((4, 50)), dtype="float64"), replay=True)
    zeros = (ys.numpy() == 0)
    assert not np.array_equal(zeros[:, 1], zeros[:, 2])


def test_an_error_in_the_cell_is_raised_at_step_zero_from_the_cell():
    cell = nn.LSTMCell(H)
    cell.build(D)
    x = md.tensor(np.ones((B, T, D + 1)))
    with pytest.raises(ValueError, match=r"LSTMCell_5: x_t of shape \(3, 5\)"):
        md.scan(cell, x, cell.initial_state(B), replay=True)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_replay_step_gradcheck_inputs_state_and_parameters(backend_name, kind):
    """ReplayStep is a Function: float64 central differences for x, the initial state, W and b."""
    with md.default_dtype("float64"):
        cell = CELLS[kind]()
        cell.build(D)
    lstm = kind == "lstm"

    replayed = []

    def f(x, *state):
        ys, _ = md.scan(cell, x, tuple(state) if lstm else state[0], replay=True)
        if ys.requires_grad:                               # the backprop pass (the probes run under no_grad)
            replayed.append(sum(isinstance(fn, ReplayStep) for fn in topological_order(ys.sum())))
        return ys

    rng = np.random.default_rng(4)
    states = [0.3 * rng.standard_normal((B, H)) for _ in range(2 if lstm else 1)]
    report = md.gradcheck(f, rng.standard_normal((B, T, D)), *states, params=list(cell.parameters()))
    assert report, report
    assert len(report.entries) == 1 + len(states) + 2            # x, the state(s), W, b
    assert replayed and set(replayed) == {T - 1}


# ----------------------------------------------------------------------------- step 0's values never leak
def _loop(step, x, h0):
    """The plain Python loop over time that replay must reproduce."""
    h, ys = h0, []
    for t in range(x.shape[1]):
        y, h = step(x[:, t], h)
        ys.append(y)
    return md.stack(ys, axis=1)


def _compare_with_loop(step, n_replayed):
    rng = np.random.default_rng(7)
    x = md.tensor(rng.standard_normal((B, T, H)), dtype="float64", requires_grad=True)
    W = md.tensor(rng.standard_normal((H, H)) / np.sqrt(H), dtype="float64", requires_grad=True)
    h0 = md.tensor(rng.standard_normal((B, H)), dtype="float64")
    R = md.tensor(rng.standard_normal((B, T, H)), dtype="float64")
    results = []
    for run in (lambda: md.scan(lambda x_t, h: step(x_t, h, W), x, h0, replay=True)[0],
                lambda: _loop(lambda x_t, h: step(x_t, h, W), x, h0)):
        x.grad = W.grad = None
        ys = run()
        replayed = sum(isinstance(fn, ReplayStep) for fn in topological_order(ys.sum()))
        (ys * R).sum().backward()
        results.append((ys.numpy(), x.grad.copy(), W.grad.copy(), replayed))
    (ys_r, gx_r, gW_r, n_r), (ys_l, gx_l, gW_l, _) = results
    np.testing.assert_allclose(ys_r, ys_l, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(gx_r, gx_l, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gW_r, gW_l, rtol=1e-12, atol=1e-13)
    assert n_r == n_replayed


def test_a_condition_taken_from_the_values_runs_the_plain_loop():
    """md.where keeps its condition as a setting: replaying it would reuse step 0's."""
    def step(x_t, h, W):
        z = ops.tanh(x_t + h @ W)
        h = md.where(h.data > 0, z, 0.5 * z)
        return h, h
    _compare_with_loop(step, n_replayed=0)


def test_a_tensor_made_from_the_values_inside_the_step_runs_the_plain_loop():
    def step(x_t, h, W):
        keep = md.Tensor((h.data > 0).astype(h.dtype))        # a constant of THIS step
        h = ops.tanh(x_t + (h * keep) @ W)
        return h, h
    _compare_with_loop(step, n_replayed=0)


def test_ops_under_no_grad_inside_the_step_run_the_plain_loop():
    def step(x_t, h, W):
        with md.no_grad():
            scale = ops.tanh(h).sum(axis=1, keepdims=True)
        h = ops.tanh(x_t + h @ W) * scale
        return h, h
    _compare_with_loop(step, n_replayed=0)


def test_a_step_of_plain_ops_and_number_constants_is_replayed_exactly():
    def step(x_t, h, W):
        h = 0.5 * ops.tanh(x_t + h @ W) + 0.25 * h
        return h, h
    _compare_with_loop(step, n_replayed=T - 1)


def test_a_scan_inside_a_replayed_step_is_recorded_by_both():
    """An inner scan (itself replayed) inside a traced step: the outer tape sees its ops too.

    Each inner scan has 3 steps (2 replayed).  The outer step 0 runs eagerly (2 inner
    ReplaySteps in the graph), then T - 1 outer ReplaySteps; a step-made constant
    inside instead sends the outer scan to the plain loop: T inner scans of 2 each."""
    def step(x_t, h, W, constant):
        seq = ops.stack([x_t, x_t, x_t], axis=1)
        if constant:
            seq = seq * md.tensor(np.ones((1, 3, 1)), dtype="float64")
        inner, _ = md.scan(lambda u, c: (ops.tanh(u + c), ops.tanh(u + c)), seq, h, replay=True)
        h = ops.tanh(inner.sum(axis=1) @ W)
        return h, h
    _compare_with_loop(lambda x_t, h, W: step(x_t, h, W, False), n_replayed=2 + (T - 1))
    _compare_with_loop(lambda x_t, h, W: step(x_t, h, W, True), n_replayed=2 * T)


def test_recording_is_context_local_another_threads_ops_stay_off_the_tape():
    cell = nn.GRUCell(H)
    cell.build(D)
    x, state = _inputs(cell, dtype="float32")
    busy, stop = threading.Event(), threading.Event()

    def other_thread():
        a = md.tensor(np.ones((2, 2)), requires_grad=True)
        while not stop.is_set():
            (a * 2).sum()
            busy.set()

    t = threading.Thread(target=other_thread)
    t.start()
    busy.wait(5)
    try:
        for _ in range(300):                             # ~0.3 s: many thread switches while tracing
            _, tape = trace(cell, x[:, 0], state)
            assert tape is not None and len(tape.steps) == len(trace(cell, x[:, 0], state)[1].steps)
            assert not any(shape == (2, 2) for *_, shapes in tape.steps for shape in shapes)
    finally:
        stop.set()
        t.join()
