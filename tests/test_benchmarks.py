"""The benchmark harness (benchmarks/): it runs, writes well-formed files, and skips cleanly.

No test here asserts a timing -- only that times are positive finite numbers --
because timings depend on the machine.  The smoke suite (tiny sizes, one timed
step) keeps every run to a second or two.  PyTorch is optional: one test uses
it when installed, others simulate its absence by patching the one import
helper, ``benchmarks.torch_models.import_torch``.
"""
import csv
import json
import math

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import environment, memory, registry, report, timing, torch_models
from benchmarks import models as _models  # noqa: F401  (fills REGISTRY before the parametrize below reads it)
from benchmarks.registry import REGISTRY, ModelSpec
from minidl import backend

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROW_FIELDS = {"model", "sizes", "size_label", "framework", "backend", "device", "dtype", "status",
              "reason", "versions", "suite", "blas_threads"}
TIME_FIELDS = ("median_ms", "min_ms", "max_ms", "q1_ms", "q3_ms", "steps_per_s")


@pytest.fixture
def no_torch(monkeypatch):
    """Simulate a machine without PyTorch (the CI case)."""
    monkeypatch.setattr(torch_models, "import_torch", lambda: None)


def _run(tmp_path, *extra):
    out = tmp_path / "bench"
    code = cli.main(["run", "--suite", "smoke", "--out", str(out), *extra])
    assert code == 0
    return out, json.loads((out / "results.json").read_text())


