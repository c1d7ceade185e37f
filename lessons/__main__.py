"""``python -m lessons``: list, run one lesson, or take the tour of all of them.

    python -m lessons list
    python -m lessons run NAME [--quick] [--backend numpy|cupy] [--data PATH] [--download]
                               [--out DIR] [--seed N] [--vectors PATH] [--sentence TEXT]
                               [--pair TEXT1 TEXT2]
    python -m lessons tour [--quick] [--out DIR]

NAME may be the full file stem (``01_tweet_sentiment``), its number (``01`` or
``1``) or the topic (``tweet_sentiment``).  Each run prints its headline results
and writes figures and ``results.json`` under ``OUT/<lesson>/``; the tour also
writes ``OUT/README.md``, one page with every lesson's numbers and figures.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import pathlib
import runpy
import sys

import matplotlib

matplotlib.use("Agg")          # lessons save figures to files; never open a window

from minidl.datasets.paths import DataFormatError, DataNotFoundError

from . import data as lesson_data
from . import support

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
    print(f"[results] {where}")
    return lesson.results()


def write_summary(out: pathlib.Path, results: list[dict]):
    """OUT/README.md: each lesson's headline numbers, texts and figures on one page."""
    lines = ["# minidl lessons: the tour", "",
             f"{len(results)} lessons, {'quick' if results and results[0]['quick'] else 'full'} runs.", ""]
    for r in results:
        lines += [f"## {r['lesson']}", "", f"_{r['seconds']} s, backend {r['backend']}, "
                  f"data: {r['data'] or 'embedded default'}_", ""]
        for h in r["headlines"]:
            base = "" if h["baseline"] is None else \
                f" (baseline {h['baseline']:.4g}: {'beaten' if h['beats_baseline'] else 'NOT beaten'})"
            lines.append(f"- **{h['label']}**: {h['value']:.4g}{base}")
        lines.append("")
        for t in r["texts"]:
            lines += [f"**{t['title']}**", "", "```", t["text"], "```", ""]
        for f in r["figures"]:
            rel = os.path.relpath(f["path"], out)
            lines += [f"![{f['name']}]({rel})", ""]
    path = out / "README.md"
    path.write_text("\n".join(lines))
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m lessons", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the lessons")
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
        p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    if args.cmd == "list":
        for p in lesson_files():
            summary, dataset = describe(p)
            print(f"{p.stem:<28} {summary}")
            if dataset:
                print(f"{'':<28}   data: {dataset}")
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
    print(f"[tour] {len(results)} lessons; summary page: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
