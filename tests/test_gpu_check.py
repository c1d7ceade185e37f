"""``python -m benchmarks gpu-check`` (benchmarks/gpu_check.py): refuses to pass without a GPU,
selects the CuPy tests, and sums them up honestly.  Its real run needs a GPU machine."""
import pytest

import strict_cupy
from benchmarks import __main__ as cli
from benchmarks import gpu_check
from conftest import cupy_backend
from minidl import backend

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="5">
<testcase classname="tests.test_fused_rnn" name="test_fused_equals_scan[cupy-gru]" time="0.1"/>
<testcase classname="tests.test_fused_rnn" name="test_kernel_twin[float32]" time="0.1">
  <failure message="AssertionError: not close">trace</failure></testcase>
<testcase classname="tests.test_layers" name="test_dense[cupy]" time="0.1"/>
<testcase classname="tests.test_layers" name="test_conv[cupy]" time="0.1">
  <skipped type="pytest.skip" message="needs X">skip</skipped></testcase>
<testcase classname="tests.test_io" name="test_save[cupy]" time="0.1"><error message="boom">e</error></testcase>
</testsuite></testsuites>
"""


def test_without_a_gpu_it_says_so_and_exits_non_zero(capsys):
    reason = backend.cupy_unavailable_reason()
    if reason is None:
        pytest.skip("this machine has a GPU: gpu-check would run for real")
    assert cli.main(["gpu-check", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "no GPU found" in err and reason in err


def test_in_gpu_mode_the_cupy_tests_fail_instead_of_falling_back_to_the_stand_in(monkeypatch):
    if backend.cupy_unavailable_reason() is None:
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("MINIDL_CUPY_TESTS", "gpu")
    with pytest.raises(pytest.fail.Exception, match="MINIDL_CUPY_TESTS=gpu but the cupy backend is unavailable"):
        with cupy_backend():
            pass
    monkeypatch.setenv("MINIDL_CUPY_TESTS", "stand-in")
    with cupy_backend() as cp:
        assert cp is strict_cupy and backend.module("cupy") is strict_cupy
    monkeypatch.setenv("MINIDL_CUPY_TESTS", "cpu")
    with pytest.raises(pytest.UsageError, match="auto, gpu, stand-in"):
        with cupy_backend():
            pass


def test_the_summary_counts_every_outcome_and_names_the_failures(tmp_path):
    xml = tmp_path / "t.xml"
    xml.write_text(JUNIT)
    counts = gpu_check.junit_counts(xml)
    assert (counts["passed"], counts["failed"], counts["skipped"]) == (2, 2, 1)
    assert counts["fused"] == {"passed": 1, "failed": 1, "skipped": 0}
    assert counts["failures"] == ["tests/test_fused_rnn.py::test_kernel_twin[float32]", "tests/test_io.py::test_save[cupy]"]
    log = tmp_path / "log"
    log.write_text("line 1\nAssertionError: not close\n")
    tests = dict(counts, ok=False, rc=1, seconds=12.0, log=log)
    lesson = dict(ok=True, rc=0, seconds=30.0, log=log, headlines=[
        {"label": "validation accuracy", "value": 0.93, "baseline": 0.5, "beats_baseline": True}])
    bench = dict(ok=False, rc=1, seconds=5.0, results=None, gpu_rows=[], log=log)
    text = gpu_check.summary("Some GPU, CuPy 14", tests, lesson, bench)
    assert "Some GPU, CuPy 14" in text
    assert "2 passed, 2 failed, 1 skipped" in text and "1 passed, 1 failed, 0 skipped" in text
    assert "failed: `tests/test_io.py::test_save[cupy]`" in text and "skipped 1x: needs X" in text
    assert "validation accuracy 0.93 (baseline 0.5)" in text and "0 GPU rows" in text
    assert "**FAIL**: 1 of 3 steps passed." in text and "AssertionError: not close" in text


def test_pytest_m_cupy_selects_the_cupy_case_of_every_backend_test(backend_name, request):
    """The checklist runs ``pytest -m cupy``: the marker sits on the cupy case only ..."""
    assert (request.node.get_closest_marker("cupy") is not None) == (backend_name == "cupy")


def test_pytest_m_cupy_selects_the_tests_that_pair_numpy_with_cupy(cp, request):
    """... and on every test that asks for the ``cp`` fixture."""
    assert request.node.get_closest_marker("cupy") is not None
