"""Trask's bag-of-words sentiment network: V inputs -> H linear hidden units -> 1 sigmoid output.

    x (V,)  one input per vocabulary word: its count in the review, or 1/0 present/absent
    h = x @ W0           (H,)    W0 (V, H), starts at 0       -- linear: no activation here
    p = sigmoid(h @ W1)  (1,)    W1 (H, 1), starts N(0, 1)    -- P(review is positive)
    loss = (p - y)^2 / 2          its gradient is Trask's "error * sigmoid'(output)"

Trained one review at a time with plain SGD (W -= lr * dL/dW), as in the notebook.

Two forward passes that compute the same function when x is 0/1:

* ``forward_dense(x)``: the textbook one, x (B, V) @ W0.  A review has a few
  dozen words out of tens of thousands, so almost every multiply is by 0.
* ``forward_rows(ids)``: x @ W0 = sum_w x_w W0[w] = the sum of the rows of W0
  for the words present -- an Embedding followed by a sum (ids repeated k times
  stand for a count of k).

and two training steps with the same result:

* ``train_step_dense``: autograd for dL/dW0 (V, H), then SGD on *all* of W0;
* ``train_step_rows``: dL/dW0[w] = x_w dL/dh, which is 0 for every absent word,
  so gather the rows of the words present, let autograd give their gradients,
  and update only those rows.  The cost per review now grows with its length,
  not with the vocabulary.
"""
from __future__ import annotations

from .. import backend, functional as F
from ..autograd import Tensor, no_grad, tensor
from ..nn import init
from ..nn.layer import Layer, parameter


class BagOfWordsNet(Layer):
    """Parameters W0 (vocab_size, hidden) and W1 (hidden, 1); see the module docstring."""

    def __init__(self, vocab_size: int, hidden: int = 10):
        super().__init__()
        self.vocab_size, self.hidden = int(vocab_size), int(hidden)
        self.W0 = parameter(init.zeros((self.vocab_size, self.hidden)))
        self.W1 = parameter(init.normal((self.hidden, 1), std=1.0))

    @property
    def name(self):
        return f"BagOfWordsNet_{self.vocab_size}_{self.hidden}"

    # --- the two forward passes
    def forward_dense(self, x):
        """x (B, V) counts or 0/1  ->  P(positive) (B, 1)."""
        x = x if isinstance(x, Tensor) else tensor(x)
        if x.shape[-1] != self.vocab_size:
            raise ValueError(f"{self.name}: input has {x.shape[-1]} columns, the vocabulary has {self.vocab_size}")
        return F.sigmoid((x @ self.W0) @ self.W1)

    def forward_rows(self, ids):
        """ids (n,) word ids of ONE review (a repeated id counts twice)  ->  P(positive) (1, 1)."""
        h = F.embedding(self._check(ids), self.W0).sum(axis=0, keepdims=True)     # (1, H)
        return F.sigmoid(h @ self.W1)

    forward = forward_rows

    def _check(self, ids):
        xp = backend.xp_of(self.W0.data)
        ids = xp.asarray(ids)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise ValueError(f"{self.name}: ids must be a 1-D integer array (one review), got {ids.dtype} {ids.shape}")
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise IndexError(f"{self.name}: word id {int(ids.max()) if int(ids.min()) >= 0 else int(ids.min())} "
                             f"is outside 0..{self.vocab_size - 1}")
        return ids

    # --- the two training steps
    @staticmethod
    def loss(p, y):
        """(p - y)^2 / 2 for one review's prediction p (1, 1) and label y (0 or 1).

        Its gradient is Trask's (p - y) * p (1 - p) at the output's logit."""
        d = p - float(y)                 # a plain number: valid on either backend
        return (d * d).sum() * 0.5

    def train_step_dense(self, x, y, lr: float):
        """One SGD step on one review x (1, V); returns its prediction before the step."""
        p = self.forward_dense(x)
        self.zero_grad()
        self.loss(p, y).backward()
        with no_grad():
            self.W0.data -= lr * self.W0.grad          # all V rows, most of them by 0
            self.W1.data -= lr * self.W1.grad
        return float(p.item())

    def train_step_rows(self, ids, y, lr: float):
        """The same step from the word ids (n,) of one review; touches only their rows of W0."""
        ids = self._check(ids)
        W0 = self.W0.data
        rows = tensor(W0[ids], requires_grad=True, dtype=W0.dtype, backend_name=backend.name_of(W0))  # (n, H) copy
        p = F.sigmoid(rows.sum(axis=0, keepdims=True) @ self.W1)
        self.W1.grad = None
        self.loss(p, y).backward()
        # rows.grad[k] = dL/dh for every k; scatter-add (not assignment) so that a
        # repeated id -- a count -- receives one gradient per occurrence.
        backend.scatter_add(W0, ids, -lr * rows.grad)
        self.W1.data -= lr * self.W1.grad
        return float(p.item())
