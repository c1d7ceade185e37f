"""Synthetic generators: seeded, labelled as synthetic, and their planted structure is learnable.

The models here are deliberately tiny NumPy ones (logistic regression, n-gram
counts, least squares, nearest centroid) so these tests do not depend on the
rest of minidl.
"""
from collections import Counter, defaultdict

import numpy as np
import pytest

import minidl.datasets as S
from minidl.data import TextVectorizer


def logistic_regression(X, y, steps=300, lr=3.0):
    """Plain full-batch gradient descent on the mean log-loss; returns (w, b)."""
    w, b = np.zeros(X.shape[1], np.float32), 0.0
    for _ in range(steps):
        g = (1.0 / (1.0 + np.exp(-(X @ w + b))) - y).astype(np.float32)
        w -= lr * (X.T @ g) / len(y)
        b -= lr * g.mean()
    return w, b


@pytest.mark.parametrize("make, kwargs", [
    (S.make_sentiment, {"n": 50}), (S.make_grammar_corpus, {"n_sentences": 50}), (S.make_ner, {"n": 50}),
    (S.make_question_pairs, {"n": 50}), (S.make_ratings, {"n_users": 20, "n_items": 10}),
    (S.make_digits, {"n": 20}),
])
def test_generators_are_seeded_and_say_they_are_synthetic(make, kwargs):
    a, b, c = make(seed=1, **kwargs), make(seed=1, **kwargs), make(seed=2, **kwargs)
    assert a["source"].startswith("synthetic:") and "ynthetic" in a["description"]
    first = next(k for k in ("texts", "text", "sentences", "question1", "rating", "images") if k in a)
    same = (lambda u, v: np.array_equal(u, v)) if isinstance(a[first], np.ndarray) else (lambda u, v: u == v)
    assert same(a[first], b[first]) and not same(a[first], c[first])


def test_sentiment_negation_needs_word_pairs():
    d = S.make_sentiment(3000, seed=0)
    y, neg = d["labels"], d["negated"]
    assert 0.45 < y.mean() < 0.55 and 0.25 < neg.mean() < 0.35
    assert any(" not " in t for t in d["texts"])
    tr, te = slice(0, 2000), slice(2000, 3000)

    def accuracy(split):
        vec = TextVectorizer(output_mode="multi_hot", split=split).adapt(d["texts"][tr])
        X = vec(d["texts"])
        w, b = logistic_regression(X[tr], y[tr])
        right = (X[te] @ w + b > 0) == y[te]
        return right.mean(), right[neg[te]].mean()

    uni, uni_negated = accuracy("whitespace")
    pairs, pairs_negated = accuracy(lambda s: s.split() + [a + "_" + b for a, b in zip(s.split(), s.split()[1:])])
    assert uni > 0.75                       # the sentiment words carry the label ...
    assert uni_negated < 0.6                # ... but a bag of words cannot undo "not"
    assert pairs > 0.93 and pairs_negated > 0.85


def char_ngram_cross_entropy(order, train, test, k=0.1):
    """Held-out nats/char of an add-k smoothed character n-gram model."""
    vocab = len(set(train) | set(test))
    context, joint = Counter(), Counter()
    for i in range(order - 1, len(train)):
        context[train[i - order + 1:i]] += 1
        joint[train[i - order + 1:i + 1]] += 1
    logp = [np.log((joint[test[i - order + 1:i + 1]] + k) / (context[test[i - order + 1:i]] + k * vocab))
            for i in range(order - 1, len(test))]
    return -float(np.mean(logp))


def test_grammar_corpus_rewards_longer_context():
    g = S.make_grammar_corpus(2000, seed=0)
    text = g["text"]
    cut = int(0.8 * len(text))
    h2, h3, h5 = (char_ngram_cross_entropy(n, text[:cut], text[cut:]) for n in (2, 3, 5))
    assert h3 < h2 - 0.4 and h5 < h3 - 0.15
    # The planted agreement: the main verb is plural exactly when the subject is.
    plural_forms = {p for _, p in S.synthetic_text.INTRANSITIVE + S.synthetic_text.TRANSITIVE}
    is_plural_verb = np.array([v in plural_forms for v in g["main_verb"]])
    np.testing.assert_array_equal(is_plural_verb, g["subject_plural"])
    assert any(" near the " in s or " that " in s for s in g["sentences"])       # distractors present
    assert all(s.split()[-1] == "." for s in g["sentences"])
    either = [s for s in g["sentences"] if s.startswith("either ")]
    assert either and all(" or " in s for s in either)


