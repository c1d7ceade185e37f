"""Command line: ``python -m benchmarks run | list | readme-table | gpu-check``.

    python -m benchmarks run --suite quick --compare torch        # NumPy (and CuPy if usable) vs PyTorch
    python -m benchmarks run --suite smoke --models mlp --out /tmp/b
    python -m benchmarks list                                      # models, sizes, sweeps
    python -m benchmarks readme-table bench-out/results.json --update README.md
    python -m benchmarks gpu-check                                 # on a GPU machine: the checklist (gpu_check.py)

``run`` writes results.json, results.csv and the PNG plots under ``--out``
(default ``bench-out/``, git-ignored) and prints the table.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

# Only the standard library at import time: ``--threads`` has to set the BLAS
# thread variables before anything imports NumPy (see environment.request_threads).
SUITES = ("smoke", "quick", "full")
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _csv_list(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def cmd_run(args) -> int:
    from . import environment
    thread_note = environment.request_threads(args.threads) if args.threads else None
    from . import plots, report, sweeps
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"benchmarks: suite {args.suite}, backends {args.backends}, "
          f"compare {args.compare or 'none'} -> {out}/", file=sys.stderr)
    warning = environment.kernel_warning(environment.blas_info(), environment.blas_env(), environment.cpu_flags())
    if warning:                                     # before the minutes of measuring, not after
        print(f"warning: {warning}", file=sys.stderr)
    try:
        results = sweeps.run(args.suite, _csv_list(args.backends), _csv_list(args.compare),
                             _csv_list(args.models) or None, with_sweeps=not args.no_sweeps,
                             threads=args.threads or None)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results["command"] = reproduce_command(args.argv)
    if thread_note:
        results["notes"].append(thread_note)
    json_path = report.write_json(results, out / "results.json")
    csv_path = report.write_csv(results, out / "results.csv")
    pngs = [] if args.no_plots else plots.write_plots(results, out)
    print(report.console_table(results))
    print(f"\nwrote {json_path}, {csv_path}" + "".join(f", {p}" for p in pngs))
    return 0


def reproduce_command(argv) -> str:
    """The command line of this run, without --out (where the files went does not change a number)."""
    keep, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            keep.append(a)
    return "python -m benchmarks " + " ".join(keep)


def cmd_list(args) -> int:
    from . import models  # noqa: F401  (fills REGISTRY)
    from .registry import REGISTRY
    for name, spec in REGISTRY.items():
        sizes = " ".join(f"{k}={v}" for k, v in spec.sizes.items())
        sw = "; ".join(f"{k} {v}" for k, v in spec.sweeps.get("quick", {}).items())
        print(f"{name:<12} {spec.title}\n  sizes: {sizes}\n  quick sweeps: {sw or '-'}")
    return 0


def cmd_readme_table(args) -> int:
    from . import report
    try:
        results = report.load_json(args.results)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.results}: {exc}", file=sys.stderr)
        return 2
    table = report.readme_table(results, include_sweeps=args.sweeps)
    if args.update:
        try:
            report.update_readme(args.update, table)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"updated the benchmark block of {args.update}", file=sys.stderr)
    else:
        print(table, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="time training steps and write JSON/CSV/plots")
    r.add_argument("--backends", default="numpy,cupy",
                   help="comma-separated minidl backends (default numpy,cupy; cupy is skipped "
                        "with a note when CuPy or a GPU is missing)")
    r.add_argument("--compare", default="", help="reference frameworks to compare with: torch")
    r.add_argument("--suite", default="quick", choices=SUITES,
                   help="smoke: tiny sizes, one repeat (tests); quick: default sizes, small "
                        "sweeps; full: all sweeps, more repeats")
    r.add_argument("--models", default="",
                   help="comma-separated subset of the models (see 'list'); default all")
    r.add_argument("--threads", type=int, default=0,
                   help="BLAS threads for NumPy, and the same for torch (default: what the "
                        "environment gives; 1 gives steadier numbers on a busy machine)")
    r.add_argument("--out", default="bench-out", help="output folder (default bench-out/)")
    r.add_argument("--no-sweeps", action="store_true", help="only the default sizes of each model")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.set_defaults(fn=cmd_run)

    ls = sub.add_parser("list", help="list the benchmark models, their sizes and sweeps")
    ls.set_defaults(fn=cmd_list)

    t = sub.add_parser("readme-table", help="render results.json as a Markdown table")
    t.add_argument("results", help="a results.json written by 'run'")
    t.add_argument("--update", metavar="README",
                   help=f"replace the text between {START} and {END} in this file")
    t.add_argument("--sweeps", action="store_true", help="include the sweep points too")
    t.set_defaults(fn=cmd_readme_table)

    from . import gpu_check                  # standard library only at import time, like this file
    gpu_check.add_parser(sub)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv                        # recorded in results.json: how to reproduce the run
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
