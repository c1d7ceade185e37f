"""Plain-text corpora for language models (tiny Shakespeare and friends).

A language-model corpus is one long string.  Loaders return

    {"text": str, "source": str}

the same keys as the synthetic grammar corpus (``make_grammar_corpus``), so a
lesson can train on either.  Turn the text into a stream of ids with a
character-level ``TextVectorizer(standardize=None, split="character")`` and cut
it into batches with ``lm_stream_batches`` / ``lm_random_windows``.
"""
from __future__ import annotations

from .paths import DataFormatError, resolve


def load_text(path, encoding="utf-8"):
    """Read a whole text file.  Returns {"text": str, "source": str}.

    Line endings are kept as in the file except that ``\\r\\n`` becomes ``\\n``
    (universal newlines), so character counts match the usual Unix copies.
    A decoding error names the file and line.
    """
    if path is None:
        raise TypeError("load_text needs a path (use load_shakespeare() to search the data folders)")
    path = resolve(path, [], None, "text file")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataFormatError(path, line, f"not valid {encoding} ({exc.reason} at byte {exc.start})") from None
    return {"text": text.replace("\r\n", "\n"), "source": str(path)}


def load_shakespeare(path=None):
    """Tiny Shakespeare (1,115,394 characters): {"text", "source"}.

    path: the file, a folder holding ``tinyshakespeare.txt`` (or ``input.txt``,
    its name in Karpathy's char-rnn repository), or None to search the data dir
    and the cache (``md.datasets.download("shakespeare")`` puts it there).
    """
    path = resolve(path, ["shakespeare/tinyshakespeare.txt", "shakespeare/input.txt"],
                   "shakespeare", "tiny Shakespeare file")
    return load_text(path)
