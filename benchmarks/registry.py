"""The model registry: what a benchmark model declares, and how a minidl step is built.

A benchmark model is one small function decorated with ``@register``:

    @register("mlp", title="MLP 784-256-256-10",
              sizes=dict(batch=128, n_in=784, hidden=256, n_classes=10),
              smoke=dict(batch=4, n_in=16, hidden=8, n_classes=10),
              sweeps={"quick": {"batch": [32, 128, 512]}, "full": {...}},
              data=features, matmuls=mlp_matmuls)
    def mlp(s):
        return nn.Serial(nn.Dense(s["hidden"]), nn.ReLU(), ..., nn.LogSoftmax())

* ``sizes``  the realistic default sizes (the course's), ``smoke`` tiny ones for tests;
* ``sweeps`` per suite, size name -> values; one size varies, the others keep their defaults;
* ``data(s, rng)`` makes the (fixed) batch as NumPy arrays: ``(inputs, targets)``;
* ``matmuls(s)``   the BLAS products one training step needs (forward and
  backward), as ``(m, k, n, count)``: ``count`` products of (m, k) @ (k, n).
  They feed the efficiency column (see ``efficiency.py``);
* ``path``   which code runs: "plain" (the textbook path a lesson reads) or the
  speed switches it turns on (``fused=True``, ``sparse_grad=True``, ``replay=True``);
* ``twin``   another model with the same sizes on another path: the tables show
  this row's time as a ratio to the twin's (e.g. the plain scan vs the fused LSTM).

Every model ends in log-probabilities (``nn.LogSoftmax``) and is trained with
``md.losses.nll_loss(output, targets)`` (the minidl convention for such
models: the normalisation is done once) and plain SGD, so one generic training
step (``minidl_step``) serves them all, and the PyTorch twins in
``torch_models.py`` do exactly the same work (``F.nll_loss``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEARNING_RATE = 0.01
REGISTRY: dict[str, "ModelSpec"] = {}


@dataclass
class ModelSpec:
    name: str
    title: str
    build: object                     # sizes -> minidl Layer
    data: object                      # (sizes, rng) -> (inputs tuple, targets)
    matmuls: object                   # sizes -> [(m, k, n, count), ...]
    sizes: dict
    smoke: dict
    sweeps: dict = field(default_factory=dict)      # suite -> {size name: [values]}
    path: str = "plain"               # the speed switches this model turns on, or "plain"
    twin: str | None = None           # the model whose time this row is compared with

    def base_sizes(self, suite: str) -> dict:
        return dict(self.smoke if suite == "smoke" else self.sizes)

    def sweep_points(self, suite: str) -> list[tuple[str, dict]]:
        """``[(swept size name, sizes), ...]`` for ``suite``, the base point excluded."""
        base = self.base_sizes(suite)
        points = []
        for key, values in self.sweeps.get(suite, {}).items():
            for v in values:
                points.append((key, {**base, key: v}))
        return points


def register(name, *, title, sizes, smoke, data, matmuls, sweeps=None, path="plain", twin=None):
    """Decorator: add the builder function to ``REGISTRY`` under ``name``."""
    def add(build):
        REGISTRY[name] = ModelSpec(name=name, title=title, build=build, data=data,
                                   matmuls=matmuls, sizes=sizes, smoke=smoke,
                                   sweeps=sweeps or {}, path=path, twin=twin)
        return build
    return add


# ----------------------------------------------------------------------------- batches
# Ids start at 2 so no token is padding (0) or unknown (1): a benchmark batch is full.
def features(s, rng):
    """Dense inputs x (batch, n_in) and class ids (batch,)."""
    x = rng.standard_normal((s["batch"], s["n_in"])).astype(np.float32)
    return (x,), rng.integers(0, s["n_classes"], size=s["batch"])


def sequence_label(s, rng):
    """Token ids (batch, seq_len) and one class id per sequence (batch,)."""
    ids = rng.integers(2, s["vocab"], size=(s["batch"], s["seq_len"]))
    return (ids,), rng.integers(0, s["n_classes"], size=s["batch"])


def token_targets(s, rng):
    """Token ids (batch, seq_len) and one target per token (batch, seq_len).

    For a language model the targets are the next characters, for a tagger the
    tags; either way the work is the same, so random ids suffice.
    """
    ids = rng.integers(2, s["vocab"], size=(s["batch"], s["seq_len"]))
    return (ids,), rng.integers(0, s["n_classes"], size=(s["batch"], s["seq_len"]))


# ----------------------------------------------------------------------------- matmul shapes
def dense_matmuls(n, k, m, input_grad=True):
    """x (n, k) @ W (k, m); backward gx = gy @ W.T, gW = x.T @ gy.

    ``input_grad=False`` for a first layer fed with data: nothing upstream
    needs gx, so an efficient step skips that product.
    """
    shapes = [(n, k, m, 1), (k, n, m, 1)]
    if input_grad:
        shapes.append((n, m, k, 1))
    return shapes


def recurrent_matmuls(batch, seq_len, d_in, hidden, n_gates, recurrent_blocks=None):
    """The products of a gated RNN over [h, x] with a fused weight (H + D, n_gates * H).

    An efficient implementation (PyTorch's, and minidl's fused path) splits
    [h, x] @ W into x @ W[H:] -- one big product for all T steps at once -- and
    h @ W[:H], which must run step by step because h_t needs h_{t-1}:

      input part       (B*T, D) @ (D, G*H) forward, plus gx and gW[H:] backward;
      recurrent part   T x (B, H) @ (H, G*H) forward and T x gh backward;
                       gW[:H] = sum_t h_t.T @ g_t, one (H, B*T) @ (B*T, G*H) product.

    ``recurrent_blocks`` lists the column widths of the recurrent products of
    one step: ``[4H]`` for the LSTM (all gates at once, the default), ``[2H, H]``
    for the GRU (gates u, r from h, then the candidate from r * h).
    """
    B, T, D, H, G = batch, seq_len, d_in, hidden, n_gates
    shapes = dense_matmuls(B * T, D, G * H)
    for cols in recurrent_blocks or [G * H]:
        shapes += [(B, H, cols, T), (B, cols, H, T), (H, B * T, cols, 1)]
    return shapes


# ----------------------------------------------------------------------------- the minidl step
def minidl_step(spec: ModelSpec, sizes: dict, backend_name: str, seed: int = 0):
    """Build the model on ``backend_name`` and return ``step()``: one SGD training step.

    The batch is made once, on the host, and moved to the device before timing:
    the benchmark measures training, not data loading.  Every step clears the
    gradients, runs forward, the loss, backward and the update, and returns the
    loss (a Tensor).  ``step.zero_grad()`` drops the gradients (memory.py uses it);
    ``step.model`` is the model.
    """
    import minidl as md
    from minidl import optim

    rng = np.random.default_rng(seed)
    inputs_np, targets_np = spec.data(sizes, rng)
    with md.using(backend_name):
        md.seed(seed)
        model = spec.build(sizes)
        opt = optim.SGD(model, lr=LEARNING_RATE)      # the Layer: lazily built weights work
        inputs = [md.tensor(a) for a in inputs_np]
        targets = md.tensor(targets_np)

    def step():
        # ``using`` because lazily built layers create their weights on the active
        # backend at the first call (during warm-up).
        with md.using(backend_name):
            model.zero_grad()             # not opt.zero_grad(): lazy layers have no weights yet
            out = model(*inputs)
            loss = md.losses.nll_loss(out, targets)
            loss.backward()
            opt.step()
        return loss

    step.zero_grad, step.model = model.zero_grad, model
    return step
