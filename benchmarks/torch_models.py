"""PyTorch twins of the benchmark models: the yardstick for minidl's speed.

PyTorch is an *optional* extra (``pip install -e '.[bench]'``), never a runtime
dependency of minidl, so it is imported lazily through ``import_torch()`` (the
one place tests patch to simulate its absence).  On a CPU-only machine install
a CPU build explicitly, e.g. ``pip install torch==2.13.0`` here, or
``pip install torch --index-url https://download.pytorch.org/whl/cpu``
elsewhere: an unpinned ``pip install torch`` may pull a multi-GB CUDA build.

Each twin does the *same work* as the minidl model: same layer sizes, same
batch (the very same NumPy arrays), log_softmax as the last layer, then
``F.nll_loss`` (as ``md.losses.nll_loss`` on the minidl side), backward, and
plain SGD with the same learning rate.  Only the framework differs.
"""
from __future__ import annotations

import importlib

import numpy as np

from .registry import LEARNING_RATE, REGISTRY


def import_torch():
    """The torch module, or None when it is not installed."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def torch_unavailable_reason() -> str | None:
    if import_torch() is None:
        return ("PyTorch is not installed; install the optional extra with "
                "pip install -e '.[bench]' (CPU-only: pip install torch==2.13.0)")
    return None


def _layers(torch):
    """Small modules torch.nn lacks as layers: mean over time, 'outputs only' RNNs."""
    tnn = torch.nn

    class MeanTime(tnn.Module):
        def forward(self, x):               # (B, T, d) -> (B, d), like nn.Mean(axis=1)
            return x.mean(dim=1)

    class Outputs(tnn.Module):
        """Wrap nn.LSTM / nn.GRU (batch_first) and keep only the per-step outputs."""
        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            return self.rnn(x)[0]           # (B, T, H); the final state is not used

    return MeanTime, Outputs


def mlp(torch, s):
    tnn = torch.nn
    return tnn.Sequential(tnn.Linear(s["n_in"], s["hidden"]), tnn.ReLU(),
                          tnn.Linear(s["hidden"], s["hidden"]), tnn.ReLU(),
                          tnn.Linear(s["hidden"], s["n_classes"]), tnn.LogSoftmax(dim=-1))


def embed_mean(torch, s):
    tnn = torch.nn
    MeanTime, _ = _layers(torch)
    return tnn.Sequential(tnn.Embedding(s["vocab"], s["d_embed"]), MeanTime(),
                          tnn.Linear(s["d_embed"], s["n_classes"]), tnn.LogSoftmax(dim=-1))


def _rnn_model(torch, s, cell):
    tnn = torch.nn
    _, Outputs = _layers(torch)
    rnn = getattr(tnn, cell)(s["d_embed"], s["hidden"], batch_first=True)
    return tnn.Sequential(tnn.Embedding(s["vocab"], s["d_embed"]), Outputs(rnn),
                          tnn.Linear(s["hidden"], s["n_classes"]), tnn.LogSoftmax(dim=-1))


def lstm_lm(torch, s):
    return _rnn_model(torch, s, "LSTM")


def gru_lm(torch, s):
    return _rnn_model(torch, s, "GRU")


def lstm_tagger(torch, s):
    return _rnn_model(torch, s, "LSTM")


def cnn(torch, s):
    """Conv2d(F, 3x3, stride 2, pad 1) -> ReLU -> Conv2d(2F, ...) -> ReLU -> Flatten -> Linear -> LogSoftmax."""
    tnn = torch.nn
    F, h = s["filters"], s["image"]
    for _ in range(2):
        h = (h + 2 * 1 - 3) // 2 + 1           # each conv: 3x3, padding 1, stride 2
    return tnn.Sequential(tnn.Conv2d(s["in_channels"], F, 3, stride=2, padding=1), tnn.ReLU(),
                          tnn.Conv2d(F, 2 * F, 3, stride=2, padding=1), tnn.ReLU(),
                          tnn.Flatten(), tnn.Linear(2 * F * h * h, s["n_classes"]), tnn.LogSoftmax(dim=-1))


TORCH_BUILDERS = {"cnn": cnn, "mlp": mlp, "embed_mean": embed_mean, "lstm_lm": lstm_lm,
                  "gru_lm": gru_lm, "lstm_tagger": lstm_tagger,
                  # minidl's other paths (plain, replay) are the same model for PyTorch
                  "embed_mean_dense": embed_mean, "lstm_lm_scan": lstm_lm, "gru_lm_scan": gru_lm,
                  "lstm_lm_replay": lstm_lm, "gru_lm_replay": gru_lm}


def torch_device(backend_name: str) -> str | None:
    """The torch device matching a minidl backend: "cpu" for numpy, "cuda" for cupy (if torch has CUDA)."""
    torch = import_torch()
    if backend_name == "numpy":
        return "cpu"
    return "cuda" if torch is not None and torch.cuda.is_available() else None


def torch_step(name: str, sizes: dict, device: str, seed: int = 0):
    """Build the twin of model ``name`` on ``device`` and return ``step()`` (one SGD step)."""
    torch = import_torch()
    F = torch.nn.functional
    spec = REGISTRY[name]
    inputs_np, targets_np = spec.data(sizes, np.random.default_rng(seed))   # same batch as minidl
    torch.manual_seed(seed)
    model = TORCH_BUILDERS[name](torch, sizes).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs = [torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in inputs_np]
    targets = torch.from_numpy(targets_np).to(device).reshape(-1)

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(*inputs)
        loss = F.nll_loss(out.reshape(-1, out.shape[-1]), targets)
        loss.backward()
        opt.step()
        return loss

    step.zero_grad = lambda: opt.zero_grad(set_to_none=True)
    return step
