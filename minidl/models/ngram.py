"""N-gram language models: counting, maximum likelihood, add-k smoothing, interpolation.

An n-gram model predicts token w_t from the n-1 tokens before it:

    p_MLE(w_t | w_{t-n+1..t-1}) = C(w_{t-n+1..t-1} w_t) / C(w_{t-n+1..t-1})

Each sentence gets n-1 start markers <s> in front and one end marker </s> at the
end, so the first word has a context ("<s> <s> the" for a trigram) and the model
learns where sentences stop.  Every real token and </s> is predicted; <s> never is.

* **Unseen n-grams.**  C(context w) = 0 gives p = 0 for a perfectly good
  continuation, and one zero in the validation text makes its perplexity
  exp(-(1/N) sum log p) infinite.  The bigger n, the more n-grams are unseen.
* **Add-k smoothing** (Laplace for k = 1) pretends every continuation was seen k
  more times:  p_k(w | ctx) = (C(ctx w) + k) / (C(ctx) + k |V|),  |V| = the
  number of predictable tokens.
* **Linear interpolation** mixes all the orders (and a uniform floor, so nothing
  is ever 0):  p(w | ctx) = l_0 / |V| + sum_{m=1..n} l_m p_MLE(w | last m-1 tokens),
  sum l = 1.  The l are fitted on held-out text by EM (``fit_interpolation``):
  each order gets the share of the held-out probability it explains.

Fast counting.  Tokens are integer ids 0..R-1 (R = ``vocab_size``).  An m-gram is
one int64 key, its tokens as the digits of a base-R number, the predicted token
last:  key = ((c_1 R + c_2) R + ...) R + w.  Then ``np.unique(keys,
return_counts=True)`` counts every m-gram of a million-token corpus in a tenth
of a second, a lookup is ``np.searchsorted``, and because the target is the last
digit, all continuations of one context are the contiguous keys [ctx R, ctx R + R).

    lm = NGramLM(n=3, vocab_size=R, bos=0, eos=1).fit(train_sentences)   # list of int arrays
    P = lm.probabilities(val_sentences)   # (N, n) p_MLE of every predicted token, order 1..n
    lm.perplexity(val_sentences, order=3, smoothing="add_k", k=0.01)
    lm.sample(order=3, rng=np.random.default_rng(0))                     # int ids, </s> excluded
"""
from __future__ import annotations

import math

import numpy as np

from .. import validate


def with_markers(sentences, n, bos, eos):
    """One stream: for each sentence [bos]*(n-1) + tokens + [eos].

    Returns (stream (N,) int64, predicted (N,) bool: True at every token and eos).
    Built without a Python loop over tokens: each sentence occupies len + n slots,
    filled with bos, then its tokens and its eos are written in place."""
    lens = np.array([len(s) for s in sentences], dtype=np.int64)
    if len(lens) == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    tokens = np.concatenate([np.asarray(s, dtype=np.int64).reshape(-1) for s in sentences])
    ends = np.cumsum(lens + n)                               # one past each sentence's eos
    first = ends - lens - 1                                  # where each sentence's first token goes
    where = np.repeat(first, lens) + np.arange(len(tokens)) - np.repeat(np.cumsum(lens) - lens, lens)
    stream = np.full(ends[-1], bos, dtype=np.int64)
    stream[where], stream[ends - 1] = tokens, eos
    predicted = np.zeros(ends[-1], dtype=bool)
    predicted[where], predicted[ends - 1] = True, True
    return stream, predicted


def fit_interpolation(P, iters=200, tol=1e-5):
    """EM for the weights of a mixture  p = sum_j l_j P[:, j]  on held-out data.

    P: (N, K) the K component probabilities of each held-out token.  E step: each
    token's responsibility r_j = l_j P_j / sum_i l_i P_i; M step: l_j = mean of r_j.
    Every step raises the held-out likelihood.  Returns l (K,), summing to 1."""
    P = np.asarray(P, dtype=np.float64)
    lam = np.full(P.shape[1], 1.0 / P.shape[1])
    for _ in range(iters):
        mix = P * lam
        r = mix / mix.sum(axis=1, keepdims=True)
        new = r.mean(axis=0)
        if np.abs(new - lam).max() < tol:
            return new
        lam = new
    return lam


