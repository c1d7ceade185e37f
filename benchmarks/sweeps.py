"""What to measure (suites, models, sweep points) and measuring it, row by row.

A *point* is one model at one set of sizes.  Every suite measures each model at
its base sizes, then along each sweep: one size varies while the others keep
their base values, and the base value is always part of the sweep, so each
curve passes through the headline number.  Points shared between sweeps are
measured once.

At each point, every *runner* -- minidl on each backend, and PyTorch on the
matching device when ``--compare torch`` -- is timed together by
``timing.measure``, repeats interleaved, so ratios and GPU speed-ups are taken
in one machine state.  Then one more step per runner measures its peak memory
(``memory.py``; never during a timed repeat).  Each runner gives one result row.
"""
from __future__ import annotations

import datetime
import sys
import traceback
from dataclasses import dataclass

from . import environment, memory, timing
from .efficiency import gflops, matmul_step
from .registry import REGISTRY, minidl_step
from . import models as _models  # noqa: F401  (importing it fills REGISTRY)
from . import torch_models

DTYPE = "float32"
MATMULS = "matmuls/numpy"      # the label of the "step's matmuls alone" runner


@dataclass(frozen=True)
class Suite:
    warmup: int
    repeats: int
    min_repeat_s: float          # calibrate steps per repeat so a repeat lasts this long
    collect_garbage: bool = True  # gc.collect() before each repeat (slow with torch loaded)


SUITES = {
    # one timed step, tiny sizes: checks that everything runs (the tests' mode)
    "smoke": Suite(warmup=0, repeats=1, min_repeat_s=0.0, collect_garbage=False),
    "quick": Suite(warmup=2, repeats=7, min_repeat_s=0.1),
    "full": Suite(warmup=3, repeats=15, min_repeat_s=0.25),
}


def points(spec, suite: str, with_sweeps: bool = True) -> list[tuple[str | None, dict]]:
    """``[(swept size or None for the base point, sizes), ...]``, each distinct sizes once."""
    base = spec.base_sizes(suite)
    out, seen = [(None, base)], {_key(base)}
    for key, values in (spec.sweeps.get(suite, {}) if with_sweeps else {}).items():
        for v in values:
            sizes = {**base, key: v}
            if _key(sizes) not in seen:
                seen.add(_key(sizes))
                out.append((key, sizes))
    return out


def _key(sizes):
    return tuple(sorted(sizes.items()))


def size_label(sizes: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in sizes.items())


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- one point
def _runners(name, sizes, backends, compare_torch):
    """Build every runner for a point; a build failure becomes an error row, not a crash."""
    runners, failed = [], []
    wanted = [("minidl", b) for b in backends]
    if compare_torch:
        for b in backends:
            dev = torch_models.torch_device(b)
            if dev is not None:
                wanted.append(("torch", dev))
    for framework, device in wanted:
        label = f"{framework}/{device}"
        try:
            step = (minidl_step(REGISTRY[name], sizes, device) if framework == "minidl"
                    else torch_models.torch_step(name, sizes, device))
            runners.append(timing.Runner(label, step, timing.synchronizer(framework, device)))
        except Exception as exc:               # a bug in one layer must not end the whole run
            failed.append((framework, device, _describe(exc)))
    return runners, failed


def _describe(exc):
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" (at {where.filename.split('/')[-1]}:{where.lineno} in {where.name})" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"


def measure_point(name, sweep, sizes, backends, compare_torch, suite, common):
    """Rows for one model at one set of sizes (one row per runner)."""
    spec = REGISTRY[name]
    base = dict(common, model=name, title=spec.title, path=spec.path, twin=spec.twin, sweep=sweep,
                sweep_value=sizes[sweep] if sweep else None, sizes=dict(sizes),
                size_label=size_label(sizes), dtype=DTYPE)
    runners, failed = _runners(name, sizes, backends, compare_torch)
    rows = [dict(base, framework=f, backend=d, device=_safe_device(f, d), status="error", reason=r)
            for f, d, r in failed]
    if not runners:
        return rows
    shapes = spec.matmuls(sizes)
    on_cpu = any(r.label.endswith(("/numpy", "/cpu")) for r in runners)
    extra = [timing.Runner(MATMULS, matmul_step(shapes))] if on_cpu else []
    cfg = SUITES[suite]
    try:
        timings = timing.measure(runners + extra, warmup=cfg.warmup, repeats=cfg.repeats,
                                 min_repeat_s=cfg.min_repeat_s, collect_garbage=cfg.collect_garbage)
    except Exception as exc:                   # e.g. a backward that raises on these sizes
        return rows + [dict(base, framework=r.label.split("/")[0], backend=r.label.split("/")[1],
                            device=_safe_device(*r.label.split("/")), status="error",
                            reason=_describe(exc)) for r in runners]
    matmul_ms = timings[MATMULS].stats_ms()["median_ms"] if on_cpu else None
    for r in runners:
        framework, device = r.label.split("/")
        stats = timings[r.label].stats_ms()
        row = dict(base, framework=framework, backend=device, device=_safe_device(framework, device),
                   status="ok", reason=None, **stats, matmul_gflop=gflops(shapes),
                   noisy=_noisy(stats))
        if device in ("numpy", "cpu") and matmul_ms is not None:
            # the efficiency column is a CPU notion: BLAS time alone over the whole step
            row["matmul_ms"] = matmul_ms
            row["efficiency"] = matmul_ms / stats["median_ms"]
        row.update(_peak_memory(framework, device, r.step))
        rows.append(row)
    return rows


def _peak_memory(framework, device, step):
    """{"peak_mb", "mem_method"}; a failed measurement is reported, never fatal."""
    try:
        return {"peak_mb": memory.peak_step_bytes(framework, device, step) / 2**20,
                "mem_method": memory.method(framework, device)}
    except Exception as exc:
        return {"peak_mb": None, "mem_method": None, "mem_error": _describe(exc)}


