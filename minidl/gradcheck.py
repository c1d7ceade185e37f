"""Gradient checking: does your ``backward`` agree with the definition of a derivative?

For every input (and parameter) element x_i the checker compares backprop's
dL/dx_i with the *central difference*

    dL/dx_i  ~=  ( L(x + h e_i) - L(x - h e_i) ) / (2h)          h = 1e-6

computed in float64 (the error of a central difference is O(h^2), but float32
round-off would swamp it).  A non-scalar output y is reduced to L = sum(y * R)
with a fixed random R, so every output element is tested, each with its own
weight (a ones-vector would hide some errors, e.g. in softmax).

Kinks: ReLU at 0 or a max with ties has no derivative there.  The checker spots
them (the one-sided slopes (L(x+h)-L(x))/h and (L(x)-L(x-h))/h disagree), nudges
those elements off the kink and checks again; elements still on a kink after
that are skipped and counted in the report.

The report says which input failed, its worst element, analytic vs numeric,
the relative error, and a hint when the mistake has a typical shape.  When no
whole-tensor pattern fits, ``gradcheck_hints.structured_hint`` reads the layout
of the errors (an ignored gy, a missing mask, repeated ids, overlapping
windows...).  A Function with several outputs (an LSTM step's h_t and c_t) that
fails is checked again one output at a time, which shows a backward that
ignores one of its incoming gradients.  The exercises (minidl/exercises) are
built on these reports.
"""
from __future__ import annotations

import numpy as np

from . import backend, validate
from .autograd import GradShapeError, Tensor, no_grad
from .gradcheck_hints import GENERIC_HINT, structured_hint as _structured_hint


class GradcheckError(AssertionError):
    """Raised by ``gradcheck(..., raise_exception=True)``; ``.report`` has the details."""
    def __init__(self, report):
        super().__init__(str(report))
        self.report = report


class Entry:
    """The verdict for one checked tensor."""
    def __init__(self, name, shape):
        self.name, self.shape = name, shape
        self.ok, self.error, self.hint = True, None, None
        self.max_err, self.worst, self.analytic, self.numeric, self.rel_err = 0.0, None, None, None, 0.0
        self.kinks = 0

    def __str__(self):
        head = f"  {self.name} (shape {self.shape}): "
        if self.error:
            return head + f"FAIL  {self.error}" + (f"\n      hint: {self.hint}" if self.hint else "")
        kinks = f"  ({self.kinks} element(s) on a kink skipped)" if self.kinks else ""
        if self.ok:
            return head + f"ok  (max |analytic - numeric| = {self.max_err:.2e}){kinks}"
        lines = [head + f"FAIL  worst element at index {self.worst}{kinks}",
                 f"      analytic = {self.analytic:.6g}   numeric = {self.numeric:.6g}   "
                 f"relative error = {self.rel_err:.3g}"]
        if self.hint:
            lines.append(f"      hint: {self.hint}")
        return "\n".join(lines)


class GradcheckReport:
    """Truthy when every checked tensor passed; ``print(report)`` explains."""
    def __init__(self, entries, settings):
        self.entries, self.settings = entries, settings
        self.by_output = []        # [(k, shape, ok, ignored)] when a multi-output check failed
        self.output_names = None   # optional labels for the outputs ("h_t", "c_t")

    @property
    def passed(self):
        return all(e.ok for e in self.entries)

    def __bool__(self):
        return self.passed

    def failures(self):
        return [e for e in self.entries if not e.ok]

    def __str__(self):
        verdict = "passed" if self.passed else "FAILED"
        lines = [f"gradcheck {verdict} ({self.settings})"] + [str(e) for e in self.entries]
        return "\n".join(lines + _by_output_lines(self))

    __repr__ = __str__


# ----------------------------------------------------------------------------- hints
def _hint(a, n):
    """Guess the typical mistake behind analytic ``a`` != numeric ``n`` (same shape)."""
    if not np.any(a) and np.any(n):
        return ("the analytic gradient is all zeros: does backward use the incoming gradient, "
                "and does forward keep what backward needs?")
    if not np.any(n) and np.any(a):
        return "the output does not depend on this input, yet backward returned a non-zero gradient"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.allclose(a.T, n, rtol=1e-3, atol=1e-6):
        return "the gradient looks transposed: compare with the shape rule dL/dA = dL/dY @ B^T"
    k = float((a * n).sum() / max((n * n).sum(), 1e-300))
    if np.linalg.norm(a - k * n) <= 1e-3 * max(np.linalg.norm(a), 1e-300):
        if abs(k + 1) < 1e-3:
            return "the sign is flipped: analytic = -numeric"
        return (f"off by a constant factor: analytic = {k:.4g} x numeric (a forgotten constant "
                f"such as 2 or 1/N; a factor 1/n for a broadcast axis of size n means a missing sum)")
    return ("the error varies element by element: a factor of the local derivative is probably "
            "missing or wrong (e.g. sigmoid'(x) = y(1 - y), tanh'(x) = 1 - y^2)")


