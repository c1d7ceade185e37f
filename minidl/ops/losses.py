"""Loss functions.

Softmax cross-entropy comes twice, on purpose (the DeZero lesson):

* ``cross_entropy_simple`` -- the readable composition
  ``-mean( sum_c onehot_c * log_softmax(z)_c )`` built from other ops, three
  graph nodes and a (N, C) one-hot;
* ``cross_entropy`` -- one fused Function whose backward is the famous
  dL/dz = (softmax(z) - onehot(y)) / N, with no one-hot ever materialised.

tests/test_losses.py proves the two equal in value and gradient.

Shapes: logits (N, C) or (N, T, C); targets int (N,) or (N, T); an optional
mask of the targets' shape (1 = real token, 0 = padding).  With a mask the
mean is over real tokens only, so padding neither adds loss nor dilutes it.
"""
from __future__ import annotations

from ..autograd import Function, Tensor, array_of, tensor
from .. import backend, validate
from . import activations, arithmetic, reductions


def _check_targets(logits_shape, targets, n_classes, who="cross_entropy", scores="logits"):
    if targets.shape != logits_shape[:-1]:
        raise ValueError(f"{who}: targets of shape {targets.shape} do not match {scores} of "
                         f"shape {logits_shape} (expected targets of shape {logits_shape[:-1]})")
    validate.ids(targets, n_classes, who, "targets", "target class", "{n} classes")


def _weights(targets, mask, reduction, dtype, who="cross_entropy"):
    """Per-target weight w so that the loss is sum(w * nll): 1/N, mask/sum(mask) or 1.

    The mask may hold any weights >= 0 (1 = count this target, 0 = padding): a negative
    weight would reward the model for being wrong there, so it is refused."""
    xp = backend.xp_of(targets)
    validate.choice(reduction, ("mean", "sum", "none"), "reduction", who)
    if mask is None:
        w = xp.ones(targets.shape, dtype=dtype)
    else:
        w = validate.weights(xp.asarray(mask), who, "mask").astype(dtype)
        if w.shape != targets.shape:
            raise ValueError(f"{who}: mask of shape {w.shape} does not match targets {targets.shape}")
    if reduction == "mean":
        w = w / max(float(w.sum()), 1.0)
    return w


def _as_input(x, name, who):
    """A Tensor as is; a list or array as a constant Tensor under md.tensor's dtype policy."""
    if isinstance(x, Tensor):
        validate.numeric(x.data, name, who)
        return x
    try:
        return tensor(x)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a Tensor or an array of real numbers, got "
                        f"{type(x).__name__} {x!r}") from None


def _ids(targets, like, who, name="targets"):
    """Integer targets as a backend array on ``like``'s device (a list or a Tensor accepted)."""
    try:
        t = backend.xp_of(like.data).asarray(array_of(targets))
    except (TypeError, ValueError):
        t = None
    if t is None or t.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must be an array of numbers, got {type(targets).__name__} {targets!r}")
    return t


LOG_PROB_SLACK = 1e-4     # log-probabilities computed in float32 may round a hair above 0


class SoftmaxCrossEntropy(Function):
    """Fused  L = sum_n w_n * (logsumexp(z_n) - z_n[y_n]);  dL/dz_n = w_n (softmax(z_n) - onehot(y_n))."""
    def __init__(self, targets, mask, reduction):
        self.targets, self.mask, self.reduction = targets, mask, reduction

    def forward(self, z):
        xp = backend.xp_of(z)
        _check_targets(z.shape, self.targets, z.shape[-1])
        self.w = _weights(self.targets, self.mask, self.reduction, z.dtype)
        logp = activations.stable_log_softmax(z)
        picked = xp.take_along_axis(logp, self.targets[..., None], axis=-1)[..., 0]
        self.logp = logp
        nll = -picked * self.w
        return nll if self.reduction == "none" else nll.sum()

    def backward(self, gy):
        xp = backend.xp_of(gy)
        g = xp.exp(self.logp)                                     # softmax
        rows = g.reshape(-1, g.shape[-1])                         # a view: edits reach g
        rows[xp.arange(rows.shape[0]), self.targets.reshape(-1)] -= 1   # - onehot, in place
        scale = (self.w * gy)[..., None]                          # gy is () or targets' shape
        return g * scale


def cross_entropy(logits, targets, mask=None, reduction="mean"):
    """Fused, stable softmax cross-entropy of ``logits`` against integer ``targets``."""
    logits = _logits(logits, "logits", "cross_entropy")
    return SoftmaxCrossEntropy(_ids(targets, logits, "cross_entropy"), _mask(mask, "cross_entropy"), reduction)(logits)


