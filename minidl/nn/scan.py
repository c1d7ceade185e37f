"""``scan``: run a step function along the time axis, carrying a state.

The course's ``scan`` (Trax ``tl.Scan``, JAX ``lax.scan``) in one picture:

    init ──► fn ──► fn ──► fn ──► carry        (the final state)
             ▲ │    ▲ │    ▲ │
            x_1 y_1 x_2 y_2 x_3 y_3            ys = [y_1, y_2, y_3]

    def scan(fn, xs, init):
        carry, ys = init, []
        for x_t in xs:
            y_t, carry = fn(x_t, carry)
            ys.append(y_t)
        return ys, carry

That loop *is* the implementation below; the rest is bookkeeping for tensors.
Every step is made of ordinary differentiable ops, so ``loss.backward()``
walks the unrolled graph from the last step to the first: backpropagation
through time (BPTT) falls out of autograd, with nothing written for it.

Shapes (``axis=1``, batch-first, the minidl convention):

    xs     (B, T, ...)  a Tensor, or a tuple of them with the same T (e.g. inputs and a mask);
                        fn sees x_t of shape (B, ...) -- or the tuple of slices
    init   any carry fn accepts: a Tensor (B, H) or a tuple of them (h, c)
    ys     (B, T, ...)  the y_t stacked back along ``axis`` (a tuple if fn returns a tuple)
    carry  the state after the last step

How the signature relates to the two scans a learner may know (the maths is
the same; the argument order and the time axis are not):

    minidl  scan(fn, xs, init, axis=1)   fn(x_t, carry) -> (y_t, carry)   returns (ys, carry)
    Trax    tl.Scan(layer, axis=0)       layer((x_t, carry)) -> (y_t, carry)   outputs (ys, carry)
    JAX     lax.scan(f, init, xs)        f(carry, x_t) -> (carry, y_t)    returns (carry, ys)

minidl keeps Trax's (x, carry) order and output order, but its time axis
defaults to 1 because minidl is batch-first (Trax and JAX scan axis 0).  To
port a JAX step function: ``scan(lambda x, c: f(c, x)[::-1], xs, init)``.

``reverse=True`` visits t = T-1, ..., 0 (the backward half of a bidirectional
RNN) but still returns ys in the original time order, so ys[:, t] always
belongs to x[:, t].

``replay=True`` is a speed switch (minidl/fast/replay.py): step 0 runs as
above while its ops are written down, and every later step replays them as
one graph node.  Off by default: what runs is the loop above.
"""
from __future__ import annotations

from .. import ops, validate
from ..autograd import Tensor, as_tensor, is_grad_enabled


def scan(fn, xs, init, axis: int = 1, reverse: bool = False, replay: bool = False):
    """Apply ``fn(x_t, carry) -> (y_t, carry)`` along ``axis`` of ``xs``; return ``(ys, carry)``.

    fn       -- a function or a Layer (e.g. an ``nn.LSTMCell``);
    xs       -- a Tensor (B, T, ...) or a tuple of Tensors sharing the length T along ``axis``;
    init     -- the initial carry (a Tensor or a tuple of Tensors);
    axis     -- the time axis (1 for batch-first sequences);
    reverse  -- visit the steps from last to first (ys are still in time order);
    replay   -- speed, by name: steps after the first run as one graph node each,
                replaying the ops step 0 made (minidl/fast/replay.py; for a step
                whose Python code never branches on values, such as the nn cells).

    y_t may be a Tensor, a tuple of Tensors, or None (then ys is None).
    """
    validate.function(fn, "fn", "scan")
    single = not isinstance(xs, (tuple, list))
    seqs = [xs] if single else list(xs)
    if not seqs:
        raise ValueError("scan: xs must be a Tensor or a non-empty tuple of Tensors, got an empty tuple")
    like = next((s for s in seqs if isinstance(s, Tensor)), None)
    for k, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            try:
                seqs[k] = as_tensor(s, like)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"scan: xs must hold Tensors or arrays of numbers ({exc})") from None
        validate.numeric(seqs[k].data, "xs", "scan")
        if seqs[k].ndim == 0:
            raise ValueError("scan: xs must have a time axis, got a scalar (shape ())")
    axis = validate.axis(axis, seqs[0].ndim, f"scan (xs of shape {tuple(seqs[0].shape)})")
    reverse = validate.flag(reverse, "reverse", "scan")
    replay = validate.flag(replay, "replay", "scan")
    T = seqs[0].shape[axis]
    for s in seqs:
        if s.shape[axis] != T:
            raise ValueError(f"scan: every sequence needs the same length along axis {axis}, got "
                             f"shapes {[tuple(s.shape) for s in seqs]}")
    if T == 0:
        raise ValueError(f"scan: xs of shape {tuple(seqs[0].shape)} has no steps along "
                         f"axis {axis}")

    steps = [ops.unstack(s, axis) for s in seqs]      # per sequence: T slices
    order = range(T - 1, -1, -1) if reverse else range(T)
    if replay and is_grad_enabled() and T > 1:
        from ..fast.replay import replayed_steps       # the speed wing, only when asked for
        fn = replayed_steps(fn)
    carry = init
    ys = [None] * T
    for t in order:
        x_t = steps[0][t] if single else tuple(s[t] for s in steps)
        ys[t], carry = fn(x_t, carry)
    return _stack_outputs(ys, axis), carry


def _stack_outputs(ys, axis):
    first = ys[0]
    if first is None:
        return None
    if isinstance(first, tuple):                       # fn returned several outputs per step
        return tuple(ops.stack([y[k] for y in ys], axis=axis) for k in range(len(first)))
    return ops.stack(ys, axis=axis)