def _positive_finite(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _check_ok_row(row):
    assert ROW_FIELDS <= set(row), f"missing fields {ROW_FIELDS - set(row)}"
    assert row["status"] == "ok", row.get("reason")
    assert row["dtype"] == "float32"
    assert row["versions"]["numpy"] and row["versions"]["minidl"]
    for f in TIME_FIELDS:
        assert _positive_finite(row[f]), (f, row[f])
    assert row["min_ms"] <= row["median_ms"] <= row["max_ms"]
    assert row["repeats"] >= 1 and row["steps_per_repeat"] >= 1


# ----------------------------------------------------------------------------- the smoke run
def test_smoke_run_writes_json_csv_and_png(tmp_path, no_torch, capsys):
    out, results = _run(tmp_path, "--models", "mlp,embed_mean", "--backends", "numpy")
    assert results["suite"] == "smoke" and results["machine"]["cpu"]
    rows = results["rows"]
    assert {r["model"] for r in rows} == {"mlp", "embed_mean"}
    assert any(r.get("sweep") for r in rows), "the smoke suite should include a sweep point"
    for row in rows:
        _check_ok_row(row)
        assert row["framework"] == "minidl" and row["backend"] == "numpy"
        assert 0 < row["efficiency"] and _positive_finite(row["matmul_ms"])
        assert _positive_finite(row["peak_mb"]) and row["mem_method"] == "tracemalloc"

    with (out / "results.csv").open() as f:
        csv_rows = list(csv.DictReader(f))
    assert len(csv_rows) == len(rows)
    for c in csv_rows:
        assert _positive_finite(float(c["median_ms"]))
        assert c["dtype"] == "float32" and c["device"] and c["version_numpy"]
        assert int(c["size_batch"]) > 0

    pngs = sorted(out.glob("*.png"))
    assert out / "time_vs_size_mlp.png" in pngs
    for p in pngs:
        assert p.read_bytes()[:8] == PNG_MAGIC
    printed = capsys.readouterr().out
    assert "ms/step" in printed and "mlp" in printed


def test_compare_torch_when_installed(tmp_path):
    pytest.importorskip("torch")
    _, results = _run(tmp_path, "--models", "mlp", "--backends", "numpy", "--compare", "torch",
                      "--no-plots")
    by_fw = {}
    for r in results["rows"]:
        _check_ok_row(r)
        by_fw.setdefault(r["framework"], []).append(r)
    assert {"minidl", "torch"} == set(by_fw)
    assert all(r["backend"] == "cpu" for r in by_fw["torch"])
    for r in by_fw["minidl"]:
        assert _positive_finite(r["torch_ms"]) and _positive_finite(r["ratio_vs_torch"])
    threads = results["machine"]["threads"]
    assert threads["torch_threads"] == threads["blas_threads"]


def test_compare_torch_absent_skips_with_a_note(tmp_path, no_torch, capsys):
    _, results = _run(tmp_path, "--models", "mlp", "--backends", "numpy", "--compare", "torch",
                      "--no-plots")
    assert all(r["framework"] == "minidl" for r in results["rows"])
    assert all("ratio_vs_torch" not in r for r in results["rows"])
    assert any("PyTorch comparison skipped" in n for n in results["notes"])
    assert "PyTorch comparison skipped" in capsys.readouterr().out


def test_cupy_backend_runs_or_skips_cleanly(tmp_path, no_torch):
    _, results = _run(tmp_path, "--models", "mlp", "--backends", "numpy,cupy", "--no-plots")
    backends = {r["backend"] for r in results["rows"]}
    reason = backend.cupy_unavailable_reason()
    if reason:
        assert backends == {"numpy"}
        assert any("cupy backend skipped" in n for n in results["notes"])
    else:                                      # a GPU machine: GPU rows and speed-ups
        assert backends == {"numpy", "cupy"}
        assert any("gpu_speedup" in r for r in results["rows"] if r["backend"] == "cupy")


def test_the_gpu_rows_on_the_cupy_backend(cp, tmp_path, no_torch):
    """The cupy half of a run: on a GPU, or on the CPU stand-in in CI (where its device arrays
    must never reach the JSON or the table); times only, so the stand-in's are meaningless."""
    _, results = _run(tmp_path, "--models", "mlp,lstm_lm,lstm_tagger", "--backends", "numpy,cupy", "--no-plots")
    gpu = [r for r in results["rows"] if r["backend"] == "cupy"]
    assert {r["model"] for r in gpu} == {"mlp", "lstm_lm", "lstm_tagger"}
    assert all(r["status"] == "ok" and _positive_finite(r["gpu_speedup"]) for r in gpu), gpu


# ----------------------------------------------------------------------------- broken models
def _fake_spec(name, build):
    return ModelSpec(name=name, title=name, build=build, data=registry.features,
                     matmuls=lambda s: registry.dense_matmuls(s["batch"], s["n_in"], s["n_classes"]),
                     sizes=dict(batch=4, n_in=3, n_classes=2), smoke=dict(batch=4, n_in=3, n_classes=2))


def test_a_failing_builder_becomes_an_error_row(tmp_path, no_torch, monkeypatch):
    def broken(s):
        raise RuntimeError("layer exploded")
    monkeypatch.setitem(REGISTRY, "broken", _fake_spec("broken", broken))
    _, results = _run(tmp_path, "--models", "broken", "--backends", "numpy", "--no-plots")
    (row,) = results["rows"]
    assert row["status"] == "error" and "layer exploded" in row["reason"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_model_learns_its_batch(name):
    """A few benchmark steps on the fixed batch lower the loss: the step really trains.

    (The step is plain SGD on one batch, so with a small enough rate each step
    lowers the loss.  And every parameter moves: an update that never reached
    one -- say a row-sparse embedding gradient the optimizer skipped -- would
    still let the others lower the loss.)
    """
    spec = REGISTRY[name]
    step = registry.minidl_step(spec, spec.base_sizes("smoke"), "numpy")
    losses = [float(step().item())]
    start = [p.numpy().copy() for p in step.model.parameters()]     # built by the first step
    losses += [float(step().item()) for _ in range(7)]
    assert all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0] - 1e-4, losses
    for (label, p), before in zip(step.model.named_parameters(), start):
        assert not np.array_equal(p.numpy(), before), f"{name}: {label} never changed"


def test_unknown_model_or_backend_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["run", "--suite", "smoke", "--models", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown model" in capsys.readouterr().err


# ----------------------------------------------------------------------------- README table
def _results_file(tmp_path):
    row = dict(model="mlp", title="MLP", suite="quick", sweep=None, sweep_value=None,
               sizes={"batch": 128}, size_label="batch=128", framework="minidl", backend="numpy",
               device="Some CPU", dtype="float32", status="ok", reason=None, median_ms=3.2,
               min_ms=3.1, max_ms=3.5, q1_ms=3.15, q3_ms=3.3, steps_per_s=312.5, repeats=7,
               steps_per_repeat=30, warmup=2, torch_ms=2.5, ratio_vs_torch=1.28, efficiency=0.55,
               versions={"numpy": "2.0", "minidl": "0.1.0", "torch": "2.13.0"})
    sweep_row = dict(row, sweep="batch", sweep_value=512, sizes={"batch": 512}, size_label="batch=512")
    missing = dict(row, model="lstm_lm", status="error", reason="ValueError: shapes | do not fit",
                   median_ms=None)
    results = {"machine": {"cpu": "Some CPU", "gpu": None, "versions": row["versions"],
                           "threads": {"blas_threads": 1, "torch_threads": 1}},
               "suite": "quick", "dtype": "float32", "notes": [], "rows": [row, sweep_row, missing]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    return path


def test_readme_table_renders_markdown_from_json(tmp_path, capsys):
    assert cli.main(["readme-table", str(_results_file(tmp_path))]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("| Model |") and set(lines[1]) <= set("|-")
    assert "| mlp | `plain` | batch=128 | numpy | 3.2 | 2.5 | 1.28x |" in text
    assert "batch=512" not in text                      # sweep points stay in the plots
    assert "error: ValueError: shapes \\| do not fit" in text      # escaped for Markdown
    assert "Some CPU" in text                           # the device the numbers came from


def test_readme_update_replaces_only_the_marked_block(tmp_path):
    readme = tmp_path / "README.md"
    before = "# minidl\n\nIntro text.\n\n## Benchmarks\n\n"
    after = "\n\n## License\n\nMIT\n"
    readme.write_text(before + report.START + "\nold table\n" + report.END + after)
    assert cli.main(["readme-table", str(_results_file(tmp_path)), "--update", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(before + report.START + "\n| Model |")
    assert text.endswith(report.END + after)
    assert "old table" not in text and "| mlp | `plain` | batch=128 |" in text
    # running it again is idempotent
    assert cli.main(["readme-table", str(_results_file(tmp_path)), "--update", str(readme)]) == 0
    assert readme.read_text() == text


def test_readme_update_without_markers_fails_and_leaves_the_file(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers here\n")
    assert cli.main(["readme-table", str(_results_file(tmp_path)), "--update", str(readme)]) == 2
    assert readme.read_text() == "# no markers here\n"
    assert "bench:start" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the pieces
def test_measure_warms_up_and_interleaves_repeats():
    calls = []
    runners = [timing.Runner("a", lambda: calls.append("a")),
               timing.Runner("b", lambda: calls.append("b"))]
    res = timing.measure(runners, warmup=2, repeats=4, min_repeat_s=0.0, collect_garbage=False)
    assert calls[:4] == ["a", "a", "b", "b"]                   # warm-up first, per runner
    assert "".join(calls[4:]) == "abbaabba"                    # then A B, B A, ...
    for t in res.values():
        stats = t.stats_ms()
        assert stats["repeats"] == 4 and stats["warmup"] == 2
        assert all(_positive_finite(stats[f]) for f in TIME_FIELDS)


def test_peak_memory_counts_what_a_step_holds_at_once():
    def step():
        a = np.ones(2**20)                  # 8 MiB ...
        b = a + 1                           # ... and 8 MiB more, both alive here
        del a, b
        c = np.ones(2**19)                  # 4 MiB after they were freed: not a new peak
        del c
    peak = memory.peak_step_bytes("minidl", "numpy", step)
    assert 16 * 2**20 <= peak < 17 * 2**20


def test_lstm_step_memory_grows_with_the_sequence_length():
    """Backprop through time keeps every step's gates: ~linear in T (what the sweep plot shows)."""
    spec = REGISTRY["lstm_lm"]
    peaks = []
    for T in (10, 40):
        step = registry.minidl_step(spec, dict(spec.base_sizes("smoke"), seq_len=T), "numpy")
        step()
        peaks.append(memory.peak_step_bytes("minidl", "numpy", step))
    assert peaks[1] > 2 * peaks[0], peaks


def test_cpu_synchronizer_is_a_no_op_and_gpu_ones_need_their_library():
    timing.synchronizer("minidl", "numpy")()
    timing.synchronizer("torch", "cpu")()
    if backend.cupy_unavailable_reason():
        with pytest.raises(RuntimeError, match="cannot use the 'cupy' backend"):
            timing.synchronizer("minidl", "cupy")


def test_dense_matmul_shapes_cover_forward_and_backward():
    assert registry.dense_matmuls(8, 3, 5) == [(8, 3, 5, 1), (3, 8, 5, 1), (8, 5, 3, 1)]
    assert len(registry.dense_matmuls(8, 3, 5, input_grad=False)) == 2
    lstm = registry.recurrent_matmuls(batch=2, seq_len=7, d_in=3, hidden=4, n_gates=4)
    assert (2, 4, 16, 7) in lstm and (2, 16, 4, 7) in lstm        # h @ W_h and dz @ W_h.T per step


def test_thread_info_reads_env_when_threadpoolctl_is_absent(monkeypatch):
    import importlib
    real = importlib.import_module

    def fake_import(name, *a, **k):
        if name == "threadpoolctl":
            raise ImportError("simulated")
        return real(name, *a, **k)
    monkeypatch.setattr(environment.importlib, "import_module", fake_import)
    for var in environment._THREAD_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert environment.blas_threads() == (3, "$OPENBLAS_NUM_THREADS")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    n, source = environment.blas_threads()
    assert n >= 1 and "default" in source


def test_list_command_names_every_model(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in REGISTRY:
        assert name in out


def test_a_model_without_sweeps_still_gets_its_point_in_the_relative_plots(tmp_path, monkeypatch):
    """The scan rows have no quick sweeps: their ratio panel shows the default point, not an empty box."""
    from benchmarks import plots
    drawn = []
    real_plot = plots.plt.Axes.plot
    monkeypatch.setattr(plots.plt.Axes, "plot", lambda ax, *a, **k: drawn.append((a, k)) or real_plot(ax, *a, **k))
    row = dict(model="lstm_lm_scan", status="ok", sweep=None, framework="minidl", backend="numpy",
               sizes={"batch": 32}, ratio_vs_torch=1.7)
    results = {"rows": [row], "machine": {"cpu": "test CPU"}}
    path = plots._relative_plot(results, "ratio_vs_torch", "minidl", "minidl / PyTorch vs size",
                                "ratio", tmp_path / "ratio.png")
    assert path.exists()
    assert any(a == ([1.0], [1.7]) for a, _ in drawn)


def test_each_row_names_its_path_and_a_twin_row_its_ratio(tmp_path, no_torch):
    """The plain scan row is compared with its fused twin, measured in the same run."""
    _, results = _run(tmp_path, "--models", "lstm_lm,lstm_lm_scan,embed_mean", "--backends", "numpy",
                      "--no-plots")
    rows = {r["model"]: r for r in results["rows"] if not r["sweep"]}
    assert rows["lstm_lm"]["path"] == "fused=True" and rows["lstm_lm_scan"]["path"] == "plain"
    assert rows["embed_mean"]["path"] == "sparse_grad=True"
    assert rows["lstm_lm_scan"]["twin"] == "lstm_lm"
    want = rows["lstm_lm_scan"]["median_ms"] / rows["lstm_lm"]["median_ms"]
    assert rows["lstm_lm_scan"]["ratio_vs_twin"] == pytest.approx(want)
    assert "ratio_vs_twin" not in rows["lstm_lm"]


# ----------------------------------------------------------------------------- the BLAS kernel, the notes
def test_the_run_records_the_blas_its_kernel_and_overrides_and_warns_when_forced(tmp_path, no_torch, capsys,
                                                                                   monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    out, results = _run(tmp_path, "--models", "mlp", "--backends", "numpy", "--no-sweeps", "--no-plots")
    m = results["machine"]
    assert set(m["blas"]) >= {"library", "version", "kernel", "threading_layer", "source"}
    if m["blas"]["source"] == "threadpoolctl":                    # installed with minidl; None fields otherwise
        assert m["blas"]["library"] in ("openblas", "mkl", "blis") and m["blas"]["version"]
        assert m["blas"]["kernel"] or m["blas"]["library"] == "mkl"
    assert m["blas_env"]["OPENBLAS_CORETYPE"] == "Haswell"
    warned = "the BLAS kernel is forced by OPENBLAS_CORETYPE=Haswell"
    assert warned in m["kernel_warning"] and any(warned in n for n in results["notes"])
    assert f"warning: {warned}" in capsys.readouterr().err          # said before the measuring starts
    line = report.machine_line(results)
    assert "forced: OPENBLAS_CORETYPE=Haswell" in line and results["date"] in line
    table = report.readme_table(results)
    assert f"To reproduce: `OPENBLAS_CORETYPE=Haswell {results['command']}`" in table and "--out" not in results["command"]
    assert results["command"].startswith("python -m benchmarks run --suite smoke --models mlp")

    monkeypatch.delenv("OPENBLAS_CORETYPE")                        # CI sets it: the quiet case needs it unset
    _, quiet = _run(tmp_path, "--models", "mlp", "--backends", "numpy", "--no-sweeps", "--no-plots")
    assert quiet["machine"]["kernel_warning"] is None and "OPENBLAS_CORETYPE" not in quiet["machine"]["blas_env"]
    assert not any("forced" in n for n in quiet["notes"]) and "warning:" not in capsys.readouterr().err
    assert "the library's own choice" in report.machine_line(quiet) or quiet["machine"]["blas"]["library"] is None


@pytest.mark.parametrize("threads, advice, not_said", [(1, "rerun on a quieter machine", "--threads 1"),
                                                       (None, "rerun, or try --threads 1", "quieter")])
def test_notes_only_suggest_what_the_run_did_not_do(threads, advice, not_said, no_torch, monkeypatch):
    from benchmarks import sweeps
    monkeypatch.setattr(sweeps, "_noisy", lambda stats: True)
    results = sweeps.run("smoke", ["numpy"], models=["mlp"], with_sweeps=False, threads=threads)
    note = next(n for n in results["notes"] if n.startswith("unsteady repeats"))
    assert advice in note and not_said not in note


def test_the_torch_profiler_prints_no_usdt_lines(capfd):
    torch = pytest.importorskip("torch")
    w = torch.ones(4, 4, requires_grad=True)

    def step():
        (w @ w).sum().backward()
    assert memory.peak_step_bytes("torch", "cpu", step) > 0
    captured = capfd.readouterr()
    assert "USDT" not in captured.err + captured.out and "profiler_start" not in captured.err
