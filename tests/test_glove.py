"""GloVe: co-occurrence counts by hand, the loss's gradients (autograd, hand formula, numerical),
training, AdaGrad, analogies, and the analogy-file parser."""
import hashlib
import math

import numpy as np
import pytest

import minidl as md
from minidl import datasets, optim
from minidl.datasets.analogies import load_analogies
from minidl.datasets.registry import Resource
from minidl.datasets.synthetic_analogies import COMMON_PAIRS, analogy_questions, make_analogy_corpus
from minidl.models import glove as G

# "the cat sat on the mat": the=0 cat=1 sat=2 on=3 mat=4, six words, "the" twice
SENTENCE = [[0, 1, 2, 3, 0, 4]]
# Same sentence: each of the 15 pairs of positions adds 1 both ways (30 in all).
# "the" (positions 0 and 4) pairs with itself once -> X[0, 0] = 2, and with every
# other word from both of its positions -> 2; the other words meet each other once.
SAME = np.array([[2, 2, 2, 2, 2],
                 [2, 0, 1, 1, 1],
                 [2, 1, 0, 1, 1],
                 [2, 1, 1, 0, 1],
                 [2, 1, 1, 1, 0]], dtype=float)
# Window 2, weight 1/d.  d = 1: the-cat, cat-sat, sat-on, on-the, the-mat -> 1 each;
# d = 2: the-sat (0,2), cat-on (1,3), sat-the (2,4), on-mat (3,5) -> 1/2 each.
WIN2 = np.array([[0, 1, 1, 1, 1],
                 [1, 0, 1, .5, 0],
                 [1, 1, 0, 1, 0],
                 [1, .5, 1, 0, .5],
                 [1, 0, 0, .5, 0]])


# ---------------------------------------------------------------------- counting
def test_cooccurrence_same_sentence_by_hand():
    X = G.cooccurrence(SENTENCE, 5)
    np.testing.assert_array_equal(X.dense(), SAME)
    assert X.dense().sum() == 6 * 5 and X.nnz == 21
    assert X.get(0, 0) == 2 and X.get(1, 1) == 0


def test_cooccurrence_window_by_hand():
    X = G.cooccurrence(SENTENCE, 5, window=2)
    np.testing.assert_allclose(X.dense(), WIN2)
    win1 = np.zeros((5, 5))
    for a, b in ((0, 1), (1, 2), (2, 3), (3, 0), (0, 4)):      # the d = 1 pairs only
        win1[a, b] = win1[b, a] = 1
    np.testing.assert_allclose(G.cooccurrence(SENTENCE, 5, window=1).dense(), win1)
    # "cat" (position 1) and "mat" (position 5) are 4 apart: a window of 5 adds 1/4
    assert G.cooccurrence(SENTENCE, 5, window=5).get(1, 4) == pytest.approx(1 / 4)
    assert G.cooccurrence(SENTENCE, 5, window=4).get(1, 4) == pytest.approx(1 / 4)
    assert G.cooccurrence(SENTENCE, 5, window=3).get(1, 4) == 0


def test_cooccurrence_is_sparse_sorted_and_never_crosses_sentences():
    X = G.cooccurrence([[0, 1], [2, 3]], 4)
    assert X.nnz == 4 and X.get(1, 2) == 0
    keys = X.rows * 4 + X.cols
    assert np.all(np.diff(keys) > 0)
    np.testing.assert_array_equal(X.row_block([1, 3]), [[1, 0, 0, 0], [0, 0, 1, 0]])


def test_cooccurrence_ignore_ids_closes_the_gap_and_errors():
    # dropping id 9 makes 0 and 1 neighbours, as the reference code does with rare words
    X = G.cooccurrence([[0, 9, 1]], 10, window=1, ignore_ids=(9,))
    assert X.get(0, 1) == 1 and X.get(0, 9) == 0
    with pytest.raises(IndexError, match="id 7 is outside the vocabulary 0..4"):
        G.cooccurrence([[0, 7]], 5)
    with pytest.raises(ValueError, match="window"):
        G.cooccurrence(SENTENCE, 5, window=0)
    assert G.cooccurrence([[3]], 5).nnz == 0


