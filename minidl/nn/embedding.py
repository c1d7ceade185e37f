"""Embedding: a trainable lookup table from token ids to vectors.

    ids: int, any shape S (e.g. (batch, time))    W: (vocab_size, d_feature)
    y = W[ids]: S + (d_feature,)                  y[b, t, :] = W[ids[b, t], :]

It equals one_hot(ids) @ W without building the (S, vocab_size) one-hot.  The
backward is a scatter-add: dW[v] = sum of dL/dy over every position holding id
v, so an id that occurs twice in a batch receives both gradients (plain
``dW[ids] += g`` would keep only one of them: the classic Embedding bug).

W starts as N(0, 1/d_feature) (std 1/sqrt(d_feature)): each vector then has an
expected squared length of 1, whatever d_feature is, so a following Mean or
Dense sees activations of a familiar size.  Trax draws from U(-sqrt(3/d_feature),
+sqrt(3/d_feature)), the same standard deviation (older Trax: N(0, 0.01^2)).

Ids must lie in 0..vocab_size-1 (0 is padding, 1 the unknown word, by the
course's convention); an id outside raises an IndexError naming the id.

**Pretrained and frozen.**  W can start from a given (vocab_size, d_feature)
matrix (word vectors from GloVe, row i for token id i) and can be frozen:

    Embedding(V, d, weights=matrix, trainable=False)    # the Keras spelling
    Embedding.from_pretrained(matrix, freeze=True)      # the PyTorch spelling (same layer)
    layer.trainable = True                               # unfreeze later to fine-tune

Freezing lives on the parameter: a frozen W has ``requires_grad=False``, so
backward never computes dW (no scatter-add, no (V, d) gradient array) and W.grad
stays None, which every optimizer already skips -- SGD's momentum, Adam's
moments and weight decay alike never touch it.  W is still one of the layer's
``parameters()``, so ``md.save`` / ``md.load`` keep it with the model.

**Speed, by name.**  ``Embedding(V, d, sparse_grad=True)`` (PyTorch's
``sparse=True``) keeps dL/dW as the looked-up rows only: ``W.grad`` is then a
``RowSparseGrad`` (``.to_dense()`` for the array) and the optimizers move only
those rows, with the same numbers (minidl/fast/sparse_embedding.py).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, ops, validate
from . import init
from .layer import Layer, parameter


class Embedding(Layer):
    """Embedding(vocab_size, d_feature, weights=None, trainable=True, sparse_grad=False).

    weights:     None (random N(0, 1/d_feature)), or a (vocab_size, d_feature) array
                 (NumPy/CuPy/Tensor; Keras's ``[matrix]`` list of one array is accepted
                 too) to start from; it is copied, in the default float dtype.
    trainable:   False freezes W (see the module docstring).
    sparse_grad: True keeps W.grad row-sparse (a speed switch, see the module docstring).
    """

    def __init__(self, vocab_size: int, d_feature: int, weights=None, trainable: bool = True,
                 sparse_grad: bool = False):
        super().__init__()
        self.vocab_size = validate.positive_int(vocab_size, "vocab_size", "Embedding")
        self.d_feature = validate.positive_int(d_feature, "d_feature", "Embedding")
        self.sparse_grad = validate.flag(sparse_grad, "sparse_grad", "Embedding")
        if weights is None:
            start = init.normal((self.vocab_size, self.d_feature), std=1.0 / math.sqrt(self.d_feature))
        else:
            start = _matrix(weights, (self.vocab_size, self.d_feature),
                            f"Embedding_{self.vocab_size}_{self.d_feature}")
        self.W = parameter(start)
        self.trainable = validate.flag(trainable, "trainable", "Embedding")

    @classmethod
    def from_pretrained(cls, matrix, freeze: bool = True) -> "Embedding":
        """An Embedding whose W is a copy of ``matrix`` (V, d), frozen unless ``freeze=False``."""
        V, d = _matrix(matrix, None, "Embedding.from_pretrained").shape
        return cls(V, d, weights=matrix, trainable=not freeze)

    @property
    def trainable(self) -> bool:
        return self.W.requires_grad

    @trainable.setter
    def trainable(self, value: bool):
        self.W.requires_grad = bool(value)
        if not value:
            self.W.grad = None          # a gradient left from before freezing must not be applied

    @property
    def name(self):
        return f"Embedding_{self.vocab_size}_{self.d_feature}" + ("" if self.trainable else "_frozen")

    def forward(self, ids):
        op = ops.shape.EmbeddingOp
        if self.sparse_grad:
            from ..fast.sparse_embedding import SparseEmbeddingOp     # the speed wing, only when asked for
            op = SparseEmbeddingOp
        try:
            return ops.embedding(ids, self.W, op=op)
        except (IndexError, TypeError) as exc:      # say which layer refused the ids
            raise type(exc)(f"{self.name}: {exc}") from None


def _matrix(weights, shape, who):
    """A host float array from ``weights`` (array, Tensor, or Keras-style [array]), shape-checked."""
    if isinstance(weights, (list, tuple)) and len(weights) == 1:
        weights = weights[0]
    data = getattr(weights, "data", weights)          # a Tensor -> its array
    arr = np.array(backend.asnumpy(data), copy=True)     # a copy: the caller's matrix stays its own
    if arr.ndim != 2:
        raise ValueError(f"{who}: weights must be a 2-D (vocab_size, d_feature) matrix, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{who}: weights have shape {arr.shape}, expected (vocab_size, d_feature) = {shape}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr
