"""Question pairs: are two questions asking the same thing?

The Quora Question Pairs file (``quora_duplicate_questions.tsv``) is
tab-separated with a header::

    id  qid1  qid2  question1  question2  is_duplicate

Fields may be double-quoted (a question can hold a tab or a newline), so the
file is read with the ``csv`` module, not by splitting lines.

``load_quora`` returns (same keys as the synthetic ``make_question_pairs``):

    {"question1":    list of N str,
     "question2":    list of N str,
     "is_duplicate": (N,) int64 in {0, 1},
     "ids", "qid1", "qid2": (N,) int64,
     "source":       str}
"""
from __future__ import annotations

import csv

import numpy as np

from .paths import DataFormatError, resolve

_HEADER = ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"]


def load_quora(path=None, limit=None):
    """Read ``quora_duplicate_questions.tsv``; ``limit`` keeps the first rows only.

    A row without 6 fields, or with a non-integer id or an is_duplicate other
    than 0/1, raises DataFormatError with its line number.
    """
    path = resolve(path, "quora/quora_duplicate_questions.tsv", "quora-question-pairs",
                   "Quora question-pairs file")
    cols = {name: [] for name in _HEADER}
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None)
        if header != _HEADER:
            raise DataFormatError(path, 1, f"expected the header {' '.join(_HEADER)} (tab-separated), got {header!r}")
        for row in reader:
            if limit is not None and len(cols["id"]) >= limit:
                break
            # line_num is the line where this record *ended* (quoted newlines span lines).
            lineno = reader.line_num
            if not row:
                continue
            if len(row) != 6:
                raise DataFormatError(path, lineno, f"expected 6 tab-separated fields, got {len(row)}")
            try:
                numbers = [int(row[0]), int(row[1]), int(row[2]), int(row[5])]
            except ValueError:
                raise DataFormatError(path, lineno, f"id, qid1, qid2 and is_duplicate must be integers, "
                                                    f"got {row[0]!r}, {row[1]!r}, {row[2]!r}, {row[5]!r}") from None
            if numbers[3] not in (0, 1):
                raise DataFormatError(path, lineno, f"is_duplicate must be 0 or 1, got {numbers[3]}")
            for name, value in zip(("id", "qid1", "qid2", "is_duplicate"), numbers):
                cols[name].append(value)
            cols["question1"].append(row[3])
            cols["question2"].append(row[4])
    return {"question1": cols["question1"], "question2": cols["question2"],
            "is_duplicate": np.array(cols["is_duplicate"], dtype=np.int64),
            "ids": np.array(cols["id"], dtype=np.int64),
            "qid1": np.array(cols["qid1"], dtype=np.int64),
            "qid2": np.array(cols["qid2"], dtype=np.int64),
            "source": str(path)}
