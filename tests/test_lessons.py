"""Every lesson runs in --quick mode and its headline results beat their baselines."""
import json
import subprocess
import sys

import pytest

from lessons.__main__ import lesson_files, run_lesson, write_summary, describe, find

LESSONS = [p.stem for p in lesson_files()]


def test_list_names_every_lesson_with_summary_and_data():
    out = subprocess.run([sys.executable, "-m", "lessons", "list"], capture_output=True, text=True, check=True)
    assert len(LESSONS) >= 2
    for name in LESSONS:
        assert name in out.stdout
        summary, dataset = describe(find(name))
        assert summary and dataset, f"{name}: the docstring needs a summary line and a 'dataset:' line"


def test_unknown_lesson_is_a_clear_error():
    with pytest.raises(SystemExit, match="no lesson called 'nope'; known lessons"):
        find("nope")


@pytest.mark.parametrize("name", LESSONS)
def test_quick_run_beats_its_baselines(name, tmp_path):
    r = run_lesson(find(name), data=None, quick=True, out=str(tmp_path), seed=0, backend="numpy")   # embedded, even with $MINIDL_DATA_DIR
    assert r["headlines"], "a lesson must report headline numbers"
    judged = [h for h in r["headlines"] if h["baseline"] is not None]
    assert judged, "at least one headline must be compared with a baseline"
    for h in judged:
        assert h["beats_baseline"], f"{name}: {h['label']} = {h['value']} does not beat {h['baseline']}"
    assert r["figures"], "a lesson must save figures"
    for f in r["figures"]:
        with open(f["path"], "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / name / "results.json").read_text())
    assert saved["headlines"] == r["headlines"]
    page = write_summary(tmp_path, [r])
    assert name in page.read_text()


def _headline(results, label):
    return next(h for h in results["headlines"] if h["label"] == label)


def test_tweet_lesson_on_real_vader_tweets(shared_data, tmp_path):
    path = shared_data / "vader_sentiment" / "tweets_GroundTruth.txt"
    r = run_lesson(find("tweet_sentiment"), data=str(path), quick=False, out=str(tmp_path), seed=0,
                   backend="numpy")
    assert _headline(r, "validation accuracy")["value"] >= 0.75


def test_gru_lesson_on_tiny_shakespeare_beats_the_bigram(shared_data, tmp_path):
    """The default (non-quick) budget, on the real corpus: ~2 minutes on 2 cores."""
    path = shared_data / "shakespeare" / "tinyshakespeare.txt"
    r = run_lesson(find("char_language_model"), data=str(path), quick=False, out=str(tmp_path), seed=0,
                   backend="numpy")
    gru = _headline(r, "GRU validation perplexity")
    assert gru["value"] < gru["baseline"], gru
