"""Run a learner's code in a child process, with a time limit: the grader must not hang or lie.

A learner's ``backward`` is code the grader did not write.  It may loop for
ever (``while True``), end the process (``sys.exit(0)`` in backward or at import
-- which used to make ``check`` exit 0, the "passing" code, with no verdict),
or crash the interpreter.  So the grader runs it here:

    for message in sandbox.run(worker, args, time_limit):
        if isinstance(message, sandbox.Ended):   # the child exited, was killed, or ran past the limit
            ...                                  # the case in progress failed, with message.why
        else:
            ...                                  # what worker(send, *args) sent

``worker(send, *args)`` runs in the child and calls ``send(message)`` for each
result; each message must arrive within ``time_limit`` seconds of the previous
one (so the limit is per case, not for the whole exercise).  The child is a
``forkserver`` child where the platform has one (a fast fork of a process that
already imported minidl, and safe when the parent runs threads), ``spawn``
elsewhere.
"""
from __future__ import annotations

import multiprocessing
import signal
from typing import NamedTuple

DEFAULT_TIME_LIMIT = 10.0          # seconds per case: the reference solutions need ~0.01 s


class Ended(NamedTuple):
    """The child stopped without finishing: ``why`` says how, in words."""
    why: str


_CONTEXT = None


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        methods = multiprocessing.get_all_start_methods()
        _CONTEXT = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            _CONTEXT.set_forkserver_preload(["minidl.exercises.grader"])
    return _CONTEXT


def _child_main(conn, worker, args):
    worker(lambda message: conn.send(("message", message)), *args)
    conn.send(("done", None))
    conn.close()


def exit_reason(code) -> str:
    """An exit code in words: 0 (sys.exit(0)), another status, or the signal that killed it."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the process was killed by {name}"
    return (f"the code ended the process with exit status {code} (sys.exit or os._exit): ending the "
            "program is not an answer")


def run(worker, args, time_limit: float = DEFAULT_TIME_LIMIT):
    """Yield what ``worker(send, *args)`` sends from a child process, or one ``Ended`` and stop."""
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_main, args=(send, worker, args), daemon=True)
    child.start()
    send.close()                       # the child holds the only writing end: EOF when it dies
    try:
        while True:
            if not receive.poll(time_limit):
                child.kill()
                yield Ended(f"no result within the time limit of {time_limit:g} s, so the code was stopped "
                            "(an endless loop?)")
                return
            try:
                kind, message = receive.recv()
            except (EOFError, OSError):
                child.join(5)
                yield Ended(exit_reason(child.exitcode))
                return
            if kind == "done":
                return
            yield message
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
