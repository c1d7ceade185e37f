"""Inputs that used to give silently wrong numbers now give right ones or a clear error.

Each test here failed before its fix (issue: reliability).
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim
from conftest import another_thread_inside


def test_out_of_range_axis_is_an_error_not_a_wraparound():
    x = md.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="axis 5 is out of bounds for a tensor with 2 dimension"):
        x.sum(axis=5)
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        nn.Mean(axis=3)(md.tensor(np.ones((2, 5, 3))))
    assert x.sum(axis=-1).shape == (2,)                     # negatives inside the range still work


def test_mse_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match=r"mse: prediction of shape \(4, 1\) and target of shape \(4,\)"):
        md.losses.mse(md.tensor(np.ones((4, 1))), md.tensor(np.zeros(4)))


def test_python_scalars_promote_as_in_numpy():
    ints = md.tensor([1, 2])
    np.testing.assert_allclose((ints * 0.5).numpy(), [0.5, 1.0])
    np.testing.assert_allclose((ints + 0.7).numpy(), [1.7, 2.7])
    assert (ints + 2).dtype == np.int64
    flags = md.tensor([True, False])
    assert (flags * 0.5).dtype.kind == "f" and (flags * 0.5).numpy().tolist() == [0.5, 0.0]
    assert (md.tensor([1.0]) * 3).dtype == np.float32                  # floats keep their dtype


def test_a_stray_float64_array_does_not_upcast_a_float32_tensor():
    y = md.tensor([1.0, 2.0]) * np.array([0.5, 0.25])                  # float64 NumPy array
    assert y.dtype == np.float32


def test_editing_a_parameter_between_forward_and_backward_is_refused():
    layer = nn.Dense(2)
    loss = (layer(md.tensor(np.ones((1, 3)))) ** 2).sum()
    layer.W.data *= 10
    with pytest.raises(RuntimeError, match=r"input 1 \(Dense.W\) was modified in place after the forward"):
        loss.backward()


def test_an_optimizer_step_after_backward_is_fine():
    layer = nn.Dense(2)
    opt = optim.SGD(layer, lr=0.1)
    for _ in range(2):
        loss = (layer(md.tensor(np.ones((1, 3)))) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_the_default_dtype_is_per_thread():
    with another_thread_inside(lambda: md.default_dtype("float64")):
        assert md.tensor([1.0]).dtype == np.float32


@pytest.mark.parametrize("name", ["gpu", "torch", "NumPy"])
def test_unknown_backend_names_are_refused_listing_the_valid_ones(name):
    with pytest.raises(ValueError, match=f"unknown backend '{name}'; the backends are 'numpy', 'cupy'"):
        md.tensor([1.0]).to(name)
    with pytest.raises(ValueError, match="unknown backend"):
        md.use(name)


# ----------------------------------------------------------------------------- training guards
def _sqrt_model():
    layer = nn.Dense(1)
    layer.build(2)
    layer.W.data[...] = 0.0
    layer.b.data[...] = 0.0
    return layer


def test_fit_stops_on_an_infinite_gradient_before_touching_the_weights():
    layer = _sqrt_model()
    before = [p.numpy().copy() for p in layer.parameters()]
    loader = [(md.tensor(np.ones((4, 2))), md.tensor(np.zeros((4, 1))))]
    loss = lambda out, y: (out * out).sum().sqrt()          # finite (0), but its gradient is inf/NaN at 0
    with pytest.raises(optim.NonFiniteGradientError, match=r"at step 1: non-finite gradient in Dense\.W"), \
            np.errstate(divide="ignore", invalid="ignore"):
        md.train.fit(layer, loss, optim.SGD(layer, lr=0.1), loader, progress=False)
    for b, p in zip(before, layer.parameters()):
        np.testing.assert_array_equal(b, p.numpy())


def test_clip_grad_norm_refuses_a_nan_norm():
    w = nn.parameter(np.ones(3))
    w.grad = np.array([1.0, np.nan, 2.0], dtype=np.float32)
    with pytest.raises(optim.NonFiniteGradientError, match="non-finite gradient in a parameter of shape"):
        optim.clip_grad_norm([w], 1.0)
    assert np.isnan(w.grad[1]) and w.grad[0] == 1.0                 # nothing was scaled


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -1.0, 0.0])
def test_bad_learning_rates_are_refused(lr):
    with pytest.raises(ValueError, match=r"SGD: lr \(the learning rate\) must be a positive finite number"):
        optim.SGD([nn.parameter(np.ones(2))], lr=lr)


def test_fit_names_a_float_loss_a_non_scalar_loss_and_an_empty_loader():
    layer = nn.Dense(1)
    batch = [(md.tensor(np.ones((4, 2))), md.tensor(np.zeros((4, 1))))]
    opt = optim.SGD(layer, lr=0.1)
    with pytest.raises(TypeError, match="returned a float, not a Tensor"):
        md.train.fit(layer, lambda o, y: float(md.losses.mse(o, y).item()), opt, batch, progress=False)
    with pytest.raises(ValueError, match=r"the loss must be a scalar, got shape \(4, 1\)"):
        md.train.fit(layer, lambda o, y: (o - y) ** 2, opt, batch, progress=False)
    with pytest.raises(ValueError, match="train_batches gave no batch in epoch 1"):
        md.train.fit(layer, md.losses.mse, opt, [], progress=False)


def test_mean_never_gives_nan():
    x = md.tensor(np.ones((2, 3, 4)), requires_grad=True)
    all_padding = np.array([[0, 0, 0], [1, 1, 0]])
    y = nn.Mean(axis=1)(x, all_padding)
    np.testing.assert_array_equal(y.numpy()[0], 0.0)                   # documented: 0, not 0/0
    np.testing.assert_allclose(y.numpy()[1], 1.0)
    with pytest.raises(ValueError, match=r"nothing to average \(length 0\)"):
        nn.Mean(axis=1)(md.tensor(np.ones((2, 0, 4))))


# ----------------------------------------------------------------------------- weak errors made clear
@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.Dense(-5), ValueError, "Dense: n_units must be a positive integer, got -5"),
    (lambda: nn.Dense(2.5), TypeError, "Dense: n_units must be a whole number, got 2.5"),
    (lambda: nn.Dense(3)(md.tensor(1.0)), ValueError, "got a 0-d input"),
    (lambda: nn.LSTM(0), ValueError, "LSTMCell: n_units must be a positive integer, got 0"),
    (lambda: md.data.DataLoader(np.ones((4, 2)), batch_size=2.5), TypeError,
     "DataLoader: batch_size must be a whole number, got 2.5"),
    (lambda: list(md.data.bucket_batches([[1, 2], [3]], batch_size=1, pool_batches=0)), ValueError,
     "bucket_batches: pool_batches must be a positive integer, got 0"),
    (lambda: md.Tensor([1.0]), TypeError, r"use md.tensor\(...\)"),
    (lambda: md.gradcheck(lambda x: 3.0, np.ones(2)), TypeError, "gradcheck: the function returned float 3.0, not a Tensor"),
], ids=["dense-negative", "dense-float", "dense-0d", "lstm-zero", "loader-float", "pool-zero", "Tensor-list",
        "gradcheck-float"])
def test_weak_errors_now_name_what_was_wrong(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_whole_float_is_accepted_where_an_int_is_meant():
    assert nn.Dense(32.0).n_units == 32 and isinstance(nn.Dense(32.0).n_units, int)


# ----------------------------------------------------------------------------- vectorizer files
def _saved_vectorizer(tmp_path, **changes):
    import json
    vec = md.data.TextVectorizer()
    vec.adapt(["the cat sat", "the dog ran"])
    path = tmp_path / "vec.json"
    vec.save(path)
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))
    return path


def test_vectorizer_load_refuses_an_unknown_version_and_a_vocabulary_without_pad_and_unk(tmp_path):
    with pytest.raises(ValueError, match="version 7; this minidl reads version 1"):
        md.data.TextVectorizer.load(_saved_vectorizer(tmp_path, version=7))
    with pytest.raises(ValueError, match=r"must start with the padding and unknown entries \['', '\[UNK\]'\]"):
        md.data.TextVectorizer.load(_saved_vectorizer(tmp_path, vocabulary=["the", "cat", "sat"]))
    assert md.data.TextVectorizer.load(_saved_vectorizer(tmp_path))("the cat").tolist()[:2] != [0, 0]


@pytest.mark.parametrize("kwargs, match", [({"max_tokens": 10.5}, "max_tokens .* must be a whole number"),
                                           ({"output_sequence_length": 2.5}, "output_sequence_length must be a whole"),
                                           ({"max_tokens": 1}, "max_tokens .* must be an integer >= 2")])
def test_vectorizer_sizes_are_checked(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        md.data.TextVectorizer(**kwargs)
