"""Layers: float64 gradient checks (inputs and parameters) on every backend, plus behaviour."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minidl as md
from minidl import nn

HYP = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _x(shape, seed=0, lo=-2.0, hi=2.0):
    x = np.random.default_rng(seed).uniform(lo, hi, size=shape)
    # keep elements away from ReLU's kink at 0 (the checker could dodge it, but no need)
    return np.where(np.abs(x) < 0.05, 0.3, x)


def check(layer, *inputs):
    with md.default_dtype("float64"):
        report = md.gradcheck(layer, *inputs)
    assert report, str(report)
    return report


# ----------------------------------------------------------------------------- activations
@pytest.mark.parametrize("cls", [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LogSoftmax])
@HYP
@given(shape=shapes, seed=st.integers(0, 100))
def test_activation_gradients(backend_name, cls, shape, seed):
    check(cls(), _x(shape, seed))


def test_activation_values(backend_name):
    x = md.tensor([[-1.0, 0.0, 2.0]])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), [[0, 0, 2]])
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), [[0.26894142, 0.5, 0.88079708]], rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), [[-0.76159416, 0.0, 0.96402758]], rtol=1e-6)
    p = [[0.04201007, 0.1141952, 0.8437947]]            # e^x / (e^-1 + e^0 + e^2)
    np.testing.assert_allclose(nn.Softmax()(x).numpy(), p, rtol=1e-5)
    np.testing.assert_allclose(nn.LogSoftmax()(x).numpy(), np.log(p), rtol=1e-5)


def test_softmax_axis(backend_name):
    x = md.tensor(_x((3, 4)))
    np.testing.assert_allclose(nn.Softmax(axis=0)(x).numpy().sum(axis=0), np.ones(4), rtol=1e-6)
    check(nn.LogSoftmax(axis=0), _x((3, 4)))


# ----------------------------------------------------------------------------- Embedding
@HYP
@given(batch=st.integers(1, 3), time=st.integers(1, 4), d=st.integers(1, 3), seed=st.integers(0, 50))
def test_embedding_gradient_with_repeated_ids(backend_name, batch, time, d, seed):
    ids = np.random.default_rng(seed).integers(0, 4, size=(batch, time))   # V=4: repeats are certain
    with md.default_dtype("float64"):
        layer = nn.Embedding(4, d)
    check(layer, md.tensor(ids))


def test_embedding_backward_accumulates_repeats(backend_name):
    layer = nn.Embedding(5, 2)
    y = layer(md.tensor([[3, 3, 1], [3, 0, 0]]))
    assert y.shape == (2, 3, 2)
    y.sum().backward()
    # id 3 appears 3 times, id 0 twice, id 1 once, ids 2 and 4 never
    np.testing.assert_array_equal(md.backend.asnumpy(layer.W.grad)[:, 0], [2, 1, 0, 3, 0])


def test_embedding_looks_up_rows_and_names_itself(backend_name):
    layer = nn.Embedding(1000, 32)
    assert layer.name == "Embedding_1000_32" and layer.W.shape == (1000, 32)
    W = layer.W.numpy()
    np.testing.assert_array_equal(layer(np.array([[7, 0]])).numpy(), W[[[7, 0]]])
    # N(0, 1/d): std 1/sqrt(32) = 0.177 (32,000 draws: within 3%)
    assert abs(W.std() - 1 / np.sqrt(32)) < 0.03 / np.sqrt(32)
    with pytest.raises(IndexError, match=r"Embedding_1000_32: .*token id 1000 .*vocabulary of size 1000"):
        layer(md.tensor([[1, 1000]]))
    with pytest.raises(TypeError, match="Embedding_1000_32: .*integers"):
        layer(md.tensor([[1.0, 2.0]]))


# ----------------------------------------------------------------------------- Mean
@HYP
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=3).map(tuple), seed=st.integers(0, 50))
def test_mean_gradient(backend_name, shape, seed):
    check(nn.Mean(axis=1), _x(shape, seed))


def test_masked_mean_gradient(backend_name):
    mask = md.tensor(np.array([[1, 1, 0], [1, 0, 0]], dtype=bool))
    check(nn.Mean(axis=1), _x((2, 3, 2)), mask)


def test_masked_mean_averages_real_tokens_only(backend_name):
    x = md.tensor(np.arange(12, dtype=float).reshape(2, 3, 2))
    mask = md.tensor(np.array([[1, 1, 0], [0, 0, 0]]))
    y = nn.Mean(axis=1)(x, mask).numpy()
    # row 0: mean of [0,1] and [2,3] -> [1, 2] (not /3); row 1: all padding -> 0, not NaN
    np.testing.assert_allclose(y, [[1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(nn.Mean(axis=1)(x).numpy(), [[2.0, 3.0], [8.0, 9.0]])


def test_masked_mean_shape_error_names_both_shapes():
    x = md.tensor(np.zeros((2, 3, 4)))
    msg = r"Mean: mask of shape \(2, 4\) does not fit input of shape \(2, 3, 4\)"
    with pytest.raises(ValueError, match=msg):
        nn.Mean(axis=1)(x, np.ones((2, 4)))


def test_padding_mask():
    m = nn.PaddingMask()(md.tensor([[4, 2, 0], [0, 0, 0]]))
    np.testing.assert_array_equal(m.numpy(), [[True, True, False], [False, False, False]])
    assert not m.requires_grad


# ----------------------------------------------------------------------------- Dropout
def test_dropout_is_identity_in_eval_and_scales_in_training(backend_name):
    layer = nn.Dropout(0.25)
    x = md.tensor(np.ones((200, 100)))
    y = layer(x).numpy()
    kept = y != 0
    assert 0.72 < kept.mean() < 0.78                               # keep probability 0.75
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)       # inverted dropout
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(0.5).name == "Dropout_0.5"
    with pytest.raises(ValueError, match="rate"):
        nn.Dropout(1.0)


def test_dropout_gradient_with_a_fixed_mask(backend_name):
    layer = nn.Dropout(0.5)

    def same_mask_each_call(x):
        md.seed(3)                      # reseeding the device RNG replays the same mask
        return layer(x)
    with md.default_dtype("float64"):
        report = md.gradcheck(same_mask_each_call, _x((4, 5)))
    assert report, str(report)


# ----------------------------------------------------------------------------- Flatten, Fn, Dense
def test_flatten_keeps_the_batch_axis(backend_name):
    x = _x((2, 3, 4))
    assert nn.Flatten()(md.tensor(x)).shape == (2, 12)
    check(nn.Flatten(), x)
    with pytest.raises(ValueError, match="Flatten"):
        nn.Flatten()(md.tensor([1.0, 2.0]))


def test_fn_wraps_a_function(backend_name):
    layer = nn.Fn("Square", lambda x: x * x)
    assert layer.name == "Square" and repr(layer) == "Square"
    np.testing.assert_allclose(layer(md.tensor([3.0])).numpy(), [9.0])
    check(layer, _x((3,)))


def test_dense_gradient(backend_name):
    with md.default_dtype("float64"):
        layer = nn.Dense(3)
    check(layer, _x((2, 4)))
    assert layer.W.dtype == np.float64          # built inside the float64 check


def test_buffers_are_listed_by_dotted_name_and_kept_off_the_parameters():
    model = nn.Serial(nn.Dense(4), nn.BatchNorm(), nn.Serial(nn.BatchNorm(n_channels=4)))
    model(md.tensor(np.random.default_rng(0).normal(size=(8, 3))))
    names = [n for n, _ in model.named_buffers()]
    assert names == ["1.running_mean", "1.running_var", "2.0.running_mean", "2.0.running_var"]
    assert not any("running" in n for n, _ in model.named_parameters())
    bn = model[1]
    assert np.abs(bn.running_mean).max() > 0                   # the training step updated it ...
    assert dict(model.named_buffers())["1.running_mean"] is bn.running_mean   # ... and the registry follows