class NGramLM:
    """Counts of every m-gram, m = 1..n, over sentences with start/end markers.

    vocab_size: R, token ids are 0..R-1 (including the markers);  bos, eos: the
    ids of <s> and </s>;  n_types: |V| for add-k and the uniform floor, the number
    of tokens that can be predicted (default R - 1: everything but <s>)."""

    def __init__(self, n: int, vocab_size: int, bos: int, eos: int, n_types: int | None = None):
        if n < 1:
            raise ValueError(f"NGramLM: n must be at least 1, got {n}")
        if vocab_size ** n >= 2 ** 63:
            raise ValueError(f"NGramLM: {n}-grams over {vocab_size} token ids do not fit an int64 key "
                             f"({vocab_size}^{n} >= 2^63); use a smaller vocabulary or n")
        self.n, self.R, self.bos, self.eos = int(n), int(vocab_size), int(bos), int(eos)
        self.n_types = int(n_types) if n_types is not None else self.R - 1
        self.keys, self.counts = {}, {}            # order m -> sorted unique m-gram keys, their counts
        self.ctx_keys, self.ctx_counts = {}, {}    # order m -> contexts (m-1 tokens) of predicted tokens
        self.n_tokens = 0

    # --- counting
    def _keys(self, stream, positions, m):
        """The m-gram keys ending at ``positions`` (the last digit is the predicted token)."""
        key = np.zeros(len(positions), dtype=np.int64)
        for j in range(m - 1, -1, -1):             # oldest context token first
            key = key * self.R + stream[positions - j]
        return key

    def fit(self, sentences):
        """Count every m-gram (m = 1..n) that ends at a predicted token.  Returns self."""
        stream, pos = self._stream(sentences)
        self.n_tokens = len(pos)
        for m in range(1, self.n + 1):
            self.keys[m], self.counts[m] = np.unique(self._keys(stream, pos, m), return_counts=True)
            if m > 1:
                # C(ctx) = how often ctx precedes a predicted token, so sum_w p(w | ctx) = 1 exactly
                ctx_of = self.keys[m] // self.R                       # sorted, like the keys
                self.ctx_keys[m] = np.unique(ctx_of)
                self.ctx_counts[m] = np.bincount(np.searchsorted(self.ctx_keys[m], ctx_of),
                                                 weights=self.counts[m]).astype(np.int64)
        return self

    def _stream(self, sentences):
        """(stream with markers, positions of the predicted tokens); ids are checked."""
        stream, predicted = with_markers(sentences, self.n, self.bos, self.eos)
        validate.ids(stream, self.R, "NGramLM", "ids", "token id", "vocab_size {n}")
        return stream, np.flatnonzero(predicted)

    @staticmethod
    def _lookup(sorted_keys, counts, queries):
        """counts of ``queries`` in (sorted_keys, counts); 0 for a key never seen."""
        if len(sorted_keys) == 0:
            return np.zeros(len(queries), dtype=np.int64)
        order = np.argsort(queries, kind="stable")          # sorted queries walk the table in order
        i = np.empty(len(queries), dtype=np.int64)
        i[order] = np.minimum(np.searchsorted(sorted_keys, queries[order]), len(sorted_keys) - 1)
        return np.where(sorted_keys[i] == queries, counts[i], 0)

    def count_table(self, sentences):
        """For every predicted token of ``sentences``: (C(ngram) (N, n), C(context) (N, n)),
        column m-1 for order m (the order-1 context count is the number of training tokens)."""
        stream, pos = self._stream(sentences)
        C = np.zeros((len(pos), self.n), dtype=np.int64)
        Cctx = np.zeros((len(pos), self.n), dtype=np.int64)
        for m in range(1, self.n + 1):
            keys = self._keys(stream, pos, m)
            C[:, m - 1] = self._lookup(self.keys[m], self.counts[m], keys)
            Cctx[:, m - 1] = self.n_tokens if m == 1 else \
                self._lookup(self.ctx_keys[m], self.ctx_counts[m], keys // self.R)
        return C, Cctx

    # --- probabilities
    def probabilities(self, sentences, smoothing="mle", k=1.0, table=None):
        """p of every predicted token under each order m = 1..n:  (N, n).

        smoothing="mle": C(ctx w) / C(ctx), 0 where the context was never seen;
        smoothing="add_k": (C(ctx w) + k) / (C(ctx) + k |V|).
        ``table``: the ``count_table(sentences)`` computed once, to try many smoothings
        on the same text without counting it again (every method below takes it too)."""
        C, Cctx = self.count_table(sentences) if table is None else table
        if smoothing == "mle":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(Cctx > 0, C / np.maximum(Cctx, 1), 0.0)
        if smoothing == "add_k":
            return (C + k) / (Cctx + k * self.n_types)
        raise ValueError(f"NGramLM: smoothing must be 'mle' or 'add_k', got {smoothing!r}")

    def interpolation_components(self, sentences, order=None, table=None):
        """(N, order+1): the uniform floor 1/|V| then p_MLE of orders 1..order."""
        order = order or self.n
        P = self.probabilities(sentences, "mle", table=table)[:, :order]
        return np.concatenate([np.full((len(P), 1), 1.0 / self.n_types), P], axis=1)

    def fit_lambdas(self, heldout_sentences, order=None, table=None):
        """The interpolation weights (l_0 uniform, l_1 .. l_order) fitted by EM on held-out text."""
        return fit_interpolation(self.interpolation_components(heldout_sentences, order, table))

    def log_probs(self, sentences, order=None, smoothing="mle", k=1.0, lambdas=None, table=None):
        """log p of every predicted token (N,) under one model: order m with "mle"/"add_k", or
        smoothing="interpolated" with ``lambdas`` (order+1,) from ``fit_lambdas``."""
        order = order or self.n
        if smoothing == "interpolated":
            if lambdas is None or len(lambdas) != order + 1:
                raise ValueError(f"NGramLM: interpolating orders 1..{order} needs {order + 1} lambdas "
                                 "(uniform first); fit them with fit_lambdas")
            p = self.interpolation_components(sentences, order, table) @ np.asarray(lambdas)
        else:
            p = self.probabilities(sentences, smoothing, k, table)[:, order - 1]
        with np.errstate(divide="ignore"):
            return np.log(p)

    def perplexity(self, sentences, **model) -> float:
        """exp( -mean log p ) over every predicted token; inf when one token has p = 0."""
        lp = self.log_probs(sentences, **model)
        return math.exp(-lp.mean()) if np.isfinite(lp).all() else math.inf

    # --- generating
    def continuations(self, context, order):
        """(next-token ids, their counts) seen after ``context`` (the last order-1 ids)."""
        if order == 1:
            return self.keys[1], self.counts[1]
        ctx = 0
        for t in list(context)[-(order - 1):]:
            ctx = ctx * self.R + int(t)
        lo, hi = np.searchsorted(self.keys[order], [ctx * self.R, (ctx + 1) * self.R])
        return self.keys[order][lo:hi] % self.R, self.counts[order][lo:hi]

    def sample(self, order=None, rng=None, max_len=60):
        """A sentence drawn from the order-m MLE model, starting from <s> ... <s>, ending at </s>
        (not returned) or after ``max_len`` tokens.  MLE never gets stuck: every context it
        produces was seen in training, so it has continuations."""
        order, rng = order or self.n, rng or np.random.default_rng()
        context, out = [self.bos] * (self.n - 1), []
        for _ in range(max_len):
            ids, counts = self.continuations(context, order)
            w = int(rng.choice(ids, p=counts / counts.sum()))
            if w == self.eos:
                break
            out.append(w)
            context.append(w)
        return out
