"""Shared fixtures.

``backend_name`` parametrizes a test over every backend: "numpy" always, "cupy"
when CuPy and a GPU work (otherwise that case is skipped with the reason), so one
test file serves both backends.  Each case runs with a fresh seed.
"""
import contextlib
import os
import pathlib
import threading

import pytest
from hypothesis import HealthCheck, settings

import minidl as md
from minidl import backend

# The backend fixture only selects a backend, so reusing it across hypothesis
# examples is safe; gradient checks are slow-ish, so no per-example deadline.
settings.register_profile("minidl", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("minidl")


@pytest.fixture(params=["numpy", "cupy"])
def backend_name(request):
    name = request.param
    if name == "cupy":
        reason = backend.cupy_unavailable_reason()
        if reason:
            pytest.skip(f"cupy backend unavailable: {reason}")
    with md.using(name):
        md.seed(0)
        yield name


@pytest.fixture
def xp(backend_name):
    """The array module of the backend under test."""
    return backend.module(backend_name)


@pytest.fixture(autouse=True)
def _fresh_seed():
    md.seed(0)
    yield


def shared_data_dir():
    """``$MINIDL_DATA_DIR`` or ../shared/data beside the repo, or None."""
    env = os.environ.get("MINIDL_DATA_DIR")
    if env and pathlib.Path(env).is_dir():
        return pathlib.Path(env)
    here = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    return here if here.is_dir() else None


@pytest.fixture
def shared_data():
    """Path to the real datasets; the test is skipped when they are absent."""
    d = shared_data_dir()
    if d is None:
        pytest.skip("real datasets not found (set MINIDL_DATA_DIR or put ../shared/data beside the repo)")
    return d


@contextlib.contextmanager
def another_thread_inside(make_context):
    """Run the block while another thread sits inside ``make_context()`` (e.g. md.no_grad()):
    what that thread switched must not leak into this one (per-thread state)."""
    inside, release = threading.Event(), threading.Event()

    def hold():
        with make_context():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(5)
    try:
        yield
    finally:
        release.set()
        t.join()
