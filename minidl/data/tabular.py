"""A small tabular preprocessor: categorify, fill missing, normalise (fastai's three procs).

A table here is a plain dict ``{column name: sequence}`` (lists or 1-D arrays of
equal length N) -- no pandas needed.  The processor *learns* everything from the
training split and applies the same recipe to any other split:

    proc = TabularProcessor(cat_names=["day", "region"], cont_names=["temp", "dist"])
    cats, conts = proc.fit_transform(train)      # learn vocabularies and statistics, then apply
    v_cats, v_conts = proc.transform(valid)      # the *training* recipe on the validation split
    proc.save("proc.json"); proc = TabularProcessor.load("proc.json")

    cats   (N, n_cat) int64    one column per categorical variable (``proc.cat_columns``)
    conts  (N, n_cont) float32 one column per continuous variable  (``proc.cont_columns``)

The three steps, in order:

1. **Categorify.**  Each categorical column gets a vocabulary: the sorted
   distinct training values, after id 0 = "#na#".  A value maps to its position;
   a missing value (None, NaN, "") *or a value never seen in training* maps to
   0 -- never an error, because new stores, new countries and typos do turn up
   at prediction time, and the model has one learned vector for "unknown".
   (Unlike text, a table has no padding, so id 0 is the unknown level, as in
   fastai; values are compared as strings, so 3 and "3" are the same level,
   and numbers in one canonical form, so 3, 3.0 and "3.0" are too: pandas
   turns an integer column with a gap into floats.)
2. **Fill missing.**  A missing continuous value becomes the training median,
   and when the column had missing values in training a categorical flag
   column ``<name>_na`` (levels "False"/"True") records where that happened:
   "the value was missing" is often informative in itself (no competitor
   nearby, a form left blank), and the model may learn it.
3. **Normalise.**  x <- (x - mean) / std, with the mean and std of the filled
   *training* column (a constant column gets std 1).  Statistics from the
   validation split would leak it into training.

``emb_sz_rule(n)`` is fastai's embedding width for a column with n levels:
min(600, round(1.6 * n ** 0.56)).  ``one_hot_columns`` turns ``cats`` into the
concatenated one-hot blocks, for the one-hot baseline.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .. import validate

NA_LEVEL = "#na#"      # id 0 of every categorical column: missing or unseen


def emb_sz_rule(n_cat: int) -> int:
    """fastai's embedding size for a categorical column with ``n_cat`` levels (unknown included)."""
    n_cat = validate.positive_int(n_cat, "n_cat (a column needs at least one level)", "emb_sz_rule")
    return min(600, round(1.6 * n_cat ** 0.56))


def _is_missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(v)
    return isinstance(v, str) and v == ""


def _level(v) -> str:
    """The vocabulary key of a value: its string form, with numbers in one canonical form.

    A column of integer levels at fit time often comes back as floats later (pandas turns
    ``[1, None, 3]`` into ``[1.0, nan, 3.0]``): 1, 1.0, np.int64(1) and np.float32(1.0) are
    all the level "1", so the floats do not all fall into "#na#"."""
    v = v.item() if isinstance(v, np.generic) else v
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return str(int(v))
    return str(v)


def _index(levels) -> dict:
    """{level: id}, where a stored level that is a number in another spelling ("1.0", from a
    processor saved before levels were canonical) is also reachable by its canonical form."""
    index = {level: i for i, level in enumerate(levels)}
    for i, level in enumerate(levels):
        try:
            alias = _level(float(level))
        except ValueError:
            continue
        index.setdefault(alias, i)
    return index


def _lookup(index, v) -> int:
    key = _level(v)
    if key in index:
        return index[key]
    try:                              # a string "3.0" for a level fitted as the number 3
        return index.get(_level(float(key)), 0)
    except ValueError:
        return 0


