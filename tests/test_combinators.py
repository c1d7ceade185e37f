"""Serial / Branch / Parallel: composition, naming, tuples, shared weights."""
import numpy as np
import pytest

import minidl as md
from minidl import nn


def _x(shape, seed=0):
    return md.tensor(np.random.default_rng(seed).normal(size=shape))


def test_serial_equals_calling_the_layers_by_hand(backend_name):
    d1, act, d2 = nn.Dense(4), nn.Tanh(), nn.Dense(2)
    model = nn.Serial(d1, act, d2, nn.LogSoftmax())
    x = _x((3, 5))
    by_hand = md.ops.log_softmax(d2(act(d1(x))))
    np.testing.assert_allclose(model(x).numpy(), by_hand.numpy(), rtol=1e-6)
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert model[0] is d1 and len(model) == 4


def test_serial_gradient_checks_inputs_and_all_parameters(backend_name):
    with md.default_dtype("float64"):
        model = nn.Serial(nn.Dense(3), nn.Tanh(), nn.Dense(2), nn.LogSoftmax())
        report = md.gradcheck(model, np.random.default_rng(1).normal(size=(2, 4)))
    assert report, str(report)
    assert [e.name for e in report.entries] == ["input 0", "param 0.W", "param 0.b", "param 2.W", "param 2.b"]


def test_branch_gives_every_layer_the_same_input(backend_name):
    a, b = nn.Dense(2), nn.Sigmoid()
    x = _x((3, 4))
    ya, yb = nn.Branch(a, b)(x)
    np.testing.assert_allclose(ya.numpy(), a(x).numpy())
    np.testing.assert_allclose(yb.numpy(), b(x).numpy())


def test_parallel_gives_each_layer_its_own_input(backend_name):
    a, b = nn.Dense(2), nn.Tanh()
    x1, x2 = _x((3, 4), 1), _x((3, 5), 2)
    model = nn.Parallel(a, b)
    for y1, y2 in (model(x1, x2), model((x1, x2))):             # n inputs or one n-tuple
        np.testing.assert_allclose(y1.numpy(), a(x1).numpy())
        np.testing.assert_allclose(y2.numpy(), b(x2).numpy())
    with pytest.raises(ValueError, match="Parallel: got 3 inputs for 2 layers"):
        model(x1, x2, x2)


def test_serial_spreads_a_tuple_over_the_next_layers_arguments(backend_name):
    ids = md.tensor([[2, 3, 0, 0], [4, 0, 0, 0]])
    emb = nn.Embedding(6, 3)
    model = nn.Serial(nn.Branch(emb, nn.PaddingMask()), nn.Mean(axis=1))
    W = emb.W.numpy()
    expected = np.stack([(W[2] + W[3]) / 2, W[4]])               # padding does not dilute
    np.testing.assert_allclose(model(ids).numpy(), expected, rtol=1e-6)


def test_siamese_shared_tower_accumulates_both_gradients(backend_name):
    with md.default_dtype("float64"):
        tower = nn.Serial(nn.Dense(3, n_in=4), nn.Tanh())
    x1, x2 = _x((2, 4), 1).astype("float64"), _x((2, 4), 2).astype("float64")

    def grads(f):
        tower.zero_grad()
        f().backward()
        return [p.grad.copy() for p in tower.parameters()]
    g1 = grads(lambda: (tower(x1) * 2.0).sum())
    g2 = grads(lambda: (tower(x2) * 3.0).sum())
    model = nn.Parallel(tower, tower)

    def both():
        v1, v2 = model(x1, x2)
        return (v1 * 2.0).sum() + (v2 * 3.0).sum()
    g12 = grads(both)
    for a, b, ab in zip(g1, g2, g12):
        np.testing.assert_allclose(md.backend.asnumpy(ab), md.backend.asnumpy(a + b), rtol=1e-12)
    # one set of weights, listed once, and never updated twice by an optimizer
    assert len(model.parameters()) == 2 and model.n_params() == 4 * 3 + 3
    assert [n for n, _ in model.named_parameters()] == ["0.0.W", "0.0.b"]


def test_repr_and_summary_show_sizes_and_counts():
    model = nn.Serial(nn.Embedding(1000, 32), nn.Mean(axis=1), nn.Dense(2, n_in=32), nn.LogSoftmax())
    assert repr(model) == "Serial[\n  Embedding_1000_32\n  Mean\n  Dense_2\n  LogSoftmax\n]"
    s = model.summary()
    assert "Embedding_1000_32" in s and "0.W(1000, 32)" in s and "32,000" in s
    assert "Dense_2" in s and "2.W(32, 2), 2.b(2,)" in s and "66" in s
    assert s.splitlines()[-1].split()[-1] == "32,066"
    lazy = nn.Serial(nn.Dense(8))
    assert "(built at first call)" in lazy.summary()
    tower = nn.Serial(nn.Dense(2, n_in=2))
    assert "shared" in nn.Parallel(tower, tower).summary()


def test_train_and_eval_reach_every_sublayer():
    drop = nn.Dropout(0.5)
    model = nn.Serial(nn.Dense(2), nn.Branch(drop, nn.ReLU()))
    model.eval()
    assert drop.training is False
    model.train()
    assert drop.training is True


def test_passing_a_class_instead_of_a_layer_is_a_clear_error():
    with pytest.raises(TypeError, match="argument 1 is a type, not a Layer.*ReLU\\(\\)"):
        nn.Serial(nn.Dense(2), nn.ReLU)


def test_branch_and_parallel_gradients_including_shared_weights(backend_name):
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    with md.default_dtype("float64"):
        tower = nn.Serial(nn.Dense(3), nn.Tanh())
        for model, inputs in ((nn.Branch(tower, nn.Dense(2)), (x1,)),
                              (nn.Parallel(tower, tower), (x1, x2))):
            report = md.gradcheck(model, *inputs)
            assert report, str(report)
