"""GloVe (Pennington, Socher & Manning 2014): word vectors fitted to log co-occurrence counts.

**1. Count** (``cooccurrence``).  X[i, j] = how much word j occurs in the context
of word i.  Two definitions of "context":

* ``window=None``, *same sentence* (the lecture's): every ordered pair of
  positions (p, q), p != q, of one sentence adds 1 to X[w_p, w_q].  A sentence
  of L words adds L(L - 1) in all; a word that occurs twice adds to X[i, i].
* ``window=k``, the paper's: positions at distance d <= k in the same sentence
  add 1/d (both ways), so a neighbour counts 1 and a word k away 1/k.

Both give a symmetric X.  It is sparse -- most word pairs never meet -- and is
kept as COO arrays (rows, cols, values) of its nonzero entries, never as a
dense V x V matrix (V = 50,000 would be 10 GB of float32, almost all zeros).

**2. Fit** (``GloVe``).  Vectors w_i, context vectors w~_j and biases b_i, b~_j with

    J = sum over X_ij > 0 of  f(X_ij) * (w_i . w~_j + b_i + b~_j - log X_ij)^2
    f(x) = min(1, (x / x_max)^alpha),    x_max = 100, alpha = 3/4

f gives rare pairs (noisy counts) a small say and caps frequent ones at 1, so
"the"-pairs do not dominate.  With e_ij = w_i . w~_j + b_i + b~_j - log X_ij the
gradient, by hand, is

    dJ/dw_i  = sum_j 2 f(X_ij) e_ij w~_j          dJ/db_i  = sum_j 2 f(X_ij) e_ij
    dJ/dw~_j = sum_i 2 f(X_ij) e_ij w_i           dJ/db~_j = sum_i 2 f(X_ij) e_ij

minidl gets it by autograd: the four tables are ``nn.Embedding`` layers, so a
batch of (i, j) pairs is four lookups, a product, a sum and a square, and
backward scatter-adds into exactly these sums.  ``hand_gradients`` writes the
formula out with NumPy and the tests check that the two agree.

Optimizer: AdaGrad (``optim.Adagrad``, the paper's, lr 0.05, accumulator
started at 1 as in the reference code) or plain SGD for comparison.  The final
vectors are w + w~: X is symmetric, so W and W~ learn the same thing from
different random starts, and their sum averages out some noise.

**The simpler variant** (``GloVe(..., variant="simple")``, the course
material's): the target log(1 + X), which is defined for X = 0, no weighting,
and the sum over *every* pair, zeros included:

    J_simple = sum over all i, j of (w_i . w~_j + b_i + b~_j - log(1 + X_ij))^2

It is computed a block of rows at a time (a (rows, V) slice, never V x V at
once) and trained with plain SGD.

**3. Use** (``word_vectors.py``, re-exported here).  ``analogy(vectors, vocab, a, b, c)``
answers "a : b :: c : ?" with the word nearest by cosine to b - a + c (a, b and
c themselves excluded): man : king :: woman : queen.  ``analogy_accuracy``
scores a list of questions, ``nearest`` lists neighbours, ``align_vectors``
re-orders vectors for another vocabulary, ``write_vectors_text`` saves them in
the GloVe text format.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, ops
from ..autograd import Tensor, no_grad, array_of
from ..nn import Embedding, Layer
from .word_vectors import align_vectors, analogy, analogy_accuracy, nearest, write_vectors_text

__all__ = ["Cooccurrence", "cooccurrence", "GloVe", "hand_gradients", "analogy", "analogy_accuracy",
           "nearest", "align_vectors", "write_vectors_text"]


# ---------------------------------------------------------------------- 1. counting
class Cooccurrence:
    """A sparse V x V co-occurrence matrix: X[rows[n], cols[n]] = values[n] (the nonzeros only).

    rows, cols: (nnz,) int64, sorted by (row, col);  values: (nnz,) float64 > 0.
    """

    def __init__(self, rows, cols, values, vocab_size):
        self.rows, self.cols, self.values = rows, cols, values
        self.vocab_size = int(vocab_size)

    @property
    def nnz(self):
        return len(self.values)

    def get(self, i, j):
        """X[i, j] (0.0 when the pair never occurred)."""
        key = int(i) * self.vocab_size + int(j)
        keys = self.rows * self.vocab_size + self.cols
        at = np.searchsorted(keys, key)
        return float(self.values[at]) if at < len(keys) and keys[at] == key else 0.0

    def row_block(self, row_ids):
        """Dense (len(row_ids), V) float64 slice X[row_ids, :] -- one block, never the whole matrix."""
        row_ids = np.asarray(row_ids)
        out = np.zeros((len(row_ids), self.vocab_size))
        starts = np.searchsorted(self.rows, row_ids, side="left")
        ends = np.searchsorted(self.rows, row_ids, side="right")
        for k, (s, e) in enumerate(zip(starts, ends)):
            out[k, self.cols[s:e]] = self.values[s:e]
        return out

    def dense(self):
        """The whole matrix as a dense array (for small vocabularies: tests, figures)."""
        if self.vocab_size > 5000:
            raise MemoryError(f"a dense {self.vocab_size} x {self.vocab_size} matrix is too big; "
                              "use row_block(ids) or the COO arrays")
        return self.row_block(np.arange(self.vocab_size))

    def __repr__(self):
        fill = self.nnz / max(self.vocab_size ** 2, 1)
        return f"Cooccurrence({self.vocab_size} x {self.vocab_size}, {self.nnz:,} nonzeros = {fill:.2%})"


def cooccurrence(sentences_of_ids, vocab_size, window=None, ignore_ids=()):
    """Count co-occurrences in a list of sentences (each a sequence of int ids < vocab_size).

    window:     None for "same sentence" (every pair of positions counts 1), or an
                int k >= 1 for the paper's symmetric window with weight 1/distance.
    ignore_ids: ids removed from the sentences before counting (e.g. pad 0 and unk
                1); as in the GloVe reference code, a window then reaches past them.
    Returns a ``Cooccurrence`` (sparse, symmetric).
    """
    V = int(vocab_size)
    if window is not None and (int(window) != window or window < 1):
        raise ValueError(f"window must be None (same sentence) or an int >= 1, got {window!r}")
    drop = np.asarray(sorted(ignore_ids), dtype=np.int64)
    sents = [np.asarray(s, dtype=np.int64).reshape(-1) for s in sentences_of_ids]
    sents = [s[~np.isin(s, drop)] if drop.size else s for s in sents]
    sents = [s for s in sents if len(s) > 1]
    if not sents:
        empty = np.zeros(0, dtype=np.int64)
        return Cooccurrence(empty, empty, np.zeros(0), V)
    flat = np.concatenate(sents)
    if flat.min() < 0 or flat.max() >= V:
        bad = int(flat[(flat < 0) | (flat >= V)][0])
        raise IndexError(f"cooccurrence: id {bad} is outside the vocabulary 0..{V - 1}")
    sentence_of = np.repeat(np.arange(len(sents)), [len(s) for s in sents])
    longest = max(len(s) for s in sents)
    max_distance = longest - 1 if window is None else min(int(window), longest - 1)

    length_at = np.repeat([len(s) for s in sents], [len(s) for s in sents])   # sentence length per token
    keys, weights, pending = [], [], 0
    for d in range(1, max_distance + 1):
        if (length_at <= d).mean() > 0.5:       # drop sentences too short for distance d (speed only)
            keep = length_at > d
            flat, sentence_of, length_at = flat[keep], sentence_of[keep], length_at[keep]
        # positions p and p + d of the same sentence: one pair at distance d, counted both ways
        same = sentence_of[:-d] == sentence_of[d:]
        a, b = flat[:-d][same], flat[d:][same]
        w = 1.0 if window is None else 1.0 / d
        keys.append(np.concatenate([a * V + b, b * V + a]))
        weights.append(np.full(2 * len(a), w))
        pending += 2 * len(a)
        if pending > 4_000_000:                 # merge duplicates now and then: memory stays O(nnz)
            keys, weights = _merge(keys, weights)
            pending = len(keys[0])
    (key,), (value,) = _merge(keys, weights)
    return Cooccurrence(key // V, key % V, value, V)


def _merge(keys, weights):
    """Sum the weights of equal keys (key = i * V + j): ([sorted unique keys], [summed weights])."""
    key, w = np.concatenate(keys), np.concatenate(weights)
    unique, inverse = np.unique(key, return_inverse=True)
    return [unique], [np.bincount(inverse, weights=w, minlength=len(unique))]


# ---------------------------------------------------------------------- 2. the model
class GloVe(Layer):
    """GloVe(vocab_size, dim=50, x_max=100, alpha=0.75, variant="glove" | "simple").

    Parameters (each an ``nn.Embedding``): ``w`` (V, dim), ``w_tilde`` (V, dim),
    ``b`` (V, 1), ``b_tilde`` (V, 1), all started U(-0.5, 0.5) / dim as in the
    reference code.  ``fit(X, ...)`` trains, ``objective(X)`` is J on the current
    parameters, ``vectors()`` gives w + w~ as a (V, dim) NumPy array.
    """

    def __init__(self, vocab_size: int, dim: int = 50, x_max: float = 100.0, alpha: float = 0.75,
                 variant: str = "glove"):
        super().__init__()
        if variant not in ("glove", "simple"):
            raise ValueError(f"variant must be 'glove' or 'simple', got {variant!r}")
        self.vocab_size, self.dim = int(vocab_size), int(dim)
        self.x_max, self.alpha, self.variant = float(x_max), float(alpha), variant
        rng = backend.host_rng()

        def start(cols):            # U(-0.5, 0.5) / dim, the reference code's start
            return (rng.random((self.vocab_size, cols)) - 0.5) / self.dim
        self.w = Embedding(self.vocab_size, self.dim, weights=start(self.dim))
        self.w_tilde = Embedding(self.vocab_size, self.dim, weights=start(self.dim))
        self.b = Embedding(self.vocab_size, 1, weights=start(1))
        self.b_tilde = Embedding(self.vocab_size, 1, weights=start(1))
        self.history = []            # J summed over each epoch's batches, as the reference code prints

    @property
    def name(self):
        return f"GloVe_{self.vocab_size}_{self.dim}" + ("_simple" if self.variant == "simple" else "")

    def weighting(self, x):
        """f(x) = min(1, (x / x_max)^alpha), elementwise on an array."""
        xp = backend.xp_of(x)
        return xp.minimum(1.0, (x / self.x_max) ** self.alpha)

    def forward(self, i, j):
        """Predicted log co-occurrence w_i . w~_j + b_i + b~_j for pairs (i[n], j[n]): (B,)."""
        dot = (self.w(i) * self.w_tilde(j)).sum(axis=-1)
        return dot + self.b(i).reshape(-1) + self.b_tilde(j).reshape(-1)

    def loss(self, i, j, x):
        """J restricted to the pairs (i[n], j[n]) with counts x[n] > 0 (a scalar Tensor).

        "glove":  sum_n f(x_n) (pred_n - log x_n)^2;   "simple": sum_n (pred_n - log(1 + x_n))^2.
        """
        x = array_of(x)
        xp = backend.xp_of(self.w.W.data)
        x = xp.asarray(x, dtype=self.w.W.dtype)
        err = self(i, j) - Tensor(xp.log(x) if self.variant == "glove" else xp.log1p(x))
        sq = err * err
        return (sq * Tensor(self.weighting(x))).sum() if self.variant == "glove" else sq.sum()

    def block_loss(self, row_ids, X: Cooccurrence):
        """The simple variant's J over every pair (i, j) with i in ``row_ids``, zeros included."""
        xp = backend.xp_of(self.w.W.data)
        rows = xp.asarray(np.asarray(row_ids))
        target = xp.asarray(np.log1p(X.row_block(np.asarray(row_ids))), dtype=self.w.W.dtype)
        pred = self.w(rows) @ ops.transpose(self.w_tilde.W) + self.b(rows) \
            + ops.reshape(self.b_tilde.W, (1, -1))                             # (rows, V)
        err = pred - Tensor(target)
        return (err * err).sum()

    def _batches(self, X, batch_size, rng):
        """One epoch of (loss Tensor) in random order: pairs for GloVe, row blocks for simple."""
        if self.variant == "simple":
            # as many steps per epoch as GloVe makes on X: blocks of about V / (nnz / batch_size) rows
            order = rng.permutation(self.vocab_size)
            steps = max(1, math.ceil(X.nnz / batch_size))
            rows_per_block = max(1, math.ceil(self.vocab_size / steps))
            for s in range(0, self.vocab_size, rows_per_block):
                yield self.block_loss(order[s:s + rows_per_block], X)
            return
        order = rng.permutation(X.nnz)
        for s in range(0, X.nnz, batch_size):
            take = order[s:s + batch_size]
            yield self.loss(X.rows[take], X.cols[take], X.values[take])

    def objective(self, X: Cooccurrence, batch_size: int = 65536) -> float:
        """J (or J_simple) on the current parameters, summed over the whole matrix."""
        total = 0.0
        with no_grad():
            if self.variant == "simple":
                step = max(1, batch_size // self.vocab_size)
                for s in range(0, self.vocab_size, step):
                    total += float(self.block_loss(np.arange(s, min(s + step, self.vocab_size)), X).item())
            else:
                for s in range(0, X.nnz, batch_size):
                    sl = slice(s, s + batch_size)
                    total += float(self.loss(X.rows[sl], X.cols[sl], X.values[sl]).item())
        return total

    def fit(self, X: Cooccurrence, epochs: int = 25, lr: float | None = None, optimizer: str = "adagrad",
            batch_size: int = 4096, seed: int = 0, callback=None):
        """Train on X for ``epochs`` passes; returns the per-epoch J (also in ``self.history``).

        optimizer: "adagrad" (default lr 0.05, accumulator started at 1, as the paper's
        code) or "sgd" (plain SGD; default lr 0.01 for "glove", 0.001 for "simple").
        batch_size: pairs per step; the simple variant makes as many steps per epoch, each
        over a block of whole rows.
        callback(epoch, J) is called after each epoch.
        """
        from .. import optim
        if optimizer == "adagrad":
            opt = optim.Adagrad(self, lr=lr or 0.05, initial_accumulator_value=1.0)
        elif optimizer == "sgd":
            opt = optim.SGD(self, lr=lr or (0.01 if self.variant == "glove" else 0.001))
        else:
            raise ValueError(f"optimizer must be 'adagrad' or 'sgd', got {optimizer!r}")
        rng = np.random.default_rng(seed)
        for epoch in range(1, epochs + 1):
            total = 0.0
            for loss in self._batches(X, batch_size, rng):
                value = float(loss.item())
                if not math.isfinite(value):
                    raise FloatingPointError(f"{self.name}: J became {value} in epoch {epoch} "
                                             f"({optimizer}, lr {opt.lr:g}); lower the learning rate")
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += value
            self.history.append(total)
            if callback is not None:
                callback(epoch, total)
        return list(self.history)

    def vectors(self) -> np.ndarray:
        """The word vectors w + w~: (V, dim) float NumPy array."""
        return backend.asnumpy(self.w.W.data + self.w_tilde.W.data)


def hand_gradients(model: GloVe, i, j, x):
    """dJ/dw, dJ/dw~, dJ/db, dJ/db~ of ``model.loss(i, j, x)`` by the formulas above (NumPy).

    Each pair n adds 2 f(x_n) e_n w~_{j_n} to row i_n of dJ/dw (and so on); ``np.add.at``
    does the adding, so a word that occurs in several pairs gets every contribution.
    Returns four arrays shaped like w, w~, b, b~.
    """
    W, Wt = backend.asnumpy(model.w.W.data), backend.asnumpy(model.w_tilde.W.data)
    b, bt = backend.asnumpy(model.b.W.data)[:, 0], backend.asnumpy(model.b_tilde.W.data)[:, 0]
    i, j, x = np.asarray(i), np.asarray(j), np.asarray(x, dtype=np.float64)
    if model.variant == "glove":
        e = (W[i] * Wt[j]).sum(1) + b[i] + bt[j] - np.log(x)
        coef = 2 * np.minimum(1.0, (x / model.x_max) ** model.alpha) * e
    else:
        coef = 2 * ((W[i] * Wt[j]).sum(1) + b[i] + bt[j] - np.log1p(x))
    dW, dWt = np.zeros_like(W), np.zeros_like(Wt)
    db, dbt = np.zeros((len(b), 1)), np.zeros((len(bt), 1))
    np.add.at(dW, i, coef[:, None] * Wt[j])
    np.add.at(dWt, j, coef[:, None] * W[i])
    np.add.at(db, (i, 0), coef)
    np.add.at(dbt, (j, 0), coef)
    return dW, dWt, db, dbt
