"""MovieLens ratings for collaborative filtering.

Two layouts exist:

* **ml-100k** (``u.data`` + ``u.item``): ``u.data`` is ``user<TAB>item<TAB>
  rating<TAB>timestamp`` with no header; ``u.item`` is ``|``-separated latin-1,
  ``id|title|release date|video release date|IMDb URL|`` then 19 0/1 genre
  flags (unknown, Action, ..., Western).
* **newer releases** (``ratings.csv`` + ``movies.csv``, with headers
  ``userId,movieId,rating,timestamp`` and ``movieId,title,genres``, genres
  ``|``-separated names); ratings go in half stars.

Both loaders return the same dict (and so does the synthetic ``make_ratings``):

    "user", "item"   (N,) int64  0-based indices of each rating's user and movie
    "rating"         (N,) float32
    "timestamp"      (N,) int64  seconds since 1970
    "user_ids"       (n_users,) int64  raw id of user index u
    "item_ids"       (n_items,) int64  raw id of movie index i
    "titles"         list of n_items str
    "genres"         (n_items, G) uint8  multi-hot genre flags
    "genre_names"    list of G str
    "n_users", "n_items"  int
    "source"         str

Movie indices follow the movie table (row i of "genres" is movie i), so movies
nobody rated still get an index.  A rating of a movie missing from the table
is an error: silently dropping it would hide a mismatched pair of files.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .paths import DataFormatError, DataNotFoundError, read_lines, resolve_dir

ML100K_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                 "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                 "Romance", "Sci-Fi", "Thriller", "War", "Western"]


def _assemble(users, items, ratings, stamps, item_ids, titles, genres, genre_names, source, ratings_path):
    """Map raw ids to 0-based indices and pack the documented dict."""
    users = np.array(users, dtype=np.int64)
    items = np.array(items, dtype=np.int64)
    item_ids = np.array(item_ids, dtype=np.int64)
    if len(item_ids) == 0:
        raise DataFormatError(ratings_path, None, "the movie table is empty")
    user_ids, user_index = np.unique(users, return_inverse=True)
    order = np.argsort(item_ids)
    pos = np.searchsorted(item_ids[order], items)
    pos = np.minimum(pos, len(item_ids) - 1)
    known = item_ids[order][pos] == items
    if not known.all():
        k = int(np.flatnonzero(~known)[0])
        raise DataFormatError(ratings_path, None, f"rating {k} refers to movie id {items[k]}, "
                                                  f"which is not in the movie table")
    return {"user": user_index.astype(np.int64), "item": order[pos].astype(np.int64),
            "rating": np.array(ratings, dtype=np.float32), "timestamp": np.array(stamps, dtype=np.int64),
            "user_ids": user_ids, "item_ids": item_ids, "titles": titles,
            "genres": np.array(genres, dtype=np.uint8).reshape(len(titles), len(genre_names)),
            "genre_names": list(genre_names), "n_users": len(user_ids), "n_items": len(item_ids),
            "source": source}


def load_movielens_100k(path=None):
    """Read the ``ml-100k`` folder (``u.data`` and ``u.item``)."""
    folder = resolve_dir(path, "ml-100k", "movielens-100k", "ml-100k folder")
    data_path, item_path = folder / "u.data", folder / "u.item"
    for p in (data_path, item_path):
        if not p.exists():
            raise DataNotFoundError(f"{p} not found: expected the ml-100k folder with u.data and u.item")

    item_ids, titles, genres = [], [], []
    for lineno, line in read_lines(item_path, "latin-1"):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 5 + len(ML100K_GENRES):
            raise DataFormatError(item_path, lineno, f"expected {5 + len(ML100K_GENRES)} '|'-separated "
                                                     f"fields, got {len(fields)}")
        flags = fields[5:]
        if any(flag not in ("0", "1") for flag in flags):
            raise DataFormatError(item_path, lineno, f"genre flags must be 0 or 1, got {flags}")
        try:
            item_ids.append(int(fields[0]))
        except ValueError:
            raise DataFormatError(item_path, lineno, f"movie id {fields[0]!r} is not an integer") from None
        titles.append(fields[1])
        genres.append([int(x) for x in flags])

    users, items, ratings, stamps = [], [], [], []
    for lineno, line in read_lines(data_path, "latin-1"):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 4:
            raise DataFormatError(data_path, lineno, f"expected user<TAB>item<TAB>rating<TAB>timestamp, "
                                                     f"got {len(fields)} field(s)")
        try:
            u, i, r, t = int(fields[0]), int(fields[1]), float(fields[2]), int(fields[3])
        except ValueError:
            raise DataFormatError(data_path, lineno, f"non-numeric field in {line.strip()!r}") from None
        users.append(u)
        items.append(i)
        ratings.append(r)
        stamps.append(t)
    return _assemble(users, items, ratings, stamps, item_ids, titles, genres, ML100K_GENRES,
                     str(folder), data_path)


def load_movielens_csv(path=None):
    """Read a folder with ``ratings.csv`` and ``movies.csv`` (ml-latest-small, ml-25m, ...).

    Genre names are collected from movies.csv and sorted; "(no genres listed)"
    is a movie with no flag set.
    """
    folder = resolve_dir(path, "ml-latest-small", "movielens-latest-small", "MovieLens csv folder")
    ratings_path, movies_path = folder / "ratings.csv", folder / "movies.csv"
    for p in (ratings_path, movies_path):
        if not p.exists():
            raise DataNotFoundError(f"{p} not found: expected a folder with ratings.csv and movies.csv")

    item_ids, titles, genre_lists = [], [], []
    with open(movies_path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != ["movieId", "title", "genres"]:
            raise DataFormatError(movies_path, 1, f"expected the header movieId,title,genres, got {header!r}")
        for row in reader:
            if len(row) != 3:
                raise DataFormatError(movies_path, reader.line_num, f"expected 3 fields, got {len(row)}")
            try:
                item_ids.append(int(row[0]))
            except ValueError:
                raise DataFormatError(movies_path, reader.line_num, f"movieId {row[0]!r} is not an integer") from None
            titles.append(row[1])
            genre_lists.append([g for g in row[2].split("|") if g and g != "(no genres listed)"])
    genre_names = sorted({g for gl in genre_lists for g in gl})
    column = {g: j for j, g in enumerate(genre_names)}
    genres = np.zeros((len(titles), len(genre_names)), dtype=np.uint8)
    for i, gl in enumerate(genre_lists):
        genres[i, [column[g] for g in gl]] = 1

    users, items, ratings, stamps = [], [], [], []
    with open(ratings_path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != ["userId", "movieId", "rating", "timestamp"]:
            raise DataFormatError(ratings_path, 1, f"expected the header userId,movieId,rating,timestamp, "
                                                   f"got {header!r}")
        for row in reader:
            if len(row) != 4:
                raise DataFormatError(ratings_path, reader.line_num, f"expected 4 fields, got {len(row)}")
            try:
                u, i, r, t = int(row[0]), int(row[1]), float(row[2]), int(row[3])
            except ValueError:
                raise DataFormatError(ratings_path, reader.line_num, f"non-numeric field in {row!r}") from None
            users.append(u)
            items.append(i)
            ratings.append(r)
            stamps.append(t)
    return _assemble(users, items, ratings, stamps, item_ids, titles, genres, genre_names,
                     str(folder), ratings_path)


def load_movielens(path=None):
    """Either layout: a folder with ``u.data`` (ml-100k) or ``ratings.csv``.

    With path None, looks for ``ml-100k`` then ``ml-latest-small`` in the data
    dir and the cache.
    """
    if path is not None:
        folder = Path(path)
        folder = folder.parent if folder.is_file() else folder
        if (folder / "u.data").exists():
            return load_movielens_100k(folder)
        if (folder / "ratings.csv").exists():
            return load_movielens_csv(folder)
        raise DataNotFoundError(f"{folder} holds neither u.data (ml-100k) nor ratings.csv (newer MovieLens)")
    try:
        return load_movielens_100k(None)
    except DataNotFoundError:
        return load_movielens_csv(None)


def load_movielens_users(path=None, user_ids=None):
    """The ml-100k user table ``u.user``: ``user id|age|gender|occupation|zip code``.

    Returns {"user_ids" (n,) int64, "age" (n,) int64, "gender" list of "M"/"F",
    "occupation" list of str, "zip" list of str, "source"}, in file order -- or,
    given ``user_ids`` (e.g. the "user_ids" of ``load_movielens_100k``), one row
    per given id in that order, so row u describes user index u.  A given id
    missing from the table is an error (metadata must never silently shift).
    """
    folder = resolve_dir(path, "ml-100k", "movielens-100k", "ml-100k folder")
    user_path = folder / "u.user"
    if not user_path.exists():
        raise DataNotFoundError(f"{user_path} not found: expected the ml-100k folder with u.user")
    ids, age, gender, occupation, zips = [], [], [], [], []
    for lineno, line in read_lines(user_path, "latin-1"):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 5:
            raise DataFormatError(user_path, lineno, f"expected 5 '|'-separated fields "
                                                     f"(id|age|gender|occupation|zip), got {len(fields)}")
        try:
            ids.append(int(fields[0]))
            age.append(int(fields[1]))
        except ValueError:
            raise DataFormatError(user_path, lineno, f"user id and age must be integers, got "
                                                     f"{fields[0]!r}, {fields[1]!r}") from None
        gender.append(fields[2])
        occupation.append(fields[3])
        zips.append(fields[4])
    ids = np.array(ids, dtype=np.int64)
    order = np.arange(len(ids))
    if user_ids is not None:
        position = {u: k for k, u in enumerate(ids.tolist())}
        wanted = np.asarray(user_ids, dtype=np.int64).tolist()
        missing = [u for u in wanted if u not in position]
        if missing:
            raise DataFormatError(user_path, None, f"user id {missing[0]} (of {len(missing)} missing) "
                                                   f"is not in the user table")
        order = np.array([position[u] for u in wanted], dtype=np.int64)
    return {"user_ids": ids[order], "age": np.array(age, dtype=np.int64)[order],
            "gender": [gender[k] for k in order], "occupation": [occupation[k] for k in order],
            "zip": [zips[k] for k in order], "source": str(user_path)}
