"""Start, check and hint: what the command line does, as functions (tests call them directly).

The grader never trusts a learner's file blindly: it runs the forward against the
reference forward first (an edited forward would make a "passing" backward
meaningless), then ``md.gradcheck`` in float64 on every case of the exercise, and
turns the reports into one verdict:

* ``not started`` -- no file yet, or backward still raises NotImplementedError("your code here");
* ``failing``     -- some case disagrees with the numerical gradient (the report says where, with a hint);
* ``passing``     -- every case agrees.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import pathlib
import shutil
import sys
import traceback
from dataclasses import dataclass, field

import numpy as np

import minidl as md

from .catalog import EXERCISES, Exercise

DEFAULT_DIR = "minidl_exercises"
HINT_STATE = ".minidl_hints.json"
NOT_WRITTEN = "your code here"
CMD = "python -m minidl.exercises"


def template_path(ex: Exercise) -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parent / "templates" / f"{ex.name}.py"


def learner_path(ex: Exercise, folder=DEFAULT_DIR) -> pathlib.Path:
    return pathlib.Path(folder) / ex.filename


def _dir_flag(folder) -> str:
    return "" if str(folder) == DEFAULT_DIR else f" --dir {folder}"


# ----------------------------------------------------------------------------- start
def start(ex: Exercise, folder=DEFAULT_DIR) -> tuple[bool, str]:
    """Copy the template into ``folder``; never overwrite.  Returns (created, message)."""
    dest = learner_path(ex, folder)
    if dest.exists():
        return False, (f"{dest} already exists: your work is kept, nothing was copied.\n"
                       f"To start over, rename or delete that file first, or use another --dir.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_path(ex), dest)
    return True, (f"created {dest}\n"
                  f"Read its docstring, write backward, then: {CMD} check {ex.name}{_dir_flag(folder)}")


# ----------------------------------------------------------------------------- loading
class NotStarted(Exception):
    pass


def load_class(ex: Exercise, folder=DEFAULT_DIR, solution: bool = False):
    """The learner's Function subclass (from their file) or the reference solution's."""
    if solution:
        return getattr(importlib.import_module(f"{__package__}.solutions.{ex.name}"), ex.cls)
    path = learner_path(ex, folder)
    if not path.exists():
        raise NotStarted(f"no file {path} yet: run  {CMD} start {ex.name}{_dir_flag(folder)}")
    spec = importlib.util.spec_from_file_location(f"_minidl_exercise_{ex.name}", path)
    module = importlib.util.module_from_spec(spec)
    old, sys.dont_write_bytecode = sys.dont_write_bytecode, True     # no __pycache__ in their folder
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = old
    if not hasattr(module, ex.cls):
        raise AttributeError(f"{path} defines no class {ex.cls} (the grader looks for that name)")
    return getattr(module, ex.cls)


# ----------------------------------------------------------------------------- check
@dataclass
class CaseResult:
    label: str
    ok: bool
    text: str = ""                 # the gradcheck report, or what went wrong before it
    report: object = None


@dataclass
class Result:
    exercise: Exercise
    status: str                    # "not started", "failing", "passing"
    source: str
    message: str = ""
    cases: list = field(default_factory=list)

    @property
    def passed(self):
        return self.status == "passing"

    def summary(self) -> str:
        """One line for ``list``."""
        if self.status != "failing":
            return self.status
        bad = next((c for c in self.cases if not c.ok), None)
        if bad is None:
            return f"failing: {self.message.splitlines()[0]}" if self.message else "failing"
        k = self.cases.index(bad) + 1
        return f"failing (case {k}/{len(self.cases)})"

    def __str__(self):
        ex = self.exercise
        lines = [f"exercise {ex.number:02d} {ex.name}: {ex.title} ({ex.level})",
                 f"grading {self.source}: md.gradcheck in float64"]
        if self.status == "not started" or (self.message and not self.cases):
            return "\n".join(lines + ["", f"{self.status.upper()}: {self.message}"])
        shown_report = False
        for k, c in enumerate(self.cases, 1):
            lines.append(f"case {k}/{len(self.cases)}  {c.label}: {'passed' if c.ok else 'FAILED'}")
            if not c.ok and (not shown_report or c.report is None):
                lines += ["    " + ln for ln in c.text.splitlines()]
                shown_report = shown_report or c.report is not None
            elif not c.ok:
                failing = ", ".join(e.name for e in c.report.failures())
                lines.append(f"    fails on {failing} (details as in the first failing case)")
        n_bad = sum(not c.ok for c in self.cases)
        if self.passed:
            nxt = next((e for e in EXERCISES if e.number == ex.number + 1), None)
            tail = f" Next: {CMD} start {nxt.name}" if nxt else " That was the last exercise: well done."
            every = "the case agrees" if len(self.cases) == 1 else f"all {len(self.cases)} cases agree"
            lines.append(f"\nPASSING: {every} with the numerical gradient.{tail}")
        else:
            lines.append(f"\nFAILING: {n_bad} of {len(self.cases)} case(s). Read the hint lines above; "
                         f"stuck? {CMD} hint {ex.name}")
        return "\n".join(lines)


def _tensors(arrays):
    return [md.tensor(a, dtype=a.dtype, backend_name="numpy") for a in arrays]


def _forward(cls, case):
    with md.no_grad():
        out = cls(**case.kwargs)(*_tensors(case.inputs))
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def _where(exc, path):
    """' (line N of the learner's file)' from a traceback, when it passes through that file."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if path and f.filename == str(path)]
    return f" (line {frames[-1].lineno}: {frames[-1].line})" if frames else ""


