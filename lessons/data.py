"""Which real data each lesson reads, and how ``--data`` and ``$MINIDL_DATA_DIR`` lead to it.

    resolve("02_char_language_model", "../shared/data")   -> ../shared/data/shakespeare/tinyshakespeare.txt
    resolve("02_char_language_model", None)               -> the same via $MINIDL_DATA_DIR, or None

Each lesson accepts one or more *forms* of its dataset, tried in order:

* a file known by name (``tweets_GroundTruth.txt``): ``--data`` may be the file,
  or any folder holding it, directly or up to three levels down (so the
  dataset's own folder and the folder of all datasets both work);
* a folder known by the files it holds (MNIST's IDX files, MovieLens's
  ``u.data`` and ``u.item``): ``--data`` may be that folder, a folder above it,
  or one of its files;
* any text file (the language-model lessons): the file, or a folder holding
  exactly one ``.txt`` file.

A file that no form names is handed to the lesson as it is when the lesson
reads files (its loader then checks the format and names the line that does
not fit).  Whatever cannot be resolved is a ``DataNotFoundError`` in one line:
the lesson, what it looked for, where, and what is there instead.

``$MINIDL_DATA_DIR``: when set and no ``--data`` is given, the lesson looks
for its dataset there in the same way and uses it when found; otherwise it runs
on its embedded data (and says so).  The ``../shared/data`` folder beside the
repository is NOT searched automatically by lessons (the loaders' default
search, ``md.datasets.find_data_dir``, is another matter): a run without
``--data`` or ``$MINIDL_DATA_DIR`` is always the embedded one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from minidl.datasets.paths import ENV_DATA_DIR, DataNotFoundError, find_inside, folder_holding, listing, single_file


@dataclass(frozen=True)
class Form:
    what: str                     # said in messages: "VADER tweets_GroundTruth.txt"
    files: tuple = ()             # a file by name: the path handed over is that file
    folder_with: tuple = ()       # a folder holding all these (or one of each tuple): that folder
    any_text: bool = False        # any file; in a folder, the only file ending in ``suffix``
    suffix: str = ".txt"

    def in_folder(self, folder: Path):
        if self.files:
            return find_inside(folder, self.files)
        if self.folder_with:
            return folder_holding(folder, self.folder_with)
        return single_file(folder, self.suffix)

    def for_file(self, file: Path):
        if self.files and file.name in self.files or self.any_text:
            return file
        if self.folder_with and folder_holding(file.parent, self.folder_with, max_depth=0) is not None:
            return file.parent
        return None


TEXT = (Form("tiny Shakespeare (tinyshakespeare.txt or input.txt)", files=("tinyshakespeare.txt", "input.txt")),
        Form("a text file (a folder must hold exactly one .txt file)", any_text=True))
_VADER = ("tweets_GroundTruth.txt", "movieReviewSnippets_GroundTruth.txt",
          "amazonReviewSnippets_GroundTruth.txt", "nytEditorialSnippets_GroundTruth.txt")
_MNIST = (("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"), ("t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"))

SPECS = {
    "01_tweet_sentiment": (Form("VADER tweets_GroundTruth.txt", files=("tweets_GroundTruth.txt",)),
                           Form("NLTK twitter_samples/ (positive_tweets.json, negative_tweets.json)",
                                folder_with=("positive_tweets.json", "negative_tweets.json"))),
    "02_char_language_model": TEXT,
    "03_bag_of_words": (Form("Trask's reviews.txt with labels.txt", files=("reviews.txt",)),
                        Form("aclImdb/ (train/, test/)", folder_with=("train", "test", "imdb.vocab")),
                        Form("VADER movieReviewSnippets_GroundTruth.txt", files=("movieReviewSnippets_GroundTruth.txt",))),
    "04_word_maps": (),               # its real data are word vectors: --vectors PATH
    "05_text_vectorization": (Form("the VADER folder (its four *_GroundTruth.txt files)", folder_with=_VADER),),
    "06_glove": TEXT,
    "07_ngram_lm": TEXT,
    "08_big_softmax": TEXT,
    "09_vanishing_gradients": (),     # sequence length is the variable: generated data only
    "10_ner": (Form("WNUT-17 wnut17train.conll", files=("wnut17train.conll",)),
               Form("GMB ner_dataset.csv", files=("ner_dataset.csv",)),
               Form("a CoNLL file (token<TAB>tag lines; in a folder, its only .conll file)", any_text=True,
                    suffix=".conll")),
    "11_siamese": (Form("Quora quora_duplicate_questions.tsv", files=("quora_duplicate_questions.tsv",)),),
    "12_collab_filtering": (Form("MovieLens ml-100k/ (u.data, u.item)", folder_with=("u.data", "u.item")),
                            Form("MovieLens ml-latest-small/ (ratings.csv, movies.csv)",
                                 folder_with=("ratings.csv", "movies.csv"))),
    "13_tabular_embeddings": (Form("UCI Adult adult.data", files=("adult.data",)),),
    "14_convolutions": (Form("MNIST's IDX files (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])",
                             folder_with=_MNIST),),
}


def accepts(lesson: str) -> str:
    """What ``--data`` may point at for this lesson, in words."""
    forms = SPECS.get(lesson, ())
    return " or ".join(f.what for f in forms) if forms else "no --data (it runs on generated data)"


def _find(lesson, given: Path, via: str):
    forms = SPECS.get(lesson, ())
    if given.is_file():
        for form in forms:
            found = form.for_file(given)
            if found is not None:
                return found
        if any(f.files or f.any_text for f in forms):
            return given                  # a renamed copy: the lesson's loader checks the format
        raise DataNotFoundError(f"{lesson}: {via} {given} is a file, but this lesson reads {accepts(lesson)}")
    for form in forms:
        found = form.in_folder(given)
        if found is not None:
            return found
    return None


def resolve(lesson: str, data=None):
    """The path the lesson's loader should read, or None for the embedded data (see the module docstring)."""
    if lesson not in SPECS:                    # a lesson of your own: --data as given, if it exists
        if data is not None and not Path(data).expanduser().exists():
            raise DataNotFoundError(f"{lesson}: --data {data} does not exist")
        return None if data is None else Path(data).expanduser()
    if data is not None:
        given = Path(data).expanduser()
        if not SPECS[lesson]:
            raise DataNotFoundError(f"{lesson} takes {accepts(lesson)}"
                                    + (": give word vectors with --vectors PATH" if lesson == "04_word_maps" else ""))
        if not given.exists():
            raise DataNotFoundError(f"{lesson}: --data {given} does not exist (expected {accepts(lesson)})")
        found = _find(lesson, given, "--data")
        if found is None:
            raise DataNotFoundError(f"{lesson}: nothing it reads in {given} (searched 3 levels of subfolders too): "
                                    f"looked for {accepts(lesson)}; it holds {listing(given)}")
        return found
    env = os.environ.get(ENV_DATA_DIR)
    if not env or not SPECS[lesson]:
        return None
    folder = Path(env).expanduser()
    if not folder.is_dir():
        raise DataNotFoundError(f"{lesson}: ${ENV_DATA_DIR} is {env!r}, which is not a folder")
    found = _find(lesson, folder, f"${ENV_DATA_DIR}")
    if found is None:
        print(f"[data] ${ENV_DATA_DIR} ({folder}) holds no {accepts(lesson)}: using the embedded data")
    else:
        print(f"[data] {found} (found in ${ENV_DATA_DIR})")
    return found
