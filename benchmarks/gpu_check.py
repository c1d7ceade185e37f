"""``python -m benchmarks gpu-check``: the GPU checklist in one command, with a summary to paste.

CI has no GPU: there every CuPy test runs on the strict CPU stand-in of
tests/strict_cupy/, which catches device arrays leaking into NumPy but runs no
CUDA.  Whoever has a GPU runs this from a source checkout to check the rest:

1. the CuPy tests on the real GPU: ``pytest -m cupy`` with ``MINIDL_CUPY_TESTS=gpu``
   (the stand-in is then refused: a broken GPU fails instead of passing on the CPU),
   among them the fused-kernel equality tests against their NumPy twins
   (tests/test_fused_rnn.py);
2. one lesson end to end: ``python -m lessons run char_language_model --quick --backend cupy``;
3. the quick benchmark with the GPU rows: ``python -m benchmarks run --backends numpy,cupy``.

It prints a Markdown summary (also written to OUT/gpu-check.md) and exits 0 when
every step passed, 1 when one failed, 2 when no usable GPU was found.  Each step's
full output is in OUT/ (default bench-out/gpu-check/, git-ignored).
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSON = "char_language_model"
FUSED_TESTS = "tests/test_fused_rnn.py"


def add_parser(sub) -> None:
    """The ``gpu-check`` subcommand (called by benchmarks/__main__.py)."""
    g = sub.add_parser("gpu-check", help="on a GPU machine: CuPy tests, one lesson and the quick benchmark "
                                         "on the GPU, with a summary to paste")
    g.add_argument("--out", default="bench-out/gpu-check", help="output folder (default bench-out/gpu-check/)")
    g.add_argument("--suite", default="quick", choices=("smoke", "quick", "full"), help="benchmark suite (default quick)")
    g.add_argument("--no-bench", action="store_true", help="skip the benchmark step")
    g.add_argument("--no-lesson", action="store_true", help="skip the lesson step")
    g.set_defaults(fn=main)


# ----------------------------------------------------------------------------- the steps
def _run(cmd, log: pathlib.Path, timeout: float, env=None):
    """Run ``cmd`` in the checkout, its output into ``log``; (exit code, seconds)."""
    print(f"[gpu-check] {' '.join(cmd)}  (output: {log})", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        try:
            rc = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                env={**os.environ, **(env or {})}).returncode
        except subprocess.TimeoutExpired:
            f.write(f"\n[gpu-check] timed out after {timeout:.0f} s\n")
            rc = 124
    return rc, time.perf_counter() - t0


def _tail(log: pathlib.Path, n: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-n:])


def junit_counts(xml_path: pathlib.Path) -> dict:
    """{"passed", "failed", "skipped", "failures": [...], "fused": {...}} from pytest's JUnit XML."""
    counts = {"passed": 0, "failed": 0, "skipped": 0, "failures": [], "skips": {},
              "fused": {"passed": 0, "failed": 0, "skipped": 0}}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        kinds = {child.tag for child in case}
        skipped = case.find("skipped")
        outcome = "failed" if kinds & {"failure", "error"} else "skipped" if skipped is not None else "passed"
        counts[outcome] += 1
        if outcome == "failed":
            counts["failures"].append(name)
        if outcome == "skipped":
            why = (skipped.get("message") or "").strip()
            counts["skips"][why] = counts["skips"].get(why, 0) + 1
        if name.startswith(FUSED_TESTS):
            counts["fused"][outcome] += 1
    return counts


def step_tests(out: pathlib.Path) -> dict:
    xml = out / "cupy-tests.xml"
    cmd = [sys.executable, "-m", "pytest", "-m", "cupy", "-q", "-rfEs", "-p", "no:cacheprovider",
           f"--junitxml={xml}", "tests"]
    rc, secs = _run(cmd, out / "cupy-tests.log", 3600, env={"MINIDL_CUPY_TESTS": "gpu"})
    counts = junit_counts(xml) if xml.exists() else {"passed": 0, "failed": 1, "skipped": 0, "failures": [],
                                                     "skips": {}, "fused": {"passed": 0, "failed": 0, "skipped": 0}}
    ok = rc == 0 and counts["failed"] == 0 and counts["passed"] > 0
    return dict(counts, ok=ok, rc=rc, seconds=secs, log=out / "cupy-tests.log")


def step_lesson(out: pathlib.Path) -> dict:
    cmd = [sys.executable, "-m", "lessons", "run", LESSON, "--quick", "--backend", "cupy", "--out", str(out / "lesson")]
    rc, secs = _run(cmd, out / "lesson.log", 1800)
    found = sorted((out / "lesson").glob(f"*{LESSON}/results.json"))
    headlines = json.loads(found[0].read_text())["headlines"] if found else []
    beaten = all(h["beats_baseline"] for h in headlines if h["baseline"] is not None)
    return dict(ok=rc == 0 and bool(headlines) and beaten, rc=rc, seconds=secs, headlines=headlines,
                log=out / "lesson.log")