def _noisy(stats) -> bool:
    """Repeats that disagree a lot: the machine was busy (another process, thread contention)."""
    return stats["repeats"] >= 3 and (stats["q3_ms"] - stats["q1_ms"] > 0.2 * stats["median_ms"]
                                      or stats["max_ms"] > 3 * stats["median_ms"])


def _safe_device(framework, device):
    try:
        return environment.device_name(framework, device)
    except Exception:
        return device


# ----------------------------------------------------------------------------- the run
def add_comparisons(rows):
    """Fill ``torch_ms``/``ratio_vs_torch``/``torch_peak_mb`` and ``gpu_speedup`` from rows of the same point.

    ratio_vs_torch = minidl time / PyTorch time on the matching device (> 1: minidl slower);
    gpu_speedup    = this framework's CPU time / its GPU time (> 1: the GPU is faster);
    ratio_vs_twin  = this model's time / its twin model's (another path, same sizes and device).
    """
    ok = {(r["model"], r["size_label"], r["framework"], r["backend"]): r
          for r in rows if r["status"] == "ok"}
    twin = {"numpy": "cpu", "cupy": "cuda"}
    cpu_of = {"cupy": "numpy", "cuda": "cpu"}
    for (model, sizes, framework, dev), r in ok.items():
        if framework == "minidl":
            t = ok.get((model, sizes, "torch", twin[dev]))
            if t is not None:
                r["torch_ms"] = t["median_ms"]
                r["ratio_vs_torch"] = r["median_ms"] / t["median_ms"]
                r["torch_peak_mb"] = t.get("peak_mb")
        if dev in cpu_of:
            c = ok.get((model, sizes, framework, cpu_of[dev]))
            if c is not None:
                r["gpu_speedup"] = c["median_ms"] / r["median_ms"]
        if r.get("twin"):
            t = ok.get((r["twin"], sizes, framework, dev))
            if t is not None:
                r["ratio_vs_twin"] = r["median_ms"] / t["median_ms"]
    return rows


def run(suite="quick", backends=("numpy",), compare=(), models=None, with_sweeps=True, threads=None):
    """Measure everything asked for; returns ``{"machine", "suite", "date", "notes", "rows"}``.

    threads: the ``--threads`` the run was given (None: the environment's), so that the
    notes only suggest what the run did not already do.
    """
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; choose from {', '.join(SUITES)}")
    names = list(models) if models else list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    started = datetime.date.today().isoformat()
    notes = []
    backends = _usable_backends(backends, notes)
    torch = _setup_torch(compare, notes)
    if torch is not None and "cupy" in backends and torch_models.torch_device("cupy") is None:
        notes.append("PyTorch has no CUDA on this machine: the GPU comparison was skipped")
    machine = environment.machine_summary(torch)
    if machine["kernel_warning"]:
        notes.append(machine["kernel_warning"])
    counts = machine["threads"]
    common = {"suite": suite, "versions": machine["versions"],
              "blas_threads": counts["blas_threads"], "torch_threads": counts.get("torch_threads")}
    rows = []
    for name in names:
        for sweep, sizes in points(REGISTRY[name], suite, with_sweeps):
            _log(f"  {name:<12} {size_label(sizes)}")
            rows += measure_point(name, sweep, sizes, backends, torch is not None, suite, common)
    noisy = sorted({f"{r['model']} ({r['framework']}/{r['backend']})" for r in rows if r.get("noisy")})
    if noisy:
        advice = "rerun on a quieter machine" if threads == 1 else "rerun, or try --threads 1"
        notes.append(f"unsteady repeats (IQR > 20% of the median, or a repeat > 3x it) for "
                     f"{', '.join(noisy)}: the machine was busy; {advice}")
    no_mem = sorted({f"{r['framework']}/{r['backend']} ({r['mem_error']})" for r in rows if r.get("mem_error")})
    if no_mem:
        notes.append(f"peak memory not measured for {'; '.join(no_mem)}")
    methods = sorted({f"{r['framework']}/{r['backend']}: {r['mem_method']}" for r in rows
                      if r.get("mem_method")})
    if methods:
        notes.append("peak MB = the most memory one training step's own allocations held at once "
                     f"(activations, gradients, temporaries; not the parameters), via {', '.join(methods)}")
    return {"machine": machine, "suite": suite, "dtype": DTYPE, "date": started, "notes": notes,
            "rows": add_comparisons(rows)}


def _usable_backends(backends, notes):
    from minidl import backend as mdb
    usable = []
    for b in backends:
        if b == "cupy" and mdb.cupy_unavailable_reason() is not None:
            notes.append(f"cupy backend skipped: {mdb.cupy_unavailable_reason()} "
                         "(the GPU path was not run on this machine)")
        elif b not in ("numpy", "cupy"):
            raise ValueError(f"unknown backend {b!r}; choose numpy and/or cupy")
        else:
            usable.append(b)
    return usable


def _setup_torch(compare, notes):
    """Import torch if asked for, with its intra-op threads equal to NumPy's BLAS threads."""
    unknown = [c for c in compare if c != "torch"]
    if unknown:
        raise ValueError(f"unknown comparison {', '.join(unknown)}; only 'torch' is supported")
    if "torch" not in compare:
        return None
    reason = torch_models.torch_unavailable_reason()
    if reason:
        notes.append(f"PyTorch comparison skipped: {reason}")
        return None
    torch = torch_models.import_torch()
    # Same thread count as NumPy's BLAS, so the ratio compares frameworks, not thread pools.
    torch.set_num_threads(environment.blas_threads()[0])
    return torch

