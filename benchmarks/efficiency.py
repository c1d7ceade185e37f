"""The CPU "efficiency" column: how much of a step is BLAS matmul work.

Method.  Each model declares the matrix products one training step needs
(forward and backward), e.g. for a Dense layer x @ W, gy @ W.T and x.T @ gy.
We run exactly those products *alone* with NumPy at the benchmark's dtype
(float32, contiguous operands, the same BLAS and thread count) and time them
like a training step:

    efficiency = (time of the step's matmuls alone) / (time of the whole step)

A model at 0.9 spends 90% of its step in BLAS: it is close to what this CPU
can do, and a faster framework could gain at most ~10%.  A model at 0.1 is
dominated by everything else -- elementwise ops, memory traffic, Python and
autograd overhead -- and that is where to look for speed.

Caveats a reader should know: an implementation may legitimately do fewer
flops (skip a gradient nobody needs) or more (recompute), operands in a real
step are sometimes transposed views, and small products are dominated by
call overhead; so read the column as an estimate, not a law.  Embedding-heavy
models do almost no matmul work, so a low number there is expected.
"""
from __future__ import annotations

import numpy as np


def matmul_step(shapes, dtype=np.float32, seed: int = 0):
    """A function that performs the products ``[(m, k, n, count), ...]`` of one step, alone.

    It is timed as one more runner *interleaved* with the training steps
    (``sweeps.measure_point``), so the matmuls and the step are measured in the
    same machine state -- on a busy machine, timing them at another moment
    could even give a "share" above 100%.  Operands are made once, and the
    result goes to a preallocated ``out=``, so we time the BLAS calls, not
    allocation.
    """
    rng = np.random.default_rng(seed)
    work = []
    for m, k, n, count in shapes:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        work.append((a, b, np.empty((m, n), dtype=dtype), range(count)))

    def step():
        for a, b, out, reps in work:
            for _ in reps:
                np.matmul(a, b, out=out)
    return step


def gflops(shapes) -> float:
    """Billions of floating-point operations in the products (2 m k n each)."""
    return sum(2.0 * m * k * n * count for m, k, n, count in shapes) / 1e9
