"""Every parser on a small fixture in its real format, including malformed lines."""
import gzip
import json
import re

import numpy as np
import pytest

import minidl.datasets as S
from minidl.data import TextVectorizer
from minidl.datasets import DataFormatError


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def error_at(path, line):
    """pytest.raises for a DataFormatError that names this file and line."""
    return pytest.raises(DataFormatError, match=re.escape(f"{path}, line {line}:"))


# ---------------------------------------------------------------------- sentiment
def test_vader_parser_and_binary_task(tmp_path):
    f = write(tmp_path / "tweets_GroundTruth.txt",
              "1\t2.5\tI love it\n2\t-0.2\tmeh\n3\t-1.75\tawful, just\tawful\n\n4\t0.6\tnice")
    d = S.load_vader(f)
    assert d["ids"] == ["1", "2", "3", "4"]
    np.testing.assert_allclose(d["valence"], [2.5, -0.2, -1.75, 0.6])
    assert d["texts"][2] == "awful, just\tawful"               # a tab inside the text is kept
    b = S.vader_binary(d)
    assert b["texts"] == ["I love it", "awful, just\tawful", "nice"]
    np.testing.assert_array_equal(b["labels"], [1, 0, 1])
    assert S.load_vader(tmp_path, which="tweets")["ids"] == d["ids"]     # a folder works too


def test_vader_malformed_lines_name_file_and_line(tmp_path):
    f = write(tmp_path / "v.txt", "1\t2.5\tok\n2 -1.0 spaces not tabs\n")
    with error_at(f, 2):
        S.load_vader(f)
    f = write(tmp_path / "w.txt", "1\t2.5\tok\n2\t1.0\tfine\n3\tvery\tbad valence\n")
    with error_at(f, 3):
        S.load_vader(f)


def test_trask_reviews_and_labels(tmp_path):
    write(tmp_path / "reviews.txt", "a great film\n\nterrible\n")
    write(tmp_path / "labels.txt", "positive\nnegative\nNEGATIVE\n")
    d = S.load_trask(tmp_path)
    assert d["texts"] == ["a great film", "", "terrible"]      # an empty review is still a record
    np.testing.assert_array_equal(d["labels"], [1, 0, 0])
    write(tmp_path / "labels.txt", "positive\nnegative\n")
    with pytest.raises(DataFormatError, match="3 reviews but .* 2 labels"):
        S.load_trask(tmp_path)
    write(tmp_path / "labels.txt", "positive\n\nnegative\n")  # a blank label would shift the rest
    with error_at(tmp_path / "labels.txt", 2):
        S.load_trask(tmp_path)


def test_imdb_folder(tmp_path):
    root = tmp_path / "aclImdb"
    write(root / "train" / "pos" / "10_9.txt", "loved it<br />truly")
    write(root / "train" / "pos" / "2_7.txt", "good")
    write(root / "train" / "neg" / "5_1.txt", "bad")
    write(root / "test" / "pos" / "0_10.txt", "x")
    write(root / "test" / "neg" / "0_2.txt", "y")
    d = S.load_imdb(tmp_path, split="train")                 # the parent folder works too
    assert d["texts"] == ["bad", "good", "loved it<br />truly"]
    np.testing.assert_array_equal(d["labels"], [0, 1, 1])
    np.testing.assert_array_equal(d["stars"], [1, 7, 9])
    assert len(S.load_imdb(root, split="test")["texts"]) == 2
    write(root / "train" / "neg" / "notes.txt", "stray file")
    with pytest.raises(DataFormatError, match="notes.txt"):
        S.load_imdb(root)


def test_twitter_samples_json_lines(tmp_path):
    write(tmp_path / "positive_tweets.json",
          json.dumps({"id": 1, "text": "happy :)"}) + "\n" + json.dumps({"text": "yay"}) + "\n")
    write(tmp_path / "negative_tweets.json", json.dumps({"text": "sad :("}) + "\n")
    d = S.load_twitter_samples(tmp_path)
    assert d["texts"] == ["happy :)", "yay", "sad :("]
    np.testing.assert_array_equal(d["labels"], [1, 1, 0])
    write(tmp_path / "negative_tweets.json", json.dumps({"text": "ok"}) + "\n{not json\n")
    with error_at(tmp_path / "negative_tweets.json", 2):
        S.load_twitter_samples(tmp_path)
    write(tmp_path / "negative_tweets.json", json.dumps({"txt": "typo"}) + "\n")
    with error_at(tmp_path / "negative_tweets.json", 1):
        S.load_twitter_samples(tmp_path)


