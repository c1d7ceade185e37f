"""The grader cannot hang or be fooled (issue 28): a learner's exit, signal or endless loop is a failed case."""
import json
import subprocess
import sys

import pytest

from minidl import exercises
from minidl.exercises.__main__ import main


def _attempt(tmp_path, name, backward_body, at_import=""):
    ex = exercises.find(name)
    exercises.start(ex, tmp_path)
    path = tmp_path / ex.filename
    text = path.read_text().replace('raise NotImplementedError("your code here")', backward_body)
    path.write_text(at_import + text)
    return ex


CORRECT = "return gy * self.y * (1 - self.y)"


@pytest.mark.parametrize("body, words", [
    ("import sys; sys.exit(0)", "called sys.exit(0): ending the program is not an answer"),
    ("import os; os._exit(0)", "ended the process with exit status 0"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "killed by SIGKILL"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "killed by SIGSEGV"),
    ("while True: pass", "no result within the time limit of 1 s"),
])
def test_an_exit_a_signal_or_a_hang_in_backward_fails_every_case_with_a_message(tmp_path, body, words):
    ex = _attempt(tmp_path, "sigmoid", body)
    result = exercises.check(ex, tmp_path, time_limit=1)
    assert result.status == "failing"
    assert len(result.cases) == len(ex.cases(0)) and not any(c.ok for c in result.cases)
    assert words in str(result), str(result)


@pytest.mark.parametrize("at_import, words", [
    ("import sys; sys.exit(0)\n", "does not load: the code called sys.exit(0)"),
    ("import os; os._exit(0)\n", "does not load: the code ended the process with exit status 0"),
    ("while True: pass\n", "does not load: no result within the time limit"),
])
def test_an_exit_or_a_hang_at_import_is_a_failing_verdict(tmp_path, at_import, words):
    ex = _attempt(tmp_path, "sigmoid", CORRECT, at_import)
    result = exercises.check(ex, tmp_path, time_limit=1)
    assert result.status == "failing" and words in str(result), str(result)


def test_a_case_that_dies_does_not_take_the_other_cases_with_it(tmp_path):
    # backward dies in the first case only (a flag file remembers it), the next child grades the rest
    flag = tmp_path / "died-once"
    body = (f"import os, pathlib\n        if not pathlib.Path({str(flag)!r}).exists():\n"
            f"            pathlib.Path({str(flag)!r}).touch(); os._exit(3)\n        {CORRECT}")
    ex = _attempt(tmp_path, "sigmoid", body)
    result = exercises.check(ex, tmp_path, time_limit=5)
    assert [c.ok for c in result.cases] == [False] + [True] * (len(ex.cases(0)) - 1), str(result)
    assert "exit status 3" in str(result) and result.status == "failing"


def test_the_command_line_exits_non_zero_when_the_code_exits_zero(tmp_path):
    _attempt(tmp_path, "sigmoid", "import sys; sys.exit(0)")
    out = subprocess.run([sys.executable, "-m", "minidl.exercises", "check", "sigmoid", "--dir", str(tmp_path),
                          "--time-limit", "5"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "FAILING" in out.stdout, out.stdout + out.stderr
    _attempt(tmp_path, "relu", "while True: pass")
    out = subprocess.run([sys.executable, "-m", "minidl.exercises", "check", "relu", "--dir", str(tmp_path),
                          "--time-limit", "1"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "time limit of 1 s" in out.stdout, out.stdout + out.stderr


def test_a_correct_file_still_passes_in_the_sandbox(tmp_path, capsys):
    _attempt(tmp_path, "sigmoid", CORRECT)
    assert main(["check", "sigmoid", "--dir", str(tmp_path)]) == 0
    assert "PASSING" in capsys.readouterr().out


def test_a_bad_time_limit_is_refused_by_the_command_line(capsys):
    with pytest.raises(SystemExit):
        main(["check", "sigmoid", "--time-limit", "0"])
    assert "--time-limit: must be a positive number of seconds, got '0'" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["[1, 2]", '{"relu": "two"}', "not json at all", '{"relu": -3}'])
def test_a_corrupt_hint_state_is_reset_with_a_note(tmp_path, content):
    (tmp_path / ".minidl_hints.json").write_text(content)
    text = exercises.hint(exercises.find("relu"), tmp_path)
    assert "is not a hint record (expected a JSON object of exercise name -> number of hints shown" in text
    assert "1 of 3" in text
    assert json.loads((tmp_path / ".minidl_hints.json").read_text()) == {"relu": 1}
