"""UCI Adult ("Census Income"): will a person earn more than $50K a year?

The file ``adult.data`` (Kohavi & Becker 1996; 32,561 rows; CC BY 4.0 at the UCI
repository) has no header and one person per line, 15 comma-separated fields
(with a space after each comma)::

    age, workclass, fnlwgt, education, education-num, marital-status,
    occupation, relationship, race, sex, capital-gain, capital-loss,
    hours-per-week, native-country, income

``?`` marks a missing value (workclass, occupation and native-country have
some); ``income`` is ``<=50K`` or ``>50K``.  ``adult.test`` has the same layout
with a first line starting with ``|`` and labels ending in a full stop
(``>50K.``); both are read.

``load_adult(path)`` returns a table ready for ``md.data.TabularProcessor``:

    "table"       {column: list of str (categorical, None where "?")
                   or float64 array (continuous)}
    "target"      (N,) int64, 1 = ">50K"
    "cat_names"   the 8 categorical columns;  "cont_names" the 6 numeric ones
    "target_name" "income>50K";  "source" the file read
"""
from __future__ import annotations

import numpy as np

from .paths import DataFormatError, resolve

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
           "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
           "hours-per-week", "native-country", "income"]
CAT_NAMES = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
             "native-country"]
CONT_NAMES = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
LABELS = {"<=50K": 0, ">50K": 1}


def load_adult(path=None):
    """Read ``adult.data`` (or ``adult.test``); ``path`` is the file or a folder holding it."""
    file = resolve(path, ["adult/adult.data", "adult.data"], "uci-adult", "UCI Adult file (adult.data)")
    rows, labels = [], []
    with open(file, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("|"):          # blank tail line; adult.test's header
                continue
            fields = [x.strip() for x in line.split(",")]
            if len(fields) != len(COLUMNS):
                raise DataFormatError(file, lineno, f"expected {len(COLUMNS)} comma-separated fields "
                                                    f"({', '.join(COLUMNS)}), got {len(fields)}")
            label = fields[-1].rstrip(".")
            if label not in LABELS:
                raise DataFormatError(file, lineno, f"income must be '<=50K' or '>50K', got {fields[-1]!r}")
            rows.append(fields[:-1])
            labels.append(LABELS[label])
    if not rows:
        raise DataFormatError(file, None, "no records found")
    table = {}
    for j, name in enumerate(COLUMNS[:-1]):
        values = [r[j] for r in rows]
        if name in CONT_NAMES:
            try:
                table[name] = np.array([np.nan if v == "?" else float(v) for v in values])
            except ValueError:
                bad = next(k for k, v in enumerate(values) if v != "?" and not _is_number(v))
                raise DataFormatError(file, None, f"record {bad + 1}: {name} = {values[bad]!r} "
                                                  f"is not a number") from None
        else:
            table[name] = [None if v == "?" else v for v in values]
    return {"table": table, "target": np.array(labels, dtype=np.int64), "cat_names": list(CAT_NAMES),
            "cont_names": list(CONT_NAMES), "target_name": "income>50K", "source": str(file)}


def _is_number(v):
    try:
        float(v)
        return True
    except ValueError:
        return False
