"""scan(..., replay=True): the replayed steps give the eager scan's values and gradients.

minidl/nn/replay.py runs step 0 eagerly and every later step as one node that
replays step 0's ops.  These tests compare it with the eager scan (replay=False)
for every cell, with masks, reversed, bidirectional; check that replay really
happens (the graph is small) and that it steps aside where it must.
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn
from minidl.autograd import _topological_order
from minidl.lazy_grad import MatMulWeightGrad
from minidl.nn.replay import ReplayStep, trace

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
    nodes = _topological_order(loss)
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
            readable, fused = layer_cls(H), layer_cls(H, fused=True)
            readable(x)
            fused.cell.build(D)
        fused.cell.W.data, fused.cell.b.data = readable.cell.W.data.copy(), readable.cell.b.data.copy()
        outs = []
        for layer in (readable, fused):
            ys = layer(x, mask=mask)
            (ys * ys).sum().backward()
            outs.append((ys.numpy(), layer.cell.W.grad.copy(), layer.cell.b.grad.copy()))
        y = readable(x, mask=mask)
        assert any(isinstance(fn, ReplayStep) for fn in _topological_order(y.sum()))
        for a, b in zip(*outs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bidirectional_replays_both_directions():
    # (the layers' float64 gradient checks in test_recurrent.py run through replay too)
    layer = nn.Bidirectional(nn.GRU(3))
    y = layer(md.tensor(np.random.default_rng(3).standard_normal((2, 4, 2))))
    n_replayed = sum(isinstance(fn, ReplayStep) for fn in _topological_order(y.sum()))
    assert n_replayed == 2 * (4 - 1)


def test_the_cell_weight_gradient_stays_deferred_under_replay():
    for cell in (nn.LSTMCell(H), nn.GRUCell(H)):
        x, state = _inputs(cell, dtype="float32")
        ys, _ = md.scan(cell, x, state, replay=True)
        ys.sum().backward()
        assert isinstance(cell.W._grad, MatMulWeightGrad)
        assert cell.W.grad.shape == cell.W.shape          # reading it expands it


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
    assert not any(isinstance(fn, ReplayStep) for fn in _topological_order(ys.sum()))
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
            replayed.append(sum(isinstance(fn, ReplayStep) for fn in _topological_order(ys.sum())))
        return ys

    rng = np.random.default_rng(4)
    states = [0.3 * rng.standard_normal((B, H)) for _ in range(2 if lstm else 1)]
    report = md.gradcheck(f, rng.standard_normal((B, T, D)), *states, params=list(cell.parameters()))
    assert report, report
    assert len(report.entries) == 1 + len(states) + 2            # x, the state(s), W, b
    assert replayed and set(replayed) == {T - 1}
