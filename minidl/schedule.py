"""Learning-rate schedules: the one-cycle policy (Smith 2018), as fastai's ``fit_one_cycle``.

    opt = optim.Adam(model, lr=1e-3)
    sched = optim.OneCycle(opt, max_lr=5e-3, total_steps=epochs * len(loader))
    for each batch:  ...; opt.step(); sched.step()
"""
from __future__ import annotations

import math

from . import validate


def _cos_anneal(start, end, pos):
    """From ``start`` (pos = 0) to ``end`` (pos = 1) along half a cosine: flat at both ends."""
    return end + (start - end) / 2 * (1 + math.cos(math.pi * pos))


def one_cycle(t: int, total_steps: int, max_lr: float, pct_start: float = 0.25, div: float = 25.0,
              div_final: float = 1e5, moms=(0.95, 0.85, 0.95)):
    """(learning rate, momentum) at step t (0-based) of a one-cycle schedule (Smith 2018; fastai).

        warm-up  (first pct_start of the steps):  lr  max_lr/div -> max_lr,   momentum moms[0] -> moms[1]
        cool-down (the rest):                      lr  max_lr -> max_lr/div_final, momentum moms[1] -> moms[2]

    both along half cosines.  Why: a low start lets Adam's moment estimates settle
    before big steps; the high middle crosses flat regions fast (and its noise acts
    as a regulariser); the long annealed tail settles into a minimum.  Momentum
    moves the other way, so the total step size stays tame at the peak.
    """
    total_steps = validate.positive_int(total_steps, "total_steps", "one_cycle")
    t = validate.non_negative_int(t, "t (the step)", "one_cycle")
    if t >= total_steps:
        raise ValueError(f"one_cycle: step t = {t} is outside the schedule's total_steps = {total_steps} steps")
    max_lr = validate.positive_number(max_lr, "max_lr", "one_cycle")
    pct_start = validate.number(pct_start, "pct_start", "one_cycle", lo=0, hi=1)
    div = validate.positive_number(div, "div", "one_cycle")
    div_final = validate.positive_number(div_final, "div_final", "one_cycle")
    if not isinstance(moms, (tuple, list)) or len(moms) != 3:
        raise TypeError(f"one_cycle: moms must be three momenta (start, peak, end), got {moms!r}")
    moms = [validate.number(m, "moms", "one_cycle", lo=0, hi=1) for m in moms]
    peak = int(round(pct_start * (total_steps - 1)))
    if t <= peak:
        pos = t / peak if peak else 1.0
        return (_cos_anneal(max_lr / div, max_lr, pos), _cos_anneal(moms[0], moms[1], pos))
    pos = (t - peak) / (total_steps - 1 - peak)
    return (_cos_anneal(max_lr, max_lr / div_final, pos), _cos_anneal(moms[1], moms[2], pos))


class OneCycle:
    """Drive an optimizer's learning rate (and momentum) along ``one_cycle``.

        opt = optim.Adam(model, lr=1e-3)              # the lr given here is replaced
        sched = optim.OneCycle(opt, max_lr=5e-3, total_steps=epochs * len(loader))
        for each batch:  ...; opt.step(); sched.step()

    The momentum is Adam's beta1 or SGD's ``momentum`` (left alone for plain SGD,
    momentum 0).  ``sched.step()`` moves to the next step's values; calling it more
    than ``total_steps`` times is an error (the schedule was sized wrongly).
    ``lrs`` holds every learning rate set so far, for plotting.
    """
    def __init__(self, optimizer, max_lr: float, total_steps: int, pct_start: float = 0.25,
                 div: float = 25.0, div_final: float = 1e5, moms=(0.95, 0.85, 0.95)):
        total_steps = validate.positive_int(total_steps, "total_steps", "OneCycle")
        pct_start = validate.number(pct_start, "pct_start", "OneCycle", lo=0, hi=1)
        one_cycle(0, total_steps, max_lr, pct_start, div, div_final, moms)      # checks the other settings
        self.optimizer, self.total_steps = optimizer, int(total_steps)
        self.settings = dict(max_lr=float(max_lr), pct_start=pct_start, div=div, div_final=div_final,
                             moms=tuple(moms))
        self.t, self.lrs = 0, []
        self._apply()

    def _apply(self):
        lr, mom = one_cycle(self.t, self.total_steps, **self.settings)
        self.optimizer.lr = lr
        if hasattr(self.optimizer, "b1"):
            self.optimizer.b1 = mom
        elif getattr(self.optimizer, "momentum", 0):
            self.optimizer.momentum = mom
        self.lrs.append(lr)

    def step(self):
        self.t += 1
        if self.t > self.total_steps:
            raise RuntimeError(f"OneCycle: stepped {self.t} times, but the schedule has "
                               f"{self.total_steps} steps (size it as epochs * batches per epoch)")
        if self.t < self.total_steps:          # after the last step there is nothing left to set
            self._apply()
        return self.optimizer.lr