class NLLLoss(Function):
    """L = -sum_n w_n * logp_n[y_n];  dL/dlogp_n = -w_n onehot(y_n)  (nothing else is touched)."""
    def __init__(self, targets, mask, reduction):
        self.targets, self.mask, self.reduction = targets, mask, reduction

    def forward(self, logp):
        xp = backend.xp_of(logp)
        _check_targets(logp.shape, self.targets, logp.shape[-1], "nll_loss", "log_probs")
        if logp.size and float(logp.max()) > LOG_PROB_SLACK:
            raise ValueError(f"nll_loss: log_probs must be log-probabilities (<= 0), got a {logp.dtype} array "
                             f"of shape {logp.shape} with values up to {float(logp.max()):.4g}: pass "
                             "log_softmax(z), not probabilities or logits (or use cross_entropy on the logits)")
        self.w = _weights(self.targets, self.mask, self.reduction, logp.dtype, "nll_loss")
        self.shape = logp.shape
        picked = xp.take_along_axis(logp, self.targets[..., None], axis=-1)[..., 0]
        nll = -picked * self.w
        return nll if self.reduction == "none" else nll.sum()

    def backward(self, gy):
        xp = backend.xp_of(gy)
        g = xp.zeros(self.shape, dtype=self.w.dtype)
        xp.put_along_axis(g, self.targets[..., None], (-self.w * gy)[..., None], axis=-1)
        return g


def nll_loss(log_probs, targets, mask=None, reduction="mean"):
    """Negative log-likelihood of ``targets`` under ``log_probs`` (a model ending in LogSoftmax).

    ``nll_loss(log_softmax(z), y) == cross_entropy(z, y)``; use this one when the
    model already outputs log-probabilities (Trax's ``Serial(..., LogSoftmax())``),
    so the normalisation is not done twice.  Same shapes and mask rules as
    ``cross_entropy``.
    """
    log_probs = _logits(log_probs, "log_probs", "nll_loss")
    return NLLLoss(_ids(targets, log_probs, "nll_loss"), _mask(mask, "nll_loss"), reduction)(log_probs)


def _logits(x, name, who):
    """Scores (..., C) with at least one axis (the classes)."""
    x = _as_input(x, name, who)
    if x.ndim == 0 or x.dtype.kind != "f" or x.shape[-1] == 0:
        raise ValueError(f"{who}: {name} must be floating scores of shape (..., n_classes), got a {x.dtype} "
                         f"tensor of shape {tuple(x.shape)}")
    return x


def _mask(mask, who):
    mask = array_of(mask)
    if mask is not None and not hasattr(mask, "dtype"):
        try:
            mask = backend.xp().asarray(mask)
        except (TypeError, ValueError):
            raise TypeError(f"{who}: mask must be an array of weights, got {type(mask).__name__} {mask!r}") from None
    return mask


def one_hot(targets, n_classes, dtype):
    """targets (S,) int -> (S + (n_classes,)) of ``dtype``: 1 at each target's class, 0 elsewhere."""
    n_classes = validate.positive_int(n_classes, "n_classes", "one_hot")
    dtype = backend.numeric_dtype(dtype, "one_hot")
    targets = array_of(targets)
    if not hasattr(targets, "dtype"):
        targets = backend.xp().asarray(targets) if isinstance(targets, (list, tuple, int)) else targets
    if not hasattr(targets, "dtype"):
        raise TypeError(f"one_hot: targets must be integer class ids, got {type(targets).__name__} {targets!r}")
    validate.ids(targets, n_classes, "one_hot", "targets", "target class", "n_classes = {n} classes")
    xp = backend.xp_of(targets)
    return (targets[..., None] == xp.arange(n_classes)).astype(dtype)


def cross_entropy_simple(logits, targets, mask=None, reduction="mean"):
    """The same loss composed from primitives (readable twin of ``cross_entropy``)."""
    logits = _logits(logits, "logits", "cross_entropy_simple")
    t = _ids(targets, logits, "cross_entropy_simple")
    _check_targets(logits.shape, t, logits.shape[-1], "cross_entropy_simple")
    nll = -(activations.log_softmax(logits) * one_hot(t, logits.shape[-1], logits.dtype)).sum(axis=-1)
    w = _weights(t, _mask(mask, "cross_entropy_simple"), reduction, logits.dtype, "cross_entropy_simple")
    weighted = nll * w
    return weighted if reduction == "none" else weighted.sum()


class BinaryCrossEntropyWithLogits(Function):
    """L = mean( max(z,0) - z t + log(1 + e^-|z|) );  dL/dz = (sigmoid(z) - t) / N.

    The rearranged form equals -[t log s + (1-t) log(1-s)] with s = sigmoid(z)
    but never takes log(0) nor exp of a large positive number.
    """
    def __init__(self, t):
        self.t = t

    def forward(self, z):
        xp = backend.xp_of(z)
        if self.t.shape != z.shape:
            raise ValueError(f"binary_cross_entropy: targets {self.t.shape} != logits {z.shape}")
        self.z = z
        return (xp.maximum(z, 0) - z * self.t + xp.log1p(xp.exp(-xp.abs(z)))).mean()

    def backward(self, gy):
        return gy * (activations.stable_sigmoid(self.z) - self.t) / self.z.size


