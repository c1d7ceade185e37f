"""Sentiment data sets: text -> positive / negative.

Every loader returns a plain dict.  The common keys, shared with the synthetic
generator ``make_sentiment`` so a lesson can swap one for the other:

    "texts"   list of N str
    "labels"  (N,) int64, 1 = positive, 0 = negative
    "source"  str, where the data came from (a path, or "synthetic: ...")

Formats read:

* **VADER ground truth** (Hutto & Gilbert 2014), ``load_vader``: one sentence
  per line, ``id<TAB>mean valence<TAB>text``, valence in -4..4.  Returns
  "ids" (list of str: ids look like ``"17"`` or ``"1_3"``), "valence" (N,)
  float64 and "texts" -- no labels yet; ``vader_binary`` makes the binary task
  (drop |valence| < 0.5, label 1 if valence > 0).
* **Trask's** ``reviews.txt`` / ``labels.txt``, ``load_trask``: line i of one is
  the review, line i of the other is ``positive`` or ``negative``.
* **IMDB** ``aclImdb/`` folder (Maas et al. 2011), ``load_imdb``:
  ``{train,test}/{neg,pos}/<id>_<stars>.txt``.  Texts keep their ``<br />``
  tags; strip them in a custom standardize if you like.
* **NLTK twitter_samples**, ``load_twitter_samples``: ``positive_tweets.json`` and
  ``negative_tweets.json``, one JSON object per line with a "text" field.
"""
from __future__ import annotations

import json
import re

import numpy as np

from .paths import DataFormatError, DataNotFoundError, not_found_message, read_lines, resolve, resolve_dir

VADER_FILES = {
    "tweets": "tweets_GroundTruth.txt",
    "movies": "movieReviewSnippets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
}


# ---------------------------------------------------------------------- VADER
def load_vader(path=None, which="tweets"):
    """Read a VADER ``*_GroundTruth.txt`` file.

    path:  the file, a folder holding it, or None (search the data dir / cache).
    which: "tweets" | "movies" | "amazon" | "nyt" -- which file to look for when
           path is a folder or None.
    Returns {"ids": list[str], "valence": (N,) float64, "texts": list[str],
    "source": str}.  Blank lines are skipped (they are not records); any other
    line without three tab-separated fields or with a non-numeric valence
    raises DataFormatError naming the file and line.
    """
    if which not in VADER_FILES:
        raise ValueError(f"which must be one of {sorted(VADER_FILES)}, got {which!r}")
    path = resolve(path, f"vader_sentiment/{VADER_FILES[which]}", f"vader-{which}", "VADER file")
    ids, valence, texts = [], [], []
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        if len(parts) != 3:
            raise DataFormatError(path, lineno, f"expected id<TAB>valence<TAB>text, got {len(parts)} field(s): {line!r:.80}")
        try:
            v = float(parts[1])
        except ValueError:
            raise DataFormatError(path, lineno, f"valence {parts[1]!r} is not a number") from None
        ids.append(parts[0])
        valence.append(v)
        texts.append(parts[2])
    return {"ids": ids, "valence": np.array(valence, dtype=np.float64), "texts": texts, "source": str(path)}


def vader_binary(data, threshold=0.5):
    """The clean binary task from VADER data: drop |valence| < threshold.

    Returns {"texts", "labels" (1 if valence > 0), "valence", "source"}.
    """
    valence = np.asarray(data["valence"])
    keep = np.abs(valence) >= threshold
    return {"texts": [t for t, k in zip(data["texts"], keep) if k],
            "labels": (valence[keep] > 0).astype(np.int64),
            "valence": valence[keep],
            "source": f"{data['source']} (|valence| >= {threshold})"}


