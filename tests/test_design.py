"""The design, pinned: the code a learner reads is the code that runs; speed is switched on by name.

* The core (backend, autograd, grad mode, the ops) imports nothing from the speed
  wing ``minidl/fast/``; the layers reach it only inside a switch, and plain
  ``import minidl`` loads none of it.  The wing builds on the core, never on nn.
* A learner's own cell -- one with a gate that depends on the values (md.where on
  h.data), one with a mask made from the values -- runs through the default
  nn.RNN / nn.GRU / nn.LSTM layers (and with replay=True) exactly as a plain
  Python loop over time, in values and in every gradient, float64.
* After a default backward every parameter's gradient is a plain array.
"""
import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minidl as md
from minidl import backend, nn, ops

PACKAGE = pathlib.Path(md.__file__).resolve().parent
CORE = [PACKAGE / "backend.py", PACKAGE / "autograd.py", PACKAGE / "grad_mode.py", *sorted((PACKAGE / "ops").glob("*.py"))]


def _imports(path, top_level_only):
    """(line, dotted module) of every import in ``path``, resolved against the package."""
    tree = ast.parse(path.read_text())
    package = ".".join(("minidl",) + path.relative_to(PACKAGE).parent.parts)
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [(node.lineno, f"{module}.{a.name}" if not node.module or node.level else module)
                      for a in node.names]
    return found


def test_the_core_imports_nothing_from_the_speed_wing():
    bad = [f"{p.relative_to(PACKAGE.parent)}:{line} imports {module}"
           for p in CORE for line, module in _imports(p, top_level_only=False) if module.startswith("minidl.fast")]
    assert not bad, bad


def test_no_module_imports_the_wing_at_load_time_and_the_wing_never_imports_nn():
    at_load = [f"{p.relative_to(PACKAGE.parent)}:{line} imports {module}"
               for p in PACKAGE.rglob("*.py") if "fast" not in p.relative_to(PACKAGE).parts
               for line, module in _imports(p, top_level_only=True) if module.startswith("minidl.fast")]
    assert not at_load, at_load                 # only inside a switch: `if self.fused: from ..fast import ...`
    upward = [f"{p.relative_to(PACKAGE.parent)}:{line} imports {module}"
              for p in (PACKAGE / "fast").glob("*.py")
              for line, module in _imports(p, top_level_only=False)
              if module.startswith(("minidl.nn", "minidl.models", "minidl.train"))]
    assert not upward, upward


def test_the_import_reader_sees_a_wing_import():
    """The checks above can fail: the reader resolves relative imports into the wing."""
    sample = PACKAGE / "nn" / "recurrent.py"
    assert any(m.startswith("minidl.fast") for _, m in _imports(sample, top_level_only=False))
    assert not any(m.startswith("minidl.fast") for _, m in _imports(sample, top_level_only=True))