def binary_cross_entropy(logits, targets):
    """Stable binary cross-entropy from *logits* (apply no sigmoid first); targets in [0, 1]."""
    logits = _as_input(logits, "logits", "binary_cross_entropy")
    if logits.dtype.kind != "f":
        raise TypeError(f"binary_cross_entropy: logits must be floating scores, got {logits.dtype}")
    t = _ids(targets, logits, "binary_cross_entropy")
    validate.in_range(t, 0, 1, "binary_cross_entropy", "targets", " (probabilities of the positive class)")
    return BinaryCrossEntropyWithLogits(t.astype(logits.dtype))(logits)


def mse(pred, target):
    """Mean squared error  mean((pred - target)^2); pred and target must have the same shape.

    (Broadcasting a (4, 1) prediction against a (4,) target would silently average a
    (4, 4) table of wrong differences, so it is refused.)
    """
    pred = _as_input(pred, "pred", "mse")
    target = _as_input(target, "target", "mse")
    shapes = tuple(pred.shape), tuple(target.shape)
    if shapes[0] != shapes[1]:
        raise ValueError(f"mse: prediction of shape {shapes[0]} and target of shape {shapes[1]} differ; "
                         "reshape one (e.g. pred.reshape(-1) or target[:, None])")
    diff = arithmetic.sub(pred, target)
    return reductions.mean(arithmetic.mul(diff, diff))


def triplet_loss(v1, v2, margin=0.25, negatives="both"):
    """The course's Siamese triplet loss with hard negatives, the other questions of the batch as negatives.

    v1, v2: (B, d) L2-normalised embeddings (B >= 2); row i of v1 (the anchor A_i)
    and row i of v2 (its positive P_i) are duplicates, and every other row of v2
    is a negative for anchor i.  The batch's similarity matrix, s = cos = dot:

        scores = v1 @ v2^T  (B, B)       [ s(A1,P1)  s(A1,P2)  s(A1,P3) ]
                                         [ s(A2,P1)  s(A2,P2)  s(A2,P3) ]   diagonal: positives
                                         [ s(A3,P1)  s(A3,P2)  s(A3,P3) ]   off-diagonal: negatives

    Per row i, with s_ap = scores[i, i]:

    * mean_neg_i    = mean of the B - 1 off-diagonal scores of row i;
    * closest_neg_i = the largest off-diagonal score of row i that is still
      BELOW s_ap: the hardest negative the model already ranks correctly.  As
      the course's assignment computes it: subtract 2 from the diagonal and from
      every negative scoring above s_ap (cosines lie in [-1, 1], so those entries
      drop below every kept one), then take the row maximum.  (When every
      negative beats the positive, that maximum is the best of them minus 2.)
    * loss_i = max(0, margin - s_ap + mean_neg_i) + max(0, margin - s_ap + closest_neg_i)
    * loss   = mean_i loss_i

    ``negatives`` keeps only one term: "mean_neg", "closest_neg", or "both" (the course's sum).

    The choice of which entries count (the diagonal, the negatives above s_ap)
    is a constant mask: no gradient flows through it, as in the course.
    Changed from the first minidl version, which took closest_neg as the
    largest off-diagonal score overall (negatives above the positive included);
    this one follows the course's definition.
    """
    v1, v2 = _as_input(v1, "v1", "triplet_loss"), _as_input(v2, "v2", "triplet_loss")
    margin = validate.number(margin, "margin", "triplet_loss")
    validate.choice(negatives, ("mean_neg", "closest_neg", "both"), "negatives", "triplet_loss")
    if v1.ndim != 2 or v1.shape != v2.shape or v1.shape[0] < 2:
        raise ValueError(f"triplet_loss: v1 {tuple(v1.shape)} and v2 {tuple(v2.shape)} must both be "
                         "(B, d) with B >= 2 (the other rows of the batch are the negatives)")
    if negatives not in ("mean_neg", "closest_neg", "both"):
        raise ValueError(f"negatives must be 'mean_neg', 'closest_neg' or 'both', got {negatives!r}")
    scores = arithmetic.matmul(v1, v2.T)                                  # (B, B)
    B = scores.shape[0]
    xp = backend.xp_of(scores.data)
    eye = xp.eye(B, dtype=scores.dtype)
    positive = (scores * eye).sum(axis=1)                        # (B,) s(A_i, P_i)
    total = 0
    if negatives in ("mean_neg", "both"):
        mean_neg = (scores * (1 - eye)).sum(axis=1) / (B - 1)
        total = total + arithmetic.maximum(margin - positive + mean_neg, 0.0)
    if negatives in ("closest_neg", "both"):
        above = scores.data > positive.data[:, None]             # negatives that beat the positive
        exclude = ((eye > 0) | above).astype(scores.dtype)
        closest_neg = (scores - 2.0 * exclude).max(axis=1)
        total = total + arithmetic.maximum(margin - positive + closest_neg, 0.0)
    return total.mean()