def _shape_hint(got, want):
    if tuple(got) == tuple(want)[::-1]:
        return f"backward returned shape {got} for an input of shape {want}: it looks transposed"
    try:
        if np.broadcast_shapes(tuple(got), tuple(want)) == tuple(got):
            return (f"backward returned the gradient of the broadcast result {got}; sum it over the "
                    f"broadcast axes down to the input's shape {want} (a missing sum over a broadcast axis)")
    except ValueError:
        pass
    if int(np.prod(got)) == int(np.prod(want)):
        return (f"backward returned shape {got} for an input of shape {want}: the right number of "
                f"elements in the wrong shape -- keep size-1 axes (sum with keepdims=True) or reshape")
    return None


# ----------------------------------------------------------------------------- the check
def _projection(outs, seed):
    """A scalar L = sum_k sum(out_k * R_k) with fixed random R_k (float64)."""
    rng = np.random.default_rng(seed)
    Rs = [rng.standard_normal(o.shape) for o in outs]
    return Rs


def _scalar(outs, Rs):
    total = 0.0
    for o, R in zip(outs, Rs):
        total = total + (o * Tensor(backend.xp_of(o.data).asarray(R))).sum()
    return total


def _as_outputs(y):
    outs = list(y) if isinstance(y, (tuple, list)) else [y]
    if not any(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"gradcheck: the function returned {type(y).__name__} {y!r:.60}, not a Tensor: "
                        "return the Tensor your op computes (not .item() or .numpy()), so the checker "
                        "can run backward through it")
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _f64_copy(a):
    """A C-contiguous float64 copy: the checker edits it element by element through a flat view."""
    return backend.xp_of(a).array(a, dtype=np.float64, order="C", copy=True)


def numerical_grad(fn, x: Tensor, eps=1e-6):
    """Central differences of scalar ``fn()`` w.r.t. every element of ``x`` (changed in place
    and restored).  Also returns the elements where the one-sided slopes disagree (kinks)."""
    data = x.data
    if not data.flags.c_contiguous:
        raise ValueError("numerical_grad needs a C-contiguous array (it edits a flat view)")
    flat = data.reshape(-1)                 # a view on contiguous data: writes reach x
    grad = np.zeros(data.size)
    kinks = []
    f0 = float(fn())
    for i in range(data.size):
        old = flat[i].item()
        flat[i] = old + eps
        fp = float(fn())
        flat[i] = old - eps
        fm = float(fn())
        flat[i] = old
        grad[i] = (fp - fm) / (2 * eps)
        fwd, bwd = (fp - f0) / eps, (f0 - fm) / eps
        if abs(fwd - bwd) > 1e-3 * (1 + abs(grad[i])):
            kinks.append(i)
    return grad.reshape(data.shape), kinks


