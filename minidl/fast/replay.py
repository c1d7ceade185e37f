"""Replay: ``md.scan(..., replay=True)`` runs a traced step again as ONE graph node.

Skip this file on a first read: ``md.scan`` gives the same numbers without it,
and that is what runs unless ``replay=True`` is asked for by name
(``md.scan(fn, xs, init, replay=True)``, ``nn.LSTM(n, replay=True)``).

Why.  A scanned LSTM cell is 13 ops per step, and each op pays autograd's
bookkeeping: wrapping arrays in Tensors, flags, the graph edge in forward; the
topological sort, the pending-gradient table, the version check and freeing in
backward.  Replaying skips most of it: one graph node per step instead of 13.
Measured on the benchmarks' scanned language models (B = 32, T = 64, H = 256,
one thread, ``lstm_lm_replay`` vs ``lstm_lm_scan``): a training step is 8% (LSTM)
and 16% (GRU) faster, and holds half the memory (24 vs 45 MB, 23 vs 64 MB):
only what each op's backward needs is kept, not every intermediate Tensor.
The NumPy arithmetic itself is unchanged, so ``fused=True`` remains the fast path.

What.  The FIRST step runs eagerly, exactly as without replay (a mistake in the
cell raises its error from the cell at step 0), while a watcher
(``grad_mode.watching_calls``, context-local) writes down every Function call
it makes: the class, the attributes its ``__init__`` set, which earlier value
each input was.  Every later step is one ``ReplayStep`` node that calls the same
Functions' ``forward`` on the new arrays and, in backward, their ``backward`` in
reverse order, each through autograd's own ``chain_rule``.

When, correct by construction.  Replaying step 0's calls is only right if
nothing in them is a value of step 0.  The tracer checks what it can see and
runs the whole scan eagerly (the plain loop) when any of these holds:

* a Function keeps an array or a Tensor as a setting (``md.where``'s condition,
  indices, a mask made from values): it would be step 0's array at every step;
* an op was given an array, or a Tensor that is neither a step input, nor an
  earlier op's output, nor a trainable leaf (a parameter): e.g. ``Tensor(h.data > 0)``;
* an op ran with the graph switched off (``no_grad`` inside the step);
* the carry changes structure, shape or dtype, or the step calls no Function.

What it cannot see is Python code branching on values (``if float(h.sum()) > 0:``)
or a number computed from them (``x * float(h.max())``): as with torch.jit.trace
and jax.lax.scan, a step given to replay must not do that.  The nn cells do not.
Random ops draw afresh at every replay (a dropout mask is made in forward).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor, chain_rule, is_grad_enabled
from ..grad_mode import call_watcher, watching_calls


def replayed_steps(fn):
    """``fn(x_t, carry)`` as a step that traces its first call and replays the later ones."""
    return _ReplayedSteps(fn)


class _ReplayedSteps:
    def __init__(self, fn):
        self.fn, self.tape, self.traced = fn, None, False

    def __call__(self, x_t, carry):
        if self.tape is not None:
            return self.tape.run(x_t, carry)
        if self.traced:                                     # not replayable: the plain loop
            return self.fn(x_t, carry)
        self.traced = True
        result, self.tape = trace(self.fn, x_t, carry)
        return result


def _flatten(tree, out):
    """Tensors of a nest of tuples (x_t, carry) in order; the structure is rebuilt by _rebuild."""
    if isinstance(tree, tuple):
        for t in tree:
            _flatten(t, out)
    else:
        out.append(tree)
    return out


def _rebuild(tree, flat):
    if isinstance(tree, tuple):
        return tuple(_rebuild(t, flat) for t in tree)
    return next(flat)


def _signature(tree):
    """The structure, shapes and dtypes of a nest (a replayed step must see the same ones)."""
    if isinstance(tree, tuple):
        return tuple(_signature(t) for t in tree)
    return (tuple(tree.shape), tree.dtype) if isinstance(tree, Tensor) else type(tree)


def _holds_values(obj):
    """Whether a Function setting is (or contains) an array, a NumPy scalar or a Tensor."""
    if isinstance(obj, (tuple, list)):
        return any(_holds_values(o) for o in obj)
    return isinstance(obj, (Tensor, np.ndarray, np.generic)) or backend.xp_of(obj) is not np


class _Recorder:
    """The watcher of a traced step: every call, and why the step cannot be replayed (if so)."""

    def __init__(self, outer):
        self.calls, self.numbers, self.why_not, self.outer = [], set(), None, outer

    def __call__(self, fn, settings, inputs, tensors, results):
        if self.outer is not None:                      # a scan inside a traced step: both see it
            self.outer(fn, settings, inputs, tensors, results)
        name = type(fn).__name__
        if not is_grad_enabled():
            self.why_not = self.why_not or f"{name} ran under no_grad"
        for key, value in settings.items():
            if key != "needs_input_grad" and _holds_values(value):
                self.why_not = self.why_not or f"{name}.{key} holds an array"
        for given, t in zip(inputs, tensors):
            if isinstance(given, (int, float, bool)):
                self.numbers.add(id(t))                 # a literal constant: the same at every step
            elif not isinstance(given, Tensor):
                self.why_not = self.why_not or f"{name} was given a {type(given).__name__}"
        self.calls.append((fn, settings, tensors, results if isinstance(results, tuple) else (results,)))


def trace(fn, x_t, carry):
    """Run ``fn(x_t, carry)`` eagerly, recording its Function calls.  Returns
    ``((y_t, new_carry), tape)``; the tape is None when the step cannot be replayed."""
    recorder = _Recorder(call_watcher())
    with watching_calls(recorder):
        result = fn(x_t, carry)
    _, new_carry = result
    if recorder.why_not or not recorder.calls or _signature(new_carry) != _signature(carry):
        return result, None
    try:
        return result, Tape(recorder, (x_t, carry), result)
    except _NotReplayable:
        return result, None


class _NotReplayable(Exception):
    pass


class Tape:
    """The recorded calls of one step, each with the slots its inputs and outputs occupy.

    Slots: 0 .. n_in - 1 are the step's inputs (x_t and the carry, flattened),
    then the tensors the step used but did not make (weights, constants), then
    every output of every call.
    """

    def __init__(self, recorder, inputs, outputs):
        ins = _flatten(inputs, [])
        if not all(isinstance(t, Tensor) for t in ins):
            raise _NotReplayable
        made = {id(r) for *_, results in recorder.calls for r in results}
        known = {id(t) for t in ins} | made
        self.free = []                                  # Tensors from outside the step: W, b, constants
        for *_, tensors, _ in recorder.calls:
            for t in tensors:
                if id(t) in known:
                    continue
                # made before the step (by an op, or a parameter), or a literal number
                if not (t._ctx is not None or t.requires_grad or id(t) in recorder.numbers):
                    raise _NotReplayable                # e.g. Tensor(h.data > 0): a value of step 0
                known.add(id(t))
                self.free.append(t)
        slot = {id(t): k for k, t in enumerate(ins + self.free)}
        self.steps = []                                 # per call: class, settings, in slots, out slots,
        for op, settings, tensors, results in recorder.calls:   # out (shape, dtype), in shapes
            out_slots = []
            for r in results:
                slot[id(r)] = len(slot)
                out_slots.append(slot[id(r)])
            self.steps.append((type(op), settings, [slot[id(t)] for t in tensors], out_slots,
                               [(r.shape, r.dtype) for r in results], [t.shape for t in tensors]))
        self.n_in, self.n_slots = len(ins), len(slot)
        outs = _flatten(outputs, [])
        if any(id(t) not in slot for t in outs):        # an output made outside the step
            raise _NotReplayable
        self.out_slots = [slot[id(t)] for t in outs]
        self.out_tree = outputs
        self._plans = {}

    def needs(self, step_needs):
        """needs_input_grad of every recorded call, given the step inputs' (cached: it
        is the same at every step once the carry requires grad)."""
        plan = self._plans.get(step_needs)
        if plan is None:
            needs = list(step_needs) + [False] * (self.n_slots - len(step_needs))
            plan = []
            for _, _, in_slots, out_slots, out_meta, _ in self.steps:
                nig = tuple(needs[s] for s in in_slots)
                for s, (_, dtype) in zip(out_slots, out_meta):
                    needs[s] = any(nig) and dtype.kind == "f"
                plan.append(nig)
            self._plans[step_needs] = plan
        return plan

    def run(self, x_t, carry):
        """One later step as a single node: returns (y_t, new_carry) like the step function."""
        outs = ReplayStep(self)(*_flatten((x_t, carry), []), *self.free)
        return _rebuild(self.out_tree, iter(outs if isinstance(outs, tuple) else (outs,)))


class ReplayStep(Function):
    """One replayed step: forward runs the tape's Functions in order, backward in reverse."""

    def __init__(self, tape):
        self.tape = tape

    def forward(self, *arrays):
        tape = self.tape
        values = list(arrays) + [None] * (tape.n_slots - len(arrays))
        self.fns = fns = []
        for (cls, settings, in_slots, out_slots, _, _), nig in zip(tape.steps, tape.needs(self.needs_input_grad)):
            fn = cls.__new__(cls)                       # a fresh op with step 0's settings
            fn.__dict__.update(settings)
            fn.needs_input_grad = nig
            outs = fn.forward(*[values[s] for s in in_slots])
            for s, o in zip(out_slots, outs if isinstance(outs, tuple) else (outs,)):
                values[s] = o
            fns.append(fn if True in nig else None)     # kept for backward only if it has one
        return tuple(values[s] for s in tape.out_slots)

    def backward(self, *gys):
        """The chain rule over the step's ops, last to first, gradients addressed by slot."""
        grads = [None] * self.tape.n_slots
        for s, g in zip(self.tape.out_slots, gys):
            if g is not None:
                grads[s] = g if grads[s] is None else grads[s] + g
        for fn, (_, _, in_slots, out_slots, out_meta, in_shapes) in zip(reversed(self.fns),
                                                                        reversed(self.tape.steps)):
            g_out = [grads[s] for s in out_slots]
            if fn is None or all(g is None for g in g_out):
                continue                                # needs no gradient, or reaches no output
            for s, g, need in zip(in_slots, chain_rule(fn, g_out, out_meta, in_shapes), fn.needs_input_grad):
                if g is not None and need:
                    grads[s] = g if grads[s] is None else grads[s] + g
        return tuple(grads[:len(self.needs_input_grad)])
