"""The gradient checker's closer look: where are the wrong elements, and what does that say?

``gradcheck._hint`` recognises whole-tensor patterns (all zeros, transposed, a
constant factor, a flipped sign).  When none fits, ``structured_hint`` looks at
the LAYOUT of the errors, which usually names the mistake:

* analytic * gy == numeric        -> backward ignores the incoming gradient;
* wrong where numeric is exactly 0 -> a missing mask (padding, inactive ReLU or hinge);
* the numeric one flipped / with its last axes swapped / the same numbers elsewhere
                                   -> a kernel flip, a transpose, a reshape of a transpose;
* wrong exactly on the rows of repeated ids -> ``g[ids] += gy`` instead of a scatter-add;
* wrong exactly on elements forward copied more often -> overlapping windows not added;
* right up to a factor per row     -> a per-example normaliser (T instead of real tokens).

Each rule is pinned by a typical wrong answer in tests/test_exercises.py.
"""
from __future__ import annotations

import numpy as np

# When _hint finds no simple pattern (its fallback starts with GENERIC_HINT), look at WHERE
# the wrong elements are: that usually names the mistake (an ignored gy, a missing mask, a
# repeated id, overlapping windows, a per-example normaliser, a reshape of a transpose).
GENERIC_HINT = "the error varies element by element"


def structured_hint(a, n, atol, rtol, R, ids, usage):
    """A hint from the layout of the errors, or None.  a, n: analytic and numeric (same shape);
    R: the weight of the output in L = sum(y * R) when y has a's shape (else None);
    ids: [(name, int array)] integer inputs; usage(): how many output elements each element feeds."""
    bad = np.abs(a - n) > atol + rtol * np.abs(n)
    scale = max(float(np.abs(n).max()), float(np.abs(a).max()), 1e-300)

    def close(u, v):
        return np.allclose(u, v, rtol=1e-3, atol=1e-6 * scale)

    if R is not None and close(a * R, n):
        return ("backward ignores the incoming gradient: analytic = the local derivative alone; "
                "the chain rule multiplies it by gy = dL/dy, the argument of backward")
    leak, block = bad & (n == 0) & (a != 0), bad & (a == 0) & (n != 0)
    if leak.any() or (block.any() and not (bad & ~block).any()):
        def at(m):
            return tuple(int(i) for i in np.unravel_index(np.flatnonzero(m)[0], a.shape))
        parts = []
        if leak.any():
            parts.append(f"gives a gradient to {int(leak.sum())} element(s) that cannot change the "
                         f"output (numeric gradient exactly 0, e.g. at index {at(leak)})")
        if block.any():
            parts.append(f"gives exactly 0 to {int(block.sum())} element(s) that do change the output "
                         f"(e.g. at index {at(block)})")
        more = " (other elements are wrong too)" if (bad & ~leak & ~block).any() else ""
        return (f"backward {' and '.join(parts)}: padding or masked positions, an inactive ReLU or "
                f"hinge max(0, .), a value that max() did not pick -- backward must apply the same "
                f"mask or selection as forward{more}")
    if a.ndim >= 3 and a.shape[-1] == a.shape[-2] and close(np.swapaxes(a, -1, -2), n):
        return "the last two axes look swapped (transposed): check the axis order of the gradient"
    if a.ndim >= 2 and close(a[..., ::-1, ::-1], n):
        return ("the gradient is the numeric one flipped (rotated 180 degrees) over the last two axes: "
                "forward slides the kernel unflipped (cross-correlation), so its gradient is not flipped")
    if a.size > 1 and close(np.sort(a, axis=None), np.sort(n, axis=None)):
        return ("the right numbers in the wrong places: a transpose, a reshape of a transposed matrix "
                "(reshape keeps memory order), gate slices in the wrong order, or a wrong axis order")
    hint = _repeated_ids_hint(bad, ids) if a.ndim >= 1 else None
    if hint:
        return hint
    u = usage() if usage is not None else None         # None when forward is not linear in it
    if u is not None and bad.any():
        right = ~bad & (u > 0)
        if right.any() and u[bad].min() > u[right].max():
            return (f"wrong exactly at the elements that forward reads more than once (the elements "
                    f"feeding {int(u[right].max())} output value(s) are right, those feeding "
                    f"{int(u[bad].min())} or more are wrong): overlapping windows, repeated ids -- "
                    f"backward must ADD the gradient of every use (+=, np.add.at), not keep the last one")
    return _per_row_factor_hint(a, n)


def _repeated_ids_hint(bad, ids):
    """Rows of the gradient that are wrong are exactly rows whose id repeats in an integer input."""
    rows_bad = bad.reshape(bad.shape[0], -1).any(axis=1)
    for name, idx in ids:
        if not rows_bad.any() or idx.size == 0 or idx.min() < 0 or idx.max() >= bad.shape[0]:
            continue
        counts = np.bincount(idx.ravel(), minlength=bad.shape[0])
        single = counts == 1
        if (counts[rows_bad] >= 2).all() and single.any() and not rows_bad[single].any():
            rows = ", ".join(str(r) for r in np.flatnonzero(rows_bad)[:6])
            return (f"ignoring repeated ids: rows {rows} are wrong, and exactly those ids appear more "
                    f"than once in {name} (ids used once are right) -- a repeated id must receive the SUM "
                    f"of the gradients of all its uses (scatter-add: np.add.at(g, ids, gy)); "
                    f"g[ids] += gy keeps only one of them")
    return None


def _per_row_factor_hint(a, n):
    """Each row of a is a multiple of that row of n, but the multiple changes from row to row."""
    if a.ndim < 2 or a.shape[0] < 2:
        return None
    ks = []
    for ar, nr in zip(a.reshape(len(a), -1), n.reshape(len(n), -1)):
        nn = float((nr * nr).sum())
        if nn == 0:
            if np.any(ar):
                return None
            continue
        k = float((ar * nr).sum()) / nn
        if np.linalg.norm(ar - k * nr) > 1e-3 * np.linalg.norm(ar) + 1e-12:
            return None
        ks.append(k)
    if len(ks) >= 2 and max(ks) - min(ks) > 1e-3 * max(abs(k) for k in ks):
        shown = ", ".join(f"{k:.3g}" for k in ks[:5])
        return (f"off by a factor that changes from row to row (analytic = k x numeric with k = "
                f"{shown}...): a per-example normaliser is wrong, e.g. dividing by the padded length T "
                f"instead of the number of real tokens in that row")
    return None
