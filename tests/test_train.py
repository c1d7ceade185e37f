"""md.train.fit: history, validation in eval mode, NaN/Inf detection, batch sources."""
import math

import numpy as np
import pytest

import minidl as md
from minidl import nn, optim


def _blobs(n=60, seed=0):
    """Two well-separated 2-D clusters: class 0 around (-2, -2), class 1 around (2, 2)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return x, y


def _batches(x, y, bs=20):
    return [(x[i:i + bs], y[i:i + bs]) for i in range(0, len(x), bs)]


def _model():
    return nn.Serial(nn.Dense(8), nn.ReLU(), nn.Dense(2), nn.LogSoftmax())


def test_fit_learns_and_records_history(backend_name):
    x, y = _blobs()
    model = _model()
    hist = md.train.fit(model, md.losses.cross_entropy, optim.Adam(model, 0.05), _batches(x, y),
                        epochs=8, val_batches=_batches(*_blobs(seed=1)), metrics=["accuracy"],
                        progress=False)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.epochs == 8 and len(hist["val_loss"]) == 8
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert hist["val_accuracy"][-1] >= 0.95
    assert "val_accuracy=" in repr(hist)


def test_epoch_loss_is_the_target_weighted_mean_of_batch_losses():
    # with lr tiny the model barely moves, so epoch 1's loss ~ the full-data loss at the start
    x, y = _blobs(n=50)
    model = _model()
    model(md.tensor(x))
    full = md.losses.cross_entropy(model(md.tensor(x)), y).item()
    hist = md.train.fit(model, md.losses.cross_entropy, optim.SGD(model, 1e-9), _batches(x, y, bs=20),
                        epochs=1, progress=False)                          # batches of 20, 20, 10
    assert hist["loss"][0] == pytest.approx(full, rel=1e-5)


def test_validation_runs_in_eval_mode_without_a_graph():
    seen = []
    probe = nn.Fn("Probe", lambda x: (seen.append((model.training, md.is_grad_enabled())), x)[1])
    model = nn.Serial(nn.Dense(2), nn.Dropout(0.5), probe, nn.LogSoftmax())
    x, y = _blobs(n=20)
    md.train.fit(model, md.losses.cross_entropy, optim.SGD(model, 0.1), [(x, y)], epochs=1,
                 val_batches=[(x, y)], progress=False)
    assert seen == [(True, True), (False, False)]
    assert model.training                                    # back in training mode afterwards


def test_loss_that_becomes_inf_at_step_k_is_reported_with_k():
    x, y = _blobs(n=60)
    calls = []

    def flaky_loss(out, target):
        calls.append(1)
        loss = md.losses.cross_entropy(out, target)
        return loss * math.inf if len(calls) == 7 else loss
    model = _model()
    msg = r"became inf at global step 7 \(epoch 3, batch 1\)"          # 3 batches per epoch
    with pytest.raises(md.train.NonFiniteLossError, match=msg) as info:
        md.train.fit(model, flaky_loss, optim.SGD(model, 0.1), _batches(x, y), epochs=5, progress=False)
    assert (info.value.step, info.value.epoch, info.value.loss) == (7, 3, math.inf)
    assert all(np.isfinite(p.numpy()).all() for p in model.parameters())   # no bad update applied


def test_nan_from_a_diverging_model_names_the_step():
    x, y = _blobs(n=20)
    model = nn.Serial(nn.Dense(2))
    with pytest.raises(md.train.NonFiniteLossError, match="became nan at global step"):
        md.train.fit(model, lambda out, t: (out * np.nan).sum(), optim.SGD(model, 0.1), [(x, y)],
                     epochs=1, progress=False)


def test_masked_batches_pass_the_mask_to_loss_and_metrics():
    # a per-token classifier on (N, T, 2) inputs; the last position is padding with a wrong label
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(30, 4))
    x = np.where(y[..., None] == 1, 1.0, -1.0) * np.array([1.0, 1.0]) + 0.1 * rng.normal(size=(30, 4, 2))
    mask = np.ones((30, 4))
    mask[:, -1] = 0
    y[:, -1] = 1 - y[:, -1]                    # garbage under the padding
    model = nn.Serial(nn.Dense(2), nn.LogSoftmax())
    hist = md.train.fit(model, md.losses.cross_entropy, optim.Adam(model, 0.1), [(x, y, mask)],
                        epochs=30, metrics=["accuracy"], progress=False)
    assert hist["accuracy"][-1] == 1.0         # masked accuracy; the unmasked one would be 0.75


def test_one_shot_generator_is_refused_but_a_function_is_fine():
    x, y = _blobs(n=20)
    model = _model()
    opt = optim.SGD(model, 0.1)
    with pytest.raises(TypeError, match="one-shot iterator"):
        md.train.fit(model, md.losses.cross_entropy, opt, (b for b in _batches(x, y)), epochs=2)
    hist = md.train.fit(model, md.losses.cross_entropy, opt, lambda: iter(_batches(x, y)), epochs=2,
                        progress=False)
    assert hist.epochs == 2


def test_on_epoch_end_can_stop_training_and_clip_is_applied(monkeypatch):
    norms = []
    real_clip = md.train.clip_grad_norm
    monkeypatch.setattr(md.train, "clip_grad_norm", lambda ps, m: norms.append(real_clip(ps, m)))
    x, y = _blobs(n=40)
    model = _model()
    hist = md.train.fit(model, md.losses.cross_entropy, optim.SGD(model, 0.1), _batches(x, y),
                        epochs=10, clip=0.5, progress=False,
                        on_epoch_end=lambda epoch, h: epoch == 3)
    assert hist.epochs == 3 and len(norms) == 3 * 2
    # the gradients the last step used were clipped in place to global norm <= 0.5
    assert np.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters())) <= 0.5 + 1e-6


def test_progress_bar_and_epoch_lines(capsys):
    x, y = _blobs(n=20)
    model = _model()
    md.train.fit(model, md.losses.cross_entropy, optim.SGD(model, 0.1), _batches(x, y), epochs=2,
                 metrics=["accuracy"])
    out = capsys.readouterr()
    assert "epoch 2/2  loss" in out.out + out.err and "accuracy" in out.out + out.err
