"""Named-entity recognition data: one tag per token, BIO scheme.

BIO tags mark entity spans: ``B-x`` begins an entity of type x, ``I-x``
continues it, ``O`` is outside any entity:

    Empire      B-location
    State       I-location
    Building    I-location
    is          O

Loaders return (like the synthetic ``make_ner``):

    {"sentences": list of N lists of str tokens,
     "tags":      list of N lists of str tags (same lengths as the sentences),
     "source":    str}

Formats read:

* **CoNLL / WNUT columns**, ``load_conll``: one ``token<TAB>tag`` per line
  (more columns are allowed, as in CoNLL-2003: the token is the first, the tag
  the last), a blank line between sentences, ``-DOCSTART-`` lines ignored.
* **Kaggle GMB** ``ner_dataset.csv``, ``load_gmb``: latin-1 CSV with header
  ``Sentence #,Word,POS,Tag``; the first column reads ``Sentence: N`` on the
  first word of each sentence and is empty on the others.  Also returns "pos".

``tag_index(tags)`` builds the tag -> id map a model needs ("O" first).
"""
from __future__ import annotations

import csv
import re

from .paths import DataFormatError, read_lines, resolve

_TAG = re.compile(r"^(O|[BI]-\S+)$")


def _check_tag(tag, path, lineno):
    if not _TAG.match(tag):
        raise DataFormatError(path, lineno, f"tag {tag!r} is not O, B-<type> or I-<type>")


def load_conll(path=None, encoding="utf-8"):
    """Read a CoNLL-style column file (default: WNUT-17 ``wnut17train.conll``).

    A non-blank line with fewer than two columns, or whose last column is not a
    BIO tag, raises DataFormatError with its line number.
    """
    path = resolve(path, "wnut17/wnut17train.conll", "wnut17-train", "CoNLL file")
    sentences, tags = [], []
    words, labels = [], []
    for lineno, line in read_lines(path, encoding):
        if not line.strip():
            if words:
                sentences.append(words)
                tags.append(labels)
                words, labels = [], []
            continue
        if line.startswith("-DOCSTART-"):
            continue
        # Tabs when there are any (a token may hold a space in WNUT), else any whitespace.
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) < 2:
            raise DataFormatError(path, lineno, f"expected token<TAB>tag, got {line!r:.60}")
        _check_tag(cols[-1], path, lineno)
        words.append(cols[0])
        labels.append(cols[-1])
    if words:                              # the file may not end with a blank line
        sentences.append(words)
        tags.append(labels)
    return {"sentences": sentences, "tags": tags, "source": str(path)}


_GMB_HEADER = ["Sentence #", "Word", "POS", "Tag"]


def load_gmb(path=None):
    """Read the Kaggle GMB ``ner_dataset.csv`` (latin-1).

    Returns {"sentences", "tags", "pos", "source"}; "pos" holds the
    part-of-speech tags, aligned like "tags".  The GMB tags are lower-case
    types: B-per, I-geo, B-org, B-tim, B-gpe, ...
    """
    path = resolve(path, "gmb/ner_dataset.csv", "gmb-ner", "GMB ner_dataset.csv")
    sentences, tags, pos = [], [], []
    with open(path, encoding="latin-1", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != _GMB_HEADER:
            raise DataFormatError(path, 1, f"expected the header {','.join(_GMB_HEADER)}, got {header!r}")
        for row in reader:
            lineno = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 4:
                raise DataFormatError(path, lineno, f"expected 4 columns (Sentence #,Word,POS,Tag), got {len(row)}")
            marker, word, part, tag = row
            if marker.strip():
                if not marker.startswith("Sentence:"):
                    raise DataFormatError(path, lineno, f"first column must be empty or 'Sentence: N', got {marker!r}")
                sentences.append([])
                tags.append([])
                pos.append([])
            elif not sentences:
                raise DataFormatError(path, lineno, "a word before the first 'Sentence: N' marker")
            _check_tag(tag, path, lineno)
            sentences[-1].append(word)
            tags[-1].append(tag)
            pos[-1].append(part)
    return {"sentences": sentences, "tags": tags, "pos": pos, "source": str(path)}


def tag_index(tag_seqs):
    """{tag: id} over all tags, "O" first (id 0), the rest sorted by name.

    Sorting makes the ids independent of the order sentences appear in;
    putting "O" at 0 makes the most common class the easy-to-read one.
    """
    names = sorted({t for seq in tag_seqs for t in seq} - {"O"})
    return {tag: i for i, tag in enumerate(["O"] + names)}
