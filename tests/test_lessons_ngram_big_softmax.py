"""Lessons 07 (n-grams) and 08 (the big softmax) on the real tiny Shakespeare (skipped without
../shared/data).  Each runs in --quick mode on the real text, ~15-40 s on 2 busy cores."""
from lessons.__main__ import find, run_lesson


def _headline(results, label):
    return next(h for h in results["headlines"] if h["label"] == label)


def test_ngram_lesson_on_tiny_shakespeare(shared_data, tmp_path):
    """Counting all of the 1.1 MB corpus; the interpolated character 4-gram lands near 6
    per character, between lesson 02's vanilla RNN (6.20) and its GRU (5.42)."""
    path = shared_data / "shakespeare" / "tinyshakespeare.txt"
    r = run_lesson(find("ngram_lm"), data=str(path), quick=True, out=str(tmp_path), seed=0, backend="numpy")
    char = _headline(r, "best character n-gram validation perplexity (interpolated, n <= 4)")
    assert 5.5 < char["value"] < 6.3, char
    word = _headline(r, "best word n-gram validation perplexity (interpolated, n <= 4)")
    assert word["value"] < 0.6 * word["baseline"], word
    assert _headline(r, "seconds to count every 1..4-gram (chars and words, twice)")["value"] < 30


def test_big_softmax_lesson_on_tiny_shakespeare(shared_data, tmp_path):
    path = shared_data / "shakespeare" / "tinyshakespeare.txt"
    r = run_lesson(find("big_softmax"), data=str(path), quick=True, out=str(tmp_path), seed=0, backend="numpy")
    for h in r["headlines"]:
        if h["baseline"] is not None:
            assert h["beats_baseline"], h
    hier = _headline(r, "hierarchical softmax perplexity / full softmax perplexity")
    assert hier["value"] < hier["baseline"], hier
