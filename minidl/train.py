"""``md.train.fit``: the training loop the lessons would otherwise write out each time.

    history = md.train.fit(model, md.losses.cross_entropy, optim.Adam(model, 1e-2),
                           train_loader, epochs=5, val_batches=val_loader,
                           metrics=["accuracy"])
    history["val_accuracy"][-1]

One epoch is one pass over ``train_batches``; for each batch:

    out  = model(x)                        (model(*x) when x is a tuple, e.g. Siamese pairs)
    loss = loss_fn(out, y)                 (loss_fn(out, y, mask) when the batch has a mask)
    check that loss is finite              (else NonFiniteLossError: step, epoch, value)
    optimizer.zero_grad(); loss.backward()
    clip_grad_norm(..., clip)              (when clip is given)
    optimizer.step()

Batches: any *re-iterable* of (x, y) or (x, y, mask) tuples (a list, a
``md.data.DataLoader``), or a function returning a fresh iterable each epoch.
A one-shot generator would be empty from the second epoch on, so it is
refused when epochs > 1.  x and y may be Tensors or arrays.

Numbers reported per epoch (in the returned ``History``): the mean training
loss and metrics (averaged over batches weighted by their number of targets,
so a short last batch counts for what it holds), and the same on
``val_batches`` computed in eval mode (Dropout off) under ``no_grad``.

Metrics: names from ``md.metrics`` ("accuracy" uses the mask when batches
have one) or a dict {name: f} with f(out, y) / f(out, y, mask) -> float.

Early stopping (Keras's, see minidl/early_stopping.py): ``early_stopping=
EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)`` (or
the same as a dict) ends training when the monitored number stops improving;
``history.best_epoch`` and ``history.stopped_epoch`` say when.

Also here: ``lr_find`` (fastai's learning-rate range test, minidl/lr_find.py);
and every Layer has ``predict(x, batch_size=256)``.
"""
from __future__ import annotations

import math