def step_bench(out: pathlib.Path, suite: str) -> dict:
    cmd = [sys.executable, "-m", "benchmarks", "run", "--suite", suite, "--backends", "numpy,cupy",
           "--out", str(out / "bench"), "--no-plots"]
    rc, secs = _run(cmd, out / "bench.log", 3600)
    path = out / "bench" / "results.json"
    results = json.loads(path.read_text()) if rc == 0 and path.exists() else None
    gpu_rows = [r for r in (results or {}).get("rows", []) if r.get("backend") == "cupy"]
    ok = bool(gpu_rows) and all(r["status"] == "ok" for r in gpu_rows)
    return dict(ok=ok, rc=rc, seconds=secs, results=results, gpu_rows=gpu_rows, log=out / "bench.log")


# ----------------------------------------------------------------------------- the summary
def summary(machine: str, tests: dict, lesson: dict | None, bench: dict | None) -> str:
    """The Markdown block to paste into a note or the README."""
    def verdict(step):
        return "PASS" if step["ok"] else "FAIL"
    date = datetime.date.today().isoformat()
    lines = [f"### GPU check ({date}): {machine}", "",
             f"- **CuPy tests** (`MINIDL_CUPY_TESTS=gpu pytest -m cupy`): {verdict(tests)}: "
             f"{tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped "
             f"({tests['seconds']:.0f} s)",
             f"  - fused-kernel equality with the NumPy twins (`{FUSED_TESTS}`): "
             f"{tests['fused']['passed']} passed, {tests['fused']['failed']} failed, {tests['fused']['skipped']} skipped"]
    lines += [f"  - failed: `{name}`" for name in tests["failures"]]
    lines += [f"  - skipped {n}x: {why}" for why, n in tests["skips"].items()]
    if lesson is not None:
        heads = "; ".join(f"{h['label']} {h['value']:.4g}" + ("" if h["baseline"] is None else
                          f" (baseline {h['baseline']:.4g}{'' if h['beats_baseline'] else ', NOT beaten'})")
                          for h in lesson["headlines"])
        lines.append(f"- **Lesson** `python -m lessons run {LESSON} --quick --backend cupy`: {verdict(lesson)} "
                     f"({lesson['seconds']:.0f} s){': ' + heads if heads else ', exit ' + str(lesson['rc'])}")
    if bench is not None:
        lines.append(f"- **Benchmark** `python -m benchmarks run --backends numpy,cupy`: {verdict(bench)}, "
                     f"{len(bench['gpu_rows'])} GPU rows ({bench['seconds']:.0f} s)")
        if bench["results"]:
            from . import report                   # imports NumPy: only once the run is over
            lines += ["", report.readme_table(bench["results"]).rstrip()]
    steps = [s for s in (tests, lesson, bench) if s is not None]
    lines += ["", f"**{'PASS' if all(s['ok'] for s in steps) else 'FAIL'}**: "
              f"{sum(s['ok'] for s in steps)} of {len(steps)} steps passed."]
    for s in steps:
        if not s["ok"]:
            lines += ["", f"Last lines of {s['log']}:", "```", _tail(s["log"]), "```"]
    return "\n".join(lines) + "\n"


def gpu_or_reason():
    """(a line naming the GPU and the CuPy/CUDA versions, None) or (None, why there is no usable GPU)."""
    from minidl import backend
    reason = backend.cupy_unavailable_reason()
    if reason is not None:
        return None, reason
    cp = backend.module("cupy")
    try:
        name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
        cuda = cp.cuda.runtime.runtimeGetVersion()
        return f"{name}, CuPy {cp.__version__}, CUDA runtime {cuda // 1000}.{cuda % 1000 // 10}", None
    except Exception as exc:                      # the name is nice to have; the probe already ran a kernel
        return f"a CUDA device (name unavailable: {exc})", None


def main(args) -> int:
    machine, reason = gpu_or_reason()
    if machine is None:
        print(f"gpu-check: no GPU found: {reason}\n"
              "Nothing was run. Without a GPU, plain `python -m pytest` already runs every CuPy test on the "
              "strict CPU stand-in (tests/strict_cupy/).", file=sys.stderr)
        return 2
    if not (ROOT / "tests" / "conftest.py").exists():
        print(f"gpu-check: needs a source checkout (no tests/ beside {ROOT / 'benchmarks'})", file=sys.stderr)
        return 2
    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"[gpu-check] {machine}; output under {out}/", file=sys.stderr)
    tests = step_tests(out)
    lesson = None if args.no_lesson else step_lesson(out)
    bench = None if args.no_bench else step_bench(out, args.suite)
    text = summary(machine, tests, lesson, bench)
    (out / "gpu-check.md").write_text(text)
    print(text)
    print(f"[gpu-check] summary written to {out / 'gpu-check.md'}", file=sys.stderr)
    return 0 if all(s["ok"] for s in (tests, lesson, bench) if s is not None) else 1