def gradcheck(f, *inputs, params=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0,
              dodge_kinks=True, raise_exception=False, check_inputs=True):
    """Compare backprop with central differences for every floating input and parameter.

    f       -- a function of ``inputs`` returning a Tensor (or tuple of Tensors),
               or a Layer (its parameters are checked too);
    inputs  -- Tensors or arrays; floating ones are promoted to float64 and checked,
               integer ones (token ids) are passed through unchanged;
    params  -- extra Tensors to check (default: ``f.parameters()`` for a Layer).

    Returns a ``GradcheckReport`` (truthy on success).  The original parameter
    dtypes are restored afterwards.
    """
    validate.function(f, "f", "gradcheck")
    eps = validate.positive_number(eps, "eps", "gradcheck")
    atol = validate.number(atol, "atol", "gradcheck", lo=0)
    rtol = validate.number(rtol, "rtol", "gradcheck", lo=0)
    xs = []
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            try:
                x = np.asarray(x) if backend.xp_of(x) is np else x
            except (TypeError, ValueError):
                x = None
            if x is None or getattr(x, "dtype", np.dtype(object)).kind not in "biuf":
                raise TypeError(f"gradcheck: input {k} must be a Tensor or an array of real numbers, "
                                f"got {type(inputs[k]).__name__} {inputs[k]!r}")
        if isinstance(x, Tensor) and x.dtype.kind != "f":
            xs.append(x)
        elif isinstance(x, Tensor):
            xs.append(Tensor(_f64_copy(x.data), requires_grad=check_inputs))
        else:
            arr = np.asarray(x) if backend.xp_of(x) is np else x
            if arr.dtype.kind == "f":
                xs.append(Tensor(_f64_copy(backend.xp().asarray(arr)), requires_grad=check_inputs))
            else:
                xs.append(Tensor(backend.xp().asarray(arr)))
    with backend.default_dtype("float64"):
        if params is None and hasattr(f, "parameters"):
            with no_grad():
                f(*xs)                      # builds lazily-shaped parameters first
            named = list(f.named_parameters()) if hasattr(f, "named_parameters") \
                else [(f"param {i}", p) for i, p in enumerate(f.parameters())]
        else:
            named = [(f"param {i}", p) for i, p in enumerate(params or [])]
        saved = [(p, p.data, p.requires_grad) for _, p in named]
        try:
            for _, p in named:
                p.data, p.requires_grad = _f64_copy(p.data), True
            targets = [(f"input {i}", t) for i, t in enumerate(xs) if t.requires_grad]
            targets += [(n if n.startswith("param") else f"param {n}", p) for n, p in named]
            if not targets:          # "passed" with nothing checked would be a lie
                kinds = ", ".join(f"input {i}: {t.dtype}" for i, t in enumerate(xs)) or "no inputs"
                why = "check_inputs=False" if not check_inputs else "integer inputs are passed through, not checked"
                raise ValueError(f"gradcheck: nothing to check: no floating input and no parameter ({kinds}; "
                                 f"{why}); give a floating input, a Layer, or params=[...]")
            entries = _check(f, xs, targets, eps, atol, rtol, seed, dodge_kinks, structured=True)
            by_output = _check_each_output(f, xs, targets, entries, eps, atol, rtol, seed, dodge_kinks)
            if any(ok for _, _, ok, _ in by_output):     # the per-output verdict says more
                for e in entries:
                    if (e.hint or "").startswith(GENERIC_HINT):
                        e.hint = ("the paths through some outputs are right: see 'checked one output "
                                  "at a time' below")
        finally:
            for p, data, rg in saved:
                p.data, p.requires_grad, p.grad = data, rg, None
    report = GradcheckReport(entries, f"float64, eps={eps:g}, atol={atol:g}, rtol={rtol:g}")
    report.by_output = by_output
    if raise_exception and not report:
        raise GradcheckError(report)
    return report


def _check(f, xs, targets, eps, atol, rtol, seed, dodge_kinks, only_output=None, structured=False):
    rng = np.random.default_rng(seed + 1)
    with no_grad():
        Rs = _projection(_as_outputs(f(*xs)), seed)
    if only_output is not None:            # L = sum(out_k * R_k) for one k: the others get no gradient
        Rs = [R if k == only_output else np.zeros_like(R) for k, R in enumerate(Rs)]
    ids = [(f"input {i}", backend.asnumpy(x.data)) for i, x in enumerate(xs) if x.dtype.kind in "iu"]

    def loss_value():
        with no_grad():
            return _scalar(_as_outputs(f(*xs)), Rs).item()

    for attempt in range(3 if dodge_kinks else 1):
        entries, kinky = [], False
        for _, t in targets:
            t.grad = None
        backward_error = None
        try:
            _scalar(_as_outputs(f(*xs)), Rs).backward()
        except (ValueError, RuntimeError, TypeError, NotImplementedError) as exc:
            backward_error = exc
        for name, t in targets:
            e = Entry(name, tuple(t.shape))
            entries.append(e)
            if backward_error is not None:
                blamed = (not isinstance(backward_error, GradShapeError)
                          or backward_error.want == e.shape)
                e.ok = False
                e.error = (f"backward raised {type(backward_error).__name__}: {backward_error}"
                           if blamed else "not checked: backward failed on another input")
                if blamed and isinstance(backward_error, GradShapeError):
                    e.hint = _shape_hint(backward_error.got, backward_error.want)
                continue
            a = backend.asnumpy(t.grad) if t.grad is not None else np.zeros(t.shape)
            n, kinks = numerical_grad(loss_value, t, eps)
            if kinks and dodge_kinks and attempt < 2:
                flat = t.data.reshape(-1)
                for i in kinks:                          # step off the kink by ~1000 h
                    flat[i] += float(rng.choice([-1, 1])) * 1e3 * eps * (1 + abs(flat[i].item()))
                kinky = True
            keep = np.ones(n.size, bool)
            keep[kinks] = False
            e.kinks = len(kinks)
            _compare(e, a.reshape(-1)[keep], n.reshape(-1)[keep], a.shape, np.flatnonzero(keep), atol, rtol)
            if structured and not e.ok and not kinks and (e.hint or "").startswith(GENERIC_HINT):
                R = Rs[0] if len(Rs) == 1 and Rs[0].shape == a.shape else None
                e.hint = _structured_hint(a.reshape(t.shape), n, atol, rtol, R, ids,
                                          lambda t=t: _usage_counts(f, xs, t)) or e.hint
        if backward_error is not None or not kinky:
            break
    return entries


