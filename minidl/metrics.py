"""``md.metrics``: numbers to report, not to differentiate.  Each returns a Python float.

accuracy(scores, targets)            mean over examples of [argmax_c scores[..., c] == target]
    scores: (N, C) or (N, T, C) logits, probabilities or log-probabilities (the
    argmax is the same for all three);  targets: int (N,) or (N, T).
masked_accuracy(scores, targets, mask)
    the same, counting only positions where mask is 1 (real tokens, not padding):
    sum(correct * mask) / sum(mask)   (NaN when the mask is all zeros).
perplexity(mean_cross_entropy)       exp(mean CE), the language models' metric:
    the effective number of words the model hesitates between at each step.
"""
from __future__ import annotations

import math

from . import backend, validate
from .autograd import array_of


def _correct(scores, targets, who):
    scores = array_of(scores)
    xp = backend.xp_of(scores)
    targets = xp.asarray(array_of(targets))
    if scores.shape[:-1] != targets.shape:
        raise ValueError(f"{who}: scores of shape {tuple(scores.shape)} do not fit targets of shape "
                         f"{tuple(targets.shape)} (expected targets of shape {tuple(scores.shape[:-1])})")
    return scores.argmax(axis=-1) == targets, xp


def accuracy(scores, targets) -> float:
    correct, _ = _correct(scores, targets, "accuracy")
    return float(correct.mean()) if correct.size else float("nan")


def masked_accuracy(scores, targets, mask) -> float:
    correct, xp = _correct(scores, targets, "masked_accuracy")
    m = validate.mask(xp.asarray(array_of(mask)), "masked_accuracy")
    if m.shape != correct.shape:
        raise ValueError(f"masked_accuracy: mask of shape {tuple(m.shape)} does not match targets of "
                         f"shape {tuple(correct.shape)}")
    m = m.astype(bool)
    n = int(m.sum())
    return float((correct & m).sum()) / n if n else float("nan")


def perplexity(mean_cross_entropy) -> float:
    ce = float(array_of(mean_cross_entropy))
    try:
        return math.exp(ce)
    except OverflowError:          # CE above ~709 nats: a diverged model, report inf
        return math.inf


# Entity-level precision / recall / F1 for NER (conlleval rules) live in their own file.
from .metrics_ner import EntityScores, entity_scores, entity_spans  # noqa: E402,F401
