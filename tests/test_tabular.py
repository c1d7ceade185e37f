"""Tabular data: the preprocessor on hand-made tables, concatenated embeddings, the tabular model,
the UCI Adult parser and the generated shop-day table."""
import math

import numpy as np
import pytest

import minidl as md
import minidl.datasets as S
from minidl import nn
from minidl.data import NA_LEVEL, TabularProcessor, emb_sz_rule, one_hot_columns


def check(f, *inputs):
    with md.default_dtype("float64"):
        report = md.gradcheck(f, *inputs)
    assert report, str(report)


# ----------------------------------------------------------------------------- embedding sizes
def test_emb_sz_rule():
    assert [emb_sz_rule(n) for n in (1, 2, 3, 8, 31, 944, 1665)] == [2, 2, 3, 5, 11, 74, 102]
    assert emb_sz_rule(10**6) == 600                       # capped
    assert emb_sz_rule(5) == min(600, round(1.6 * 5 ** 0.56))
    with pytest.raises(ValueError, match="at least one level"):
        emb_sz_rule(0)


# ----------------------------------------------------------------------------- the preprocessor
TRAIN = {"colour": ["red", "blue", None, "red", "green", "blue"],
         "size": [1, 2, 2, 3, 3, 3],                                   # numbers used as categories
         "price": [10.0, np.nan, 30.0, 20.0, np.nan, 50.0],            # missing values
         "weight": np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])}           # none missing
VALID = {"colour": ["purple", "green", "", float("nan")],
         "size": [3, 7, 1, "2"],
         "price": [None, 20.0, 40.0, np.nan],
         "weight": [np.nan, 2.0, 3.5, 4.0]}


def make():
    return TabularProcessor(cat_names=["colour", "size"], cont_names=["price", "weight"]).fit(TRAIN)


def test_categorify_vocabulary_and_unseen_levels():
    proc = make()
    assert proc.vocab["colour"] == [NA_LEVEL, "blue", "green", "red"]   # sorted, "#na#" first
    assert proc.vocab["size"] == [NA_LEVEL, "1", "2", "3"]
    cats, _ = proc.transform(TRAIN)
    np.testing.assert_array_equal(cats[:, 0], [3, 1, 0, 3, 2, 1])        # None -> 0
    np.testing.assert_array_equal(cats[:, 1], [1, 2, 2, 3, 3, 3])
    cats, _ = proc.transform(VALID)
    # unseen "purple", empty string and NaN all map to 0; 7 is unseen; the string "2" is level 2
    np.testing.assert_array_equal(cats[:, 0], [0, 2, 0, 0])
    np.testing.assert_array_equal(cats[:, 1], [3, 0, 1, 2])
    assert proc.decode("colour", cats[:, 0]) == [NA_LEVEL, "green", NA_LEVEL, NA_LEVEL]


def test_fill_missing_with_training_median_and_flag_column():
    proc = make()
    assert proc.fill["price"] == 25.0                                  # median of 10, 30, 20, 50
    assert proc.na_columns == ["price"]                                # weight had nothing missing
    assert proc.cat_columns == ["colour", "size", "price_na"]
    assert proc.vocab["price_na"] == [NA_LEVEL, "False", "True"]
    cats, conts = proc.transform(TRAIN)
    np.testing.assert_array_equal(cats[:, 2], [1, 2, 1, 1, 2, 1])      # 2 = "True": was missing
    filled = np.array([10, 25, 30, 20, 25, 50.0])
    np.testing.assert_allclose(conts[:, 0], (filled - filled.mean()) / filled.std(), rtol=1e-6)
    # validation: a NaN in a column that had none in training is filled too, but gets no flag
    cats, conts = proc.transform(VALID)
    np.testing.assert_array_equal(cats[:, 2], [2, 1, 1, 2])
    w = np.arange(1, 7.0)
    np.testing.assert_allclose(conts[:, 1], (np.array([3.5, 2.0, 3.5, 4.0]) - w.mean()) / w.std(), rtol=1e-6)
    assert not np.isnan(conts).any() and conts.dtype == np.float32 and cats.dtype == np.int64


def test_normalise_uses_training_statistics_only():
    proc = make()
    _, conts = proc.transform({"colour": ["red"] * 3, "size": [1] * 3, "price": [25.0, 25.0, 25.0],
                               "weight": [3.5, 3.5, 3.5]})
    filled = np.array([10, 25, 30, 20, 25, 50.0])
    # a validation column of constants is NOT standardised with its own (zero) std
    np.testing.assert_allclose(conts[:, 0], (25 - filled.mean()) / filled.std(), rtol=1e-6)
    np.testing.assert_allclose(conts[:, 1], 0.0, atol=1e-7)             # 3.5 is the training mean
    const = TabularProcessor(cont_names=["c"]).fit({"c": [2.0, 2.0]})
    assert const.stats["c"] == (2.0, 1.0)                               # std 0 -> 1, no division by 0


