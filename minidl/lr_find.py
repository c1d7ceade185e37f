"""``md.train.lr_find``: the learning-rate range test (Smith 2015), as fastai's ``Learner.lr_find``.

    found = md.train.lr_find(model, md.losses.mse, optim.Adam(model, lr=1e-3), train_batches)
    found.suggestion            # the suggested rate, by found.rule ("minimum/10" or "steepest")
    fig = found.plot()          # smoothed loss against the rate (log axis), suggestions marked

The test trains for at most ``num_it`` mini-batches while the rate grows
exponentially from ``start_lr`` to ``end_lr``:

    lr_i = start_lr * (end_lr / start_lr) ** (i / (num_it - 1))          i = 0 .. num_it - 1

One mini-batch's loss is noisy, so the curve is an exponential moving average,
debiased as Adam debiases its moments (beta = 0.98, fastai's):

    avg_i = beta avg_{i-1} + (1 - beta) loss_i          smooth_i = avg_i / (1 - beta^(i+1))

and the test stops when the loss diverges: smooth_i > 4 x the lowest so far, or
a loss or gradient that is not finite.  Afterwards EVERYTHING is put back -- the
weights and buffers, the optimizer's state (Adam's moments) and rate, and the
train/eval mode -- so the test leaves no trace on the model.

Two suggestions, read off the curve without its last 5 points (where the loss
blows up) and without its start, where the average still rests on a few noisy
losses: fastai drops the first num_it // 10 points; here at least the first
1 / (2 (1 - beta)) = 25, since on a flat stretch the noise of the first average
can be lower than the real dip and would win:

    "minimum/10"  the rate at the lowest smoothed loss, divided by 10: still on
                  the falling slope, a safe factor below where learning turns into
                  divergence (the default rule here)
    "steepest"    the rate where the smoothed loss falls fastest per unit of
                  log(lr), before its minimum: d smooth / d log(lr) most negative, as a
                  difference over +-5% of the points (fastai's ``steep`` takes
                  neighbours, which lets one wiggle of the noisy start win)

Batches: like ``fit``'s, (x, y) or (x, y, mask), x a tuple for several inputs;
they are reused from the start when num_it is longer than one pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .autograd import no_grad
from .early_stopping import capture, restore
from .optim import NonFiniteGradientError, clip_grad_norm
from .train_step import _as_input, _check_loss, _epoch_iterable, _forward, _unpack

RULES = ("minimum/10", "steepest")


@dataclass
class LRFindResult:
    lrs: list                           # the rate of every step taken
    losses: list                        # the smoothed loss after each step
    raw_losses: list = field(repr=False)
    lr_min: float = math.nan            # "minimum/10"
    lr_steep: float = math.nan          # "steepest"
    rule: str = "minimum/10"
    diverged: bool = False              # stopped before num_it because the loss blew up

    @property
    def suggestion(self) -> float:
        return self.lr_min if self.rule == "minimum/10" else self.lr_steep

    def plot(self, ax=None):
        """Smoothed loss against the rate (log x axis), both suggestions marked; returns the Figure."""
        from matplotlib.figure import Figure
        fig = Figure(figsize=(6.5, 4.8), layout="constrained") if ax is None else ax.figure
        ax = ax or fig.add_subplot()
        # dotted vs solid and circle vs triangle: the lines stay apart in grey-scale print
        ax.plot(self.lrs, self.raw_losses, color="#bbbbbb", ls=":", lw=0.8, label="loss of each mini-batch")
        ax.plot(self.lrs, self.losses, color="tab:blue", lw=1.6, label="smoothed")
        for lr, name, colour, marker in ((self.lr_min, "minimum/10", "tab:green", "o"),
                                         (self.lr_steep, "steepest", "tab:red", "^")):
            if math.isfinite(lr):
                y = float(np.interp(np.log(lr), np.log(self.lrs), self.losses))
                chosen = " (suggested)" if name == self.rule else ""
                ax.plot([lr], [y], marker, color=colour, ms=8 if chosen else 6, label=f"{name}: {lr:.2g}{chosen}")
        ax.set_xscale("log")
        low, high = min(self.losses), max(self.losses[: max(2, len(self.losses) * 9 // 10)])
        ax.set_ylim(low - 0.1 * (high - low + 1e-12), high + 0.25 * (high - low + 1e-12))
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate finder" + (" (stopped: the loss diverged)" if self.diverged else ""))
        # below the axes: the noisy mini-batch losses fill the whole plot, a legend inside would hide some
        ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.14))
        return fig


def suggestions(lrs, losses, num_it, beta=0.98):
    """(minimum/10, steepest) without the settling start and the last 5 points; NaN when too few remain."""
    lrs, losses = np.asarray(lrs, float), np.asarray(losses, float)
    keep = slice(max(num_it // 10, round(0.5 / (1 - beta))), len(lrs) - 5)
    if len(lrs[keep]) >= 3:
        lrs, losses = lrs[keep], losses[keep]
    if len(lrs) < 2:
        return math.nan, math.nan
    low = int(np.argmin(losses))
    lr_min = float(lrs[low]) / 10
    # d smooth / d log(lr) as a central difference over +-w points, on the way down to the minimum:
    # between neighbours, a wiggle of the noisy curve at the start would look steeper than the slope
    w = max(1, len(lrs) // 20)
    if low < 2 * w:
        return lr_min, float(lrs[max(low // 2, 0)])
    i = np.arange(w, low - w + 1) if low - w >= w else np.array([w])
    slope = (losses[i + w] - losses[i - w]) / (np.log(lrs[i + w]) - np.log(lrs[i - w]))
    return lr_min, float(lrs[i[int(np.argmin(slope))]])


def lr_find(model, loss_fn, optimizer, train_batches, start_lr: float = 1e-7, end_lr: float = 10.0,
            num_it: int = 100, beta: float = 0.98, stop_div: bool = True, rule: str = "minimum/10") -> LRFindResult:
    """Run the range test (module docstring) and return its ``LRFindResult``; the model is left unchanged."""
    if rule not in RULES:
        raise ValueError(f"lr_find: rule must be one of {RULES}, got {rule!r}")
    if not (0 < start_lr < end_lr and math.isfinite(end_lr)):
        raise ValueError(f"lr_find: need 0 < start_lr < end_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    if not (isinstance(num_it, int) and num_it >= 2):
        raise ValueError(f"lr_find: num_it must be an integer >= 2, got {num_it!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"lr_find: beta must be in [0, 1), got {beta!r}")
    next_batches = _epoch_iterable(train_batches, 2, "train_batches")
    batches = _cycle(next_batches)
    first = next(batches, None)
    if first is None:
        raise ValueError("lr_find: train_batches gave no batch")
    with no_grad():                                      # build lazy layers, so the snapshot holds them
        x, _, _ = _unpack(first)
        xs = _as_input(x)
        model(*xs) if isinstance(xs, tuple) else model(xs)
    saved = capture(model), _optimizer_state(optimizer), [(m, m.training) for m in _layers(model)]
    lrs, smooth, raw, avg, best = [], [], [], 0.0, math.inf
    diverged = False
    try:
        model.train()
        batch = first
        for i in range(num_it):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_it - 1))
            optimizer.lr = lr
            x, y, mask = _unpack(batch)
            _, loss = _forward(model, loss_fn, _as_input(x), y, mask)
            _check_loss(loss, loss_fn)
            value = float(loss.item())
            if not math.isfinite(value):
                diverged = True
                break
            avg = beta * avg + (1 - beta) * value
            s = avg / (1 - beta ** (i + 1))
            lrs.append(lr), raw.append(value), smooth.append(s)
            best = min(best, s)
            if stop_div and s > 4 * best:
                diverged = True
                break
            optimizer.zero_grad()
            loss.backward()
            try:
                clip_grad_norm(optimizer.parameters(), math.inf)      # only the finiteness check
            except NonFiniteGradientError:
                diverged = True
                break
            optimizer.step()
            batch = next(batches)
    finally:
        weights, opt_state, modes = saved
        restore(weights)
        _restore_optimizer(optimizer, opt_state)
        for layer, mode in modes:
            object.__setattr__(layer, "training", mode)
        optimizer.zero_grad()
    if len(lrs) < 2:
        raise FloatingPointError(f"lr_find: the loss was not finite from the first steps (start_lr={start_lr:g}); "
                                 "check the data and the loss, or lower start_lr")
    lr_min, lr_steep = suggestions(lrs, smooth, num_it, beta)
    return LRFindResult(lrs, smooth, raw, lr_min, lr_steep, rule, diverged)


def _cycle(next_batches):
    """Batches forever: pass after pass over a re-iterable (or a function giving a fresh iterable)."""
    while True:
        empty = True
        for batch in next_batches():
            empty = False
            yield batch
        if empty:
            return


def _layers(model):
    out, stack, seen = [], [model], set()
    while stack:
        layer = stack.pop()
        if id(layer) not in seen:
            seen.add(id(layer))
            out.append(layer)
            stack.extend(layer.sublayers())
    return out


def _optimizer_state(opt):
    copy = lambda v: v.copy() if hasattr(v, "copy") else v
    return opt.lr, {p: {k: copy(v) for k, v in st.items()} for p, st in opt.state.items()}


def _restore_optimizer(opt, saved):
    opt.lr, opt.state = saved