# ---------------------------------------------------------------------- Trask
def load_trask(path=None):
    """Read Trask's ``reviews.txt`` + ``labels.txt`` (a folder, or the reviews file
    with labels.txt beside it).

    Returns {"texts", "labels", "source"}.  The two files must have the same
    number of lines; a label other than positive/negative is an error with its
    line number (an empty review line is kept: it is still a record).
    """
    reviews_path = resolve(path, "trask/reviews.txt", "trask-sentiment", "reviews.txt")
    labels_path = reviews_path.with_name("labels.txt")
    if not labels_path.exists():
        raise DataNotFoundError(f"{labels_path} not found (it must sit beside {reviews_path})")
    texts = [line for _, line in read_lines(reviews_path)]
    labels = []
    for lineno, line in read_lines(labels_path):
        word = line.strip().lower()
        if word not in ("positive", "negative"):
            raise DataFormatError(labels_path, lineno, f"expected 'positive' or 'negative', got {line!r:.40}")
        labels.append(1 if word == "positive" else 0)
    if len(texts) != len(labels):
        raise DataFormatError(reviews_path, None, f"{len(texts)} reviews but {labels_path} has "
                              f"{len(labels)} labels; the files must be line-aligned")
    return {"texts": texts, "labels": np.array(labels, dtype=np.int64), "source": str(reviews_path)}


# ---------------------------------------------------------------------- IMDB
_IMDB_NAME = re.compile(r"^(\d+)_(\d+)\.txt$")


def load_imdb(path=None, split="train"):
    """Read the ``aclImdb`` folder (the one holding ``train/`` and ``test/``).

    split: "train" or "test".  Negatives come first, then positives (classes in
    alphabetical order, as Keras's ``text_dataset_from_directory``), each in
    order of review id.  Returns {"texts", "labels", "stars" (N,) int64 1..10,
    "ids" (N,) int64, "source"}.  A file not named ``<id>_<stars>.txt`` is an
    error (so a stray file never joins a class unnoticed).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = resolve_dir(path, "aclImdb", "imdb", "aclImdb folder")
    texts, labels, stars, ids = [], [], [], []
    for label, cls in ((0, "neg"), (1, "pos")):
        folder = root / split / cls
        if not folder.is_dir():
            raise DataNotFoundError(f"{folder} is not a folder; expected aclImdb/{split}/{cls}/*.txt")
        entries = []
        for f in folder.iterdir():
            m = _IMDB_NAME.match(f.name)
            if m is None:
                raise DataFormatError(f, None, "expected a file name like <id>_<stars>.txt")
            entries.append((int(m.group(1)), int(m.group(2)), f))
        for review_id, star, f in sorted(entries):
            texts.append(f.read_text(encoding="utf-8"))
            labels.append(label)
            stars.append(star)
            ids.append(review_id)
    return {"texts": texts, "labels": np.array(labels, dtype=np.int64),
            "stars": np.array(stars, dtype=np.int64), "ids": np.array(ids, dtype=np.int64),
            "source": str(root / split)}


# ---------------------------------------------------------------------- twitter_samples
def _read_json_lines(path):
    texts = []
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(path, lineno, f"not a JSON object ({exc.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise DataFormatError(path, lineno, "the JSON object has no string field 'text'")
        texts.append(obj["text"])
    return texts


def load_twitter_samples(path=None):
    """Read NLTK's ``positive_tweets.json`` and ``negative_tweets.json``.

    path: the folder holding both (e.g. ``twitter_samples/``), or None.
    Returns {"texts", "labels", "source"} with the positives first (label 1),
    then the negatives (label 0), each in file order.
    """
    folder = resolve_dir(path, "twitter_samples", "twitter-samples", "twitter_samples folder")
    files = [folder / "positive_tweets.json", folder / "negative_tweets.json"]
    for f in files:
        if not f.exists():
            raise DataNotFoundError(f"{f} not found\n" + not_found_message(
                f"twitter_samples/{f.name}", "twitter-samples", "tweets file"))
    positive, negative = (_read_json_lines(f) for f in files)
    labels = np.array([1] * len(positive) + [0] * len(negative), dtype=np.int64)
    return {"texts": positive + negative, "labels": labels, "source": str(folder)}