def test_save_and_load_give_the_same_transform(tmp_path):
    proc = make()
    proc.save(tmp_path / "proc.json")
    again = TabularProcessor.load(tmp_path / "proc.json")
    for a, b in zip(proc.transform(VALID), again.transform(VALID)):
        np.testing.assert_array_equal(a, b)
    assert again.embedding_sizes() == proc.embedding_sizes() == [(4, 3), (4, 3), (3, 3)]
    with pytest.raises(ValueError, match="not a saved TabularProcessor"):
        TabularProcessor.from_state({"format": "something else"})


def test_bad_tables_are_clear_errors():
    with pytest.raises(RuntimeError, match="call fit"):
        TabularProcessor(["colour"]).transform(TRAIN)
    with pytest.raises(KeyError, match="no column 'shape'"):
        TabularProcessor(["shape"]).fit(TRAIN)
    with pytest.raises(ValueError, match="'price', row 1: 'cheap' is not a number"):
        TabularProcessor(cont_names=["price"]).fit({"price": [1.0, "cheap"]})
    with pytest.raises(ValueError, match="'weight' has 2 rows"):
        TabularProcessor(["colour"], ["weight"]).fit({"colour": ["a", "b", "c"], "weight": [1.0, 2.0]})
    with pytest.raises(ValueError, match="both categorical and continuous"):
        TabularProcessor(["x"], ["x"])


def test_one_hot_columns():
    out = one_hot_columns(np.array([[0, 2], [1, 0]]), [2, 3])
    np.testing.assert_array_equal(out, [[1, 0, 0, 0, 1], [0, 1, 1, 0, 0]])
    with pytest.raises(IndexError, match="column 1"):
        one_hot_columns(np.array([[0, 3]]), [2, 3])


# ----------------------------------------------------------------------------- concatenated embeddings
def test_concat_embeddings_gradient_with_repeated_ids(backend_name):
    with md.default_dtype("float64"):
        layer = nn.ConcatEmbeddings([(4, 2), (3, 3), (5, 1)])
    ids = np.array([[0, 2, 4], [3, 2, 4], [3, 0, 1], [1, 1, 4]])        # repeats in every column
    check(layer, md.tensor(ids))


def test_concat_embeddings_values_and_errors(backend_name):
    layer = nn.ConcatEmbeddings([(4, 2), (3, 3)], names=["day", "shop"])
    ids = np.array([[1, 2], [3, 0]])
    W0, W1 = layer.tables[0].W.numpy(), layer.tables[1].W.numpy()
    np.testing.assert_array_equal(layer(ids).numpy(), np.hstack([W0[ids[:, 0]], W1[ids[:, 1]]]))
    assert layer.d_out == 5 and [n for n, _ in layer.named_parameters()] == ["0.W", "1.W"]
    with pytest.raises(IndexError, match="column 1 \\('shop'\\).*token id 3"):
        layer(np.array([[0, 3]]))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        layer(np.array([0, 1]))


def test_tabular_model_gradient_and_the_one_hot_variant(backend_name):
    rng = np.random.default_rng(0)
    cats = np.array([[0, 2], [3, 2], [1, 0]])
    with md.default_dtype("float64"):
        model = md.models.TabularModel([(4, 2), (3, 2)], n_cont=2, n_out=2, layers=(5, 3), dropout=0.0,
                                       emb_dropout=0.0)
    check(model, md.tensor(cats), rng.normal(size=(3, 2)))
    with md.default_dtype("float64"):
        linear = md.models.TabularModel([], n_cont=6, n_out=2, layers=())
    check(linear, rng.normal(size=(3, 6)))                              # logistic regression: model(conts)
    assert linear.n_params() == 6 * 2 + 2
    with pytest.raises(ValueError, match=r"conts of shape \(N, 2\)"):
        model(cats, rng.normal(size=(3, 4)))


# ----------------------------------------------------------------------------- UCI Adult
ADULT = """39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K
50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, >50K
54, ?, 180211, Some-college, 10, Married-civ-spouse, ?, Husband, Asian-Pac-Islander, Male, 0, 0, 60, ?, >50K

"""