def test_plain_import_loads_no_speed_trick_and_a_switch_loads_its_own():
    code = ("import sys, numpy as np, minidl as md\n"
            "from minidl import nn\n"
            "print(sorted(m for m in sys.modules if m.startswith('minidl.fast')))\n"
            "nn.LSTM(3)(md.tensor(np.ones((2, 4, 3))))\n"
            "nn.Embedding(5, 2)(md.tensor(np.array([[1, 2]])))\n"
            "print(sorted(m for m in sys.modules if m.startswith('minidl.fast')))\n"
            "nn.LSTM(3, fused=True)(md.tensor(np.ones((2, 4, 3))))\n"
            "print(sorted(m for m in sys.modules if m.startswith('minidl.fast')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == out[1] == "[]", out
    assert "minidl.fast.fused_rnn" in out[2], out


def test_public_names_are_listed_and_no_speed_trick_leaks_into_md():
    assert "tensor" in md.__all__ and "nn" in md.__all__ and "scan" in md.__all__
    for name in md.__all__:
        assert hasattr(md, name), name
    assert not {"lazy_grad", "sparse", "fast", "replay"} & set(md.__all__)


# ----------------------------------------------------------------------------- a learner's own cells
class WhereRNNCell(nn.RNNCell):
    """h_t = tanh(z) where h_{t-1} > 0, else tanh(z) / 2: a gate read off the values."""
    def forward(self, x_t, h=None):
        h_new, _ = super().forward(x_t, h)
        h_new = md.where(h.data > 0, h_new, 0.5 * h_new)
        return h_new, h_new


class WhereGRUCell(nn.GRUCell):
    def forward(self, x_t, h=None):
        h_new, _ = super().forward(x_t, h)
        h_new = md.where(h.data > 0, h_new, 0.5 * h_new)
        return h_new, h_new


class WhereLSTMCell(nn.LSTMCell):
    def forward(self, x_t, state=None):
        y, (h, c) = super().forward(x_t, state)
        c = md.where(state[1].data > 0, c, 0.5 * c)
        return h, (h, c)


class MaskedRNNCell(nn.RNNCell):
    """The input is masked by a mask made from this step's values (|x_t| < 1)."""
    def forward(self, x_t, h=None):
        keep = md.Tensor((abs(x_t.data) < 1).astype(x_t.dtype))
        return super().forward(x_t * keep, h)


CUSTOM = {"rnn_where": (nn.RNN, WhereRNNCell), "gru_where": (nn.GRU, WhereGRUCell),
          "lstm_where": (nn.LSTM, WhereLSTMCell), "rnn_mask": (nn.RNN, MaskedRNNCell)}
B, T, D, H = 3, 7, 4, 5


def _plain_loop(cell, x, state):
    ys = []
    for t in range(x.shape[1]):
        y, state = cell(x[:, t], state)
        ys.append(y)
    return md.stack(ys, axis=1)


@pytest.mark.parametrize("replay", [False, True])
@pytest.mark.parametrize("kind", sorted(CUSTOM))
def test_a_learners_own_cell_through_the_layer_equals_a_plain_loop(backend_name, kind, replay):
    layer_cls, cell_cls = CUSTOM[kind]
    rng = np.random.default_rng(11)
    with md.default_dtype("float64"):
        layer = layer_cls(H, replay=replay)
        layer.cell = cell_cls(H)
        layer.cell.build(D)
        # positive and negative states from the start, so both branches of the gate run
        state = layer.cell.initial_state(B)
        state = (tuple(md.tensor(rng.standard_normal((B, H))) for _ in state) if isinstance(state, tuple)
                 else md.tensor(rng.standard_normal((B, H))))
        x = md.tensor(1.5 * rng.standard_normal((B, T, D)), requires_grad=True)
        R = md.tensor(rng.standard_normal((B, T, H)))
    results = []
    for run in (lambda: layer(x, initial_state=state), lambda: _plain_loop(layer.cell, x, state)):
        for p in [x, *layer.parameters()]:
            p.grad = None
        ys = run()
        (ys * R).sum().backward()
        results.append([ys.numpy()] + [backend.asnumpy(p.grad) for p in [x, *layer.parameters()]])
    for got, want in zip(*results):
        assert np.abs(want).max() > 0
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_the_where_cell_really_takes_both_branches():
    """Without the gate the loop gives other numbers: the comparison above can fail."""
    with md.default_dtype("float64"):
        cell = WhereRNNCell(H)
        cell.build(D)
        plain = nn.RNNCell(H)
        plain.build(D)
    plain.W.data, plain.b.data = cell.W.data.copy(), cell.b.data.copy()
    rng = np.random.default_rng(3)
    x = md.tensor(rng.standard_normal((B, T, D)), dtype="float64")
    h0 = md.tensor(rng.standard_normal((B, H)), dtype="float64")
    assert np.abs(_plain_loop(cell, x, h0).numpy() - _plain_loop(plain, x, h0).numpy()).max() > 0.1


def test_after_a_default_backward_every_gradient_is_a_plain_array(backend_name):
    xp = backend.module(backend_name)
    model = nn.Serial(nn.Embedding(30, 6), nn.LSTM(5), nn.GRU(5), nn.RNN(5), nn.Dense(3), nn.LogSoftmax())
    ids = md.tensor(np.random.default_rng(0).integers(0, 30, size=(4, 9)))
    loss = md.losses.cross_entropy(model(ids), md.tensor(np.zeros((4, 9), dtype=np.int64)))
    loss.backward()
    kinds = {name: type(p.grad) for name, p in model.named_parameters()}
    assert len(kinds) == 9 and set(kinds.values()) == {xp.ndarray}, kinds


def test_matmul_backward_is_the_two_line_rule():
    """dL/dA = gy @ B^T, dL/dB = A^T @ gy: checked on the arrays, for a hidden Dense weight too."""
    rng = np.random.default_rng(5)
    a = md.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    W = nn.parameter(rng.standard_normal((3, 2)))
    h = ops.tanh(a)                                        # A is an intermediate, W a Parameter
    gy = rng.standard_normal((4, 2)).astype(np.float32)
    (h @ W).backward(md.tensor(gy))
    assert type(W.grad) is np.ndarray
    np.testing.assert_allclose(W.grad, h.numpy().T @ gy, rtol=1e-6)