def test_ner_bio_tags_and_context_resolves_ambiguous_names():
    d = S.make_ner(1500, seed=0)
    for toks, tags in zip(d["sentences"], d["tags"]):
        assert len(toks) == len(tags)
        for prev, tag in zip(["O"] + tags, tags):
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:] and prev != "O"           # I-x only continues an x
    train, test = range(1000), range(1000, 1500)

    def fit(key):
        counts = defaultdict(Counter)
        for i in train:
            s, t = d["sentences"][i], d["tags"][i]
            for j in range(len(s)):
                counts[key(s, j)][t[j]] += 1
        return {k: c.most_common(1)[0][0] for k, c in counts.items()}

    word = fit(lambda s, j: s[j])
    context = fit(lambda s, j: (s[j - 1] if j else "<s>", s[j]))
    scores = defaultdict(list)
    for i in test:
        s, t = d["sentences"][i], d["tags"][i]
        for j in range(len(s)):
            if t[j] == "O":
                continue
            guess_w = word.get(s[j], "O")
            guess_c = context.get((s[j - 1] if j else "<s>", s[j]), guess_w)
            group = "ambiguous" if s[j] in ("Jordan", "Washington", "Paris") else "entity"
            scores[group + "_word"].append(guess_w == t[j])
            scores[group + "_context"].append(guess_c == t[j])
    assert np.mean(scores["entity_word"]) > 0.9                    # gazetteers are learnable
    assert np.mean(scores["ambiguous_word"]) < 0.7                 # ambiguous names need context ...
    assert np.mean(scores["ambiguous_context"]) > 0.95             # ... which resolves them


def test_question_pairs_need_more_than_word_overlap():
    d = S.make_question_pairs(3000, seed=0)
    y = d["is_duplicate"]
    assert 0.45 < y.mean() < 0.55
    same = (np.array(d["intent1"]) == np.array(d["intent2"])) & (np.array(d["topic1"]) == np.array(d["topic2"]))
    np.testing.assert_array_equal(same, y == 1)
    assert all(a != b for a, b, dup in zip(d["question1"], d["question2"], y) if dup)   # paraphrases, not copies
    vec = TextVectorizer(output_mode="multi_hot").adapt(d["question1"] + d["question2"])
    A, B = vec(d["question1"]), vec(d["question2"])
    tr, te = slice(0, 2000), slice(2000, 3000)
    jaccard = (A * B).sum(1) / np.maximum(A + B - A * B, 0).sum(1)
    best_threshold = max(((jaccard[tr] > t) == y[tr]).mean() for t in np.linspace(0, 1, 41))
    X = np.hstack([A * B, np.abs(A - B)])
    w, b = logistic_regression(X[tr], y[tr])
    assert best_threshold < 0.8                                     # overlap alone is not enough
    assert ((X[te] @ w + b > 0) == y[te]).mean() > 0.95


def test_ratings_recover_biases_and_low_rank_factors():
    r = S.make_ratings(n_users=300, n_items=200, seed=0)
    assert set(np.unique(r["rating"])) <= {1, 2, 3, 4, 5}
    assert r["genres"].shape == (200, 6) and np.all(r["genres"].sum(1) >= 1)
    n_users, n_items = r["n_users"], r["n_items"]
    perm = np.random.default_rng(0).permutation(len(r["rating"]))
    tr, te = perm[:int(0.8 * len(perm))], perm[int(0.8 * len(perm)):]
    user, item, rating = r["user"], r["item"], r["rating"].astype(np.float64)
    mu = rating[tr].mean()

    # Biases by ridge least squares on one-hot user + item columns.
    M = np.zeros((len(tr), n_users + n_items))
    M[np.arange(len(tr)), user[tr]] = 1
    M[np.arange(len(tr)), n_users + item[tr]] = 1
    coef = np.linalg.solve(M.T @ M + 5.0 * np.eye(n_users + n_items), M.T @ (rating[tr] - mu))
    bu, bi = coef[:n_users], coef[n_users:]
    assert np.corrcoef(bi, r["planted"]["item_bias"])[0, 1] > 0.8

    # Rank-3 factors of the residual by a few rounds of alternating least squares.
    rng, k = np.random.default_rng(0), 3
    P, Q = rng.normal(0, 0.1, (n_users, k)), rng.normal(0, 0.1, (n_items, k))
    resid = rating[tr] - mu - bu[user[tr]] - bi[item[tr]]
    for _ in range(8):
        for table, fixed, own, other in ((P, Q, user[tr], item[tr]), (Q, P, item[tr], user[tr])):
            for a in range(len(table)):
                rows = own == a
                F = fixed[other[rows]]
                table[a] = np.linalg.solve(F.T @ F + np.eye(k), F.T @ resid[rows])
    base = mu + bu[user[te]] + bi[item[te]]
    rmse_mean = np.sqrt(np.mean((rating[te] - mu) ** 2))
    rmse_bias = np.sqrt(np.mean((rating[te] - base) ** 2))
    rmse_mf = np.sqrt(np.mean((rating[te] - base - np.sum(P[user[te]] * Q[item[te]], 1)) ** 2))
    assert rmse_bias < 0.93 * rmse_mean and rmse_mf < 0.8 * rmse_mean


def test_digits_look_like_mnist_and_nearest_centroid_learns_them():
    d = S.make_digits(1500, seed=0)
    images, labels = d["images"], d["labels"]
    assert images.shape == (1500, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [150] * 10)
    assert images[:, 12:16, 12:16].mean() > 3 * images[:, :3, :].mean()    # ink in the middle
    X = images.reshape(len(images), -1) / 255.0
    centroids = np.stack([X[:1000][labels[:1000] == c].mean(0) for c in range(10)])
    guess = np.argmin(((X[1000:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (guess == labels[1000:]).mean() > 0.8                   # chance is 0.1
    clean = S.make_digits(10, seed=0, noise=0.0, jitter=0.0)["images"]
    assert len({clean[i].tobytes() for i in range(10)}) == 10     # ten distinct glyphs
