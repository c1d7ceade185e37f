"""The course's models as benchmark workloads (minidl builders), at realistic sizes.

Each model is one function: sizes in, a minidl Layer out (ending in
LogSoftmax).  ``@register`` says what sizes it runs at, what it sweeps, what
batch it eats and which matmuls one training step performs (see ``registry.py``).
Adding a model = adding one such function here (and, for the PyTorch
comparison, its twin in ``torch_models.py``).

Size names, shared by all models so sweeps and tables read alike:
    batch, seq_len, vocab, d_embed, hidden, n_in, n_classes.
"""
from __future__ import annotations

from .registry import (register, features, sequence_label, token_targets,
                       dense_matmuls, recurrent_matmuls)


def _nn():
    # minidl is imported when a model is built, not when the registry loads
    from minidl import nn
    return nn


# ----------------------------------------------------------------------------- MLP
def _mlp_matmuls(s):
    B, H = s["batch"], s["hidden"]
    return (dense_matmuls(B, s["n_in"], H, input_grad=False)
            + dense_matmuls(B, H, H) + dense_matmuls(B, H, s["n_classes"]))


@register("mlp", title="MLP 784-256-256-10",
          sizes=dict(batch=128, n_in=784, hidden=256, n_classes=10),
          smoke=dict(batch=4, n_in=16, hidden=8, n_classes=10),
          sweeps={"smoke": {"batch": [8]},
                  "quick": {"batch": [32, 512], "hidden": [1024]},
                  "full": {"batch": [16, 32, 64, 256, 512, 1024], "hidden": [64, 128, 512, 1024, 2048]}},
          data=features, matmuls=_mlp_matmuls)
def mlp(s):
    """Dense(H) -> ReLU -> Dense(H) -> ReLU -> Dense(C) -> LogSoftmax, on flat images."""
    nn = _nn()
    return nn.Serial(nn.Dense(s["hidden"]), nn.ReLU(), nn.Dense(s["hidden"]), nn.ReLU(),
                     nn.Dense(s["n_classes"]), nn.LogSoftmax())


# ----------------------------------------------------------------------------- Embedding -> Mean
@register("embed_mean", title="Embedding-Mean-Dense (sentiment)",
          sizes=dict(batch=64, seq_len=50, vocab=10_000, d_embed=256, n_classes=2),
          smoke=dict(batch=4, seq_len=6, vocab=50, d_embed=8, n_classes=2),
          sweeps={"smoke": {"batch": [8]},
                  "quick": {"batch": [256], "vocab": [100_000]},
                  "full": {"batch": [16, 256, 1024], "seq_len": [10, 200],
                           "d_embed": [64, 1024], "vocab": [1_000, 100_000]}},
          data=sequence_label, path="sparse_grad=True",
          matmuls=lambda s: dense_matmuls(s["batch"], s["d_embed"], s["n_classes"]))
def embed_mean(s):
    """The Trax sentiment model: Embedding(V, d) -> Mean over time -> Dense(C) -> LogSoftmax,
    with the row-sparse embedding gradient (minidl/fast/sparse_embedding.py)."""
    return _embed_mean(s, sparse_grad=True)


@register("embed_mean_dense", title="Embedding-Mean-Dense, dense embedding gradient (plain)",
          sizes=dict(batch=64, seq_len=50, vocab=10_000, d_embed=256, n_classes=2),
          smoke=dict(batch=4, seq_len=6, vocab=50, d_embed=8, n_classes=2),
          sweeps={"smoke": {}, "quick": {"vocab": [100_000]}, "full": {"vocab": [1_000, 100_000]}},
          data=sequence_label, twin="embed_mean",
          matmuls=lambda s: dense_matmuls(s["batch"], s["d_embed"], s["n_classes"]))
def embed_mean_dense(s):
    """embed_mean on the textbook path: the dense (V, d) scatter-add gradient."""
    return _embed_mean(s, sparse_grad=False)


def _embed_mean(s, sparse_grad):
    nn = _nn()
    return nn.Serial(nn.Embedding(s["vocab"], s["d_embed"], sparse_grad=sparse_grad), nn.Mean(axis=1),
                     nn.Dense(s["n_classes"]), nn.LogSoftmax())