def _column(table, name, n=None):
    if name not in table:
        raise KeyError(f"the table has no column {name!r}; its columns are {sorted(table)}")
    col = table[name]
    if np.ndim(col) != 1:
        raise ValueError(f"column {name!r} must be 1-D (one value per row), got shape {np.shape(col)}")
    if n is not None and len(col) != n:
        raise ValueError(f"column {name!r} has {len(col)} rows, but the other columns have {n}")
    return col


def _floats(col, name):
    """A continuous column as float64 with NaN where a value is missing."""
    if isinstance(col, np.ndarray) and col.dtype.kind in "fiub":
        return col.astype(np.float64)                      # already numeric: NaN stays NaN
    out = np.empty(len(col), dtype=np.float64)
    for r, v in enumerate(col):
        if _is_missing(v):
            out[r] = np.nan
            continue
        try:
            out[r] = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"continuous column {name!r}, row {r}: {v!r} is not a number "
                             f"(declare the column in cat_names if it is a category)") from None
    return out


class TabularProcessor:
    def __init__(self, cat_names=(), cont_names=()):
        for arg, names in (("cat_names", cat_names), ("cont_names", cont_names)):
            if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)) or \
                    not all(isinstance(n, str) for n in names):
                raise TypeError(f"TabularProcessor: {arg} must be a list of column names (strings), got {names!r}")
        self.cat_names, self.cont_names = list(cat_names), list(cont_names)
        both = set(self.cat_names) & set(self.cont_names)
        if both:
            raise ValueError(f"columns {sorted(both)} are listed as both categorical and continuous")
        self.vocab = None        # column -> list of levels (level 0 = "#na#")
        self.fill = {}           # continuous column -> training median
        self.na_columns = []     # continuous columns that get a "<name>_na" flag
        self.stats = {}          # continuous column -> (mean, std) after filling

    # --- learning from the training split
    def fit(self, table):
        n = self._n_rows(table)
        self.vocab, self.fill, self.na_columns, self.stats = {}, {}, [], {}
        for name in self.cat_names:
            col = _column(table, name, n)
            levels = sorted({_level(v) for v in col if not _is_missing(v)})
            self.vocab[name] = [NA_LEVEL] + levels
        for name in self.cont_names:
            x = _floats(_column(table, name, n), name)
            missing = np.isnan(x)
            median = float(np.median(x[~missing])) if (~missing).any() else 0.0
            self.fill[name] = median
            if missing.any():
                self.na_columns.append(name)
                self.vocab[name + "_na"] = [NA_LEVEL, "False", "True"]
            x = np.where(missing, median, x)
            std = float(x.std())
            self.stats[name] = (float(x.mean()), std if std > 0 else 1.0)
        return self

    def _n_rows(self, table):
        names = self.cat_names + self.cont_names
        if not names:
            raise ValueError("TabularProcessor: give at least one categorical or continuous column")
        return len(_column(table, names[0]))

    # --- applying the learned recipe
    @property
    def cat_columns(self) -> list:
        """Names of the columns of ``cats``: the categorical ones, then the "_na" flags."""
        return self.cat_names + [c + "_na" for c in self.na_columns]

    @property
    def cont_columns(self) -> list:
        return list(self.cont_names)

    def transform(self, table):
        """(cats (N, n_cat) int64, conts (N, n_cont) float32) with the training recipe."""
        if self.vocab is None:
            raise RuntimeError("TabularProcessor: call fit(train_table) before transform")
        n = self._n_rows(table)
        cats = np.zeros((n, len(self.cat_columns)), dtype=np.int64)
        conts = np.zeros((n, len(self.cont_names)), dtype=np.float32)
        for j, name in enumerate(self.cat_names):
            index = _index(self.vocab[name])
            col = _column(table, name, n)
            cats[:, j] = [0 if _is_missing(v) else _lookup(index, v) for v in col]
        for j, name in enumerate(self.cont_names):
            x = _floats(_column(table, name, n), name)
            missing = np.isnan(x)
            if name in self.na_columns:
                cats[:, len(self.cat_names) + self.na_columns.index(name)] = np.where(missing, 2, 1)
            mean, std = self.stats[name]
            conts[:, j] = (np.where(missing, self.fill[name], x) - mean) / std
        return cats, conts

    def fit_transform(self, table):
        return self.fit(table).transform(table)

    def cardinalities(self) -> list:
        """Number of levels (unknown included) of each column of ``cats``."""
        return [len(self.vocab[c]) for c in self.cat_columns]

    def embedding_sizes(self) -> list:
        """[(n_levels, emb_sz_rule(n_levels)), ...] for each column of ``cats``: ready for
        ``nn.ConcatEmbeddings``."""
        return [(n, emb_sz_rule(n)) for n in self.cardinalities()]

    def decode(self, column: str, ids) -> list:
        """The levels (strings) of ``ids`` in categorical column ``column``."""
        return [self.vocab[column][int(i)] for i in np.ravel(ids)]

    # --- saving the recipe (JSON: readable, no pickle)
    def state(self) -> dict:
        if self.vocab is None:
            raise RuntimeError("TabularProcessor: nothing to save before fit")
        return {"format": "minidl-tabular-1", "cat_names": self.cat_names, "cont_names": self.cont_names,
                "vocab": self.vocab, "fill": self.fill, "na_columns": self.na_columns,
                "stats": {k: list(v) for k, v in self.stats.items()}}

    @classmethod
    def from_state(cls, state: dict) -> "TabularProcessor":
        if state.get("format") != "minidl-tabular-1":
            raise ValueError(f"not a saved TabularProcessor (format {state.get('format')!r})")
        proc = cls(state["cat_names"], state["cont_names"])
        proc.vocab = {k: list(v) for k, v in state["vocab"].items()}
        proc.fill = {k: float(v) for k, v in state["fill"].items()}
        proc.na_columns = list(state["na_columns"])
        proc.stats = {k: (float(m), float(s)) for k, (m, s) in state["stats"].items()}
        return proc

    def save(self, path):
        Path(path).write_text(json.dumps(self.state(), indent=1))

    @classmethod
    def load(cls, path) -> "TabularProcessor":
        return cls.from_state(json.loads(Path(path).read_text()))

    def __repr__(self):
        fitted = "fitted" if self.vocab is not None else "not fitted"
        return (f"TabularProcessor(cat_names={self.cat_names}, cont_names={self.cont_names}, {fitted}"
                + (f", na flags for {self.na_columns}" if self.na_columns else "") + ")")