def _compare(e, a, n, shape, positions, atol, rtol):
    if a.size == 0:
        return
    err = np.abs(a - n)
    excess = err - (atol + rtol * np.abs(n))
    j = int(np.argmax(excess))
    e.max_err = float(err.max())
    e.ok = bool(excess[j] <= 0)
    if not e.ok:
        e.worst = tuple(int(i) for i in np.unravel_index(positions[j], shape))
        e.analytic, e.numeric = float(a[j]), float(n[j])
        e.rel_err = float(err[j] / max(abs(a[j]), abs(n[j]), 1e-300))
        e.hint = _hint(a.reshape(shape), n.reshape(shape)) if a.size == int(np.prod(shape)) \
            else _hint(a, n)          # some kinks were skipped: the shape is gone


# ----------------------------------------------------------------------------- copies of an element
def _outputs_at(f, xs):
    with no_grad():
        return np.concatenate([backend.asnumpy(o.data).ravel() for o in _as_outputs(f(*xs))])


def _usage_counts(f, xs, t):
    """For each element of ``t``: how many output values change when it is nudged -- the number
    of copies forward made of it.  None unless forward is linear in ``t`` (a gather, im2col, a
    convolution), where those copies are what backward must add up."""
    base = _outputs_at(f, xs)
    step = backend.xp_of(t.data).asarray(np.random.default_rng(0).standard_normal(t.shape) * 1e-2)
    saved = t.data.copy()
    t.data[...] = saved + step
    once = _outputs_at(f, xs)
    t.data[...] = saved + 2 * step
    twice = _outputs_at(f, xs)
    t.data[...] = saved
    if not np.allclose(twice - once, once - base, rtol=1e-6, atol=1e-9 * (1 + np.abs(base).max())):
        return None
    flat = t.data.reshape(-1)
    counts = np.zeros(t.size, dtype=np.int64)
    for i in range(t.size):
        old = flat[i].item()
        flat[i] = old + 1e-3 * (1 + abs(old))
        counts[i] = int((_outputs_at(f, xs) != base).sum())
        flat[i] = old
    return counts.reshape(t.shape)


# ----------------------------------------------------------------------------- one output at a time
def _check_each_output(f, xs, targets, entries, eps, atol, rtol, seed, dodge_kinks):
    """When a multi-output check fails with numbers (not an exception), check each output alone:
    a backward that ignores, say, the gradient of c_t in an LSTM step passes for h_t alone."""
    if all(e.ok for e in entries) or any(e.error for e in entries):
        return []
    with no_grad():
        outs = _as_outputs(f(*xs))
    if len(outs) < 2:
        return []
    verdicts = []
    for k, o in enumerate(outs):
        sub = _check(f, xs, targets, eps, atol, rtol, seed, dodge_kinks, only_output=k)
        bad = [e for e in sub if not e.ok]
        ignored = bool(bad) and all((e.hint or "").startswith("the analytic gradient is all zeros")
                                    for e in bad)
        verdicts.append((k, tuple(o.shape), not bad, ignored))
    return verdicts


def _by_output_lines(report):
    if not report.by_output or not any(ok for _, _, ok, _ in report.by_output):
        return []                  # every output fails: checking them one by one adds nothing
    names = report.output_names or [f"output {k}" for k, *_ in report.by_output]
    parts = [f"{names[k]} {'ok' if ok else 'FAIL'}" for k, _, ok, _ in report.by_output]
    lines = ["  checked one output at a time: " + ";  ".join(parts)]
    for k, _, ok, ignored in report.by_output:
        why = ("is ignored: with only that output in the loss every analytic gradient is zero"
               if ignored else "is handled wrongly (the paths through the other outputs are right)")
        if not ok:
            lines.append(f"      hint: the gradient arriving for {names[k]} (backward's argument "
                         f"{k + 1}) {why}")
    return lines
