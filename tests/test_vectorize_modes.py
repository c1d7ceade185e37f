"""TextVectorizer's bag modes (multi-hot, count, TF-IDF) and n-grams against hand-computed outputs."""
import math

import numpy as np
import pytest

from minidl.data import TextVectorizer
from minidl.data.bags import inverse_document_frequency, ngram_widths, ngrams

THREE = ["The cat sat on the mat.", "The dog sat!", "A cat and a dog."]
# tokens: [the cat sat on the mat] [the dog sat] [a cat and a dog]
# counts: the 3, a 2, cat 2, dog 2, sat 2, and 1, mat 1, on 1  (ties alphabetical)
VOCAB = ["", "[UNK]", "the", "a", "cat", "dog", "sat", "and", "mat", "on"]
# document frequencies (of 3 texts): the 2, a 1, cat 2, dog 2, sat 2, and 1, mat 1, on 1
L2, L25 = math.log(1 + 3 / 3), math.log(1 + 3 / 2)        # idf for df = 2 and df = 1


def test_vocabulary_of_the_three_sentences():
    assert TextVectorizer().adapt(THREE).vocabulary() == VOCAB


def test_int_mode_pads_with_zero_unknown_is_one_and_truncates():
    vec = TextVectorizer(max_tokens=5, output_sequence_length=4).adapt(THREE)
    assert vec.vocabulary() == ["", "[UNK]", "the", "a", "cat"]
    out = vec(["the cat sat on the mat", "a dog"])
    np.testing.assert_array_equal(out, [[2, 4, 1, 1], [3, 1, 0, 0]])
    assert out.dtype == np.int64


def test_multi_hot_and_count_by_hand():
    count = TextVectorizer(output_mode="count").adapt(THREE)(["the cat the zebra"])
    np.testing.assert_array_equal(count, [[0, 1, 2, 0, 1, 0, 0, 0, 0, 0]])
    multi = TextVectorizer(output_mode="multi_hot").adapt(THREE)(["the cat the zebra"])
    np.testing.assert_array_equal(multi, [[0, 1, 1, 0, 1, 0, 0, 0, 0, 0]])


def test_tf_idf_formula_by_hand():
    vec = TextVectorizer(output_mode="tf_idf").adapt(THREE)
    idf = [0.0, (4 * L2 + 4 * L25) / 8, L2, L25, L2, L2, L2, L25, L25, L25]   # pad 0, unk = mean
    np.testing.assert_allclose(vec.idf_weights(), idf, rtol=1e-12)
    out = vec(["the the cat zebra", "and"])
    expected = np.zeros((2, 10))
    expected[0, [1, 2, 4]] = [idf[1], 2 * L2, L2]           # count * idf; "zebra" is unknown
    expected[1, 7] = L25
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32


def test_tf_idf_counts_a_document_once_however_often_the_word_occurs():
    vec = TextVectorizer(output_mode="tf_idf").adapt(["a a a a", "b"])
    # df(a) = 1 (one text), not 4: idf(a) = idf(b) = log(1 + 2 / 2)
    np.testing.assert_allclose(vec.idf_weights()[2:], [math.log(2), math.log(2)])


def test_docstring_worked_example():
    vec = TextVectorizer(output_mode="tf_idf").adapt(["the cat sat", "the dog"])
    assert vec.vocabulary() == ["", "[UNK]", "the", "cat", "dog", "sat"]
    np.testing.assert_allclose(vec("the the cat"), [0, 0, 2 * math.log(1 + 2 / 3), math.log(2), 0, 0],
                               rtol=1e-6)


def test_idf_helper():
    np.testing.assert_allclose(inverse_document_frequency([0, 1, 9], 9), np.log([10, 5.5, 1.9]))


def test_bigrams_in_bag_and_int_modes():
    counts = TextVectorizer(output_mode="count", ngrams=2).adapt(["not good", "good"])
    # tokens: [not, good, "not good"] and [good]: good 2, not 1, "not good" 1 (ties alphabetical)
    assert counts.vocabulary() == ["", "[UNK]", "good", "not", "not good"]
    np.testing.assert_array_equal(counts(["not good good"]), [[0, 1, 2, 1, 1]])   # "good good" unknown
    ints = TextVectorizer(ngrams=2).adapt(["not good", "good"])
    np.testing.assert_array_equal(ints("not good"), [3, 2, 4])                    # unigrams, then bigrams
    only = TextVectorizer(ngrams=(2,)).adapt(["not good at all"])
    assert only.vocabulary()[2:] == ["at all", "good at", "not good"]


def test_ngram_helpers_and_errors():
    assert ngrams(["a", "b", "c"], (1, 2, 3)) == ["a", "b", "c", "a b", "b c", "a b c"]
    assert ngrams(["a"], (2,)) == []
    assert ngram_widths(None) == (1,) and ngram_widths(3) == (1, 2, 3) and ngram_widths((2, 3)) == (2, 3)
    with pytest.raises(ValueError, match="ngrams"):
        TextVectorizer(ngrams=0)


def test_set_vocabulary_with_idf_weights_like_keras():
    vec = TextVectorizer(output_mode="tf_idf", vocabulary=["x", "y"], idf_weights=[1.0, 3.0])
    np.testing.assert_allclose(vec.idf_weights(), [0.0, 2.0, 1.0, 3.0])
    np.testing.assert_allclose(vec(["y y q"]), [[0, 2.0, 0, 6.0]])
    with pytest.raises(ValueError, match="idf_weights"):
        TextVectorizer(output_mode="tf_idf", vocabulary=["x", "y"])
    with pytest.raises(ValueError, match="2 tokens"):
        TextVectorizer(output_mode="tf_idf", vocabulary=["x", "y"], idf_weights=[1.0])


def test_tf_idf_and_ngrams_survive_save_and_load(tmp_path):
    vec = TextVectorizer(output_mode="tf_idf", ngrams=2, max_tokens=12).adapt(THREE)
    vec.save(tmp_path / "v.json")
    back = TextVectorizer.load(tmp_path / "v.json")
    assert back.ngrams == 2 and back.vocabulary() == vec.vocabulary()
    np.testing.assert_array_equal(back(THREE), vec(THREE))
    np.savez(tmp_path / "v.npz", **vec.state_dict())
    with np.load(tmp_path / "v.npz", allow_pickle=False) as f:
        again = TextVectorizer.from_state_dict(dict(f))
    np.testing.assert_array_equal(again(THREE), vec(THREE))
