"""Early stopping on a monitored number, with the best weights kept (Keras's ``EarlyStopping``).

    stop = md.train.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = md.train.fit(model, loss_fn, opt, train, epochs=50, val_batches=val, early_stopping=stop)
    history.best_epoch, history.stopped_epoch          # e.g. 7 and 9 (None: it ran to the end)

After each epoch, the monitored number m (any name in the History: "val_loss",
"val_accuracy", "loss", ...) is compared with the best so far:

    mode "min":  an improvement is  m < best - min_delta
    mode "max":  an improvement is  m > best + min_delta
    mode "auto": "max" for names holding "acc", "auc" or "f1", else "min" (losses, MSE)

An improvement resets the count of epochs without one; when that count reaches
``patience`` training stops (patience 0: at the first epoch that does not
improve).  A NaN never improves.  These are Keras's semantics, to the letter.

``restore_best_weights=True`` keeps a copy of the parameters *and buffers*
(BatchNorm's running statistics) of the best epoch and puts them back when
training ends -- also when it ends by running out of epochs, where Keras would
keep the last epoch's weights (a classic surprise; here the model is always
the one the history calls best).
"""
from __future__ import annotations

import math


def capture(model):
    """A copy of every parameter's and buffer's values: [(owner, attribute, array copy)]."""
    out, seen, stack = [], set(), [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        for name, p in layer.named_parameters():
            if "." not in name:                          # the layer's own, not a sublayer's
                out.append((layer, name, p.data.copy()))
        for name, array in layer.named_buffers():
            if "." not in name:
                out.append((layer, name, array.copy()))
        stack.extend(layer.sublayers())
    return out


def restore(snapshot):
    """Put the values of ``capture(model)`` back (parameters keep their identity; gradients are dropped)."""
    for layer, name, array in snapshot:
        current = getattr(layer, name)
        if hasattr(current, "requires_grad"):            # a Parameter
            current.data, current.grad = array.copy(), None
        else:                                            # a buffer
            setattr(layer, name, array.copy())


class EarlyStopping:
    """EarlyStopping(monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False)."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not (isinstance(patience, int) and patience >= 0):
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got {patience!r}")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"EarlyStopping: min_delta must be a number >= 0, got {min_delta!r}")
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "auc", "f1")) else "min"
        self.monitor, self.min_delta, self.patience, self.mode = monitor, float(min_delta), patience, mode
        self.restore_best_weights = bool(restore_best_weights)
        self.reset()

    def reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.stopped_epoch, self.wait, self.best_weights = None, None, 0, None

    def check(self, available):
        """Refuse, before training, a monitor that the History will never hold."""
        if self.monitor not in available:
            hint = " (a val_ name needs val_batches)" if self.monitor.startswith("val_") else ""
            raise ValueError(f"EarlyStopping: monitor {self.monitor!r} is not one of the numbers fit "
                             f"records: {sorted(available)}{hint}")

    def improved(self, value) -> bool:
        if not math.isfinite(value):
            return False
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def update(self, epoch: int, value: float, model) -> bool:
        """Record epoch ``epoch``'s monitored value; True means: stop now."""
        self.wait += 1
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = capture(model)
            return False
        if self.wait >= self.patience and epoch > 1:
            self.stopped_epoch = epoch
            return True
        return False

    def finish(self, epoch: int) -> str | None:
        """At the end of training: restore the best weights when asked; a line saying what happened, or None."""
        said = []
        if self.stopped_epoch is not None:
            said.append(f"early stopping at epoch {self.stopped_epoch}: {self.monitor} did not improve for "
                        f"{self.wait} epoch{'s' if self.wait != 1 else ''}")
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != epoch:
            restore(self.best_weights)
            said.append(f"restored the weights of epoch {self.best_epoch} ({self.monitor} {self.best:.4f})")
        return "; ".join(said) or None

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, min_delta={self.min_delta:g}, patience={self.patience}, "
                f"mode={self.mode!r}, restore_best_weights={self.restore_best_weights})")
