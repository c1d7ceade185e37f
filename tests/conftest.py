"""Shared fixtures.

``backend_name`` parametrizes a test over both backends, "numpy" and "cupy", so one
test file serves both.  The "cupy" case runs on real CuPy when CuPy and a GPU work;
otherwise (CI, laptops) on the strict CuPy stand-in of tests/strict_cupy/, whose
arrays refuse implicit conversion to NumPy as CuPy's do, so the GPU path is tested
on every run.  ``MINIDL_CUPY_TESTS`` picks, for the whole run:

    auto      (default) real CuPy when it works, else the stand-in
    gpu       real CuPy or fail: what ``python -m benchmarks gpu-check`` runs
    stand-in  the stand-in even on a GPU machine (to reproduce CI there)

``-m cupy`` selects the CuPy tests, ``-m "not cupy"`` leaves them out.  Each case runs with a fresh seed.
"""
import contextlib
import os
import pathlib
import threading

import pytest
from hypothesis import HealthCheck, settings

import minidl as md
import strict_cupy                       # tests/strict_cupy/: the CuPy stand-in
from minidl import backend

# The backend fixture only selects a backend, so reusing it across hypothesis
# examples is safe; gradient checks are slow-ish, so no per-example deadline.
settings.register_profile("minidl", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("minidl")


CUPY_TESTS = ("auto", "gpu", "stand-in")


def cupy_tests_mode() -> str:
    mode = os.environ.get("MINIDL_CUPY_TESTS", "auto")
    if mode not in CUPY_TESTS:
        raise pytest.UsageError(f"MINIDL_CUPY_TESTS={mode!r}; expected one of {', '.join(CUPY_TESTS)}")
    return mode


def on_stand_in() -> bool:
    """True while the cupy backend is the stand-in (a test that needs real kernels skips then)."""
    return backend.cupy_unavailable_reason() is None and backend.module("cupy") is strict_cupy


@contextlib.contextmanager
def cupy_backend():
    """Make a cupy backend available for the block and give its module: real CuPy or the stand-in."""
    mode, reason = cupy_tests_mode(), backend.cupy_unavailable_reason()
    if mode == "gpu" and reason:
        pytest.fail(f"MINIDL_CUPY_TESTS=gpu but the cupy backend is unavailable: {reason}")
    if mode == "stand-in" or reason:
        with backend._cupy_stand_in(strict_cupy):
            yield strict_cupy
    else:
        yield backend.module("cupy")


@pytest.fixture(params=["numpy", "cupy"])
def backend_name(request):
    name = request.param
    with cupy_backend() if name == "cupy" else contextlib.nullcontext():
        with md.using(name):
            md.seed(0)
            yield name


@pytest.fixture
def xp(backend_name):
    """The array module of the backend under test."""
    return backend.module(backend_name)


@pytest.fixture
def cp():
    """The cupy module (real, or the stand-in) for a test that pairs numpy with cupy itself."""
    with cupy_backend() as module:
        md.seed(0)
        yield module


def pytest_collection_modifyitems(items):
    """Mark every CuPy test ``cupy`` (the cupy case of ``backend_name``/``xp``, and the users of ``cp``):
    ``pytest -m cupy`` is the GPU checklist's selection, ``-m "not cupy"`` leaves them out."""
    for item in items:
        spec = getattr(item, "callspec", None)
        if "cp" in item.fixturenames or (spec is not None and spec.params.get("backend_name") == "cupy"):
            item.add_marker(pytest.mark.cupy)


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


@contextlib.contextmanager
def local_http_server(handler):
    """A threaded HTTP server on a free loopback port serving ``handler``; yields its base URL."""
    import http.server
    import threading
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
