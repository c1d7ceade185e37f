"""How one training step is timed: warm-up, calibrated repeats, interleaving, spread.

The method, and why each part is there:

1. **Warm-up.**  The first steps of any framework pay one-off costs: lazy
   parameter creation (``Dense`` infers ``n_in`` at its first call), memory-pool
   growth, CuPy kernel compilation, CPU caches and BLAS thread start-up.  They
   are run and thrown away.
2. **Calibrated repeats.**  One repeat runs ``k`` steps back to back and records
   ``elapsed / k``.  ``k`` is chosen from the warm-up so that a repeat lasts at
   least ``min_repeat_s``: a 0.2 ms step timed alone is mostly clock and loop
   noise, a 200 ms step needs no help.
3. **Median and spread.**  We report the median of the repeats (robust to the
   odd repeat hit by the OS scheduler or a garbage collection) with min/max and
   the inter-quartile range, so a reader sees how much to trust it.
4. **Interleaving.**  When several runners are compared (minidl vs PyTorch),
   their repeats alternate A B B A A B ... in one process, so a slow drift of the
   machine (thermal throttling, a noisy neighbour) hits both alike and the
   *ratio* stays honest even when absolute times wander.
5. **Synchronise before reading the clock.**  GPU work is asynchronous: a CuPy
   or CUDA-torch call returns as soon as the kernel is *queued*.  Reading the
   clock without waiting measures how fast Python can enqueue, not how fast the
   GPU computes.  ``synchronizer(...)`` returns the right wait for each device.
"""
from __future__ import annotations

import gc
import importlib
import math
import time
from dataclasses import dataclass, field

import numpy as np


# ----------------------------------------------------------------------------- GPU sync
def _no_sync():
    pass


def synchronizer(framework: str, device: str):
    """A zero-argument function that blocks until queued device work is done.

    ``framework`` is "minidl" or "torch"; ``device`` the backend ("numpy",
    "cupy") or torch device ("cpu", "cuda").  CPU work is synchronous, so CPU
    runners get a no-op.  CuPy and torch are imported lazily: this module must
    import on a machine that has neither.  CuPy comes from minidl's backend (the
    one place that finds it), which raises with the reason when it is unusable.
    """
    if device == "cupy":
        from minidl import backend
        cp = backend.module("cupy")
        return lambda: cp.cuda.Device().synchronize()
    if framework == "torch" and device.startswith("cuda"):
        torch = importlib.import_module("torch")
        return torch.cuda.synchronize
    return _no_sync


# ----------------------------------------------------------------------------- results
@dataclass
class Timing:
    """Per-step times (seconds) of each repeat, plus how they were taken."""
    per_step_s: list[float] = field(default_factory=list)
    warmup: int = 0
    steps_per_repeat: int = 1

    def stats_ms(self) -> dict:
        """median / min / max / q1 / q3 in milliseconds, and steps per second."""
        t = np.asarray(self.per_step_s, dtype=np.float64) * 1e3
        q1, med, q3 = np.percentile(t, [25, 50, 75])
        return {"median_ms": float(med), "min_ms": float(t.min()), "max_ms": float(t.max()),
                "q1_ms": float(q1), "q3_ms": float(q3),
                "steps_per_s": float(1e3 / med) if med > 0 else math.inf,
                "repeats": len(t), "steps_per_repeat": self.steps_per_repeat,
                "warmup": self.warmup}


@dataclass
class Runner:
    """One thing to time: ``step()`` does a full training step; ``sync()`` waits for it."""
    label: str
    step: object
    sync: object = _no_sync


# ----------------------------------------------------------------------------- the loop
def _run_block(runner: Runner, k: int) -> float:
    runner.sync()                  # nothing queued before the clock starts ...
    t0 = time.perf_counter()
    for _ in range(k):
        runner.step()
    runner.sync()                  # ... and everything finished before it stops
    return (time.perf_counter() - t0) / k


def measure(runners: list[Runner], warmup: int = 2, repeats: int = 5,
            min_repeat_s: float = 0.05, max_steps_per_repeat: int = 1000,
            collect_garbage: bool = True) -> dict[str, Timing]:
    """Time every runner's step; repeats of different runners are interleaved.

    Returns ``{label: Timing}``.  With ``repeats=1`` and ``warmup=0`` this is a
    single timed step (the smoke suite).
    """
    timings = {r.label: Timing(warmup=warmup) for r in runners}
    first_guess = {}
    for r in runners:
        # At least one untimed step even with warmup=0: it also tells us roughly how
        # long a step takes, which sets k.  (With warmup=0 that step is timed once
        # more below, so the smoke suite still reports a real measurement.)
        t = math.inf
        for _ in range(max(warmup, 1)):
            t = _run_block(r, 1)
        first_guess[r.label] = t
    for r in runners:
        t = max(first_guess[r.label], 1e-7)
        k = 1 if warmup == 0 else int(min(max_steps_per_repeat, max(1, math.ceil(min_repeat_s / t))))
        timings[r.label].steps_per_repeat = k
    for i in range(repeats):
        # A B, then B A: whichever runs second in a pair inherits the caches / spinning
        # threads of the first, and alternating the order shares that bias evenly.
        order = runners if i % 2 == 0 else list(reversed(runners))
        for r in order:
            if collect_garbage:    # a collection owed by the *other* framework is not ours
                gc.collect()
            timings[r.label].per_step_s.append(_run_block(r, timings[r.label].steps_per_repeat))
    return timings

