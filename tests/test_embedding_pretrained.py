"""nn.Embedding loaded from a matrix, frozen (trainable=False / from_pretrained) and unfrozen."""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim

M = np.arange(15, dtype=np.float64).reshape(5, 3) / 10


def classifier(embedding):
    return nn.Serial(nn.Branch(embedding, nn.PaddingMask()), nn.Mean(axis=1), nn.Dense(4), nn.ReLU(),
                     nn.Dense(2), nn.LogSoftmax())


def train(model, opt, steps=5):
    ids = md.tensor(np.array([[1, 2, 3, 0], [4, 4, 2, 1], [3, 0, 0, 0]]))
    y = np.array([0, 1, 1])
    for _ in range(steps):
        loss = md.losses.nll_loss(model(ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_weights_are_copied_and_shape_checked(backend_name):
    emb = nn.Embedding(5, 3, weights=M)
    np.testing.assert_allclose(emb.W.numpy(), M.astype(np.float32))
    assert emb.trainable and emb.W.dtype == np.float32
    M2 = M.copy()
    nn.Embedding(5, 3, weights=M2).W.data[0] += 1            # the caller's matrix is not shared
    np.testing.assert_array_equal(M2, M)
    np.testing.assert_allclose(nn.Embedding(5, 3, weights=[M]).W.numpy(), M.astype(np.float32))  # Keras' list
    with pytest.raises(ValueError, match=r"shape \(5, 3\), expected .* \(4, 3\)"):
        nn.Embedding(4, 3, weights=M)
    with pytest.raises(ValueError, match="2-D"):
        nn.Embedding.from_pretrained(np.zeros(3))


def test_from_pretrained_is_frozen_by_default_like_pytorch(backend_name):
    emb = nn.Embedding.from_pretrained(M)
    assert (emb.vocab_size, emb.d_feature) == (5, 3)
    assert not emb.trainable and not emb.W.requires_grad
    assert emb.name == "Embedding_5_3_frozen"
    assert nn.Embedding.from_pretrained(M, freeze=False).trainable
    np.testing.assert_allclose(emb(md.tensor(np.array([[4, 0]]))).numpy(), [M[[4, 0]]], rtol=1e-6)


@pytest.mark.parametrize("make_opt", [
    lambda m: optim.SGD(m, lr=0.5, momentum=0.9, weight_decay=0.1),
    lambda m: optim.Adam(m, lr=0.1, weight_decay=0.1),
    lambda m: optim.AdamW(m, lr=0.1, weight_decay=0.1),
    lambda m: optim.Adagrad(m, lr=0.5, weight_decay=0.1),
], ids=["sgd", "adam", "adamw", "adagrad"])
def test_frozen_embedding_stays_bit_identical_after_training(backend_name, make_opt):
    emb = nn.Embedding(5, 3, weights=M, trainable=False)
    model = classifier(emb)
    before = emb.W.numpy().copy()
    dense_before = model[2].W.numpy().copy() if model[2].built else None
    opt = make_opt(model)
    train(model, opt)
    assert np.array_equal(emb.W.numpy(), before)             # bit for bit
    assert emb.W.grad is None
    assert dense_before is None or not np.array_equal(model[2].W.numpy(), dense_before)
    assert not np.array_equal(model[4].b.numpy(), np.zeros(2))     # the rest of the model did train


def test_unfreezing_lets_the_embedding_train(backend_name):
    emb = nn.Embedding.from_pretrained(M)
    model = classifier(emb)
    opt = optim.Adam(model, lr=0.1)
    train(model, opt, steps=2)
    assert np.array_equal(emb.W.numpy(), M.astype(np.float32))
    emb.trainable = True                                     # fine-tune from here on
    train(model, opt, steps=2)
    changed = ~np.isclose(emb.W.numpy(), M.astype(np.float32)).all(axis=1)
    # rows 1..4 occur in the batch and move; no other row exists, pad row 0 gets no gradient
    # through the masked mean, so it stays
    assert changed[1:].all() and not changed[0]


def test_freezing_drops_a_pending_gradient(backend_name):
    emb = nn.Embedding(5, 3, weights=M)
    emb(md.tensor(np.array([1, 2]))).sum().backward()
    assert emb.W.grad is not None
    emb.trainable = False
    assert emb.W.grad is None


def test_pretrained_embedding_gradient(backend_name):
    with md.default_dtype("float64"):
        emb = nn.Embedding.from_pretrained(M, freeze=False)
    report = md.gradcheck(emb, md.tensor(np.array([[0, 4, 4], [2, 1, 0]])))
    assert report, str(report)


def test_frozen_embedding_is_saved_and_loaded(tmp_path, backend_name):
    model = classifier(nn.Embedding(5, 3, weights=M, trainable=False))
    model(md.tensor(np.array([[1, 2]])))
    md.save(model, tmp_path / "m.npz")
    other = classifier(nn.Embedding(5, 3, trainable=False))
    other(md.tensor(np.array([[1, 2]])))
    md.load(other, tmp_path / "m.npz")
    np.testing.assert_array_equal(other[0][0].W.numpy(), M.astype(np.float32))
    assert not other[0][0].trainable
