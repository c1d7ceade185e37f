"""PNG plots of the sweeps: time against size, GPU speed-up and minidl/PyTorch ratio against size.

* ``time_vs_size_<model>.png`` -- one panel per swept size (batch, hidden, ...),
  ms/step on log-log axes, one line per framework/backend.  On log-log axes a
  slope of 1 means time grows linearly with that size; a flat start means the
  step is dominated by fixed per-op overhead that a bigger size hides.  A second
  row shows the peak memory of a step the same way (e.g. an LSTM's grows
  linearly with the sequence length T: backprop through time keeps every step).
* ``speedup_vs_size.png`` -- GPU-over-CPU speed-up, one panel per model, one line
  per swept size against that size relative to its default (x = 1 is the
  default model).  Only drawn when GPU rows exist.
* ``ratio_vs_torch.png`` -- minidl time / PyTorch time on the same axes.

matplotlib runs headless (the Agg backend), so plots work on servers and in CI.
"""
from __future__ import annotations

import pathlib
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
# minor ticks of a log axis: label 2, 3 and 5 (x 10^k) only, or the labels collide
_SPARSE = FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}".lstrip("0.")[:1] in ("2", "3", "5") else "")


def _log_axes(ax, xs, log_y):
    """Log x with a tick at every measured size, written plainly ("128", not "1.28 x 10^2")."""
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(xs)))
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.xaxis.set_minor_formatter(NullFormatter())
    if log_y:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.yaxis.set_minor_formatter(_SPARSE)


def _ok(rows):
    return [r for r in rows if r["status"] == "ok"]


def _series_by_sweep(rows, model):
    """{size name: [rows along that sweep, the base point included]}."""
    mine = [r for r in _ok(rows) if r["model"] == model]
    base = [r for r in mine if r.get("sweep") is None]
    out = defaultdict(list)
    for r in mine:
        if r.get("sweep"):
            out[r["sweep"]].append(r)
    for key in out:
        out[key] += base               # the base point lies on every sweep
    return out


def _panels(n):
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def time_vs_size(results, model, out_dir) -> pathlib.Path | None:
    """Top row: ms/step against each swept size; bottom row (when measured): peak MB per step."""
    sweeps = _series_by_sweep(results["rows"], model)
    if not sweeps:
        return None
    metrics = [("median_ms", "time per training step (ms)", "time")]
    if any(r.get("peak_mb") for rows in sweeps.values() for r in rows):
        metrics.append(("peak_mb", "peak memory per step (MB)", "peak memory"))
    n = len(sweeps)
    fig, grid = plt.subplots(len(metrics), n, figsize=(5 * n, 4 * len(metrics)), squeeze=False)
    for axes, (field, ylabel, what) in zip(grid, metrics):
        for ax, (key, rows) in zip(axes, sorted(sweeps.items())):
            lines = defaultdict(list)
            for r in rows:
                if r.get(field):
                    lines[f"{r['framework']} ({r['backend']})"].append((r["sizes"][key], r[field]))
            for label, pts in sorted(lines.items()):
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
            values = [p[1] for pts in lines.values() for p in pts]
            # a log y axis only pays off over a wide range; within a factor 3 it would show no labels
            wide = bool(values) and max(values) > 3 * min(values)
            _log_axes(ax, [r["sizes"][key] for r in rows], log_y=wide)
            ax.set_xlabel(f"{key} (others at default)")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{model}: {what} vs {key}")
            ax.grid(True, which="both", alpha=0.3)
            if lines:
                ax.legend()
    title = next((r.get("title") for r in results["rows"] if r["model"] == model), model)
    fig.suptitle(f"{title} -- {_device_caption(results)}", fontsize=9)
    return _save(fig, pathlib.Path(out_dir) / f"time_vs_size_{model}.png")


def _device_caption(results):
    m = results.get("machine", {})
    return m.get("cpu", "") + (f" / {m['gpu']}" if m.get("gpu") else "")


def _relative_plot(results, field, framework, title, ylabel, out_path):
    """One panel per model: ``field`` against size / default size, one line per swept size."""
    models = sorted({r["model"] for r in _ok(results["rows"]) if r.get(field) is not None
                     and r["framework"] == framework})
    if not models:
        return None
    fig, axes = _panels(len(models))
    for ax, model in zip(axes, models):
        xs = [1.0]
        series = _series_by_sweep(results["rows"], model)
        if not series:                     # no sweep at this suite: show the default point alone
            for r in _ok(results["rows"]):
                if (r["model"] == model and r.get("sweep") is None and r["framework"] == framework
                        and r.get(field) is not None):
                    ax.plot([1.0], [r[field]], marker="o", linestyle="none",
                            label=f"default sizes only ({r['backend']})")
        for key, rows in sorted(series.items()):
            base_value = next((r["sizes"][key] for r in rows if r.get("sweep") is None), None)
            if base_value is None:         # the default point failed: no reference for x
                continue
            by_backend = defaultdict(list)
            for r in rows:
                if r["framework"] == framework and r.get(field) is not None:
                    by_backend[r["backend"]].append((r["sizes"][key] / base_value, r[field]))
            for backend, pts in sorted(by_backend.items()):
                pts.sort()
                label = key if len(by_backend) == 1 else f"{key} ({backend})"
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
                xs += [p[0] for p in pts]
        ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
        _log_axes(ax, xs, log_y=False)
        ax.set_xlabel("size / default size (one size varied at a time)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{model}: {title}")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.suptitle(f"{ylabel} -- {_device_caption(results)}", fontsize=9)
    return _save(fig, out_path)


def write_plots(results, out_dir) -> list[pathlib.Path]:
    """Every plot the results support; returns the files written."""
    out_dir = pathlib.Path(out_dir)
    written = [time_vs_size(results, m, out_dir) for m in sorted({r["model"] for r in results["rows"]})]
    written.append(_relative_plot(results, "gpu_speedup", "minidl", "GPU speed-up vs size",
                                  "CPU time / GPU time (higher: GPU faster)",
                                  out_dir / "speedup_vs_size.png"))
    written.append(_relative_plot(results, "ratio_vs_torch", "minidl", "minidl / PyTorch vs size",
                                  "minidl time / PyTorch time (lower is better)",
                                  out_dir / "ratio_vs_torch.png"))
    return [p for p in written if p is not None]