def test_cooccurrence_matches_a_python_loop_on_random_sentences():
    rng = np.random.default_rng(1)
    sents = [rng.integers(0, 7, size=rng.integers(1, 9)) for _ in range(30)]
    for window in (None, 3):
        ref = np.zeros((7, 7))
        for s in sents:
            for p in range(len(s)):
                for q in range(len(s)):
                    d = abs(p - q)
                    if d and (window is None or d <= window):
                        ref[s[p], s[q]] += 1 if window is None else 1 / d
        np.testing.assert_allclose(G.cooccurrence(sents, 7, window=window).dense(), ref)


# ---------------------------------------------------------------------- the loss and its gradient
def _pairs(V=6, n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, n), rng.integers(0, V, n), rng.uniform(0.5, 150, n)   # some x above x_max


@pytest.mark.parametrize("variant", ["glove", "simple"])
def test_glove_loss_gradcheck(backend_name, variant):
    i, j, x = _pairs()
    x[np.abs(x - 100) < 1] = 50                        # stay off f's kink at x_max
    with md.default_dtype("float64"):
        model = G.GloVe(6, 3, variant=variant)
    report = md.gradcheck(lambda i_, j_, x_: model.loss(i_, j_, x_), i, j, x, params=model.parameters(),
                          check_inputs=False)
    assert report, str(report)


@pytest.mark.parametrize("variant", ["glove", "simple"])
def test_autograd_equals_the_hand_derived_gradient(backend_name, variant):
    i, j, x = _pairs(seed=3)
    with md.default_dtype("float64"):
        model = G.GloVe(6, 4, variant=variant)
        model.loss(i, j, x).backward()
    hand = G.hand_gradients(model, i, j, x)
    for p, h in zip((model.w.W, model.w_tilde.W, model.b.W, model.b_tilde.W), hand):
        np.testing.assert_allclose(md.backend.asnumpy(p.grad), h, rtol=1e-10, atol=1e-12)


def test_loss_value_by_hand():
    with md.default_dtype("float64"):
        model = G.GloVe(2, 2)
    W, Wt = model.w.W.numpy(), model.w_tilde.W.numpy()
    b, bt = model.b.W.numpy()[:, 0], model.b_tilde.W.numpy()[:, 0]
    x = np.array([10.0, 200.0])
    e = np.array([W[0] @ Wt[1] + b[0] + bt[1] - math.log(10), W[1] @ Wt[0] + b[1] + bt[0] - math.log(200)])
    f = np.array([(10 / 100) ** 0.75, 1.0])             # f caps at 1 above x_max
    assert model.loss([0, 1], [1, 0], x).item() == pytest.approx((f * e * e).sum(), rel=1e-12)


def test_simple_block_loss_is_the_sum_over_every_pair_zeros_included():
    X = G.cooccurrence(SENTENCE, 5)
    with md.default_dtype("float64"):
        model = G.GloVe(5, 3, variant="simple")
        every_i, every_j = np.divmod(np.arange(25), 5)
        total = model.loss(every_i, every_j, X.dense().ravel()).item()
        blocks = model.block_loss([0, 1], X).item() + model.block_loss([2, 3, 4], X).item()
    assert blocks == pytest.approx(total, rel=1e-12)
    assert model.objective(X) == pytest.approx(total, rel=1e-9)


def test_training_lowers_j_and_objective_reports_it():
    corpus = make_analogy_corpus(n_sentences=600, seed=0)
    vec = md.data.TextVectorizer().adapt(corpus["sentences"])
    X = G.cooccurrence([vec(s) for s in corpus["sentences"]], vec.vocabulary_size(), ignore_ids=(0, 1))
    md.seed(0)
    model = G.GloVe(vec.vocabulary_size(), 8)
    start = model.objective(X)
    history = model.fit(X, epochs=3, lr=0.2, batch_size=256)
    assert len(history) == 3 and history[-1] < history[0]
    assert model.objective(X) < 0.5 * start
    assert model.vectors().shape == (vec.vocabulary_size(), 8)
    np.testing.assert_allclose(model.vectors(), model.w.W.numpy() + model.w_tilde.W.numpy())
    with pytest.raises(ValueError, match="optimizer"):
        model.fit(X, optimizer="rmsprop")
    with pytest.raises(FloatingPointError, match="lower the learning rate"), np.errstate(all="ignore"):
        G.GloVe(vec.vocabulary_size(), 8).fit(X, epochs=2, optimizer="sgd", lr=1e6)