def _not_written(report) -> bool:
    return any(e.error and NOT_WRITTEN in e.error for e in report.entries)


def check(ex: Exercise, folder=DEFAULT_DIR, solution: bool = False, seed: int = 0, cls=None) -> Result:
    """Grade one exercise: the learner's class from ``folder``, the reference (``solution``),
    or any Function subclass passed as ``cls`` (the tests' typical wrong answers)."""
    path = None
    if cls is not None:
        source = f"class {cls.__name__}"
    elif solution:
        source = f"the reference solution minidl/exercises/solutions/{ex.name}.py"
    else:
        path = learner_path(ex, folder).resolve()
        source = f"{learner_path(ex, folder)} (class {ex.cls})"
    try:
        cls = cls or load_class(ex, folder, solution)
    except NotStarted as exc:
        return Result(ex, "not started", source, str(exc))
    except Exception as exc:
        return Result(ex, "failing", source, f"the file does not load: {type(exc).__name__}: {exc}"
                      f"{_where(exc, path)}")
    reference = load_class(ex, solution=True)
    result = Result(ex, "passing", source)
    with md.using("numpy"), contextlib.redirect_stdout(sys.stderr):   # learners' debug prints
        for case in ex.cases(seed):
            result.cases.append(_check_case(ex, cls, reference, case, seed, path))
            if result.cases[-1].text == NOT_WRITTEN:
                return Result(ex, "not started", source, f"backward still raises NotImplementedError("
                              f"'{NOT_WRITTEN}'): write it, then check again.")
    if not all(c.ok for c in result.cases):
        result.status = "failing"
    return result


def _check_case(ex, cls, reference, case, seed, path) -> CaseResult:
    try:
        got = _forward(cls, case)
    except NotImplementedError as exc:
        return CaseResult(case.label, False, f"forward raised NotImplementedError: {exc}{_where(exc, path)}")
    except Exception as exc:
        return CaseResult(case.label, False, f"forward raised {type(exc).__name__}: {exc}{_where(exc, path)}")
    want = _forward(reference, case)
    if len(got) != len(want) or not all(g.shape == w.shape and np.allclose(g, w) for g, w in zip(got, want)):
        return CaseResult(case.label, False, "the forward pass differs from the template's. The exercise "
                          "is the backward: restore forward (a fresh copy: start in another --dir).")
    try:
        report = md.gradcheck(lambda *xs: cls(**case.kwargs)(*xs), *case.inputs, seed=seed)
    except Exception as exc:        # e.g. an IndexError inside backward: say where, do not crash
        return CaseResult(case.label, False, f"backward raised {type(exc).__name__}: {exc}{_where(exc, path)}")
    if _not_written(report):
        return CaseResult(case.label, False, NOT_WRITTEN)
    for e in report.entries:        # "input 3" -> "input 3 (W)"
        k = int(e.name.split()[1])
        e.name = f"input {k} ({ex.args[k]})"
        if e.error and "gradients for" in e.error:
            e.hint = (f"return one value per input of forward, in its order ({', '.join(ex.args)}): "
                      f"None for the inputs that have no gradient (ids, masks)")
    report.output_names = [f"output {k} ({n})" for k, n in enumerate(ex.outputs)]
    return CaseResult(case.label, report.passed, "" if report.passed else str(report), report)


# ----------------------------------------------------------------------------- hints
def hint(ex: Exercise, folder=DEFAULT_DIR, level: int | None = None) -> str:
    """Hints 1..k, where k is one more than last time (or ``level``); remembered in ``folder``."""
    folder = pathlib.Path(folder)
    state_file = folder / HINT_STATE
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        state = {}
    n = len(ex.hints)
    k = min(state.get(ex.name, 0) + 1, n) if level is None else max(1, min(int(level), n))
    state[ex.name] = k
    folder.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1))
    lines = [f"hints for exercise {ex.number:02d} {ex.name} ({k} of {n} shown):"]
    lines += [f"  {i}. {h}" for i, h in enumerate(ex.hints[:k], 1)]
    if k < n:
        lines.append(f"Run `{CMD} hint {ex.name}{_dir_flag(folder)}` again for hint {k + 1}.")
    else:
        lines.append(f"That was the last hint. The reference solution is in "
                     f"minidl/exercises/solutions/{ex.name}.py -- one more try before you look?")
    return "\n".join(lines)