def test_plain_text_corpus(tmp_path):
    f = write(tmp_path / "tinyshakespeare.txt", "First Citizen:\r\nBefore we proceed\n")
    assert S.load_text(f)["text"] == "First Citizen:\nBefore we proceed\n"
    assert S.load_shakespeare(tmp_path)["text"].startswith("First")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"line one\nline \xff two\n")
    with error_at(bad, 2):
        S.load_text(bad)


# ---------------------------------------------------------------------- NER
def test_conll_bio_columns(tmp_path):
    f = write(tmp_path / "x.conll", "-DOCSTART-\tO\n\nEmpire\tB-location\nState\tI-location\nis\tO\n\n"
                                    "Hi\tO\n@bob\tB-person\n")     # no blank line at the end
    d = S.load_conll(f)
    assert d["sentences"] == [["Empire", "State", "is"], ["Hi", "@bob"]]
    assert d["tags"] == [["B-location", "I-location", "O"], ["O", "B-person"]]
    f = write(tmp_path / "y.conll", "a\tO\nb\tO\n\nc\n")
    with error_at(f, 4):
        S.load_conll(f)
    f = write(tmp_path / "z.conll", "a\tO\nb\tPER\n")
    with error_at(f, 2):
        S.load_conll(f)
    # CoNLL-2003 style: space-separated, token first, tag last.
    f = write(tmp_path / "c03.txt", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n")
    assert S.load_conll(f)["tags"] == [["B-ORG", "O"]]
    assert S.tag_index(d["tags"]) == {"O": 0, "B-location": 1, "B-person": 2, "I-location": 3}


def test_gmb_csv_latin1(tmp_path):
    text = ('Sentence #,Word,POS,Tag\nSentence: 1,Thousands,NNS,O\n,of,IN,O\n,"London",NNP,B-geo\n'
            ',",",",",O\nSentence: 2,Caf\u00e9,NNP,B-org\n')
    f = write(tmp_path / "ner_dataset.csv", text, encoding="latin-1")
    d = S.load_gmb(f)
    assert d["sentences"] == [["Thousands", "of", "London", ","], ["Caf\u00e9"]]
    assert d["tags"] == [["O", "O", "B-geo", "O"], ["B-org"]]
    assert d["pos"][0] == ["NNS", "IN", "NNP", ","]
    f = write(tmp_path / "bad.csv", "Sentence #,Word,POS,Tag\nSentence: 1,a,DT,O\n,b,NN\n", "latin-1")
    with error_at(f, 3):
        S.load_gmb(f)
    f = write(tmp_path / "bad2.csv", "Sentence #,Word,POS,Tag\n,a,DT,O\n", "latin-1")
    with error_at(f, 2):
        S.load_gmb(f)


# ---------------------------------------------------------------------- question pairs
def test_quora_tsv(tmp_path):
    text = ("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
            "0\t1\t2\tHow do I learn Python?\tWhat is the best way to learn Python?\t1\n"
            '1\t3\t4\t"A question with a\ttab"\tAnother?\t0\n')
    f = write(tmp_path / "quora_duplicate_questions.tsv", text)
    d = S.load_quora(f)
    assert d["question1"] == ["How do I learn Python?", "A question with a\ttab"]
    np.testing.assert_array_equal(d["is_duplicate"], [1, 0])
    np.testing.assert_array_equal(d["qid2"], [2, 4])
    bad = write(tmp_path / "bad.tsv", text + "2\t5\t6\tonly five fields\t1\n")
    with error_at(bad, 4):
        S.load_quora(bad)
    bad = write(tmp_path / "bad2.tsv", text + "2\t5\t6\tq\tq\tyes\n")
    with error_at(bad, 4):
        S.load_quora(bad)


# ---------------------------------------------------------------------- MovieLens
def test_movielens_100k_layout(tmp_path):
    folder = tmp_path / "ml-100k"
    flags = ["0"] * 19
    action = flags.copy()
    action[1] = "1"
    write(folder / "u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(flags) + "\n"
                             "7|Caf\u00e9 (1996)|01-Jan-1996||http://y|" + "|".join(action) + "\n",
          encoding="latin-1")
    write(folder / "u.data", "196\t7\t3\t881250949\n22\t1\t5\t881250950\n196\t1\t4\t881250951\n")
    d = S.load_movielens(folder)
    np.testing.assert_array_equal(d["user"], [1, 0, 1])                # users 22 -> 0, 196 -> 1
    np.testing.assert_array_equal(d["item"], [1, 0, 0])                # movie 7 is row 1 of u.item
    np.testing.assert_array_equal(d["rating"], [3, 5, 4])
    assert d["titles"][1] == "Caf\u00e9 (1996)" and d["genre_names"][1] == "Action"
    np.testing.assert_array_equal(d["genres"][:, 1], [0, 1])
    assert d["n_users"] == 2 and d["n_items"] == 2
    write(folder / "u.data", "196\t7\t3\t881250949\n22\t1\t5\n")
    with error_at(folder / "u.data", 2):
        S.load_movielens_100k(folder)
    write(folder / "u.data", "196\t9\t3\t881250949\n")
    with pytest.raises(DataFormatError, match="movie id 9"):
        S.load_movielens_100k(folder)


def test_movielens_csv_layout(tmp_path):
    write(tmp_path / "movies.csv", 'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n'
                                   '5,"Heat, The (1995)",Action|Crime\n9,Nothing,(no genres listed)\n')
    write(tmp_path / "ratings.csv", "userId,movieId,rating,timestamp\n1,5,3.5,964982703\n2,1,4.0,964982224\n")
    d = S.load_movielens(tmp_path)
    assert d["genre_names"] == ["Action", "Adventure", "Animation", "Crime"]
    np.testing.assert_array_equal(d["genres"], [[0, 1, 1, 0], [1, 0, 0, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(d["item"], [1, 0])
    np.testing.assert_allclose(d["rating"], [3.5, 4.0])
    assert d["titles"][1] == "Heat, The (1995)"
    write(tmp_path / "ratings.csv", "userId,movieId,rating,timestamp\n1,5,3.5,964982703\n2,1,four,1\n")
    with error_at(tmp_path / "ratings.csv", 3):
        S.load_movielens_csv(tmp_path)


# ---------------------------------------------------------------------- word vectors
GLOVE = "the 0.1 0.2 0.3\ncat 1.0 0.0 -1.0\ndog 0.0 1.0 0.0\nsat -0.5 0.5 0.5\n"


def test_glove_aligned_to_a_vectorizer(tmp_path):
    f = write(tmp_path / "glove.txt", GLOVE)
    vec = TextVectorizer().adapt(["the cat the cat the zebra"])    # ["", "[UNK]", the, cat, zebra]
    wv = S.load_word_vectors(f, vec)
    assert wv.matrix.shape == (5, 3) and wv.matrix.dtype == np.float32
    np.testing.assert_array_equal(wv.matrix[0], 0)                            # pad: zeros
    np.testing.assert_allclose(wv.matrix[1], [0.55, 0.1, -0.35], rtol=1e-6)  # unk: mean of found
    np.testing.assert_allclose(wv.matrix[3], [1.0, 0.0, -1.0])
    assert wv.found == ["the", "cat"] and wv.missing == ["zebra"]
    assert wv.coverage == pytest.approx(2 / 3)
    assert np.abs(wv.matrix[4]).sum() > 0                                    # missing: random
    again = S.load_word_vectors(f, vec)
    np.testing.assert_array_equal(again.matrix, wv.matrix)                   # seeded
    assert np.all(S.load_word_vectors(f, vec, missing="zeros").matrix[4] == 0)


def test_word2vec_header_gzip_and_errors(tmp_path):
    f = tmp_path / "w2v.txt.gz"
    with gzip.open(f, "wt", encoding="utf-8") as out:
        out.write("4 3\n" + GLOVE)
    wv = S.load_word_vectors(f)
    assert wv.words == ["the", "cat", "dog", "sat"] and wv.matrix.shape == (4, 3)
    np.testing.assert_allclose(wv["dog"], [0, 1, 0])
    assert S.load_word_vectors(f, max_words=2).words == ["the", "cat"]
    bad = write(tmp_path / "bad.txt", GLOVE + "mat 0.1 0.2\n")
    with error_at(bad, 5):
        S.load_word_vectors(bad)
    bad = write(tmp_path / "bad2.txt", "the 0.1 x 0.3\n")
    with error_at(bad, 1):
        S.load_word_vectors(bad, ["the"])


# ---------------------------------------------------------------------- MNIST IDX
def idx_bytes(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_mnist_idx_raw_and_gzip(tmp_path):
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    labels = np.array([7, 0, 9])
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    d = S.load_mnist(tmp_path, split="test")
    assert d["images"].dtype == np.uint8 and d["images"].shape == (3, 28, 28)
    np.testing.assert_array_equal(d["images"], images)
    np.testing.assert_array_equal(d["labels"], labels)
    truncated = tmp_path / "short-idx"
    truncated.write_bytes(idx_bytes(images)[:-10])
    with pytest.raises(DataFormatError, match=r"short-idx: shape \(3, 28, 28\) needs 2368 bytes, the file has 2358"):
        S.read_idx(truncated)
    with pytest.raises(S.DataNotFoundError, match="train-images-idx3-ubyte"):
        S.load_mnist(tmp_path, split="train")
