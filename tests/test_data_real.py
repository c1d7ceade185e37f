"""Loaders on the real files in ../shared/data (skipped when that folder is absent).

The expected counts are the ones in that folder's README.
"""
import numpy as np
import pytest

import minidl.datasets as S
from minidl.data import TextVectorizer


@pytest.fixture
def data_dir():
    d = S.find_data_dir()
    if d is None or not d.is_dir():
        pytest.skip("real datasets not found (set MINIDL_DATA_DIR or put ../shared/data beside the repo)")
    return d


def need(path):
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.parametrize("which, count", [("tweets", 4200), ("movies", 10605), ("amazon", 3708), ("nyt", 5190)])
def test_vader_counts(data_dir, which, count):
    need(data_dir / "vader_sentiment" / S.sentiment.VADER_FILES[which])
    d = S.load_vader(which=which)                      # found through find_data_dir()
    assert len(d["texts"]) == len(d["ids"]) == len(d["valence"]) == count
    assert d["valence"].min() >= -4 and d["valence"].max() <= 4
    b = S.vader_binary(d)
    assert 0.2 < b["labels"].mean() < 0.8 and np.all(np.abs(b["valence"]) >= 0.5)


def test_vader_first_tweet(data_dir):
    d = S.load_vader(need(data_dir / "vader_sentiment" / "tweets_GroundTruth.txt"))
    assert d["ids"][0] == "1" and d["valence"][0] == pytest.approx(2.726315789)
    assert d["texts"][0].startswith("Somehow I was blessed")


def test_mnist_t10k(data_dir):
    need(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    d = S.load_mnist(split="test")
    assert d["images"].shape == (10000, 28, 28) and d["images"].dtype == np.uint8
    assert d["labels"].shape == (10000,) and set(np.unique(d["labels"])) == set(range(10))
    assert d["images"].max() == 255 and d["images"][:, 0, 0].max() == 0     # ink in the middle only


def test_wnut17(data_dir):
    d = S.load_conll(need(data_dir / "wnut17" / "wnut17train.conll"))
    assert len(d["sentences"]) == 3394
    assert all(len(s) == len(t) for s, t in zip(d["sentences"], d["tags"]))
    types = {t[2:] for tags in d["tags"] for t in tags if t != "O"}
    assert len(types) == 6 and "location" in types
    assert d["sentences"][0][:3] == ["@paulwalk", "It", "'s"]


def test_shakespeare_char_stream(data_dir):
    need(data_dir / "shakespeare" / "tinyshakespeare.txt")
    text = S.load_shakespeare()["text"]
    assert len(text) == 1115394 and text.startswith("First Citizen:")
    vec = TextVectorizer(standardize=None, split="character").adapt(text)
    assert vec.vocabulary_size() == 65 + 2                  # 65 distinct characters + pad + unk
    ids = vec(text[:1000])
    assert vec.decode(ids) == text[:1000]