def test_adult_parser(tmp_path):
    path = tmp_path / "adult.data"
    path.write_text(ADULT)
    d = S.load_adult(path)
    np.testing.assert_array_equal(d["target"], [0, 1, 1])
    assert d["table"]["workclass"] == ["State-gov", "Self-emp-not-inc", None]
    assert d["table"]["native-country"][2] is None and d["table"]["sex"] == ["Male"] * 3
    np.testing.assert_array_equal(d["table"]["age"], [39, 50, 54])
    assert d["table"]["age"].dtype == np.float64 and set(d["table"]) == set(d["cat_names"] + d["cont_names"])
    assert S.load_adult(tmp_path)["source"] == str(path)                # a folder works too
    # adult.test: a "|" header line and labels with a full stop
    test = tmp_path / "adult.test"
    test.write_text("|1x3 Cross validator\n" + ADULT.replace("<=50K", "<=50K.").replace(">50K", ">50K."))
    np.testing.assert_array_equal(S.load_adult(test)["target"], [0, 1, 1])
    cats, conts = TabularProcessor(d["cat_names"], d["cont_names"]).fit_transform(d["table"])
    assert cats[2, d["cat_names"].index("workclass")] == 0              # "?" -> "#na#"


def test_adult_parser_errors_name_the_line(tmp_path):
    path = tmp_path / "adult.data"
    path.write_text(ADULT.splitlines()[0] + "\n39, State-gov, 77516\n")
    with pytest.raises(S.DataFormatError, match="line 2: expected 15"):
        S.load_adult(path)
    path.write_text(ADULT.splitlines()[0].replace("<=50K", "rich") + "\n")
    with pytest.raises(S.DataFormatError, match="line 1: income must be"):
        S.load_adult(path)
    assert S.REGISTRY["uci-adult"].md5 == "5d7c39d7b8804f071cdd1f2a7c460872"


# ----------------------------------------------------------------------------- the generated table
def test_make_tabular_is_seeded_and_plants_what_it_says():
    a, b = S.make_tabular(n=3000, seed=3), S.make_tabular(n=3000, seed=3)
    assert a["table"]["region"] == b["table"]["region"] and a["source"].startswith("synthetic:")
    t, y, planted = a["table"], a["target"], a["planted"]
    assert set(t) == set(a["cat_names"] + a["cont_names"]) and len(y) == 3000
    assert 0.05 < np.isnan(t["temperature"]).mean() < 0.11
    no_rival = np.isnan(t["competition_distance"])
    assert 0.12 < no_rival.mean() < 0.18
    assert y[no_rival].mean() > y[~no_rival].mean() + 0.1               # the missing value means something
    day = np.array([a["levels"]["day"].index(d) for d in t["day"]])
    promo = np.array(t["promo"]) == "yes"
    # the promotion effect follows sin(angle): positive early in the week, negative late
    effect = [y[(day == d) & promo].mean() - y[(day == d) & ~promo].mean() for d in range(7)]
    assert np.corrcoef(effect, np.sin(planted["day_angle"]))[0, 1] > 0.8
    assert math.isclose(float(np.mean((planted["prob"] > 0.5) == y)), 0.78, abs_tol=0.05)


def test_make_ratings_user_metadata_reveals_some_taste():
    r = S.make_ratings(n_users=400, n_items=50, seed=0)
    users, P = r["users"], r["planted"]["user_factors"]
    assert len(users["age"]) == len(users["gender"]) == len(users["occupation"]) == 400
    assert np.corrcoef(users["age"], P[:, 0])[0, 1] > 0.5
    female = np.array(users["gender"]) == "F"
    assert P[female, 1].mean() > P[~female, 1].mean()


def write_adult_like(path, n=400, seed=0):
    """Random people in the adult.data format (generated here: no real records)."""
    rng = np.random.default_rng(seed)
    edu = ["Bachelors", "HS-grad", "Masters", "Doctorate", "Some-college"]
    occ = ["Tech-support", "Sales", "Exec-managerial", "?", "Craft-repair"]
    lines = []
    for _ in range(n):
        e = int(rng.integers(len(edu)))
        rich = rng.random() < 0.15 + 0.15 * e
        lines.append(", ".join([str(rng.integers(18, 70)), "Private", str(rng.integers(20000, 400000)), edu[e],
                                str(9 + e), "Never-married", occ[int(rng.integers(len(occ)))], "Not-in-family",
                                "White", "Female" if rng.random() < 0.4 else "Male", "0", "0",
                                str(rng.integers(20, 60)), "?" if rng.random() < 0.05 else "United-States",
                                ">50K" if rich else "<=50K"]))
    path.write_text("\n".join(lines) + "\n\n")


def test_lesson_reads_an_adult_file(tmp_path):
    """The tabular lesson's --data path end to end, on a small generated file in the adult.data format."""
    from lessons.__main__ import find, run_lesson
    write_adult_like(tmp_path / "adult.data")
    r = run_lesson(find("tabular_embeddings"), data=str(tmp_path / "adult.data"), quick=True,
                   out=str(tmp_path / "out"), seed=0, backend="numpy")
    labels = [h["label"] for h in r["headlines"]]
    assert "validation accuracy: entity embeddings" in labels and not any("map" in x for x in labels)
    assert r["figures"] and (tmp_path / "out" / "13_tabular_embeddings" / "tabular_processor.json").exists()
