"""md.metrics: hand-checked values, Python floats, padding ignored."""
import math

import numpy as np
import pytest

import minidl as md


def test_accuracy_takes_the_argmax_of_the_last_axis(backend_name):
    scores = md.tensor([[0.1, 2.0], [3.0, -1.0], [0.0, 0.5], [5.0, 4.0]])
    acc = md.metrics.accuracy(scores, md.tensor([1, 0, 0, 1]))
    assert type(acc) is float and acc == 0.5
    log_probs = md.ops.log_softmax(scores)                  # same argmax: same accuracy
    assert md.metrics.accuracy(log_probs, np.array([1, 0, 1, 0])) == 1.0


def test_accuracy_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"scores of shape \(2, 3\) do not fit targets of shape \(3,\)"):
        md.metrics.accuracy(np.zeros((2, 3)), np.zeros(3, dtype=int))


def test_masked_accuracy_ignores_padding(backend_name):
    # (N=2, T=3, C=2); predictions: [[1, 0, 1], [0, 0, 1]]
    logits = md.tensor([[[0, 1], [1, 0], [0, 1]], [[1, 0], [1, 0], [0, 1]]], dtype=np.float32)
    targets = md.tensor([[1, 1, 0], [0, 1, 0]])
    mask = md.tensor([[1, 1, 0], [1, 0, 0]])
    # real positions: (0,0) right, (0,1) wrong, (1,0) right -> 2/3; over all six positions it is 2/6
    acc = md.metrics.masked_accuracy(logits, targets, mask)
    assert type(acc) is float and acc == pytest.approx(2 / 3)
    assert md.metrics.accuracy(logits, targets) == pytest.approx(1 / 3)
    assert math.isnan(md.metrics.masked_accuracy(logits, targets, np.zeros((2, 3))))


def test_perplexity_is_exp_of_mean_cross_entropy(backend_name):
    assert md.metrics.perplexity(math.log(50.0)) == pytest.approx(50.0)
    # a uniform guess over V classes has CE = log V and perplexity V
    logits = md.tensor(np.zeros((4, 7)))
    ce = md.losses.cross_entropy(logits, np.array([0, 3, 6, 2]))
    ppl = md.metrics.perplexity(ce)
    assert type(ppl) is float and ppl == pytest.approx(7.0, rel=1e-5)
    assert md.metrics.perplexity(1e4) == math.inf
