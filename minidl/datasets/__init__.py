"""minidl.datasets: real data sets from files or downloads, and synthetic defaults.

Every loader returns plain Python / NumPy structures (dicts of lists and
arrays, documented in each module) with a "source" entry.  Each kind of data
has a synthetic generator with the same keys, seeded, with planted structure,
whose "source" starts with "synthetic:" -- so every lesson runs offline.

| kind            | real files                                  | synthetic              |
|-----------------|---------------------------------------------|------------------------|
| sentiment       | load_vader (+ vader_binary), load_trask,    | make_sentiment         |
|                 | load_imdb, load_twitter_samples             |                        |
| LM text         | load_shakespeare, load_text                 | make_grammar_corpus    |
| NER             | load_conll, load_gmb                        | make_ner               |
| question pairs  | load_quora                                  | make_question_pairs    |
| ratings         | load_movielens(_100k/_csv)                  | make_ratings           |
| user metadata   | load_movielens_users (ml-100k u.user)       | make_ratings()["users"] |
| tables          | load_adult (UCI Adult income)               | make_tabular           |
| word vectors    | load_word_vectors                           | --                     |
| analogies       | load_analogies (Google questions-words.txt) | make_analogy_corpus    |
| text sources    | load_vader (the four files as four classes) | make_genre_texts       |
| digits          | load_mnist, read_idx                        | make_digits            |
| memory tasks    | --                                          | make_adding_problem,   |
|                 |                                             | make_marker_tagging    |

Where files are looked for: ``find_data_dir()`` ($MINIDL_DATA_DIR or
../shared/data), then the download cache (``cache_dir()``); ``download(name)``
fills the cache from ``REGISTRY``.
"""
from .download import ChecksumError, DownloadError, UnsafeArchiveError, download, download_url, extract, md5sum
from .mnist import load_mnist, read_idx
from .movielens import load_movielens, load_movielens_100k, load_movielens_csv
from .ner import load_conll, load_gmb, tag_index
from .pairs import load_quora
from .paths import (DataFormatError, DataNotFoundError, cache_dir, find_data_dir, find_file,
                    search_dirs)
from .registry import GROUPS, REGISTRY, Resource
from .sentiment import load_imdb, load_trask, load_twitter_samples, load_vader, vader_binary
from .synthetic_images import make_digits
from .synthetic_ner import make_ner
from .synthetic_pairs import make_question_pairs
from .synthetic_tables import make_ratings
from .synthetic_text import make_grammar_corpus, make_sentiment
from .text import load_shakespeare, load_text
from .vectors import WordVectors, load_word_vectors

__all__ = [
    "find_data_dir", "find_file", "cache_dir", "search_dirs", "DataFormatError", "DataNotFoundError",
    "download", "download_url", "extract", "md5sum", "DownloadError", "ChecksumError",
    "UnsafeArchiveError", "REGISTRY", "GROUPS", "Resource",
    "load_vader", "vader_binary", "load_trask", "load_imdb", "load_twitter_samples",
    "load_text", "load_shakespeare", "load_conll", "load_gmb", "tag_index", "load_quora",
    "load_movielens", "load_movielens_100k", "load_movielens_csv",
    "load_word_vectors", "WordVectors", "load_mnist", "read_idx",
    "make_sentiment", "make_grammar_corpus", "make_ner", "make_question_pairs",
    "make_ratings", "make_digits",
]

from .adult import load_adult
from .movielens import load_movielens_users
from .synthetic_tables import make_tabular
__all__ += ["load_adult", "load_movielens_users", "make_tabular"]
from .synthetic_classes import make_class_corpus  # noqa: E402
__all__ += ["make_class_corpus"]
from .synthetic_sequences import make_adding_problem, make_marker_tagging  # noqa: E402
__all__ += ["make_adding_problem", "make_marker_tagging"]
from .analogies import load_analogies  # noqa: E402
from .synthetic_analogies import make_analogy_corpus  # noqa: E402
from .synthetic_genres import make_genre_texts  # noqa: E402
__all__ += ["load_analogies", "make_analogy_corpus", "make_genre_texts"]
