"""``python -m minidl.exercises``: list, start, check and hint.

    python -m minidl.exercises list  [--dir DIR]
    python -m minidl.exercises start NAME [--dir DIR]
    python -m minidl.exercises check NAME [--dir DIR] [--solution] [--seed N]
    python -m minidl.exercises hint  NAME [--dir DIR] [--level N]

NAME is the exercise's name (``lstm_step``), number (``11``) or a unique prefix.
Your files live in DIR (default ``./minidl_exercises``), one per exercise.
Exit status of ``check``: 0 passing, 1 failing, 2 not started.  Your code runs in
a child process, each case within ``--time-limit`` seconds (default 10): an endless
loop, a crash or a ``sys.exit`` in it fails that case, with a message.
"""
from __future__ import annotations

import argparse
import sys

from . import grader
from .catalog import EXERCISES, find


def cmd_list(args):
    print(f"minidl exercises, your files in {args.dir}/ "
          f"(begin one with: {grader.CMD} start NAME)\n")
    print(f"{'#':>2}  {'name':22} {'level':7} {'status':22} what")
    for ex in EXERCISES:
        status = grader.check(ex, args.dir, time_limit=args.time_limit).summary()
        print(f"{ex.number:02d}  {ex.name:22} {ex.level:7} {status:22} {ex.title}")
    return 0


def cmd_start(args):
    created, message = grader.start(find(args.name), args.dir)
    print(message)
    return 0 if created else 1


def cmd_check(args):
    result = grader.check(find(args.name), args.dir, solution=args.solution, seed=args.seed,
                          time_limit=args.time_limit)
    print(result)
    return {"passing": 0, "failing": 1}.get(result.status, 2)


def cmd_hint(args):
    print(grader.hint(find(args.name), args.dir, args.level))
    return 0


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minidl.exercises",
                                     description="Gradient-check exercises: write backward, minidl grades it.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="every exercise with your status")
    p.set_defaults(run=cmd_list)
    for name, run, help_ in (("start", cmd_start, "copy an exercise's template into your folder"),
                             ("check", cmd_check, "grade your backward with md.gradcheck"),
                             ("hint", cmd_hint, "the next hint (never the answer)")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("name", help="exercise name, number or unique prefix")
        p.set_defaults(run=run)
        if name == "check":
            p.add_argument("--solution", action="store_true",
                           help="grade the reference solution instead of your file")
            p.add_argument("--seed", type=int, default=0, help="draw other case sizes")
        if name == "hint":
            p.add_argument("--level", type=int, default=None, help="show hints 1..N")
    for p in sub.choices.values():
        p.add_argument("--dir", default=grader.DEFAULT_DIR, help="your exercise folder "
                       f"(default ./{grader.DEFAULT_DIR})")
    for p in (sub.choices["list"], sub.choices["check"]):
        p.add_argument("--time-limit", type=_seconds, default=grader.sandbox.DEFAULT_TIME_LIMIT,
                       help="seconds each case may run before it fails (default %(default)g)")
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
