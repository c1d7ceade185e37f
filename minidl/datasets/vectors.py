"""Pre-trained word vectors (GloVe, word2vec text format) as an embedding matrix.

Both formats are text, one word per line, the word then its d numbers, all
separated by single spaces::

    the 0.418 0.24968 -0.41242 ...          (GloVe: no header)
    400000 50                                (word2vec: first line "count dim")
    the 0.418 0.24968 -0.41242 ...

``.gz`` files are read directly.  The dimension comes from the header, or
from the first vector line; every later line must have the same d (a word may
contain spaces: the last d fields are the numbers, the rest is the word).

``load_word_vectors(path, vocab)`` returns a ``WordVectors`` whose ``matrix``
(V, d) is aligned with ``vocab`` -- row i is the vector of ``vocab[i]``, ready to
initialise ``nn.Embedding(V, d)``.  Rows without a pre-trained vector:

* pad ``""`` (id 0): zeros -- padding should contribute nothing to a sum/mean;
* unk ``"[UNK]"`` (id 1): the mean of the vectors found -- an "average word";
* a word missing from the file: random normal with the standard deviation of
  the vectors found (``missing="random"``, seeded), so it is distinguishable
  from other missing words and has the right scale to be trained; or zeros
  with ``missing="zeros"``.

The coverage report: ``.found`` and ``.missing`` list the vocabulary words
(pad/unk excluded) with and without a vector, ``.coverage`` is
``len(found) / (len(found) + len(missing))``.

With ``vocab=None`` every vector in the file is loaded (``max_words`` keeps the
first ones: GloVe files are sorted by frequency) and ``.words`` lists them.
"""
from __future__ import annotations

import gzip

import numpy as np

from ..data.vectorize import PAD_TOKEN, UNK_TOKEN
from .paths import DataFormatError, resolve


class WordVectors:
    """A (V, d) matrix of word vectors and which words had one.

    matrix:  (V, d) array, row i for words[i]
    words:   list of V str (the vocabulary the matrix is aligned to)
    found:   words that had a vector in the file (pad/unk excluded)
    missing: words that did not
    source:  the file read
    """

    def __init__(self, matrix, words, found, missing, source):
        self.matrix = matrix
        self.words = list(words)
        self.found = list(found)
        self.missing = list(missing)
        self.source = source
        self.index = {w: i for i, w in enumerate(self.words)}

    @property
    def dim(self):
        return self.matrix.shape[1]

    @property
    def coverage(self):
        """Fraction of the (non-special) vocabulary that got a pre-trained vector."""
        total = len(self.found) + len(self.missing)
        return len(self.found) / total if total else 0.0

    def __getitem__(self, word):
        return self.matrix[self.index[word]]

    def __contains__(self, word):
        return word in self.index

    def __len__(self):
        return len(self.words)

    def __repr__(self):
        return (f"WordVectors({self.matrix.shape[0]} x {self.dim}, coverage {100 * self.coverage:.1f}%: "
                f"{len(self.found)} found, {len(self.missing)} missing, from {self.source})")


def _open_text(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if gz else open(path, encoding="utf-8")


def _vocab_list(vocab):
    """A list of str from a list, or from anything with ``.vocabulary()`` (TextVectorizer)."""
    if vocab is None:
        return None
    if hasattr(vocab, "vocabulary") and callable(vocab.vocabulary):
        return vocab.vocabulary()
    return [str(w) for w in vocab]


def _read_vectors(path, wanted, max_words):
    """Yield (word, vector) from a GloVe/word2vec text file.

    wanted: set of words to parse (None: all).  Only wanted lines pay for
    float parsing, which is what makes a 400k-word file quick to filter.
    """
    dim, count = None, 0
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip().split(" ")
            if lineno == 1 and len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                dim = int(parts[1])                 # word2vec header "count dim"
                continue
            if parts == [""]:
                continue
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise DataFormatError(path, lineno, "a vector line needs a word and at least one number")
            if len(parts) < dim + 1:
                raise DataFormatError(path, lineno, f"expected a word and {dim} numbers, got {len(parts)} fields")
            word = " ".join(parts[:-dim])
            if wanted is None or word in wanted:
                try:
                    vec = np.array(parts[-dim:], dtype=np.float64)
                except ValueError:
                    raise DataFormatError(path, lineno, f"the vector of {word!r} has a non-number") from None
                yield word, vec
                count += 1
                if max_words is not None and count >= max_words:
                    return
    if dim is None:
        raise DataFormatError(path, None, "no vectors in the file")


def load_word_vectors(path, vocab=None, dtype=np.float32, missing="random", seed=0, max_words=None):
    """Read GloVe / word2vec text vectors, aligned to ``vocab`` when given.

    path:      the .txt (or .txt.gz) file.
    vocab:     list of tokens, a TextVectorizer, or None (load the file's words).
    missing:   "random" or "zeros": how to fill rows of words without a vector.
    seed:      seeds the random rows.
    max_words: with vocab None, stop after this many vectors.
    Returns a WordVectors (see the module docstring for every row's meaning).
    """
    if missing not in ("random", "zeros"):
        raise ValueError(f"missing must be 'random' or 'zeros', got {missing!r}")
    if path is None:
        raise TypeError("load_word_vectors needs the path of a vectors file, "
                        "e.g. the glove.6B.100d.txt of md.datasets.download('glove-6b')")
    path = resolve(path, [], "glove-6b", "word-vector file")
    words = _vocab_list(vocab)
    if words is None:
        pairs = list(_read_vectors(path, None, max_words))
        matrix = np.array([v for _, v in pairs], dtype=dtype)
        found = [w for w, _ in pairs]
        return WordVectors(matrix, found, found, [], str(path))

    specials = {PAD_TOKEN, UNK_TOKEN}
    wanted = set(words) - specials
    vectors = {}
    for word, vec in _read_vectors(path, wanted, None):
        vectors.setdefault(word, vec)         # first occurrence wins, as in the file's order
        if len(vectors) == len(wanted):
            break
    dim = len(next(iter(vectors.values()))) if vectors else _file_dim(path)
    found = [w for w in words if w in vectors]
    absent = [w for w in words if w not in vectors and w not in specials]

    stacked = np.array([vectors[w] for w in found]).reshape(len(found), dim)
    mean = stacked.mean(axis=0) if len(found) else np.zeros(dim)
    std = stacked.std() if len(found) > 1 else 1.0 / np.sqrt(dim)
    rng = np.random.default_rng(seed)
    matrix = np.zeros((len(words), dim))
    for i, w in enumerate(words):
        if w in vectors:
            matrix[i] = vectors[w]
        elif w == UNK_TOKEN:
            matrix[i] = mean
        elif w != PAD_TOKEN and missing == "random":
            matrix[i] = rng.normal(0.0, std, size=dim)
    return WordVectors(matrix.astype(dtype), words, found, absent, str(path))


def _file_dim(path):
    """The vector dimension of a file (when no vocabulary word was found in it)."""
    for _, vec in _read_vectors(path, None, 1):
        return len(vec)
    raise DataFormatError(path, None, "no vectors in the file")
