"""Grad mode: whether operations record a graph (``no_grad``, ``enable_grad``), and who watches them.

Inside ``with md.no_grad():`` a Function computes its output and records
nothing, so evaluation and optimizer updates build no graph and keep no saved
arrays.  ``minidl.autograd`` re-exports these names; this file only holds the
switch.
"""
from __future__ import annotations

import contextlib
import contextvars

# Whether operations record a graph.  A context variable, not a global: a
# ``no_grad`` block in one thread (or asyncio task) must not switch recording
# off for training running in another.
_grad_mode = contextvars.ContextVar("minidl_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    return _grad_mode.get()


@contextlib.contextmanager
def set_grad_enabled(mode: bool):
    """Record a graph inside the block if ``mode`` is True, not if False (as in PyTorch)."""
    token = _grad_mode.set(bool(mode))
    try:
        yield
    finally:
        _grad_mode.reset(token)


def no_grad():
    """Run a block without recording a graph (evaluation, optimizer updates)."""
    return set_grad_enabled(False)


def enable_grad():
    """Record a graph again inside a ``no_grad`` block (``md.grad`` uses it)."""
    return set_grad_enabled(True)


# ----------------------------------------------------------------------------- watching calls
# A callback that sees every Function call, ``watcher(fn, settings, inputs, tensors, results)``:
# the Function, its attributes before forward (what __init__ set), the arguments as given,
# the same as Tensors, and the output Tensors.  Context-local like the grad mode, so a
# tracer in one thread (``md.scan(..., replay=True)``, minidl/fast/replay.py) never sees
# another thread's ops.  Nothing watches by default.
_watcher = contextvars.ContextVar("minidl_call_watcher", default=None)


def call_watcher():
    return _watcher.get()


@contextlib.contextmanager
def watching_calls(watcher):
    """Call ``watcher`` after every Function call inside the block (this thread only)."""
    token = _watcher.set(watcher)
    try:
        yield
    finally:
        _watcher.reset(token)
