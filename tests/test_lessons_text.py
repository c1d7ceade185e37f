"""Lessons 05 (text vectorisation, frozen / fine-tuned / scratch embeddings) and 06 (GloVe) on real data.

Both run in --quick mode on the real files (a sample of them): about 20-40 s each
on an idle 2-core machine.  They skip when ../shared/data is absent.
"""
from lessons.__main__ import find, run_lesson


def _headline(results, label):
    return next(h for h in results["headlines"] if h["label"] == label)


def test_text_vectorization_lesson_on_the_four_vader_sources(shared_data, tmp_path):
    r = run_lesson(find("text_vectorization"), data=str(shared_data / "vader_sentiment"), quick=True,
                   out=str(tmp_path), seed=0, backend="numpy")
    assert r["data"] == str(shared_data / "vader_sentiment")
    for label in ("bag of words, multi-hot accuracy", "bag of words, TF-IDF accuracy",
                  "embeddings frozen accuracy", "embeddings fine-tuned accuracy",
                  "embeddings from scratch accuracy"):
        h = _headline(r, label)
        # four sources, 45% of the texts are movie snippets: well above the majority class
        assert h["value"] > h["baseline"] + 0.15, h


def test_glove_lesson_on_tiny_shakespeare(shared_data, tmp_path):
    r = run_lesson(find("glove"), data=str(shared_data / "shakespeare" / "tinyshakespeare.txt"), quick=True,
                   out=str(tmp_path), seed=0, backend="numpy")
    h = _headline(r, "analogy accuracy (GloVe, AdaGrad)")
    assert h["value"] > 5 * h["baseline"], h                  # a small corpus: far from good, far above chance
    assert _headline(r, "GloVe J on the final parameters (AdaGrad)")["beats_baseline"]