from . import metrics as M, validate
from .autograd import no_grad, array_of
from .early_stopping import EarlyStopping
from .lr_find import LRFindResult, lr_find  # noqa: F401  (md.train.lr_find)
from .optim import NonFiniteGradientError, clip_grad_norm
from .train_step import _as_input, _check_loss, _epoch_iterable, _forward, _unpack


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; ``.step``, ``.epoch``, ``.loss`` say where."""
    def __init__(self, step, epoch, batch, loss, last_finite):
        self.step, self.epoch, self.batch, self.loss = step, epoch, batch, loss
        super().__init__(
            f"the training loss became {loss} at global step {step} (epoch {epoch}, batch {batch}); "
            f"the last finite loss was {last_finite}. Usual causes: a learning rate too large "
            "(try 10x smaller or clip=1.0), NaN in the inputs, or log(0) in a hand-written loss.")


class History:
    """Per-epoch numbers: ``history["loss"]``, ``history["val_accuracy"]``, ... (lists, epoch 1 first)."""
    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.best_epoch = self.stopped_epoch = None      # set by early stopping

    def log(self, name: str, value: float):
        self.history.setdefault(name, []).append(float(value))

    def __getitem__(self, name):
        return self.history[name]

    def __contains__(self, name):
        return name in self.history

    @property
    def epochs(self) -> int:
        return max((len(v) for v in self.history.values()), default=0)

    def last(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.history.items() if v}

    def __repr__(self):
        return "History(" + ", ".join(f"{k}={_fmt(v)}" for k, v in self.last().items()) + \
            f", epochs={self.epochs})"


def _fmt(v):
    return f"{v:.4f}"


# ----------------------------------------------------------------------------- helpers
def _resolve_metrics(metrics) -> dict:
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return dict(metrics)
    out = {}
    for m in metrics:
        if callable(m):
            out[m.__name__] = m
        elif m == "accuracy":
            out["accuracy"] = _accuracy
        elif m == "perplexity":
            raise ValueError("perplexity is exp(mean loss): compute it from history['loss'] with "
                             "md.metrics.perplexity, it is not a per-batch metric")
        else:
            raise ValueError(f"unknown metric {m!r}; give a name from md.metrics ('accuracy') "
                             "or a dict {name: function(out, y[, mask])}")
    return out


def _accuracy(out, y, mask=None):
    return M.accuracy(out, y) if mask is None else M.masked_accuracy(out, y, mask)


def _count(y, mask):
    """How many targets a batch holds: its weight in the epoch average."""
    if mask is not None:
        return float((array_of(mask)).sum())
    return float(getattr(y, "size", 1) or 1)


class _Mean:
    """A running weighted mean of named values."""
    def __init__(self):
        self.sums, self.weights = {}, {}

    def add(self, name, value, weight):
        if weight > 0:
            self.sums[name] = self.sums.get(name, 0.0) + value * weight
            self.weights[name] = self.weights.get(name, 0.0) + weight

    def result(self):
        return {k: self.sums[k] / self.weights[k] for k in self.sums}


def _log_metrics(acc, fns, out, y, mask, n):
    for name, f in fns.items():
        acc.add(name, f(out, y) if mask is None else f(out, y, mask), n)


# ----------------------------------------------------------------------------- evaluate and fit
def evaluate(model, loss_fn, batches, metrics=None) -> dict:
    """Mean loss and metrics over ``batches`` in eval mode under no_grad (the mode is restored)."""
    fns = _resolve_metrics(metrics)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    acc = _Mean()
    try:
        with no_grad():
            for batch in (batches() if callable(batches) and not hasattr(batches, "__iter__") else batches):
                x, y, mask = _unpack(batch)
                out, loss = _forward(model, loss_fn, _as_input(x), y, mask)
                n = _count(y, mask)
                acc.add("loss", float(loss.item()), n)
                _log_metrics(acc, fns, out, y, mask, n)
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    return acc.result()


def _early_stopping(early_stopping, fns, val_batches):
    if early_stopping is None:
        return None
    es = EarlyStopping(**early_stopping) if isinstance(early_stopping, dict) else early_stopping
    if not isinstance(es, EarlyStopping):
        raise TypeError(f"fit: early_stopping must be an md.train.EarlyStopping or a dict of its arguments, "
                        f"got {type(early_stopping).__name__}")
    names = ["loss", *fns]
    es.check(names + (["val_" + n for n in names] if val_batches is not None else []))
    es.reset()
    return es


def fit(model, loss_fn, optimizer, train_batches, epochs: int = 1, val_batches=None, metrics=None,
        clip: float | None = None, progress: bool = True, on_epoch_end=None, early_stopping=None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_batches``; return the ``History``.

    on_epoch_end(epoch, history) is called after each epoch (epoch counts from 1);
    returning True stops training early.  early_stopping: an ``EarlyStopping``
    (or a dict of its arguments).  ``progress=False`` hides the tqdm bar and the
    per-epoch line.
    """
    if clip is not None:                    # clip=0 would zero every gradient: nothing would ever move
        clip = validate.positive_number(clip, "clip (the largest gradient norm allowed, or None)", "fit",
                                        allow_inf=True)
    epochs = validate.positive_int(epochs, "epochs", "fit")
    fns = _resolve_metrics(metrics)
    es = _early_stopping(early_stopping, fns, val_batches)
    next_train = _epoch_iterable(train_batches, epochs, "train_batches")
    history, step, last_finite = History(), 0, None
    for epoch in range(1, epochs + 1):
        model.train()
        acc = _Mean()
        bar = _progress(next_train(), epoch, epochs, progress)
        for i, batch in enumerate(bar, start=1):
            step += 1
            x, y, mask = _unpack(batch)
            out, loss = _forward(model, loss_fn, _as_input(x), y, mask)
            _check_loss(loss, loss_fn)
            value = float(loss.item())
            if not math.isfinite(value):       # stop before a NaN update spreads into every weight
                raise NonFiniteLossError(step, epoch, i, value, last_finite)
            last_finite = value
            optimizer.zero_grad()
            loss.backward()
            # A finite loss can still have an infinite gradient (sqrt at 0): the norm is
            # checked (and clipped) BEFORE the update, so a bad step leaves the weights alone.
            try:
                clip_grad_norm(optimizer.parameters(), math.inf if clip is None else clip)
            except NonFiniteGradientError as exc:
                raise NonFiniteGradientError(exc.norm, exc.params, step) from None
            optimizer.step()
            n = _count(y, mask)
            acc.add("loss", value, n)
            _log_metrics(acc, fns, out, y, mask, n)
            if bar is not None and hasattr(bar, "set_postfix") and i % 10 == 0:
                bar.set_postfix(loss=f"{value:.4f}", refresh=False)
        if not acc.sums:
            raise ValueError(f"fit: train_batches gave no batch in epoch {epoch} (an empty loader, or a "
                             "generator already used up: pass a re-iterable such as a DataLoader)")
        for k, v in acc.result().items():
            history.log(k, v)
        if val_batches is not None:
            for k, v in evaluate(model, loss_fn, val_batches, fns).items():
                history.log("val_" + k, v)
        if progress:
            _say(f"epoch {epoch}/{epochs}  " + "  ".join(f"{k} {_fmt(v)}" for k, v in history.last().items()))
        stop = es is not None and es.update(epoch, history[es.monitor][-1], model)
        if (on_epoch_end is not None and on_epoch_end(epoch, history)) or stop:
            break
    if es is not None:
        history.best_epoch, history.stopped_epoch = es.best_epoch, es.stopped_epoch
        said = es.finish(history.epochs)
        if said and progress:
            _say(said)
    return history


def _progress(batches, epoch, epochs, progress):
    if not progress:
        return batches
    from tqdm.auto import tqdm
    total = len(batches) if hasattr(batches, "__len__") else None
    return tqdm(batches, total=total, desc=f"epoch {epoch}/{epochs}", leave=False)


def _say(line):
    from tqdm.auto import tqdm
    tqdm.write(line)                    # printed above a live bar, not through it

