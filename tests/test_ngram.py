"""minidl.models.ngram: counts and probabilities checked by hand on a three-sentence corpus,
smoothing that sums to one, interpolation weights recovered by EM, samples, clear errors."""
import math

import numpy as np
import pytest

from minidl.models import NGramLM, fit_interpolation
from minidl.models.ngram import with_markers

#   ids: <s>=0  </s>=1  the=2  cat=3  sat=4  ran=5  a=6  dog=7
WORDS = ["<s>", "</s>", "the", "cat", "sat", "ran", "a", "dog"]
ID = {w: i for i, w in enumerate(WORDS)}
CORPUS = ["the cat sat", "the cat ran", "a dog sat"]


def ids(sentences):
    return [np.array([ID[w] for w in s.split()]) for s in sentences]


def lm(n):
    return NGramLM(n, vocab_size=len(WORDS), bos=0, eos=1).fit(ids(CORPUS))


def test_markers():
    stream, predicted = with_markers(ids(["a dog"]), 3, bos=0, eos=1)
    assert stream.tolist() == [0, 0, 6, 7, 1]                       # <s> <s> a dog </s>
    assert predicted.tolist() == [False, False, True, True, True]
    stream, predicted = with_markers([np.array([6]), np.array([], dtype=np.int64), np.array([7, 3])], 2, 0, 1)
    assert stream.tolist() == [0, 6, 1, 0, 1, 0, 7, 3, 1]              # an empty line still ends
    assert predicted.tolist() == [False, True, True, False, True, False, True, True, True]


def test_hand_worked_mle_probabilities():
    """12 predicted tokens: the cat sat </s> the cat ran </s> a dog sat </s>."""
    P = lm(3).probabilities(ids(["the cat sat", "a dog ran"]), "mle")   # (N, 3): unigram, bigram, trigram
    #          the     cat     sat     </s>    a       dog     ran     </s>
    unigram = [2 / 12, 2 / 12, 2 / 12, 3 / 12, 1 / 12, 1 / 12, 1 / 12, 3 / 12]
    bigram = [2 / 3, 1, 1 / 2, 1, 1 / 3, 1, 0, 1]          # P(ran | dog) = 0/1, P(</s> | ran) = 1/1
    trigram = [2 / 3, 1, 1 / 2, 1, 1 / 3, 1, 0, 0]         # P(ran | a dog) = 0; context "dog ran" unseen
    np.testing.assert_allclose(P[:, 0], unigram)
    np.testing.assert_allclose(P[:, 1], bigram)
    np.testing.assert_allclose(P[:, 2], trigram)


def test_unseen_ngram_makes_mle_perplexity_infinite_and_add_k_finite():
    model = lm(2)
    assert math.isinf(model.perplexity(ids(["the dog sat"]), order=2, smoothing="mle"))   # C(the dog) = 0
    # add-1 over |V| = 7 predictable tokens: P(dog | the) = (0 + 1) / (2 + 7)
    P = model.probabilities(ids(["the dog sat"]), "add_k", k=1.0)
    np.testing.assert_allclose(P[1, 1], 1 / 9)
    np.testing.assert_allclose(P[0, 1], (2 + 1) / (3 + 7))           # P(the | <s>)
    seen = model.perplexity(ids(["the cat sat"]), order=2, smoothing="mle")
    np.testing.assert_allclose(seen, (2 / 3 * 1 * 1 / 2 * 1) ** (-1 / 4))


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("smoothing,k", [("mle", 0), ("add_k", 0.3), ("add_k", 1.0)])
def test_every_distribution_sums_to_one(order, smoothing, k):
    """sum over the 7 predictable tokens w of p(w | "the cat") = 1, for each order and smoothing."""
    model = lm(3)
    total = 0.0
    for w in range(1, 8):
        sentence = [ID["the"], ID["cat"]] + ([w] if w != ID["</s>"] else [])
        total += model.probabilities([np.array(sentence)], smoothing, k)[2, order - 1]
    np.testing.assert_allclose(total, 1.0)
    w, c = model.continuations([ID["the"], ID["cat"]], order)
    expected = {1: [1, 2, 3, 4, 5, 6, 7], 2: [4, 5], 3: [4, 5]}[order]     # ids seen after the context
    assert w.tolist() == expected and c.sum() == {1: 12, 2: 2, 3: 2}[order]


def test_interpolation_is_a_mixture_and_em_recovers_its_weights():
    model = lm(2)
    lam = np.array([0.1, 0.3, 0.6])
    comp = model.interpolation_components(ids(["the dog sat"]), order=2)      # uniform, unigram, bigram
    np.testing.assert_allclose(comp[:, 0], 1 / 7)
    lp = model.log_probs(ids(["the dog sat"]), order=2, smoothing="interpolated", lambdas=lam)
    np.testing.assert_allclose(np.exp(lp), comp @ lam)
    assert np.isfinite(lp).all()
    # tokens drawn from 0.3 A + 0.7 B: EM finds (0.3, 0.7) from the component probabilities alone
    rng = np.random.default_rng(0)
    A, B = rng.dirichlet(np.ones(20)), rng.dirichlet(np.ones(20) * 0.2)
    from_a = rng.random(20000) < 0.3
    tokens = np.where(from_a, rng.choice(20, 20000, p=A), rng.choice(20, 20000, p=B))
    np.testing.assert_allclose(fit_interpolation(np.stack([A[tokens], B[tokens]], 1)), [0.3, 0.7], atol=0.03)
    with pytest.raises(ValueError, match="needs 3 lambdas"):
        model.log_probs(ids(["a dog"]), order=2, smoothing="interpolated", lambdas=[0.5, 0.5])


def test_samples_only_follow_seen_ngrams():
    model = lm(2)
    rng = np.random.default_rng(0)
    seen_bigrams = {(a, b) for s in ids(CORPUS) for a, b in zip([0, *s], [*s, 1])}
    for _ in range(20):
        s = model.sample(order=2, rng=rng)
        assert all((a, b) in seen_bigrams for a, b in zip([0, *s], [*s, 1]))
    trigram_samples = {" ".join(WORDS[i] for i in lm(3).sample(rng=rng)) for _ in range(30)}
    assert trigram_samples <= set(CORPUS)                      # a trigram model of 3 sentences parrots them


def test_clear_errors():
    with pytest.raises(IndexError, match="token id 9 is out of range for vocab_size 8"):
        NGramLM(2, 8, 0, 1).fit([np.array([2, 9])])
    with pytest.raises(ValueError, match="int64 key"):
        NGramLM(5, 100_000, 0, 1)
    with pytest.raises(ValueError, match="'mle' or 'add_k'"):
        lm(2).probabilities(ids(["a dog"]), "kneser")


def test_counting_a_million_tokens_is_fast():
    import time
    rng = np.random.default_rng(0)
    sentences = np.array_split(rng.integers(2, 70, size=1_000_000), 40_000)
    started = time.perf_counter()
    model = NGramLM(4, 70, 0, 1).fit(sentences)
    elapsed = time.perf_counter() - started
    assert model.n_tokens == 1_040_000 and elapsed < 10          # ~1 s on an idle core
