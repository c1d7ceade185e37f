"""TextVectorizer: Keras conventions on small hand-written examples."""
import json

import numpy as np
import pytest

from minidl.data import PAD_TOKEN, UNK_TOKEN, TextVectorizer

CORPUS = ["The cat sat.", "the dog sat!", "A cat, a cat?"]
# counts after lower+strip: cat 3, a 2, sat 2, the 2, dog 1


def adapted(**kw):
    return TextVectorizer(**kw).adapt(CORPUS)


def test_vocabulary_is_pad_unk_then_by_frequency_ties_alphabetical():
    vec = adapted()
    assert vec.vocabulary() == ["", "[UNK]", "cat", "a", "sat", "the", "dog"]
    assert vec.token_to_id("") == 0 and vec.token_to_id("[UNK]") == 1
    assert vec.token_to_id("cat") == 2 and vec.id_to_token(6) == "dog"
    assert vec.token_to_id("zebra") == 1


def test_vocabulary_does_not_depend_on_text_order():
    assert adapted().vocabulary() == TextVectorizer().adapt(CORPUS[::-1]).vocabulary()


def test_max_tokens_counts_pad_and_unk():
    vec = adapted(max_tokens=4)
    assert vec.vocabulary() == ["", "[UNK]", "cat", "a"]
    assert vec.vocabulary_size() == 4
    np.testing.assert_array_equal(vec(["the cat sat"]), [[1, 2, 1]])
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorizer(max_tokens=1)


def test_int_mode_pads_to_longest_in_batch_and_truncates_to_fixed_length():
    vec = adapted()
    out = vec(["cat", "the dog sat down"])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[2, 0, 0, 0], [5, 6, 4, 1]])
    fixed = adapted(output_sequence_length=3)
    np.testing.assert_array_equal(fixed(["cat", "the dog sat down"]), [[2, 0, 0], [5, 6, 4]])
    # A single string gives a single row.
    np.testing.assert_array_equal(vec("A CAT!"), [3, 2])


def test_one_hot_mode_has_zero_rows_for_padding():
    vec = adapted(output_mode="one_hot")
    out = vec(["cat a", "dog"])
    assert out.shape == (2, 2, 7) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 0], np.eye(7)[2])
    np.testing.assert_array_equal(out[0, 1], np.eye(7)[3])
    np.testing.assert_array_equal(out[1, 1], np.zeros(7))     # padding


def test_multi_hot_and_count_modes():
    text = ["cat cat zebra the"]
    counts = adapted(output_mode="count")(text)
    np.testing.assert_array_equal(counts, [[0, 1, 2, 0, 0, 1, 0]])   # unk counted in column 1
    multi = adapted(output_mode="multi_hot")(text)
    np.testing.assert_array_equal(multi, [[0, 1, 1, 0, 0, 1, 0]])
    assert multi.dtype == np.float32
    # Bag modes ignore output_sequence_length.
    assert adapted(output_mode="count", output_sequence_length=1)(text).shape == (1, 7)


def test_character_mode_keeps_spaces_and_decodes_back():
    vec = TextVectorizer(standardize=None, split="character")
    vec.adapt("abba ca")
    assert vec.vocabulary() == ["", "[UNK]", "a", "b", " ", "c"]
    ids = vec("abc d")
    np.testing.assert_array_equal(ids, [2, 3, 5, 4, 1])
    assert vec.decode(ids[:4]) == "abc "


def test_standardize_options_and_custom_callables():
    lower = TextVectorizer(standardize="lower").adapt(["Hi, there"])
    assert lower.vocabulary()[2:] == ["hi,", "there"]
    custom = TextVectorizer(standardize=lambda s: s.replace("<br />", " "),
                            split=lambda s: s.split("|")).adapt(["x|y<br />|x"])
    assert custom.vocabulary() == ["", "[UNK]", "x", "y "]
    whole = TextVectorizer(split=None).adapt(["New York", "new york", "Paris"])
    assert whole.vocabulary() == ["", "[UNK]", "new york", "paris"]


def test_reserved_tokens_in_text_stay_unknown():
    vec = TextVectorizer(standardize=None).adapt(["[UNK] [UNK] a"])
    assert vec.vocabulary() == ["", "[UNK]", "a"]


def test_set_vocabulary_and_errors():
    vec = TextVectorizer(vocabulary=["b", "a"])
    assert vec.vocabulary() == [PAD_TOKEN, UNK_TOKEN, "b", "a"]
    with pytest.raises(ValueError, match="appears twice"):
        TextVectorizer(vocabulary=["a", "a"])
    with pytest.raises(IndexError, match=r"token id 9 is out of range.*ids 0\.\.3"):
        vec.id_to_token(9)
    with pytest.raises(RuntimeError, match="adapt"):
        TextVectorizer()(["x"])
    with pytest.raises(ValueError, match="output_mode"):
        TextVectorizer(output_mode="tfidf")


def test_save_load_json_round_trip(tmp_path):
    vec = adapted(max_tokens=5, output_sequence_length=4)
    path = tmp_path / "vec.json"
    vec.save(path)
    assert json.loads(path.read_text())["vocabulary"] == vec.vocabulary()
    back = TextVectorizer.load(path)
    assert back.vocabulary() == vec.vocabulary()
    np.testing.assert_array_equal(back(["the cat sat on a mat"]), vec(["the cat sat on a mat"]))
    assert back.output_sequence_length == 4 and back.max_tokens == 5


def test_state_dict_round_trip_through_npz_without_pickle(tmp_path):
    vec = TextVectorizer(standardize=None, split="character", output_mode="count").adapt(["hello world"])
    np.savez(tmp_path / "v.npz", **vec.state_dict())
    with np.load(tmp_path / "v.npz", allow_pickle=False) as f:
        back = TextVectorizer.from_state_dict(dict(f))
    assert back.vocabulary() == vec.vocabulary()
    assert back.split == "character" and back.output_mode == "count"
    np.testing.assert_array_equal(back(["low"]), vec(["low"]))


def test_custom_callables_must_be_passed_again_when_loading(tmp_path):
    fn = str.upper
    vec = TextVectorizer(standardize=fn).adapt(["a b"])
    vec.save(tmp_path / "v.json")
    with pytest.raises(ValueError, match="custom standardize"):
        TextVectorizer.load(tmp_path / "v.json")
    back = TextVectorizer.load(tmp_path / "v.json", standardize=fn)
    assert back.vocabulary() == ["", "[UNK]", "A", "B"]
