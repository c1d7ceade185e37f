"""Embedding: a trainable lookup table from token ids to vectors.

    ids: int, any shape S (e.g. (batch, time))    W: (vocab_size, d_feature)
    y = W[ids]: S + (d_feature,)                  y[b, t, :] = W[ids[b, t], :]

It equals one_hot(ids) @ W without building the (S, vocab_size) one-hot.  The
backward is a scatter-add: dW[v] = sum of dL/dy over every position holding id
v, so an id that occurs twice in a batch receives both gradients (plain
``dW[ids] += g`` would keep only one of them: the classic Embedding bug).

W starts as N(0, 1/d_feature) (std 1/sqrt(d_feature)): each vector then has an
expected squared length of 1, whatever d_feature is, so a following Mean or
Dense sees activations of a familiar size.  Trax draws from N(0, 0.01^2),
which also trains, only more slowly at the start.

Ids must lie in 0..vocab_size-1 (0 is padding, 1 the unknown word, by the
course's convention); an id outside raises an IndexError naming the id.
"""
from __future__ import annotations

import math

from .. import ops
from . import init
from .layer import Layer, parameter


class Embedding(Layer):
    def __init__(self, vocab_size: int, d_feature: int):
        super().__init__()
        self.vocab_size, self.d_feature = int(vocab_size), int(d_feature)
        self.W = parameter(init.normal((self.vocab_size, self.d_feature),
                                       std=1.0 / math.sqrt(self.d_feature)))

    @property
    def name(self):
        return f"Embedding_{self.vocab_size}_{self.d_feature}"

    def forward(self, ids):
        try:
            return ops.embedding(ids, self.W)
        except (IndexError, TypeError) as exc:      # say which layer refused the ids
            raise type(exc)(f"{self.name}: {exc}") from None