# ---------------------------------------------------------------------- AdaGrad
def test_adagrad_step_by_hand(backend_name):
    p = md.nn.Parameter(md.tensor([1.0, -2.0]).data)
    opt = optim.Adagrad([p], lr=0.5, initial_accumulator_value=1.0)
    for g, expect_G in (([3.0, 0.0], [10.0, 1.0]), ([1.0, 4.0], [11.0, 17.0])):
        before = p.numpy().copy()
        p.grad = md.tensor(g).data
        opt.step()
        np.testing.assert_allclose(p.numpy(), before - 0.5 * np.array(g) / np.sqrt(expect_G), rtol=1e-6)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optim.Adagrad([p], initial_accumulator_value=-1)


# ---------------------------------------------------------------------- using the vectors
VOCAB = ["", "[UNK]", "man", "woman", "king", "queen", "apple"]
E = np.array([[0, 0, 0], [1, 1, 1],
              [1, 0, 0], [1, 1, 0],          # man, woman: woman = man + (0, 1, 0)
              [1, 0, 2], [1, 1, 2],          # king, queen: queen = king + (0, 1, 0)
              [-1, 0, 0.2]], dtype=float)


def test_analogy_and_nearest():
    top = G.analogy(E, VOCAB, "man", "king", "woman", k=2)
    assert top[0][0] == "queen" and top[0][1] > top[1][1]
    assert all(w not in ("man", "king", "woman", "", "[UNK]") for w, _ in G.analogy(E, VOCAB, "man", "king",
                                                                                    "woman", k=4))
    assert [w for w, _ in G.nearest(E, VOCAB, "king", k=2)] == ["queen", "man"]
    with pytest.raises(KeyError, match="'zebra' not in the vocabulary"):
        G.analogy(E, VOCAB, "man", "zebra", "woman")


def test_analogy_accuracy_counts_and_coverage():
    qs = [("man", "king", "woman", "queen"), ("woman", "queen", "man", "king"),
          ("man", "woman", "king", "apple"), ("man", "king", "woman", "zebra")]
    r = G.analogy_accuracy(E, VOCAB, qs)
    assert (r["correct"], r["answered"], r["total"]) == (2, 3, 4)
    assert r["accuracy"] == pytest.approx(2 / 3) and r["coverage"] == pytest.approx(0.75)
    assert r["predictions"][2] == (qs[2], "queen")


def test_align_vectors_and_text_round_trip(tmp_path):
    wv = G.align_vectors(E, VOCAB, ["", "[UNK]", "queen", "pear", "man"], seed=0)
    assert wv.found == ["queen", "man"] and wv.missing == ["pear"] and wv.coverage == pytest.approx(2 / 3)
    np.testing.assert_allclose(wv.matrix[[2, 4]], E[[5, 2]])
    np.testing.assert_allclose(wv.matrix[0], 0)
    np.testing.assert_allclose(wv.matrix[1], E[[5, 2]].mean(0), rtol=1e-6)
    G.write_vectors_text(tmp_path / "v.txt", E, VOCAB)
    back = datasets.load_word_vectors(tmp_path / "v.txt", vocab=["", "[UNK]", "queen", "pear", "man"], seed=0)
    np.testing.assert_allclose(back.matrix[[2, 4]], wv.matrix[[2, 4]], rtol=1e-5)
    assert back.found == wv.found and len(open(tmp_path / "v.txt").read().splitlines()) == 5


def test_glove_vectors_save_and_load(tmp_path):
    model = G.GloVe(7, 3)
    md.save(model, tmp_path / "g.npz")
    other = G.GloVe(7, 3)
    md.load(other, tmp_path / "g.npz")
    np.testing.assert_array_equal(other.vectors(), model.vectors())


