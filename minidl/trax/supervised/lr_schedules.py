"""``trax.lr`` (``trax.supervised.lr_schedules``): learning-rate schedules, functions step -> rate.

    constant(0.01)                      0.01 from step 1 on (step 0: 0)
    warmup(n, max_value)                a line from (0, 0) to (n + 1, max_value), then max_value
    warmup_and_rsqrt_decay(n, max_value)
        step <= n:   max_value * step / (n + 1)                   linear warm-up
        step > n:    max_value * sqrt(n + 1) / sqrt(step)         reciprocal-square-root decay

Steps count from 1, as in ``training.Loop``; the decay joins the warm-up line at n + 1.
"""
from __future__ import annotations

import math


class _BodyAndTail:
    """A linear ramp from (0, 0) to (body_start, value), a constant body, then ``tail_fn`` from tail_start on."""

    def __init__(self, body_value, body_start=None, tail_start=None, tail_fn=None):
        if body_start is None and tail_start is None:
            raise ValueError("Both body start and tail start are None.")
        if tail_start is not None and tail_fn is None:
            raise ValueError(f"Tail start has value ({tail_start}) but tail_fn is None.")
        self._body_value = body_value
        self._body_start = tail_start if body_start is None else body_start
        self._tail_start, self._tail_fn = tail_start, tail_fn

    def __call__(self, step_number):
        if step_number < self._body_start:
            return step_number / self._body_start * self._body_value
        if self._tail_start is not None and step_number >= self._tail_start:
            return self._tail_fn(step_number, self._tail_start, self._body_value)
        return self._body_value


def _rsqrt(step_number, tail_start, body_value):
    return body_value * math.sqrt(tail_start) / math.sqrt(step_number)


def constant(value):
    return _BodyAndTail(value, body_start=1)


def warmup(n_warmup_steps, max_value):
    return _BodyAndTail(max_value, body_start=n_warmup_steps + 1)


def warmup_and_rsqrt_decay(n_warmup_steps, max_value):
    return _BodyAndTail(max_value, tail_start=n_warmup_steps + 1, tail_fn=_rsqrt)
