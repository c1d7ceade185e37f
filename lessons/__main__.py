"""``python -m lessons``: list, run one lesson, or take the tour of all of them.

    python -m lessons list
    python -m lessons run NAME [--quick] [--backend numpy|cupy] [--data PATH] [--download]
                               [--out DIR] [--seed N] [--vectors PATH] [--sentence TEXT]
                               [--pair TEXT1 TEXT2]
    python -m lessons tour [--quick] [--out DIR]
    python -m lessons readme-table OUT [--update README.md] [--machine TEXT]

NAME may be the full file stem (``01_tweet_sentiment``), its number (``01`` or
``1``) or the topic (``tweet_sentiment``).  Each run prints its headline results
and writes figures and ``results.json`` under ``OUT/<lesson>/``; the tour also
writes ``OUT/README.md``, one page with every lesson's story, claims (checked in
the run), numbers and figures.  ``readme-table`` turns the full runs under OUT
into ``lessons/full_runs.json`` and the README's lesson table.
"""
from __future__ import annotations

import os

# One BLAS thread unless the user asks for more (set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS
# yourself to override).  A lesson's matrices are small, so a second thread buys little, and
# on a machine whose cores are busy with other work, BLAS threads that wait for each other
# make every product 10-40x slower (measured: a CNN training step of 32 digits took 400 ms
# instead of 10 ms while four other processes ran).  Set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import ast
import json
import pathlib
import runpy
import sys

import matplotlib

matplotlib.use("Agg")          # lessons save figures to files; never open a window

from minidl.datasets.paths import DataFormatError, DataNotFoundError

from . import data as lesson_data
from . import summary, support

HERE = pathlib.Path(__file__).resolve().parent


def lesson_files():
    return sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def describe(path: pathlib.Path):
    """(summary line, dataset line) read from the lesson's docstring, without running it."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    lines = [ln.strip() for ln in doc.splitlines()]
    summary = lines[0] if lines else ""
    dataset = next((ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("dataset:")), "")
    return summary, dataset


def find(name: str) -> pathlib.Path:
    files = lesson_files()
    for p in files:
        number, topic = p.stem.split("_", 1)
        if name in (p.stem, topic, number) or (name.isdigit() and int(name) == int(number)):
            return p
    known = ", ".join(p.stem for p in files)
    raise SystemExit(f"no lesson called {name!r}; known lessons: {known}")


def run_lesson(path: pathlib.Path, **settings) -> dict:
    """Execute one lesson file with the given settings and return its results."""
    support.configure(**settings)
    support.last = None
    try:
        runpy.run_path(str(path), run_name="__main__")
    except (DataNotFoundError, DataFormatError) as exc:
        exc.lesson = path.stem                               # for the one-line message of main()
        raise
    lesson = support.last
    if lesson is None:
        raise RuntimeError(f"{path.name} never created its Lesson object")
    where = lesson.save_results()
    results = lesson.results()
    if results["claims"]:
        print("\n-- what this lesson claims, checked in this run --")
        for c in results["claims"]:
            print(support.claim_line(c, quick=results["quick"]))
    print(f"[results] {where}")
    return results


def write_summary(out: pathlib.Path, results: list[dict]):
    """OUT/README.md: each lesson's story, claims, headline, figures and next commands."""
    return summary.write_page(pathlib.Path(out), results)


def _seed(text):
    """--seed: NumPy seeds are integers >= 0, so -1 is refused here, not deep inside a lesson."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m lessons", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the lessons")
    table = sub.add_parser("readme-table", help="record the full runs under OUT and regenerate the README's lesson table")
    table.add_argument("out", help="the --out folder of full runs (python -m lessons run NAME --out OUT)")
    table.add_argument("--update", metavar="README", help="rewrite the table between the lessons markers in this file")
    table.add_argument("--machine", help="how to name the machine the runs were measured on")
    for cmd in ("run", "tour"):
        p = sub.add_parser(cmd)
        if cmd == "run":
            p.add_argument("name")
            p.add_argument("--data", help="the real dataset: its file, its folder, or a folder above them "
                                          "(e.g. ../shared/data); see the README's lesson table for what each "
                                          "lesson reads")
            p.add_argument("--download", action="store_true", help="download the real dataset (verified, cached)")
            p.add_argument("--vectors", help="pretrained word vectors (a GloVe text file) for lessons that use them")
            p.add_argument("--sentence", help="a sentence of your own for lessons that tag or classify one")
            p.add_argument("--pair", nargs=2, metavar=("TEXT1", "TEXT2"),
                           help="two texts of your own for lessons that compare a pair")
        p.add_argument("--quick", action="store_true", help="a short run: smaller models and fewer steps, on the "
                                                            "embedded data or, with --data, on the real data (a sample "
                                                            "of it in most lessons)")
        p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
        p.add_argument("--out", default="out")
        p.add_argument("--seed", type=_seed, default=0, help="random seed, an integer >= 0 (default 0)")
    args = ap.parse_args(argv)

    if args.cmd == "list":
        for p in lesson_files():
            line, dataset = describe(p)
            print(f"{p.stem:<28} {line}")
            if dataset:
                print(f"{'':<28}   data: {dataset}")
        return 0
    if args.cmd == "readme-table":
        record = summary.record_full_runs(pathlib.Path(args.out), machine=args.machine)
        text = summary.readme_table(record)
        if args.update:
            summary.update_readme(pathlib.Path(args.update), text)
            print(f"[readme-table] {len(record['lessons'])} lessons -> {args.update} and {support.FULL_RUNS}")
        else:
            print(text)
        return 0

    try:
        return _run(args)
    except (DataNotFoundError, DataFormatError) as exc:      # a data problem is one line, not a traceback
        who = f"{exc.lesson}: " if getattr(exc, "lesson", None) else ""
        print(f"error: {who}{str(exc).splitlines()[0]}", file=sys.stderr)
        return 2


def _run(args):
    out = pathlib.Path(args.out)
    common = dict(quick=args.quick, backend=args.backend, out=str(out), seed=args.seed)
    if args.cmd == "run":
        path = find(args.name)
        data = lesson_data.resolve(path.stem, args.data)     # before the lesson starts: fail fast
        run_lesson(path, data=None if data is None else str(data), download=args.download, vectors=args.vectors,
                   sentence=args.sentence, pair=args.pair, **common)
        return 0

    results = []
    for p in lesson_files():
        results.append(run_lesson(p, **common))
        print()
    page = write_summary(out, results)
    (out / "tour.json").write_text(json.dumps(results, indent=2))
    claims = [c for r in results for c in r["claims"]]
    tally = ", ".join(f"{sum(c['status'] == s for c in claims)} {s}" for s in ("held", "did not hold", "full run only"))
    print(f"[tour] {len(results)} lessons; claims: {tally}; summary page: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
