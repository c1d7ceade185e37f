"""The habits Keras and fastai users bring: early stopping with the best weights, predict, lr_find."""
import math

import numpy as np
import pytest

import minidl as md
from minidl import backend, nn, optim
from minidl.data import DataLoader
from minidl.train import EarlyStopping, lr_find
from minidl.lr_find import suggestions


def _task(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


# ----------------------------------------------------------------------------- EarlyStopping
def _run(es, values):
    """Feed values epoch by epoch; the epoch at which it says stop (None: never)."""
    es.reset()
    for epoch, v in enumerate(values, start=1):
        if es.update(epoch, v, nn.Serial()):
            return epoch
    return None


def test_keras_semantics_patience_min_delta_and_mode():
    # min, min_delta 0.1: 0.95 is no improvement on 1.0; 0.85 is; then two without -> stop at 5
    es = EarlyStopping("val_loss", min_delta=0.1, patience=2)
    assert _run(es, [1.0, 0.95, 0.85, 0.8, 0.79, 0.5]) == 5 and es.best_epoch == 3 and es.best == 0.85
    assert _run(EarlyStopping("val_loss", patience=0), [1.0, 0.9, 0.9]) == 3      # patience 0: first miss
    assert _run(EarlyStopping("val_loss", patience=1), [1.0, 0.9, 0.95]) == 3      # as in Keras: 1 = 0 here
    assert _run(EarlyStopping("val_loss", patience=2), [1.0, 0.9, 0.95, 0.8, 0.85]) is None
    acc = EarlyStopping("val_accuracy", patience=2)                 # auto -> max for an accuracy
    assert acc.mode == "max" and _run(acc, [0.5, 0.7, 0.6, 0.9]) is None and acc.best == 0.9
    assert EarlyStopping("val_mse").mode == "min" and EarlyStopping("loss", mode="max").mode == "max"
    assert _run(EarlyStopping("val_loss", patience=1), [float("nan"), float("nan"), 1.0]) == 2   # NaN never improves


def _scripted(values, n_val):
    """A metric that returns values[epoch - 1] on the validation batch (the one of n_val examples),
    so the best epoch is known in advance; 0 on training batches."""
    calls = iter(values)
    return {"score": lambda out, y: next(calls) if len(y) == n_val else 0.0}


@pytest.mark.parametrize("values, patience, best, stopped", [
    ([3.0, 1.0, 2.0, 2.5, 0.5, 0.1], 2, 2, 4),       # stops, restores epoch 2
    ([3.0, 2.0, 1.0, 1.5, 1.2], 3, 3, None),         # runs to the end, still restores epoch 3 (Keras would not)
])
def test_fit_stops_and_restores_the_best_weights_and_buffers(values, patience, best, stopped):
    X, y = _task()
    model = nn.Serial(nn.Dense(8), nn.BatchNorm(), nn.ReLU(), nn.Dense(2))
    seen = {}

    def remember(epoch, history):
        seen[epoch] = [backend.asnumpy(p.data).copy() for p in model.parameters()] + \
            [backend.asnumpy(b).copy() for _, b in model.named_buffers()]
    train = DataLoader(X, y, batch_size=32, seed=0)
    val = [(X[:60], y[:60])]                                       # one batch: one metric call per epoch
    metric = _scripted(values, 60)
    h = md.train.fit(model, md.losses.cross_entropy, optim.Adam(model, lr=0.05), train, epochs=len(values),
                     val_batches=val, metrics=metric, progress=False, on_epoch_end=remember,
                     early_stopping=dict(monitor="val_score", patience=patience, restore_best_weights=True))
    assert (h.best_epoch, h.stopped_epoch) == (best, stopped)
    assert h.epochs == (stopped or len(values))
    now = [backend.asnumpy(p.data) for p in model.parameters()] + [backend.asnumpy(b) for _, b in model.named_buffers()]
    for a, b in zip(now, seen[best]):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(now, seen[h.epochs]))   # the last epoch differed


def test_without_restore_the_last_weights_stay():
    X, y = _task()
    model = nn.Serial(nn.Dense(2))
    h = md.train.fit(model, md.losses.cross_entropy, optim.SGD(model, lr=0.1), [(X[:200], y[:200])], epochs=4,
                     val_batches=[(X, y)], metrics=_scripted([1.0, 0.5, 0.9, 0.9], len(y)), progress=False,
                     early_stopping=EarlyStopping("val_score", patience=1))
    assert h.best_epoch == 2 and h.stopped_epoch == 3 and h.epochs == 3


@pytest.mark.parametrize("kwargs, val, match", [
    (dict(monitor="val_accuracy"), True, r"'val_accuracy' is not one of .*'val_loss'"),
    (dict(monitor="val_loss"), False, "needs val_batches"),
    (dict(monitor="loss", mode="up"), True, "mode must be"),
    (dict(monitor="loss", patience=-1), True, "patience"),
])
def test_a_monitor_fit_never_records_is_refused_before_training(kwargs, val, match):
    X, y = _task()
    model = nn.Serial(nn.Dense(2))
    with pytest.raises(ValueError, match=match):
        md.train.fit(model, md.losses.cross_entropy, optim.SGD(model, lr=0.1), [(X, y)], epochs=2,
                     val_batches=[(X, y)] if val else None, progress=False, early_stopping=kwargs)
    assert not model[0].built                                      # refused before the first step