# ---------------------------------------------------------------------- analogy questions
GOOGLE_LIKE = """: capital-common-countries
Athens Greece Baghdad Iraq
Athens Greece Bangkok Thailand

: gram8-plural
banana bananas bird birds
"""


def test_analogy_file_parser(tmp_path):
    (tmp_path / "questions-words.txt").write_text(GOOGLE_LIKE)
    qs = load_analogies(tmp_path)
    assert qs["questions"][0] == ("athens", "greece", "baghdad", "iraq")
    assert qs["sections"] == ["capital-common-countries"] * 2 + ["gram8-plural"]
    assert qs["semantic"].tolist() == [True, True, False]
    assert qs["section_names"] == ["capital-common-countries", "gram8-plural"]
    assert load_analogies(tmp_path / "questions-words.txt", lowercase=False)["questions"][2][0] == "banana"


@pytest.mark.parametrize("text, message", [
    (": s\na b c\n", "line 2: expected four words"),
    ("a b c d\n", "line 1: a question before the first"),
    (":\na b c d\n", "line 1: a section header needs a name"),
    (": s\n\n", "no questions"),
])
def test_analogy_file_errors_name_the_line(tmp_path, text, message):
    (tmp_path / "q.txt").write_text(text)
    with pytest.raises(datasets.DataFormatError, match=message):
        load_analogies(tmp_path / "q.txt")


def test_google_analogies_is_registered_with_a_checksum_and_sha1_is_checked(tmp_path, monkeypatch):
    res = datasets.REGISTRY["google-analogies"]
    assert res.sha1 is not None and len(res.sha1) == 40 and res.urls[0].endswith("questions-words.txt")
    src = tmp_path / "src.txt"
    src.write_text(GOOGLE_LIKE)
    good = hashlib.sha1(GOOGLE_LIKE.encode()).hexdigest()
    monkeypatch.setitem(datasets.REGISTRY, "toy-analogies",
                        Resource(urls=(src.as_uri(),), filename="a/q.txt", sha1=good))
    path = datasets.download("toy-analogies", root=tmp_path / "cache", progress=False)
    assert len(load_analogies(path)["questions"]) == 3
    monkeypatch.setitem(datasets.REGISTRY, "bad-analogies",
                        Resource(urls=(src.as_uri(),), filename="b/q.txt", sha1="0" * 40))
    with pytest.raises(datasets.ChecksumError, match="SHA-1"):
        datasets.download("bad-analogies", root=tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / "b" / "q.txt").exists()


def test_planted_corpus_and_question_sets():
    c = make_analogy_corpus(n_sentences=200, seed=0)
    assert len(c["sentences"]) == 200 and c["source"].startswith("synthetic:")
    assert len(c["questions"]) == 16 * 15 + 15 * 14 + 12 * 11 == len(c["sections"])
    assert ("france", "paris", "italy", "rome") in c["questions"]
    assert make_analogy_corpus(n_sentences=50, seed=3)["text"] == make_analogy_corpus(n_sentences=50, seed=3)["text"]
    qs, secs = analogy_questions({"r": [("a", "b"), ("c", "d"), ("a", "b")]})
    assert qs == [("a", "b", "c", "d"), ("c", "d", "a", "b")] and secs == ["r", "r"]
    assert all(len(set(q)) == 4 for q in analogy_questions(COMMON_PAIRS)[0])


def test_glove_recovers_planted_analogies_far_above_chance():
    """The planted structure is learnable: a small run already beats chance (1/V) by far."""
    corpus = make_analogy_corpus(n_sentences=3000, seed=0)
    vec = md.data.TextVectorizer().adapt(corpus["sentences"])
    X = G.cooccurrence([vec(s) for s in corpus["sentences"]], vec.vocabulary_size(), ignore_ids=(0, 1))
    md.seed(0)
    model = G.GloVe(vec.vocabulary_size(), 16)
    model.fit(X, epochs=8, lr=0.3, batch_size=256)
    acc = G.analogy_accuracy(model.vectors(), vec, corpus["questions"])["accuracy"]
    assert acc > 20 / vec.vocabulary_size(), acc
