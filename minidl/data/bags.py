"""Bags of words: n-grams, counts, multi-hot and TF-IDF (the TextVectorizer's bag modes).

A bag forgets word order and keeps, for each of the V vocabulary entries, one
number per document.  For a batch of N documents (each a list of token ids):

    count       c[n, v] = how many times token v occurs in document n       (N, V)
    multi_hot   m[n, v] = 1 if c[n, v] > 0 else 0                          (N, V)
    tf_idf      t[n, v] = c[n, v] * idf[v]                                  (N, V)

**TF-IDF.**  The term frequency is the raw count c[n, v]; the inverse document
frequency of token v is computed once, by ``adapt``, from the N_docs documents
it saw, as Keras does:

    idf[v] = log(1 + N_docs / (1 + df[v]))        df[v] = number of documents holding v

A word in every document gets log(1 + N/(1+N)) ~ log 2 ~ 0.69; a word in one
document out of 1000 gets log(1 + 1000/2) ~ 6.2.  So "the" is damped and a rare,
telling word is boosted.  The "+1"s keep the weight finite and positive for
any df (the plain log(N / df) is 0 for a word in every document and infinite
for one never seen).  Two special columns:

* pad (id 0): idf 0 -- padding is never a word;
* unk (id 1): the mean idf of the known tokens (the unknown words' true
  document frequency cannot be known; Keras makes the same choice).

**N-grams** (``ngrams(tokens, ns)``).  ``ns=(1, 2)`` turns
``["not", "good", "film"]`` into ``["not", "good", "film", "not good", "good film"]``:
all the unigrams, then all the bigrams, each n-gram its tokens joined by one
space.  Each n-gram is then an ordinary vocabulary entry, so a bag of bigrams
can tell "not good" from "good" -- the cheapest way to give a bag a little
word order.
"""
from __future__ import annotations

import numpy as np


def ngram_widths(ngrams):
    """The n-gram widths to produce: None -> (1,), an int k -> (1, ..., k), a tuple -> itself."""
    if ngrams is None:
        return (1,)
    if isinstance(ngrams, (int, np.integer)) and not isinstance(ngrams, bool):
        if ngrams < 1:
            raise ValueError(f"ngrams must be >= 1, got {ngrams}")
        return tuple(range(1, int(ngrams) + 1))
    ok = isinstance(ngrams, (tuple, list)) and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                                                   for n in ngrams)
    widths = tuple(int(n) for n in ngrams) if ok else ()
    if not widths or min(widths) < 1:
        raise ValueError(f"ngrams must be None, an int >= 1 or a tuple of ints >= 1, got {ngrams!r}")
    return widths


def ngrams(tokens, widths=(1,), separator=" "):
    """Every n-gram of ``tokens`` for each n in ``widths``: all the 1-grams first, then the 2-grams, ..."""
    out = []
    for n in widths:
        if n == 1:
            out.extend(tokens)
        else:
            out.extend(separator.join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


def bag_counts(rows, vocab_size):
    """List of N id lists -> (N, V) float32 counts, built with one bincount."""
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    flat = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(lengths.sum()))
    row_of = np.repeat(np.arange(len(rows)), lengths)
    counts = np.bincount(row_of * vocab_size + flat, minlength=len(rows) * vocab_size)
    return counts.reshape(len(rows), vocab_size).astype(np.float32)


def inverse_document_frequency(document_counts, n_documents):
    """idf = log(1 + N_docs / (1 + df)), elementwise (float64)."""
    df = np.asarray(document_counts, dtype=np.float64)
    return np.log1p(n_documents / (1.0 + df))


def idf_with_specials(idf_of_tokens):
    """Prepend the two special columns: pad -> 0, unk -> mean idf of the tokens."""
    idf_of_tokens = np.asarray(idf_of_tokens, dtype=np.float64)
    unk = idf_of_tokens.mean() if idf_of_tokens.size else 0.0
    return np.concatenate([[0.0, unk], idf_of_tokens])


def encode_bag(rows, vocab_size, mode, idf=None):
    """(N, V) float32 bag of ``rows`` in ``mode`` "count" | "multi_hot" | "tf_idf"."""
    counts = bag_counts(rows, vocab_size)
    if mode == "count":
        return counts
    if mode == "multi_hot":
        return np.minimum(counts, 1.0)
    if mode == "tf_idf":
        if idf is None:
            raise RuntimeError("output_mode='tf_idf' needs idf weights: call adapt(texts), or "
                               "set_vocabulary(tokens, idf_weights=...)")
        return (counts * idf[None, :]).astype(np.float32)
    raise ValueError(f"not a bag mode: {mode!r}")
