"""Lesson 10 (NER tagger) on the real WNUT-17 tweets: its default run beats always-O and finds entities.

The default (non-quick) run on the shared wnut17train.conll: ~35 s of CPU on 2 cores
(LSTM + BiLSTM, 8 epochs each, fused LSTM path).  Skipped without ../shared/data.
"""
from lessons.__main__ import find, run_lesson


def _headline(results, label):
    return next(h for h in results["headlines"] if h["label"] == label)


def test_ner_lesson_on_wnut17(shared_data, tmp_path):
    path = shared_data / "wnut17" / "wnut17train.conll"
    r = run_lesson(find("ner"), data=str(path), quick=False, out=str(tmp_path), seed=0, backend="numpy")
    always_o = _headline(r, "always-O accuracy")["value"]
    assert 0.9 < always_o < 0.97                      # tweets: ~95% of tokens are O
    for model in ("LSTM", "BiLSTM"):
        acc = _headline(r, f"{model} masked accuracy")
        assert acc["baseline"] == always_o and acc["value"] > always_o, acc
        assert _headline(r, f"{model} entity F1")["value"] > 0.15
