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

from . import sandbox
from .catalog import EXERCISES, Exercise, find

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


def check(ex: Exercise, folder=DEFAULT_DIR, solution: bool = False, seed: int = 0, cls=None,
          time_limit: float = sandbox.DEFAULT_TIME_LIMIT, isolate: bool | None = None) -> Result:
    """Grade one exercise: the learner's class from ``folder``, the reference (``solution``),
    or any Function subclass passed as ``cls`` (the tests' typical wrong answers).

    A learner's file runs in a child process (``isolate``, the default for it): each case
    gets ``time_limit`` seconds, and an exit, a signal or a hang is a failed case with a
    message, never a hung or silently "passing" grader (``sandbox.py``)."""
    path = None
    if cls is not None:
        source = f"class {cls.__name__}"
    elif solution:
        source = f"the reference solution minidl/exercises/solutions/{ex.name}.py"
    else:
        path = learner_path(ex, folder).resolve()
        source = f"{learner_path(ex, folder)} (class {ex.cls})"
    if isolate if isolate is not None else (cls is None and not solution):
        if cls is not None:
            raise ValueError("check: isolate=True grades a file (the learner's or the solution), not a class object")
        return _check_isolated(ex, folder, solution, seed, time_limit, source)
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
                return _not_written_result(ex, source)
    if not all(c.ok for c in result.cases):
        result.status = "failing"
    return result


def _not_written_result(ex, source):
    return Result(ex, "not started", source, f"backward still raises NotImplementedError('{NOT_WRITTEN}'): "
                  "write it, then check again.")


def _raised(exc) -> str:
    """An exception in words; SystemExit gets its own, since exiting is how a learner's code lies."""
    if isinstance(exc, SystemExit):
        return (f"the code called sys.exit({exc.code!r}): ending the program is not an answer, "
                "so the case failed")
    return f"{type(exc).__name__}: {exc}"


def _grade_worker(send, name, folder, solution, seed, first):
    """In the child process: load the class, then grade cases ``first``, ``first + 1``, ..., one message each."""
    ex = find(name)
    path = None if solution else learner_path(ex, folder).resolve()
    try:
        cls = load_class(ex, folder, solution)
    except NotStarted as exc:
        send(("not started", str(exc)))
        return
    except BaseException as exc:            # SystemExit at import included
        send(("load failed", f"the file does not load: {_raised(exc)}{_where(exc, path)}"))
        return
    send(("loaded", None))
    reference = load_class(ex, solution=True)
    with md.using("numpy"), contextlib.redirect_stdout(sys.stderr):
        for k, case in enumerate(ex.cases(seed)):
            if k < first:
                continue
            try:
                outcome = _check_case(ex, cls, reference, case, seed, path)
            except BaseException as exc:    # sys.exit in forward or backward
                outcome = CaseResult(case.label, False, f"{_raised(exc)}{_where(exc, path)}")
            send(("case", outcome))


def _check_isolated(ex, folder, solution, seed, time_limit, source) -> Result:
    """``check`` with the learner's code in child processes: a dead or hung child fails its case,
    and a fresh child grades the cases after it."""
    cases, result, first, loaded = ex.cases(seed), Result(ex, "passing", source), 0, False
    folder = str(pathlib.Path(folder).resolve())
    while first < len(cases):
        finished = True
        for message in sandbox.run(_grade_worker, (ex.name, folder, solution, seed, first), time_limit):
            if isinstance(message, sandbox.Ended):
                if not loaded:
                    return Result(ex, "failing", source, f"the file does not load: {message.why}, while "
                                  "it was being imported")
                result.cases.append(CaseResult(cases[first].label, False, f"no verdict: {message.why}"))
                first, finished = first + 1, False
                break
            kind, payload = message
            if kind == "not started":
                return Result(ex, "not started", source, payload)
            if kind == "load failed":
                return Result(ex, "failing", source, payload)
            if kind == "loaded":
                loaded = True
                continue
            if payload.text == NOT_WRITTEN:
                return _not_written_result(ex, source)
            result.cases.append(payload)
            first += 1
        if finished:
            break
    if not all(c.ok for c in result.cases) or len(result.cases) < len(cases):
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
    state, note = _hint_state(state_file)
    n = len(ex.hints)
    k = min(state.get(ex.name, 0) + 1, n) if level is None else max(1, min(int(level), n))
    state[ex.name] = k
    folder.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1))
    lines = ([note] if note else []) + [f"hints for exercise {ex.number:02d} {ex.name} ({k} of {n} shown):"]
    lines += [f"  {i}. {h}" for i, h in enumerate(ex.hints[:k], 1)]
    if k < n:
        lines.append(f"Run `{CMD} hint {ex.name}{_dir_flag(folder)}` again for hint {k + 1}.")
    else:
        lines.append(f"That was the last hint. The reference solution is in "
                     f"minidl/exercises/solutions/{ex.name}.py -- one more try before you look?")
    return "\n".join(lines)


def _hint_state(state_file) -> tuple[dict, str]:
    """({exercise name: hints shown}, "") from the state file, or ({}, a note saying why it was reset)."""
    try:
        text = state_file.read_text()
    except FileNotFoundError:
        return {}, ""
    except OSError as exc:
        return {}, f"note: could not read {state_file} ({exc}); counting hints from 1 again"
    try:
        state = json.loads(text)
    except ValueError:
        state = text[:40]
    if isinstance(state, dict) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                       for v in state.values()):
        return state, ""
    return {}, (f"note: {state_file} is not a hint record (expected a JSON object of exercise name -> "
                f"number of hints shown, got {state!r}); counting hints from 1 again")