# ----------------------------------------------------------------------------- RNN language models
_LM_SIZES = dict(batch=32, seq_len=64, vocab=65, d_embed=64, hidden=256, n_classes=65)
_LM_SMOKE = dict(batch=2, seq_len=5, vocab=20, d_embed=8, hidden=8, n_classes=20)
_LM_SWEEPS = {"smoke": {"batch": [4]},
              "quick": {"batch": [8, 128], "hidden": [64, 512], "seq_len": [16, 128]},
              "full": {"batch": [8, 16, 64, 128], "hidden": [64, 128, 512], "seq_len": [16, 32, 128]}}


def _lm_matmuls(n_gates, recurrent_blocks=None):
    def shapes(s):
        B, T, H = s["batch"], s["seq_len"], s["hidden"]
        return (recurrent_matmuls(B, T, s["d_embed"], H, n_gates, recurrent_blocks)
                + dense_matmuls(B * T, H, s["n_classes"]))
    return shapes


def _sequence_model(s, recurrent, sparse_grad=False, **switches):
    """Embedding(V, d) -> recurrent(H) -> Dense(C) -> LogSoftmax: a prediction per step.

    The LMs, their scan-path twins and the tagger differ only in the layer, its
    speed switches (``fused=True``, ``replay=True``, or none) and the sizes."""
    nn = _nn()
    layer = getattr(nn, recurrent)(s["hidden"], **switches)
    return nn.Serial(nn.Embedding(s["vocab"], s["d_embed"], sparse_grad=sparse_grad), layer,
                     nn.Dense(s["n_classes"]), nn.LogSoftmax())


_GRU_MATMULS = lambda s: _lm_matmuls(3, [2 * s["hidden"], s["hidden"]])(s)
_SCAN_SWEEPS = {"smoke": {}, "quick": {}, "full": {"hidden": [64, 512]}}


@register("lstm_lm", title="LSTM char LM", sizes=_LM_SIZES, smoke=_LM_SMOKE, sweeps=_LM_SWEEPS,
          data=token_targets, matmuls=_lm_matmuls(4), path="fused=True")
def lstm_lm(s):
    """Character LM: Embedding(V, d) -> LSTM(H) -> Dense(V) -> LogSoftmax, a prediction per step."""
    return _sequence_model(s, "LSTM", fused=True)


@register("gru_lm", title="GRU char LM", sizes=_LM_SIZES, smoke=_LM_SMOKE,
          sweeps={k: {"hidden": v["hidden"]} if k == "quick" else v for k, v in _LM_SWEEPS.items()},
          data=token_targets, matmuls=_GRU_MATMULS, path="fused=True")
def gru_lm(s):
    """Character LM: Embedding(V, d) -> GRU(H) -> Dense(V) -> LogSoftmax."""
    return _sequence_model(s, "GRU", fused=True)


# The readable path: the same LMs as md.scan over the cell, 13 (LSTM) or 16 (GRU)
# graph nodes per step -- what a lesson runs by default.  Same sizes, same PyTorch
# twin, so "fused vs scan" is read off one run (the "vs twin" column); the replay
# rows are the scan with replay=True (minidl/fast/replay.py), compared with the scan.
@register("lstm_lm_scan", title="LSTM char LM, scan path (plain)", sizes=_LM_SIZES,
          smoke=_LM_SMOKE, sweeps=_SCAN_SWEEPS, data=token_targets, matmuls=_lm_matmuls(4), twin="lstm_lm")
def lstm_lm_scan(s):
    """lstm_lm with the LSTM run as md.scan over its cell (the readable twin of the fused path)."""
    return _sequence_model(s, "LSTM")


@register("gru_lm_scan", title="GRU char LM, scan path (plain)", sizes=_LM_SIZES,
          smoke=_LM_SMOKE, sweeps=_SCAN_SWEEPS, data=token_targets, matmuls=_GRU_MATMULS, twin="gru_lm")
def gru_lm_scan(s):
    """gru_lm with the GRU run as md.scan over its cell."""
    return _sequence_model(s, "GRU")


