"""Replay: run a recurrent cell's traced step again as ONE graph node (a speed trick for scan).

Skip this file on a first read: ``md.scan`` gives the same numbers without it.

Why.  A scanned LSTM cell is 13 ops per step, and each op pays autograd's
bookkeeping twice -- about 12 us to record it in forward (Tensors, flags, the
graph edge) and 12 us to walk it in backward (the topological sort, the
pending-gradient table, the version check, freeing).  Replaying saves most of
it: the scanned LSTM and GRU language models of ``benchmarks/`` (B = 32,
T = 64, H = 256) train 17% faster per step, and hold half the memory, since
only what each backward needs is kept, not every intermediate Tensor.

What.  The FIRST step runs eagerly, exactly as without this file (so a
mistake in the cell raises its error in ``nn/cells.py`` at step 0), while a
tracer writes down every Function call it makes: the class, its settings,
which earlier value each input was.  Every later step is one ``ReplayStep``
node that calls the same Functions' ``forward`` on the new arrays and, in
backward, their ``backward`` in reverse order -- the chain rule of the whole
step, with no graph built inside it.  The equations are still only the ones
in ``nn/cells.py``: the tape is recorded from them, not written by hand.

When.  Only for a step whose Python control flow does not depend on values,
whose arrays all flow through Functions, and whose Functions are constructed
from settings (an axis, a rate), never from this step's values -- the nn
cells.  So ``nn.RNN/GRU/LSTM`` ask for it, and a learner's own step function
runs eagerly unless it asks too.  Random ops draw afresh at every replay (a
dropout mask is made in forward).  A step whose carry changes shape, or that
calls no Function at all, is not replayed.

    tape = trace(fn, x_t, carry)         # runs step 0 eagerly: (y_t, carry), the tape
    y_t, carry = tape.run(x_t, carry)    # steps 1 ... T-1: one graph node each
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function, Tensor, as_tensor


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


def trace(fn, x_t, carry):
    """Run ``fn(x_t, carry)`` eagerly, recording its Function calls.  Returns
    ``((y_t, new_carry), tape)``; the tape is None when the step cannot be replayed."""
    calls = []
    real_call = Function.__call__

    def recording_call(op, *inputs):
        # the constants (numbers, arrays) become Tensors here, as Function.__call__ would
        like = next((t for t in inputs if isinstance(t, Tensor)), None)
        tensors = [as_tensor(x, like) for x in inputs]
        settings = dict(op.__dict__)                       # what __init__ set: axis, sizes, ...
        results = real_call(op, *tensors)
        calls.append((op, settings, tensors, results if isinstance(results, tuple) else (results,)))
        return results

    # Recording is switched on for this one call only, here rather than in the autograd core.
    Function.__call__ = recording_call
    try:
        result = fn(x_t, carry)
    finally:
        Function.__call__ = real_call
    _, new_carry = result
    if _signature(new_carry) != _signature(carry) or not calls:
        return result, None
    try:
        return result, Tape(calls, (x_t, carry), result)
    except _NotReplayable:
        return result, None


class Tape:
    """The recorded calls of one step, each with the slots its inputs and outputs occupy.

    Slots: 0 .. n_in - 1 are the step's inputs (x_t and the carry, flattened),
    then the tensors the step used but did not make (weights, constants), then
    every output of every call.
    """

    def __init__(self, calls, inputs, outputs):
        ins = _flatten(inputs, [])
        made = {id(r) for *_, results in calls for r in results}
        known = {id(t) for t in ins} | made
        self.free = []                                     # Tensors from outside: W, b, constants
        for *_, tensors, _ in calls:
            for t in tensors:
                if id(t) not in known:
                    known.add(id(t))
                    self.free.append(t)
        slot = {id(t): k for k, t in enumerate(ins + self.free)}
        self.steps, self.out_meta = [], []                 # per call: (class, settings, traced inputs,
        for op, settings, tensors, results in calls:       #            in slots, out slots); out shapes
            out_slots = []
            for r in results:
                slot[id(r)] = len(slot)
                out_slots.append(slot[id(r)])
            self.steps.append((type(op), settings, tensors, [slot[id(t)] for t in tensors], out_slots))
            self.out_meta.append([(r.shape, r.dtype) for r in results])
        self.n_slots = len(slot)
        outs = _flatten(outputs, [])
        if any(id(t) not in slot for t in outs):           # an output made outside the step
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
            for (_, _, _, in_slots, out_slots), meta in zip(self.steps, self.out_meta):
                nig = tuple(needs[s] for s in in_slots)
                for s, (_, dtype) in zip(out_slots, meta):
                    needs[s] = any(nig) and dtype.kind == "f"
                plan.append(nig)
            self._plans[step_needs] = plan
        return plan

    def run(self, x_t, carry):
        """One later step as a single node: returns (y_t, new_carry) like the step function."""
        outs = ReplayStep(self)(*_flatten((x_t, carry), []), *self.free)
        return _rebuild(self.out_tree, iter(outs if isinstance(outs, tuple) else (outs,)))


class _NotReplayable(Exception):
    pass


class ReplayStep(Function):
    """One replayed step: forward runs the tape's Functions in order, backward in reverse."""

    def __init__(self, tape):
        self.tape = tape

    def forward(self, *arrays):
        tape = self.tape
        values = list(arrays) + [None] * (tape.n_slots - len(arrays))
        self.fns = fns = []
        for (cls, settings, traced, in_slots, out_slots), nig in zip(tape.steps,
                                                                    tape.needs(self.needs_input_grad)):
            fn = cls.__new__(cls)
            fn.__dict__.update(settings)
            fn.needs_input_grad = nig
            fn.inputs = traced                             # flags only (lazy_grad.py reads them)
            outs = fn.forward(*[values[s] for s in in_slots])
            if isinstance(outs, tuple):
                for s, o in zip(out_slots, outs):
                    values[s] = o
            else:
                values[out_slots[0]] = outs
            fns.append(fn if True in nig else None)
        return tuple(values[s] for s in tape.out_slots)

    def backward(self, *gys):
        tape = self.tape
        grads = [None] * tape.n_slots
        for s, g in zip(tape.out_slots, gys):
            if g is not None:
                grads[s] = g if grads[s] is None else grads[s] + g
        for fn, (_, _, _, in_slots, out_slots), meta in zip(reversed(self.fns), reversed(tape.steps),
                                                            reversed(tape.out_meta)):
            if fn is None:
                continue
            g_out = [grads[s] for s in out_slots]
            missing = [g is None for g in g_out]
            if True in missing:
                if False not in missing:
                    continue                               # this op does not reach the outputs
                # an output nobody used: a zero gradient
                xp = backend.xp_of(next(g for g in g_out if g is not None))
                g_out = [xp.zeros(shape, dtype=dtype) if g is None else g
                         for g, (shape, dtype) in zip(g_out, meta)]
            g_in = fn.backward(*g_out)
            g_in = g_in if isinstance(g_in, tuple) else (g_in,)
            for s, g, need in zip(in_slots, g_in, fn.needs_input_grad):
                if g is not None and need:
                    grads[s] = g if grads[s] is None else grads[s] + g
        return tuple(grads[:len(self.needs_input_grad)])
