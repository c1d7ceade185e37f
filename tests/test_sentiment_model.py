"""SentimentModel = Serial(Embedding, Mean, Dense, LogSoftmax): structure, toy data, real tweets."""
import string

import numpy as np
import pytest

import minidl as md
from minidl import optim
from minidl.models import SentimentModel


def test_structure_and_parameter_count():
    model = SentimentModel(1000, 32)
    assert repr(model) == "Serial[\n  Embedding_1000_32\n  Mean\n  Dense_2\n  LogSoftmax\n]"
    assert [(n, p.shape) for n, p in model.named_parameters()] == \
        [("0.W", (1000, 32)), ("2.W", (32, 2)), ("2.b", (2,))]
    assert model.n_params() == 1000 * 32 + 32 * 2 + 2
    out = model(md.tensor([[5, 6, 0], [7, 0, 0]]))
    assert out.shape == (2, 2)
    np.testing.assert_allclose(np.exp(out.numpy()).sum(axis=1), [1, 1], rtol=1e-6)   # log-probabilities


def test_masked_variant_averages_real_tokens_only(backend_name):
    model = SentimentModel(10, 4, mask_padding=True)
    emb, dense = model[0][0], model[2]
    W = emb.W.numpy()
    mean = np.stack([(W[5] + W[6]) / 2, W[7]])
    logits = mean @ dense.W.numpy() + dense.b.numpy()
    expected = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(model(md.tensor([[5, 6, 0, 0], [7, 0, 0, 0]])).numpy(), expected, rtol=1e-5)


def test_gradients_of_the_whole_model(backend_name):
    for mask_padding in (False, True):
        with md.default_dtype("float64"):
            model = SentimentModel(6, 3, mask_padding=mask_padding)
            report = md.gradcheck(model, md.tensor([[1, 2, 2, 0], [3, 0, 0, 0]]))
        assert report, str(report)


def _toy(n, seed):
    """Positive tweets use word ids 2..11, negative ones 12..21; 2-6 words, padded with 0 to 8."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = np.zeros((n, 8), dtype=np.int64)
    for i in range(n):
        k = rng.integers(2, 7)
        x[i, :k] = rng.integers(2, 12, size=k) + 10 * (1 - y[i])
    return x, y


@pytest.mark.parametrize("mask_padding", [False, True])
def test_toy_dataset_is_learned_perfectly(backend_name, mask_padding):
    x, y = _toy(200, seed=0)
    model = SentimentModel(22, 8, mask_padding=mask_padding)
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, len(x), 32)]
    # the model outputs log-probabilities; cross_entropy re-applies log_softmax, which leaves
    # log-probabilities unchanged, so this is exactly the NLL of the labels
    hist = md.train.fit(model, md.losses.cross_entropy, optim.Adam(model, 0.05), batches, epochs=15,
                        val_batches=[_toy(100, seed=1)], metrics=["accuracy"], progress=False)
    assert hist["accuracy"][-1] == 1.0
    assert hist["val_accuracy"][-1] == 1.0


# ----------------------------------------------------------------------------- real tweets
def _read_tweets(path):
    """VADER tweets: ``id<TAB>valence<TAB>text``.  Keep |valence| >= 0.5, label = valence > 0."""
    strip = str.maketrans("", "", string.punctuation)
    words, labels = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or abs(float(parts[1])) < 0.5:
                continue
            words.append(parts[2].lower().translate(strip).split())
            labels.append(int(float(parts[1]) > 0))
    return words, np.array(labels)


def _encode(tweets, vocab):
    ids = np.zeros((len(tweets), max(len(t) for t in tweets)), dtype=np.int64)   # 0 = padding
    for r, t in enumerate(tweets):
        ids[r, :len(t)] = [vocab.get(w, 1) for w in t]                          # 1 = unknown
    return ids


def test_real_tweets_reach_75_percent(shared_data):
    words, labels = _read_tweets(shared_data / "vader_sentiment" / "tweets_GroundTruth.txt")
    order = np.random.default_rng(0).permutation(len(words))
    n_test = len(words) // 5
    test, train = order[:n_test], order[n_test:]
    vocab = {"<pad>": 0, "<unk>": 1}
    for i in train:                                     # vocabulary from the training split only
        for w in words[i]:
            vocab.setdefault(w, len(vocab))
    x_train, y_train = _encode([words[i] for i in train], vocab), labels[train]
    x_test, y_test = _encode([words[i] for i in test], vocab), labels[test]

    md.seed(0)
    model = SentimentModel(len(vocab), 32)
    batches = [(x_train[i:i + 32], y_train[i:i + 32]) for i in range(0, len(train), 32)]
    md.train.fit(model, md.losses.cross_entropy, optim.Adam(model, 0.01), batches, epochs=4,
                 progress=False)
    model.eval()
    with md.no_grad():
        acc = md.metrics.accuracy(model(x_test), y_test)
    majority = max(y_test.mean(), 1 - y_test.mean())
    print(f"\nreal tweets: {len(train)} train / {len(test)} test, vocab {len(vocab)}, "
          f"test accuracy {acc:.4f} (majority class {majority:.4f})")
    print(model.summary())
    assert acc >= 0.75 and acc > majority + 0.05
