"""Using word vectors: analogies, nearest neighbours, re-aligning to a vocabulary, saving as text.

All functions take ``vectors`` (V, d) -- NumPy, CuPy or a Tensor -- whose row n
is the vector of ``vocab[n]``; ``vocab`` is a list of words or a
``TextVectorizer``.  Similarities are cosines: rows are normalised to unit
length first, as in word2vec's and GloVe's evaluation scripts, so a frequent
word's long vector does not win by length alone.

    analogy(E, vocab, "man", "king", "woman")      # [("queen", 0.83)]: king - man + woman
    analogy_accuracy(E, vocab, questions)          # {"accuracy", "coverage", ...}
    nearest(E, vocab, "paris", k=5)                # [("rome", 0.9), ...]

Pad ("") and unk ("[UNK]") are never answers.
"""
from __future__ import annotations

import numpy as np

from .. import backend

__all__ = ["analogy", "analogy_accuracy", "nearest", "align_vectors", "write_vectors_text"]


def _words(vocab):
    if hasattr(vocab, "vocabulary") and callable(vocab.vocabulary):
        return vocab.vocabulary()
    return list(vocab)


def _unit(vectors):
    V = np.asarray(backend.asnumpy(getattr(vectors, "data", vectors)), dtype=np.float64)
    return V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)


_SPECIAL = ("", "[UNK]")


def analogy(vectors, vocab, a, b, c, k=1):
    """"a : b :: c : ?" -- the k words nearest by cosine to b - a + c, excluding a, b, c.

    vectors: (V, d) array (rows aligned with vocab); vocab: list of V words or a
    TextVectorizer.  Returns [(word, cosine), ...], best first.  Rows are
    normalised to unit length first, as in word2vec's and GloVe's evaluation.
    """
    words = _words(vocab)
    index = {w: n for n, w in enumerate(words)}
    missing = [w for w in (a, b, c) if w not in index]
    if missing:
        raise KeyError(f"analogy: {', '.join(map(repr, missing))} not in the vocabulary")
    E = _unit(vectors)
    target = E[index[b]] - E[index[a]] + E[index[c]]
    sims = E @ (target / max(np.linalg.norm(target), 1e-12))
    for w in (a, b, c) + _SPECIAL:
        if w in index:
            sims[index[w]] = -np.inf
    top = [t for t in np.argsort(-sims)[:k] if np.isfinite(sims[t])]     # never an excluded word
    return [(words[t], float(sims[t])) for t in top]


def analogy_accuracy(vectors, vocab, questions, batch_size=512):
    """Score analogy questions (a, b, c, d): correct when the top answer to a : b :: c : ? is d.

    Questions with a word outside the vocabulary are skipped (and counted).
    Returns {"accuracy": correct / answered, "correct", "answered", "total",
    "coverage": answered / total, "predictions": [(question, answer), ...]}.
    """
    words = _words(vocab)
    index = {w: n for n, w in enumerate(words)}
    usable = [q for q in questions if all(w in index for w in q)]
    ids = np.array([[index[w] for w in q] for q in usable], dtype=np.int64).reshape(-1, 4)
    E = _unit(vectors)
    specials = [index[w] for w in _SPECIAL if w in index]
    answers = np.zeros(len(ids), dtype=np.int64)
    for s in range(0, len(ids), batch_size):
        q = ids[s:s + batch_size]
        target = E[q[:, 1]] - E[q[:, 0]] + E[q[:, 2]]
        sims = target @ E.T                                   # (batch, V); the norm of target
        rows = np.arange(len(q))[:, None]                     # does not change the argmax
        sims[rows, q[:, :3]] = -np.inf
        if specials:
            sims[:, specials] = -np.inf
        answers[s:s + batch_size] = sims.argmax(axis=1)
    correct = int((answers == ids[:, 3]).sum()) if len(ids) else 0
    return {"accuracy": correct / len(ids) if len(ids) else 0.0, "correct": correct,
            "answered": len(ids), "total": len(questions),
            "coverage": len(ids) / len(questions) if questions else 0.0,
            "predictions": [(q, words[a]) for q, a in zip(usable, answers)]}


def nearest(vectors, vocab, word, k=5):
    """The k words nearest to ``word`` by cosine (itself, pad and unk excluded): [(word, cosine)]."""
    words = _words(vocab)
    index = {w: n for n, w in enumerate(words)}
    if word not in index:
        raise KeyError(f"nearest: {word!r} not in the vocabulary")
    E = _unit(vectors)
    sims = E @ E[index[word]]
    for w in (word,) + _SPECIAL:
        if w in index:
            sims[index[w]] = -np.inf
    top = [t for t in np.argsort(-sims)[:k] if np.isfinite(sims[t])]     # never an excluded word
    return [(words[t], float(sims[t])) for t in top]


def align_vectors(vectors, words, vocab, seed=0, source="GloVe"):
    """Rows of ``vectors`` (one per word of ``words``) re-ordered for another vocabulary.

    The same rules as ``md.datasets.load_word_vectors`` (which does this for a file):
    pad "" -> zeros, unk "[UNK]" -> the mean of the vectors found, a word without a
    vector -> random normal with the found vectors' standard deviation (seeded).
    Returns a ``WordVectors`` (``.matrix`` (len(vocab), d), ``.coverage``, ``.found``,
    ``.missing``), ready for ``nn.Embedding(V, d, weights=wv.matrix)``.
    """
    from ..datasets.vectors import WordVectors
    E = np.asarray(backend.asnumpy(getattr(vectors, "data", vectors)), dtype=np.float64)
    index = {w: n for n, w in enumerate(_words(words)) if w not in _SPECIAL}
    target = _words(vocab)
    found = [w for w in target if w in index]
    missing = [w for w in target if w not in index and w not in _SPECIAL]
    have = E[[index[w] for w in found]] if found else np.zeros((0, E.shape[1]))
    std = have.std() if len(found) > 1 else 1.0 / np.sqrt(E.shape[1])
    rng = np.random.default_rng(seed)
    matrix = np.zeros((len(target), E.shape[1]))
    for n, w in enumerate(target):
        if w in index:
            matrix[n] = E[index[w]]
        elif w == "[UNK]":
            matrix[n] = have.mean(axis=0) if found else 0.0
        elif w != "":
            matrix[n] = rng.normal(0.0, std, size=E.shape[1])
    return WordVectors(matrix.astype(np.float32), target, found, missing, source)


def write_vectors_text(path, vectors, vocab):
    """Write vectors in the GloVe text format ("word v1 v2 ...", one per line), skipping pad/unk,
    so that ``md.datasets.load_word_vectors`` (and ``--vectors PATH``) can read them back."""
    E = np.asarray(backend.asnumpy(getattr(vectors, "data", vectors)))
    with open(path, "w", encoding="utf-8") as f:
        for w, row in zip(_words(vocab), E):
            if w in _SPECIAL or not w or " " in w:
                continue
            f.write(w + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
