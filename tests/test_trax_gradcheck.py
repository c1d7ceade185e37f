"""Float64 gradient checks through the Trax facade: every layer with weights (inputs and weights),
the losses as layers, and losses written with ``trax.fastmath.numpy`` (the course's triplet loss).

The facade adds no Function of its own, so these checks prove the wiring: that each
Trax layer reaches minidl's ops with the values it should, and that fastmath.numpy on
a Tensor builds a graph instead of silently computing on the arrays.
"""
import functools

import numpy as np
import pytest

import minidl as md
from minidl.trax import fastmath, layers as tl, shapes
from minidl.trax.fastmath import numpy as fnp

RNG = np.random.default_rng(0)


def check_layer(layer, *inputs):
    """md.gradcheck of layer's forward (the stack packaging) w.r.t. its float inputs and its Parameters."""
    layer.init(shapes.signature(inputs[0] if len(inputs) == 1 else inputs))
    report = md.gradcheck(lambda *xs: layer._apply(xs[0] if len(xs) == 1 else xs), *inputs,
                          params=layer.parameters())
    assert report, report
    assert len(report.entries) == sum(np.asarray(x).dtype.kind == "f" for x in inputs) + len(layer.parameters())
    return report


def test_dense_embedding_mean_logsoftmax_model():
    ids = RNG.integers(0, 12, size=(3, 5))
    check_layer(tl.Serial(tl.Embedding(12, 4), tl.Mean(axis=1), tl.Dense(3), tl.LogSoftmax()), ids)


def test_layernorm_relu_residual_concatenate():
    x = RNG.normal(size=(3, 4))
    check_layer(tl.Residual(tl.LayerNorm(), tl.Dense(4), tl.Tanh()), x)
    check_layer(tl.Serial(tl.Branch(tl.Dense(2), tl.Sigmoid()), tl.Concatenate(), tl.Relu(), tl.Dense(1)), x + 0.05)


@pytest.mark.parametrize("make", [lambda: tl.GRU(3), lambda: tl.LSTM(3), lambda: tl.Serial(tl.ShiftRight(), tl.LSTM(3))])
def test_recurrent_layers(make):
    check_layer(make(), RNG.normal(size=(2, 4, 3)))


def test_lstm_with_initial_and_returned_state():
    layer = tl.Serial(tl.LSTM(3, initial_state=True, return_state=True), tl.Fn("Last", lambda ys, s: ys.sum() + s.sum()))
    check_layer(layer, RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 6)))


def test_losses_as_layers():
    logits = RNG.normal(size=(4, 5, 3))
    targets = RNG.integers(0, 3, size=(4, 5))
    weights = (RNG.random((4, 5)) > 0.3).astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    for loss in (tl.CrossEntropyLoss(), tl.WeightedCategoryCrossEntropy(),
                 tl.WeightedCategoryCrossEntropy(label_smoothing=0.1, cutoff=0.05)):
        report = md.gradcheck(lambda z, loss=loss: loss._apply((z, targets, weights)), log_probs)
        assert report, report
    y = RNG.normal(size=(4, 3))
    assert md.gradcheck(lambda p: tl.L2Loss()._apply((p, y, np.ones_like(y))), RNG.normal(size=(4, 3)))


def triplet_loss_fn(v1, v2, margin=0.25):
    """The course's TripletLossFn, as the assignment writes it with trax.fastmath.numpy."""
    scores = fnp.dot(v1, v2.T)
    batch_size = len(scores)
    positive = fnp.diagonal(scores)
    negative_zero_on_duplicate = scores * (1.0 - fnp.eye(batch_size))
    mean_negative = np.sum(negative_zero_on_duplicate, axis=1) / (batch_size - 1)     # NumPy's sum on a Tensor
    mask_exclude_positives = (fnp.eye(batch_size) == 1) | (scores > positive.reshape(batch_size, 1))
    negative_without_positive = fnp.where(mask_exclude_positives, scores - 2.0, scores)
    closest_negative = negative_without_positive.max(axis=[1])
    triplet_loss1 = fnp.maximum(0.0, margin - positive + closest_negative)
    triplet_loss2 = fnp.maximum(0.0, margin - positive + mean_negative)
    return fnp.mean(triplet_loss1 + triplet_loss2)


def unit_rows(shape):
    v = RNG.normal(size=shape)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_triplet_loss_in_fastmath_numpy_is_differentiable_and_equals_md_losses():
    v1 = unit_rows((6, 4))
    v2 = v1 + 0.4 * RNG.normal(size=v1.shape)
    v2 /= np.linalg.norm(v2, axis=1, keepdims=True)
    report = md.gradcheck(triplet_loss_fn, v1, v2)
    assert report, report
    t1, t2 = md.tensor(v1, dtype=np.float64), md.tensor(v2, dtype=np.float64)
    np.testing.assert_allclose(float(triplet_loss_fn(t1, t2)), float(md.losses.triplet_loss(t1, t2, 0.25)), rtol=1e-12)
    as_layer = tl.Fn("TripletLoss", functools.partial(triplet_loss_fn, margin=0.25))
    assert as_layer.n_in == 2
    assert md.gradcheck(lambda a, b: as_layer._apply((a, b)), v1, v2)


def test_fastmath_numpy_functions_on_tensors():
    x = RNG.normal(size=(3, 4))
    cases = {
        "normalize": lambda a: a / fnp.sqrt(fnp.sum(a * a, axis=-1, keepdims=True)),
        "minimum": lambda a: fnp.minimum(a, 0.1).sum(),
        "logsumexp": lambda a: fastmath.logsumexp(a, axis=1),
        "average": lambda a: fnp.average(a, axis=0, weights=np.array([1.0, 2.0, 3.0])[:, None] * np.ones(4)),
        "norm": lambda a: fnp.linalg.norm(a, axis=1),
        "reshape/squeeze/expand": lambda a: fnp.squeeze(fnp.expand_dims(fnp.reshape(a, (4, 3)), 0)),
        "stack/concatenate": lambda a: fnp.concatenate([fnp.stack([a, a * 2]).sum(0), fnp.exp(a)], axis=1),
        "transpose/matmul": lambda a: fnp.matmul(fnp.transpose(a), fnp.tanh(a)),
        "clip/abs/square": lambda a: fnp.clip(fnp.abs(a), 0.2, 1.5) + fnp.square(a),
        "where": lambda a: fnp.where(a > 0, a, -2 * a),
        "log_softmax": lambda a: tl.log_softmax(a),
        "expit": lambda a: fastmath.expit(a),
    }
    for name, f in cases.items():
        report = md.gradcheck(f, x + 0.013)
        assert report, f"{name}\n{report}"


def test_fastmath_grad_is_jaxs():
    np.testing.assert_allclose(fastmath.grad(lambda x: 3 * x ** 2 + x)(np.array(2.0)), 13.0)
    (value, aux), g = fastmath.value_and_grad(lambda x: ((x * x).sum(), "aux"), has_aux=True)(np.array([1.0, 2.0]))
    assert aux == "aux" and float(value) == 5.0
    np.testing.assert_allclose(g, [2.0, 4.0])
    with pytest.raises(TypeError, match="scalar"):
        fastmath.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(TypeError, match="not a minidl Tensor"):
        fastmath.grad(lambda x: np.float64(1.0))(np.ones(3))