@register("lstm_lm_replay", title="LSTM char LM, scan with replay=True", sizes=_LM_SIZES,
          smoke=_LM_SMOKE, sweeps={"smoke": {}, "quick": {}, "full": {}}, data=token_targets,
          matmuls=_lm_matmuls(4), path="replay=True", twin="lstm_lm_scan")
def lstm_lm_replay(s):
    """lstm_lm_scan with scan replay: step 0 recorded, later steps one graph node each."""
    return _sequence_model(s, "LSTM", replay=True)


@register("gru_lm_replay", title="GRU char LM, scan with replay=True", sizes=_LM_SIZES,
          smoke=_LM_SMOKE, sweeps={"smoke": {}, "quick": {}, "full": {}}, data=token_targets,
          matmuls=_GRU_MATMULS, path="replay=True", twin="gru_lm_scan")
def gru_lm_replay(s):
    """gru_lm_scan with scan replay."""
    return _sequence_model(s, "GRU", replay=True)


# ----------------------------------------------------------------------------- NER tagger
@register("lstm_tagger", title="Embedding-LSTM-Dense tagger (NER)",
          sizes=dict(batch=64, seq_len=50, vocab=20_000, d_embed=50, hidden=50, n_classes=17),
          smoke=dict(batch=2, seq_len=5, vocab=30, d_embed=6, hidden=6, n_classes=5),
          sweeps={"smoke": {"batch": [4]},
                  "quick": {"batch": [16, 256]},
                  "full": {"batch": [16, 256], "seq_len": [20, 100], "hidden": [128, 256]}},
          data=token_targets, matmuls=_lm_matmuls(4), path="fused=True, sparse_grad=True")
def lstm_tagger(s):
    """The course's NER model: Embedding(V, d) -> LSTM(H) -> Dense(n_tags) -> LogSoftmax."""
    return _sequence_model(s, "LSTM", sparse_grad=True, fused=True)


# ----------------------------------------------------------------------------- small CNN
def images(s, rng):
    """A batch of images x (batch, in_channels, image, image) and class ids (batch,)."""
    x = rng.standard_normal((s["batch"], s["in_channels"], s["image"], s["image"])).astype("float32")
    return (x,), rng.integers(0, s["n_classes"], size=s["batch"])


def _conv_out(size):
    return (size + 2 * 1 - 3) // 2 + 1            # 3x3 kernel, padding 1, stride 2


def _cnn_matmuls(s):
    """im2col turns each conv into a Dense layer on its patches matrix (see minidl/ops/conv.py):
    (B*Ho*Wo, C*9) @ (C*9, F); the first conv needs no input gradient."""
    B, C, F = s["batch"], s["in_channels"], s["filters"]
    h1 = _conv_out(s["image"])
    h2 = _conv_out(h1)
    return (dense_matmuls(B * h1 * h1, C * 9, F, input_grad=False)
            + dense_matmuls(B * h2 * h2, F * 9, 2 * F)
            + dense_matmuls(B, 2 * F * h2 * h2, s["n_classes"]))


@register("cnn", title="CNN conv3x3/s2(8)-conv3x3/s2(16)-Dense (MNIST-sized)",
          sizes=dict(batch=64, in_channels=1, image=28, filters=8, n_classes=10),
          smoke=dict(batch=4, in_channels=1, image=8, filters=2, n_classes=10),
          sweeps={"smoke": {"batch": [8]},
                  "quick": {"batch": [16, 256], "filters": [32]},
                  "full": {"batch": [16, 256, 1024], "filters": [4, 32, 64], "image": [56]}},
          data=images, matmuls=_cnn_matmuls)
def cnn(s):
    """Conv2d(F, 3, stride 2, pad 1) -> ReLU -> Conv2d(2F, 3, stride 2, pad 1) -> ReLU -> Flatten
    -> Dense(C) -> LogSoftmax:  (B, 1, 28, 28) -> (B, 8, 14, 14) -> (B, 16, 7, 7) -> (B, 784) -> (B, 10)."""
    nn = _nn()
    F = s["filters"]
    return nn.Serial(nn.Conv2d(F, 3, stride=2, padding=1), nn.ReLU(),
                     nn.Conv2d(2 * F, 3, stride=2, padding=1), nn.ReLU(),
                     nn.Flatten(), nn.Dense(s["n_classes"]), nn.LogSoftmax())