# ----------------------------------------------------------------------------- predict
def test_predict_is_eval_mode_no_grad_in_batches_and_restores_every_mode(backend_name):
    X, _ = _task(70)
    model = nn.Serial(nn.Dense(16), nn.Dropout(0.5), nn.BatchNorm(), nn.Dense(3))
    model(md.tensor(X))
    model[3].eval()                                                 # a mixed state must come back as it was
    out = model.predict(X, batch_size=32)                           # 32 + 32 + 6
    assert out.shape == (70, 3) and out._ctx is None and not out.requires_grad
    assert model.training and model[1].training and not model[3].training
    model.eval()
    with md.no_grad():
        np.testing.assert_allclose(out.numpy(), model(md.tensor(X)).numpy(), rtol=1e-5, atol=1e-6)


def test_predict_with_several_inputs_and_outputs():
    tower = nn.Serial(nn.Embedding(9, 4), nn.Mean(axis=1))
    model = nn.Parallel(tower, tower)
    q1, q2 = np.random.default_rng(0).integers(0, 9, (2, 5, 3))
    v1, v2 = model.predict((q1, q2), batch_size=2)
    assert v1.shape == v2.shape == (5, 4)
    np.testing.assert_allclose(v1.numpy(), tower(md.tensor(q1)).numpy(), rtol=1e-6)


def test_predict_refuses_mismatched_or_empty_inputs():
    model = nn.Parallel(nn.Dense(2), nn.Dense(2))
    with pytest.raises(ValueError, match=r"same number N >= 1 of examples.*\(4, 3\), \(5, 3\)"):
        model.predict((np.ones((4, 3)), np.ones((5, 3))))
    with pytest.raises(ValueError, match="batch_size"):
        nn.Dense(2).predict(np.ones((4, 3)), batch_size=0)
    with pytest.raises(ValueError, match="N >= 1"):
        nn.Dense(2).predict(np.ones((0, 3)))


# ----------------------------------------------------------------------------- lr_find
def _snapshot(model, opt):
    params = [backend.asnumpy(p.data).copy() for p in model.parameters()]
    buffers = [backend.asnumpy(b).copy() for _, b in model.named_buffers()]
    moments = {id(p): {k: backend.asnumpy(v).copy() if hasattr(v, "shape") else v for k, v in st.items()}
               for p, st in opt.state.items()}
    return params, buffers, moments, opt.lr, [m.training for m in (model, *model.layers)]


def test_lr_find_leaves_no_trace_and_follows_the_exponential_schedule():
    X, y = _task()
    model = nn.Serial(nn.Dense(16), nn.BatchNorm(), nn.ReLU(), nn.Dense(2))
    opt = optim.Adam(model, lr=3e-3)
    md.train.fit(model, md.losses.cross_entropy, opt, [(X, y)], epochs=2, progress=False)   # moments exist
    model[1].eval()
    before = _snapshot(model, opt)
    found = lr_find(model, md.losses.cross_entropy, opt, DataLoader(X, y, batch_size=32, seed=0),
                    start_lr=1e-5, end_lr=1e-1, num_it=30)
    after = _snapshot(model, opt)
    for a, b in zip(before[0] + before[1], after[0] + after[1]):
        np.testing.assert_array_equal(a, b)
    assert before[2].keys() == after[2].keys()
    for k in before[2]:
        for name in before[2][k]:
            np.testing.assert_array_equal(before[2][k][name], after[2][k][name])
    assert before[3:] == after[3:]                                  # the rate and every train/eval flag
    assert not found.diverged and len(found.lrs) == 30
    np.testing.assert_allclose(found.lrs[0], 1e-5) and np.testing.assert_allclose(found.lrs[-1], 1e-1)
    np.testing.assert_allclose(np.diff(np.log(found.lrs)), np.log(1e4) / 29)
    avg = 0.0                                                       # the debiased moving average
    for i, (raw, s) in enumerate(zip(found.raw_losses, found.losses)):
        avg = 0.98 * avg + 0.02 * raw
        assert math.isclose(s, avg / (1 - 0.98 ** (i + 1)), rel_tol=1e-9)


def test_lr_find_stops_when_the_loss_diverges_and_suggests_a_rate_before_it():
    X, y = _task()
    model = nn.Serial(nn.Dense(16), nn.ReLU(), nn.Dense(2))
    found = lr_find(model, md.losses.cross_entropy, optim.SGD(model, lr=0.1), DataLoader(X, y, batch_size=32, seed=0),
                    start_lr=1e-4, end_lr=1e4, num_it=80)
    assert found.diverged and len(found.lrs) < 80
    assert 1e-4 < found.suggestion < found.lrs[-1] / 10 and found.rule == "minimum/10"
    fig = found.plot()
    assert fig.axes[0].get_xscale() == "log"
    assert any("suggested" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_the_two_rules_on_a_known_curve():
    lrs = np.logspace(-6, 1, 100)
    x = np.log10(lrs)
    losses = 2 - np.tanh(2 * (x + 2)) + np.where(x > -0.5, 3 * (x + 0.5) ** 2, 0)   # falls fastest at 1e-2
    lr_min, lr_steep = suggestions(lrs, losses, 100)
    low = np.argmin(losses[10:-5]) + 10
    assert lr_min == pytest.approx(lrs[low] / 10)
    assert 10 ** -2.2 < lr_steep < 10 ** -1.8


@pytest.mark.parametrize("kwargs, match", [
    (dict(start_lr=1.0, end_lr=0.1), "start_lr < end_lr"), (dict(num_it=1), "num_it"),
    (dict(rule="valley"), "rule must be"), (dict(beta=1.0), "beta"),
])
def test_lr_find_refuses_bad_settings(kwargs, match):
    X, y = _task()
    model = nn.Serial(nn.Dense(2))
    with pytest.raises(ValueError, match=match):
        lr_find(model, md.losses.cross_entropy, optim.SGD(model, lr=0.1), [(X, y)], **kwargs)
