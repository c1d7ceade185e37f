"""Word-analogy question files (Google's ``questions-words.txt``, Mikolov et al. 2013).

The format: section headers, then one question per line, four words separated
by single spaces, read "a : b :: c : d" (d = b - a + c)::

    : capital-common-countries
    Athens Greece Baghdad Iraq
    ...
    : gram1-adjective-to-adverb
    amazing amazingly apparent apparently

The Google file has 14 sections, 19,544 questions: five *semantic* ones
(capitals, currencies, city-in-state, family) and nine *syntactic* ones, whose
names start with ``gram`` (adverbs, opposites, comparatives, superlatives,
participles, nationalities, past tense, plurals, verb plurals).  Blank lines are
skipped; any other line that is not four words is an error naming its line.

``load_analogies(path=None, lowercase=True)`` returns
    {"questions": list of (a, b, c, d) str tuples,
     "sections": list of str (the section of each question),
     "semantic": (N,) bool (False for the "gram..." sections),
     "section_names": the sections in file order, "source": str}
With no path it looks for ``analogies/questions-words.txt`` in the data dir
and the download cache (``md.datasets.download("google-analogies")``).
"""
from __future__ import annotations

import numpy as np

from .paths import DataFormatError, resolve


def load_analogies(path=None, lowercase=True):
    """Read an analogy question file (see the module docstring)."""
    path = resolve(path, ["analogies/questions-words.txt", "questions-words.txt"],
                   "google-analogies", "analogy question file")
    questions, sections, names = [], [], []
    section = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                section = line[1:].strip()
                if not section:
                    raise DataFormatError(path, lineno, "a section header needs a name after ':'")
                names.append(section)
                continue
            words = line.split()
            if len(words) != 4:
                raise DataFormatError(path, lineno, f"expected four words 'a b c d', got {len(words)}: {line!r:.80}")
            if section is None:
                raise DataFormatError(path, lineno, "a question before the first ': section' header")
            questions.append(tuple(w.lower() for w in words) if lowercase else tuple(words))
            sections.append(section)
    if not questions:
        raise DataFormatError(path, None, "no questions in the file")
    semantic = np.array([not s.startswith("gram") for s in sections], dtype=bool)
    return {"questions": questions, "sections": sections, "semantic": semantic,
            "section_names": names, "source": str(path)}