def one_hot_columns(cats, cardinalities) -> np.ndarray:
    """cats (N, k) int -> (N, sum of cardinalities) float32: each column's one-hot block side by side."""
    if not isinstance(cardinalities, (list, tuple)) and getattr(cardinalities, "ndim", 0) != 1:
        raise TypeError(f"one_hot_columns: cardinalities must be a list of level counts, got {cardinalities!r}")
    cardinalities = [validate.positive_int(n, "cardinalities", "one_hot_columns") for n in cardinalities]
    try:
        cats = np.asarray(cats)
    except (TypeError, ValueError):
        cats = np.asarray(None)
    if cats.dtype.kind not in "iu":
        raise TypeError(f"one_hot_columns: cats must be integer ids (N, k), got {cats.dtype} of shape {cats.shape}")
    if cats.ndim != 2 or cats.shape[1] != len(cardinalities):
        raise ValueError(f"one_hot_columns: cats of shape {cats.shape} does not have one column per entry of "
                         f"cardinalities ({len(cardinalities)})")
    out = np.zeros((cats.shape[0], int(sum(cardinalities))), dtype=np.float32)
    offset = 0
    for j, n in enumerate(cardinalities):
        if cats.size and (cats[:, j].min() < 0 or cats[:, j].max() >= n):
            raise IndexError(f"one_hot_columns: column {j} of cats holds ids outside 0..{n - 1} "
                             f"(cardinalities[{j}] = {n})")
        out[np.arange(cats.shape[0]), offset + cats[:, j]] = 1.0
        offset += n
    return out
