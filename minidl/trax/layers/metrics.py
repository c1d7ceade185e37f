"""Losses and metrics as layers: they take (model output, targets[, weights]) off the stack, push one number.

    CrossEntropyLoss()              n_in 3   sum(w * -logp[target]) / sum(w)      (the model ends in LogSoftmax)
    WeightedCategoryCrossEntropy()  n_in 3   the same from raw scores: log_softmax inside (fused, stable)
    CategoryCrossEntropy()          n_in 2   its mean, no weights
    Accuracy()                      n_in 3   sum(w * [argmax == target]) / sum(w)
    WeightedCategoryAccuracy()      n_in 3   the same;  CategoryAccuracy(): n_in 2, the plain mean
    L2Loss()                        n_in 3   sum(w * (y - t)^2) / sum(w)
    BinaryCrossEntropy()            n_in 2   mean of the stable sigmoid cross-entropy of raw scores

The weights are the course's masks: 1 for a real target, 0 for padding (see
``trax.data.inputs.add_loss_weights``), so padded positions neither add to the loss nor
dilute it.  The losses run minidl's ops (``md.losses.nll_loss`` / ``cross_entropy`` with
``reduction="none"``, then the weighted mean), so Trax's ``Loop`` can differentiate them;
the accuracies are plain array computations (no gradient).
"""
from __future__ import annotations

from ... import losses, ops
from ...autograd import array_of
from .. import fastmath
from .base import Fn
from .combinators import Serial
from .core import ArgMax

np = fastmath.numpy


def _weighted_mean(values, weights):
    """sum(values * weights) / sum(weights)."""
    return np.sum(values * weights) / np.sum(weights)


def _Accuracy():
    return Fn("_Accuracy", lambda predicted, target: (array_of(predicted) == array_of(target)).astype("float32"))


def _in_range(targets, n_classes):
    """(targets with the out-of-range ones set to 0, 0/1 mask of the in-range ones).

    Trax scores a target through one_hot(target), and an id outside 0..n_classes-1 has an
    all-zero one-hot row: its cross-entropy is 0.  The course's NER pads its tags with the
    word vocabulary's <PAD> id (far above the number of tags) and gives them weight 0, so
    those positions must pass quietly, as they do in Trax."""
    t = array_of(targets)
    ok = (t >= 0) & (t < n_classes)
    if bool(ok.all()):
        return t, None
    return t * ok, ok


def _CrossEntropy():
    """-log p[target] per position, from log-probabilities (md.losses.nll_loss, one op)."""
    def f(log_probs, targets):
        t, ok = _in_range(targets, log_probs.shape[-1])
        nll = losses.nll_loss(log_probs, t, reduction="none")
        return nll if ok is None else nll * ok
    return Fn("_CrossEntropy", f)


def _WeightedMean():
    return Fn("_WeightedMean", _weighted_mean)


def CrossEntropyLoss():
    """The course's loss: the model's outputs are log-probabilities (it ends in LogSoftmax)."""
    return Serial(_CrossEntropy(), _WeightedMean(), name="CrossEntropyLoss", sublayers_to_print=[])


def Accuracy(classifier=None):
    """Weighted accuracy of ``classifier`` (default ArgMax()) predictions against the targets."""
    return Serial(classifier or ArgMax(), _Accuracy(), _WeightedMean(), name="Accuracy", sublayers_to_print=[])


def _category_cross_entropy(model_output, targets, label_smoothing, cutoff):
    """Per-position cross-entropy of raw scores (log_softmax inside), optionally smoothed and cut off."""
    t, ok = _in_range(targets, model_output.shape[-1])
    ce = losses.cross_entropy(model_output, t, reduction="none")
    ce = ce if ok is None else ce * ok
    if label_smoothing:
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be between 0 and 1, got {label_smoothing}")
        n = model_output.shape[-1]            # smoothed target: (1 - e) onehot + e / n
        uniform_ce = -ops.sum(ops.log_softmax(model_output), axis=-1) / n
        ce = (1.0 - label_smoothing) * ce + label_smoothing * uniform_ce
    if cutoff > 0.0:
        ce = ops.maximum(ce, cutoff) - cutoff
    return ce


def WeightedCategoryCrossEntropy(label_smoothing=None, cutoff=0.0):
    def f(model_output, targets, weights):
        return _weighted_mean(_category_cross_entropy(model_output, targets, label_smoothing, cutoff), weights)
    return Fn("WeightedCategoryCrossEntropy", f)


def CategoryCrossEntropy(label_smoothing=None):
    def f(model_output, targets):
        return ops.mean(_category_cross_entropy(model_output, targets, label_smoothing, 0.0))
    return Fn("CategoryCrossEntropy", f)


def _predictions(model_output, targets):
    predictions = array_of(model_output).argmax(axis=-1)
    targets = array_of(targets)
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions of shape {predictions.shape} (argmax of outputs {tuple(model_output.shape)}) "
                         f"do not match targets of shape {targets.shape}")
    return predictions, targets


def WeightedCategoryAccuracy():
    def f(model_output, targets, weights):
        predictions, targets = _predictions(model_output, targets)
        weights = array_of(weights)
        return ((predictions == targets) * weights).sum() / weights.sum()
    return Fn("WeightedCategoryAccuracy", f)


def CategoryAccuracy():
    def f(model_output, targets):
        predictions, targets = _predictions(model_output, targets)
        return (predictions == targets).mean()
    return Fn("CategoryAccuracy", f)


def L2Loss():
    def f(model_output, targets, weights):
        if tuple(model_output.shape) != tuple(targets.shape) or tuple(model_output.shape) != tuple(weights.shape):
            raise ValueError(f"L2Loss: outputs {tuple(model_output.shape)}, targets {tuple(targets.shape)} and "
                             f"weights {tuple(weights.shape)} must have one shape")
        diff = model_output - targets
        return np.sum(weights * diff * diff) / np.sum(weights)
    return Fn("L2Loss", f)


def BinaryCrossEntropy():
    return Fn("BinaryCrossEntropy", lambda model_output, targets: losses.binary_cross_entropy(model_output, targets))

