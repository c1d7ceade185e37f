"""Turning result rows into things people read: console table, JSON, CSV, README table.

The JSON (``results.json``) is the source of truth: the console table, the CSV,
the plots and the README table are all rendered from it, so the README can
never show a number the harness did not measure.
"""
from __future__ import annotations

import csv
import json
import math
import pathlib
import re

from .environment import KERNEL_VARS

START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# Fixed leading CSV columns; sizes become size_<name>, versions version_<lib>.
CSV_COLUMNS = ["model", "title", "path", "twin", "ratio_vs_twin", "suite", "sweep", "sweep_value", "size_label", "framework",
               "backend", "device", "dtype", "status", "reason", "median_ms", "min_ms", "max_ms",
               "q1_ms", "q3_ms", "steps_per_s", "repeats", "steps_per_repeat", "warmup",
               "torch_ms", "ratio_vs_torch", "gpu_speedup", "matmul_ms", "matmul_gflop",
               "efficiency", "noisy", "peak_mb", "mem_method", "torch_peak_mb",
               "blas_threads", "torch_threads"]


# ----------------------------------------------------------------------------- files
def write_json(results: dict, path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.write_text(json.dumps(results, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(x):
    if hasattr(x, "item"):            # a stray NumPy scalar
        return x.item()
    raise TypeError(f"cannot write {type(x).__name__} to JSON")


def load_json(path) -> dict:
    results = json.loads(pathlib.Path(path).read_text())
    if not isinstance(results, dict) or "rows" not in results:
        raise ValueError(f"{path} is not a benchmark results file (no 'rows'); "
                         "make one with python -m benchmarks run")
    for i, row in enumerate(results["rows"]):      # an empty or cut row: say which, not a KeyError
        missing = [k for k in ROW_KEYS if not isinstance(row, dict) or k not in row]
        if missing:
            raise ValueError(f"{path}: row {i} lacks {', '.join(missing)} (got {row!r}); every row needs "
                             f"{', '.join(ROW_KEYS)}: a damaged results file, make a new one with python -m benchmarks run")
    return results


ROW_KEYS = ("framework", "model", "size_label", "backend", "status")


def flat_row(row: dict) -> dict:
    flat = {k: row.get(k) for k in CSV_COLUMNS}
    for k, v in row.get("sizes", {}).items():
        flat[f"size_{k}"] = v
    for k, v in (row.get("versions") or {}).items():
        flat[f"version_{k}"] = v
    return flat


def write_csv(results: dict, path) -> pathlib.Path:
    path = pathlib.Path(path)
    flats = [flat_row(r) for r in results["rows"]]
    extra = sorted({k for f in flats for k in f} - set(CSV_COLUMNS))
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS + extra, restval="")
        w.writeheader()
        for flat in flats:
            w.writerow({k: ("" if v is None else v) for k, v in flat.items()})
    return path


# ----------------------------------------------------------------------------- number formats
def _ms(x):
    if x is None:
        return "-"
    return f"{x:.3g}" if x < 10 else f"{x:.1f}"


def _x(x):
    """A ratio: 1.27x, 0.85x, 12.4x (and 0.00461x for the odd tiny one)."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.2f}x" if 0.01 <= x < 10 else f"{x:.3g}x"


def _mb(x):
    if x is None:
        return "-"
    return f"{x:.2g}" if x < 10 else f"{x:.0f}"


def _pct(x):
    if x is None:
        return "-"
    return "<1%" if x < 0.005 else f"{100 * x:.0f}%"


def _twin(row):
    """This row's time over its twin's (another path, same sizes), e.g. "1.52x lstm_lm"."""
    return f"{_x(row['ratio_vs_twin'])} {row['twin']}" if row.get("ratio_vs_twin") is not None else "-"


def _sizes_short(row):
    """Base point: all sizes; sweep point: only the size that varies."""
    if row.get("sweep"):
        return f"{row['sweep']}={row['sweep_value']}"
    return row["size_label"]


# ----------------------------------------------------------------------------- console
def console_table(results: dict) -> str:
    """One line per minidl measurement, with its PyTorch twin and GPU speed-up folded in."""
    header = ["model", "path", "sizes", "backend", "ms/step", "min-max ms", "steps/s",
              "torch ms", "minidl/torch", "vs twin", "GPU speed-up", "BLAS share", "peak MB", "torch MB"]
    lines = [header]
    for r in results["rows"]:
        if r["framework"] != "minidl":
            continue
        if r["status"] != "ok":
            lines.append([r["model"], r.get("path", "plain"), _sizes_short(r), r["backend"],
                          f"{r['status']}: {r['reason']}"])
            continue
        lines.append([r["model"], r.get("path", "plain"), _sizes_short(r), r["backend"],
                      _ms(r["median_ms"]) + (" ~" if r.get("noisy") else ""),
                      f"{_ms(r['min_ms'])}-{_ms(r['max_ms'])}", f"{r['steps_per_s']:.1f}",
                      _ms(r.get("torch_ms")), _x(r.get("ratio_vs_torch")), _twin(r),
                      _x(r.get("gpu_speedup")), _pct(r.get("efficiency")),
                      _mb(r.get("peak_mb")), _mb(r.get("torch_peak_mb"))])
    widths = [max(len(line[i]) for line in lines if len(line) > i and len(line) == len(header))
              for i in range(len(header))]
    out = []
    for line in lines:
        if len(line) < len(header):        # an unavailable/error row: let the reason run on
            out.append("  ".join(c.ljust(w) for c, w in zip(line[:4], widths)) + "  " + line[4])
        else:
            out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    out.insert(1, "-" * max(len(s) for s in out))
    return "\n".join(out + [""] + [machine_line(results)] + [f"note: {n}" for n in results.get("notes", [])])


def blas_phrase(machine: dict) -> str:
    """'OpenBLAS 0.3.31, Haswell kernel (forced: OPENBLAS_CORETYPE=Haswell)', or what is known of it."""
    b = machine.get("blas") or {}
    if not b.get("library"):
        return "BLAS: unknown" + (f" ({b['source']})" if b.get("source") else "")
    name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(b["library"], b["library"])
    text = f"BLAS: {name} {b.get('version') or ''}".rstrip()
    if b.get("kernel"):
        text += f", {b['kernel']} kernel"
    forced = [f"{k}={v}" for k, v in (machine.get("blas_env") or {}).items() if k in KERNEL_VARS]
    return text + (f" (forced: {', '.join(forced)})" if forced else " (the library's own choice)")


def machine_line(results: dict) -> str:
    m = results.get("machine", {})
    v, t = m.get("versions", {}), m.get("threads", {})
    cpu = m.get("cpu", "?") + (" (AVX-512)" if m.get("cpu_avx512") else "")
    parts = [f"CPU: {cpu}"]
    if m.get("gpu"):
        parts.append(f"GPU: {m['gpu']}")
    parts.append(blas_phrase(m))
    parts.append(f"BLAS threads: {t.get('blas_threads', '?')}")
    if t.get("torch_threads") is not None:
        parts.append(f"torch threads: {t['torch_threads']}")
    libs = ", ".join(f"{k} {v[k]}" for k in ("minidl", "numpy", "cupy", "torch", "python") if v.get(k))
    when = f", {results['date']}" if results.get("date") else ""
    return "; ".join(parts) + f"; {libs}; suite {results.get('suite', '?')}, {results.get('dtype', 'float32')}{when}"


# ----------------------------------------------------------------------------- README
def readme_table(results: dict, include_sweeps: bool = False) -> str:
    """A Markdown table of the (base-point) results and the machine they came from.

    The PyTorch and GPU columns appear only when the results have such numbers.
    """
    rows = [r for r in results["rows"]
            if r["framework"] == "minidl" and (include_sweeps or not r.get("sweep"))]
    has_torch = any(r.get("torch_ms") is not None for r in rows)
    has_gpu = any(r.get("gpu_speedup") is not None for r in rows)
    has_mem = any(r.get("peak_mb") is not None for r in rows)
    has_twin = any(r.get("ratio_vs_twin") is not None for r in rows)
    head = ["Model", "Path", "Sizes", "Backend", "minidl ms/step"]
    head += ["PyTorch ms/step", "minidl / PyTorch"] if has_torch else []
    head += ["vs twin"] if has_twin else []
    head += ["GPU speed-up"] if has_gpu else []
    head += ["BLAS share"]
    head += ["minidl peak MB"] + (["PyTorch peak MB"] if has_torch else []) if has_mem else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], f"`{r.get('path', 'plain')}`", _sizes_short(r) if include_sweeps else r["size_label"],
                 r["backend"]]
        if r["status"] != "ok":
            cells.append(f"{r['status']}: {_md_escape(r['reason'])}")
            cells += [""] * (len(head) - len(cells))
        else:
            cells.append(_ms(r["median_ms"]) + (" ~" if r.get("noisy") else ""))
            if has_torch:
                cells += [_ms(r.get("torch_ms")), _x(r.get("ratio_vs_torch"))]
            if has_twin:
                cells.append(_twin(r))
            if has_gpu:
                cells.append(_x(r.get("gpu_speedup")))
            cells.append(_pct(r.get("efficiency")))
            if has_mem:
                cells.append(_mb(r.get("peak_mb")))
                cells += [_mb(r.get("torch_peak_mb"))] if has_torch else []
        lines.append("| " + " | ".join(cells) + " |")
    how = results.get("command")
    forced = [f"{k}={v}" for k, v in (results.get("machine", {}).get("blas_env") or {}).items() if k in KERNEL_VARS]
    how = " ".join(forced + [how]) if how else how          # the same kernel, or the numbers differ
    foot = [f"Measured on {machine_line(results)}."
            + (f" To reproduce: `{how}`, then `python -m benchmarks readme-table bench-out/results.json "
               "--update README.md`; the BLAS kernel and any OPENBLAS_* variable are in results.json "
               "(`machine.blas`, `machine.blas_env`)." if how else ""),
            "Times are the median of interleaved repeats after warm-up (float32, one SGD step: "
            "forward + backward + update). *Path*: `plain` is the textbook code a lesson reads; "
            "otherwise the speed switches the model turns on (minidl/fast/). *vs twin*: this row's "
            "time over the named model's, the same sizes on another path. *BLAS share*: time of the step's matmuls alone / step time. "
            "*Peak MB*: the most memory one step's own allocations held at once (activations, "
            "gradients, temporaries; not the parameters), see benchmarks/memory.py. "
            "*~*: unsteady repeats (IQR over 20 % of the median): the machine was busy. "
            "Generated by `python -m benchmarks readme-table`."]
    foot += [f"Note: {n}" for n in results.get("notes", [])]
    return "\n".join(lines) + "\n\n" + "\n\n".join(foot) + "\n"


def _md_escape(s):
    return (s or "").replace("|", "\\|").replace("\n", " ")


def update_readme(readme_path, table: str) -> None:
    """Replace the text between the bench markers of ``readme_path`` with ``table``.

    Everything outside the markers is left byte for byte as it was; the markers stay.
    """
    path = pathlib.Path(readme_path)
    text = path.read_text()
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"{path} needs exactly one {START} ... {END} block "
                         f"(found {len(pattern.findall(text))})")
    block = f"{START}\n{table.rstrip()}\n{END}"
    path.write_text(pattern.sub(lambda _: block, text))
