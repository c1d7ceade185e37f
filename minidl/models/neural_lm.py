"""A neural n-gram language model (Bengio et al. 2003) and three ways around its big softmax.

The model reads the previous n-1 words and predicts the next one:

    ctx (B, n-1) ids --Embedding--> (B, n-1, d) --Flatten--> (B, (n-1) d) --Dense, tanh--> h (B, H)

What to put on top of h is the whole question when V is large:

1. **Full softmax** (``NeuralLM(output="full")``): Dense(V), LogSoftmax.
   p(w | ctx) = e^{u_w . h + c_w} / sum_{v=1..V} e^{u_v . h + c_v}: every step costs O(V H).
2. **Hierarchical softmax** (``NeuralLM(output="hierarchical", counts=...)``):
   ``nn.HierarchicalSoftmax`` on h, p(w | ctx) = prod over the path of sigma(+-(v_k . h + b_k)):
   O(H log V) per training example.
3. **Serial scoring** (``SerialScorer``): the candidate word c is an *input* too,
   concatenated with the context, and the network outputs one score per
   (context, candidate):
       s(ctx, c) = v . g( W_ctx [e(w_1); ...; e(w_{n-1})] + W_cand e(c) + b ) + beta_c
   with g = ReLU (or tanh).  The context part A = W_ctx x + b is computed once and
   shared by every candidate; only W_cand e(c) and the last layer run once per candidate.
   Training scores the true word and K sampled candidates and takes a softmax over
   that set (``sampled_logits``); prediction scores all V candidates (``log_probs``).
4. **Collobert & Weston ranking** (``WindowScorer``, ``hinge_ranking_loss``): score a
   window of 2m+1 words; the true window must beat a copy whose middle word was
   replaced by a random word by a margin of 1:
       loss = mean( max(0, 1 - s(true window) + s(corrupted window)) )
   No probabilities at all: the goal is the word vectors.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, ops
from ..autograd import Tensor
from ..nn import Dense, Embedding, Flatten, HierarchicalSoftmax, LogSoftmax, Serial, Tanh
from ..nn import init
from ..nn.layer import Layer, parameter
from ..ops.losses import nll_loss


def _ids(x):
    return x.data if isinstance(x, Tensor) else x


class NeuralLM(Layer):
    """Embedding of the previous n-1 words, concatenated, a tanh hidden layer, then the output.

    vocab_size V, n_context = n-1 words, d_feature d, n_hidden H;
    output "full" (Dense(V) + LogSoftmax) or "hierarchical" (Huffman tree from ``counts``).
        log_prob(ctx (B, n-1), targets (B,)) -> (B,)     what training needs
        log_probs(ctx (B, n-1))              -> (B, V)   every word, for evaluation
    """

    def __init__(self, vocab_size, n_context, d_feature, n_hidden, output="full", counts=None):
        super().__init__()
        self.vocab_size, self.n_context, self.output_kind = int(vocab_size), int(n_context), output
        self.encoder = Serial(Embedding(vocab_size, d_feature), Flatten(),
                              Dense(n_hidden, n_in=n_context * d_feature), Tanh())
        if output == "full":
            self.output = Serial(Dense(vocab_size, n_in=n_hidden), LogSoftmax())
        elif output == "hierarchical":
            self.output = HierarchicalSoftmax(vocab_size, tree="huffman", counts=counts, n_in=n_hidden)
        else:
            raise ValueError(f"NeuralLM: output must be 'full' or 'hierarchical', got {output!r}")

    @property
    def embedding(self):
        return self.encoder[0]

    def _check(self, ctx):
        if ctx.ndim != 2 or ctx.shape[1] != self.n_context:
            raise ValueError(f"NeuralLM: contexts of shape {tuple(ctx.shape)} should be (batch, "
                             f"{self.n_context}): the previous {self.n_context} word ids")

    def forward(self, ctx):
        """h (B, H): the hidden vector of each context."""
        ctx = _ids(ctx)
        self._check(ctx)
        return self.encoder(ctx)

    def log_prob(self, ctx, targets):
        h = self(ctx)
        if self.output_kind == "full":
            xp = backend.xp_of(h.data)
            t = xp.asarray(_ids(targets))
            return ops.getitem(self.output(h), (xp.arange(len(t)), t))
        return self.output.log_prob(h, targets)

    def log_probs(self, ctx):
        h = self(ctx)
        return self.output(h) if self.output_kind == "full" else self.output.log_probs(h)

    def loss(self, ctx, targets):
        """Mean negative log-likelihood of the targets: nll_loss over the LogSoftmax for the
        full softmax (O(V)), minus the mean of the path log-probabilities for the tree (O(log V))."""
        if self.output_kind == "full":
            return nll_loss(self.log_probs(ctx), _ids(targets))
        return -ops.mean(self.log_prob(ctx, targets))


class SerialScorer(Layer):
    """s(ctx, c) = v . g(W_ctx [e(w_1); ...; e(w_{n-1})] + W_cand e(c) + b) + beta_c.

    g is the hidden layer's activation, "relu" (default) or "tanh".  Context and
    candidate meet only inside g.  With tanh, near the start (small pre-activations)
    tanh(A + C) ~ A + C: the score is nearly a sum of a context term and a candidate
    term, and their interaction (what makes "bread" likely after "eat the") has to
    grow out of the curvature; ReLU's on/off gate makes the candidate's effect
    depend on the context from the first step, and trains faster here.

    Shapes: ctx (B, n-1) ids; candidates (B, K) ids (one set per example) or (K,)
    (one set shared by the batch); scores (B, K).
    Parameters: ``embed`` W (V, d) ~ N(0, 1/d) for the context words; the candidate's
    feature vectors e(c) come from a second table ``embed_candidate`` (V, d), or from
    the same one with share=True (one vector per word whatever its role, as in
    Hinton's slide: fewer parameters, but here it learns more slowly); W_ctx
    ((n-1) d, H) and b (H,) in ``context``; W_cand (d, H) in ``candidate`` (Glorot);
    v (H,) ~ N(0, 1/H); beta (V,) zero, one bias per candidate word (it learns the
    unigram log-frequency).
    """

    def __init__(self, vocab_size, n_context, d_feature, n_hidden, share=False, activation="relu"):
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"SerialScorer: activation must be 'relu' or 'tanh', got {activation!r}")
        self.activation = activation
        self.vocab_size, self.n_context, self.n_hidden = int(vocab_size), int(n_context), int(n_hidden)
        self.embed = Embedding(vocab_size, d_feature)
        self.embed_candidate = self.embed if share else Embedding(vocab_size, d_feature)
        self.context = Dense(n_hidden, n_in=n_context * d_feature)
        self.candidate = Dense(n_hidden, n_in=d_feature, use_bias=False)
        self.v = parameter(init.normal((n_hidden,), std=1.0 / math.sqrt(n_hidden)))
        self.beta = parameter(init.zeros(vocab_size))

    @property
    def name(self):
        return f"SerialScorer_{self.vocab_size}"

    def context_part(self, ctx):
        """A = W_ctx [e(w_1); ...] + b: (B, H), computed once per context."""
        ctx = _ids(ctx)
        if ctx.ndim != 2 or ctx.shape[1] != self.n_context:
            raise ValueError(f"{self.name}: contexts of shape {tuple(ctx.shape)} should be (batch, "
                             f"{self.n_context})")
        e = self.embed(ctx)                                               # (B, n-1, d)
        return self.context(ops.reshape(e, (e.shape[0], -1)))

    def score(self, A, candidates):
        """Scores (B, K) of ``candidates`` (B, K) or (K,) given the context parts A (B, H)."""
        c = _ids(candidates)
        C = self.candidate(self.embed_candidate(c))                                 # (B, K, H) or (K, H)
        if c.ndim == 1:
            C = ops.reshape(C, (1,) + C.shape)                            # shared by every row of A
        B, H = A.shape
        pre = ops.reshape(A, (B, 1, H)) + C                               # (B, K, H): the net, K times
        hidden = ops.relu(pre) if self.activation == "relu" else ops.tanh(pre)
        s = ops.reshape(ops.matmul(hidden, ops.reshape(self.v, (H, 1))), hidden.shape[:2])
        return s + ops.getitem(self.beta, c)

    def forward(self, ctx, candidates):
        return self.score(self.context_part(ctx), candidates)

    def sampled_logits(self, ctx, targets, samples, log_q):
        """Training logits over {true word} + K shared samples: (B, 1 + K), true word in column 0.

        samples (K,) drawn from a proposal q; log_q (V,) its log-probabilities.  Each logit
        gets -log(K q(c)) (sampled softmax): without it, frequent words, sampled often,
        would be pushed down too hard.  A sample equal to the example's own target is
        masked out (-1e4), so the true word never competes with itself."""
        A = self.context_part(ctx)
        xp = backend.xp_of(A.data)
        t, smp = xp.asarray(_ids(targets)), xp.asarray(_ids(samples))
        log_q = xp.asarray(log_q).astype(A.dtype)
        K = len(smp)
        s_true = self.score(A, t[:, None])                                 # (B, 1)
        s_samp = self.score(A, smp)                                        # (B, K)
        correction = Tensor(xp.concatenate([-(math.log(K) + log_q[t])[:, None],
                                            xp.broadcast_to(-(math.log(K) + log_q[smp]), (len(t), K))
                                            - 1e4 * (smp[None, :] == t[:, None])], axis=1))
        return ops.concat([s_true, s_samp], axis=1) + correction

    def log_probs(self, ctx, chunk=64):
        """log p(w | ctx) for every word, each candidate scored by the network: (B, V).

        The candidate parts W_cand e(c) of all V words are computed once; the context
        rows go through in chunks of ``chunk`` (the (chunk, V, H) hidden layer is the
        memory that serial scoring costs at prediction time)."""
        xp = backend.xp_of(self.v.data)
        everyone = xp.arange(self.vocab_size)
        A = self.context_part(ctx)
        rows = [ops.log_softmax(self.score(A[i:i + chunk], everyone), axis=-1)
                for i in range(0, A.shape[0], chunk)]
        return rows[0] if len(rows) == 1 else ops.concat(rows, axis=0)


class WindowScorer(Layer):
    """Collobert & Weston's window network: s(window) = Dense_1( tanh( Dense_H( [e(w_1); ...; e(w_m)] ) ) ).

    windows (B, m) ids -> scores (B,).  Embedding (V, d) ~ N(0, 1/d); Dense layers Glorot.
    """

    def __init__(self, vocab_size, window, d_feature, n_hidden):
        super().__init__()
        self.window = int(window)
        self.net = Serial(Embedding(vocab_size, d_feature), Flatten(),
                          Dense(n_hidden, n_in=window * d_feature), Tanh(), Dense(1, n_in=n_hidden))

    @property
    def embedding(self):
        return self.net[0]

    def forward(self, windows):
        w = _ids(windows)
        if w.ndim != 2 or w.shape[1] != self.window:
            raise ValueError(f"WindowScorer: windows of shape {tuple(w.shape)} should be (batch, "
                             f"{self.window})")
        s = self.net(w)
        return ops.reshape(s, (s.shape[0],))


def hinge_ranking_loss(s_true, s_corrupt, margin=1.0):
    """mean( max(0, margin - s_true + s_corrupt) ).

    The gradient is -1/B (true) and +1/B (corrupt) for pairs still inside the
    margin and exactly 0 for pairs already separated by more than the margin:
    those windows stop training, which is what makes the hinge cheap."""
    return ops.mean(ops.maximum(margin - s_true + s_corrupt, 0.0))


def corrupt_middle(windows, vocab_size, rng, low=2, p=None):
    """A copy of ``windows`` (B, m) with the middle word replaced by another word, never the original.

    p=None: uniform over the ids [low, vocab_size) (low=2 skips padding and <unk>).
    p (vocab_size,): drawn from these probabilities, e.g. unigram^0.75 as in word2vec.
    Uniform replacements are mostly rare words, and a ranking net then learns to spot
    rare words (a frequency detector) more than words that do not fit; drawing them
    with the words' own frequencies leaves only the context to tell them apart."""
    out = np.array(windows, copy=True)
    mid = out.shape[1] // 2
    if p is None:
        shift = rng.integers(1, vocab_size - low, size=len(out))
        out[:, mid] = low + (out[:, mid] - low + shift) % (vocab_size - low)
        return out
    original = out[:, mid].copy()
    redo = np.ones(len(out), dtype=bool)
    for _ in range(100):                      # redraw the few that hit the original word
        out[redo, mid] = rng.choice(vocab_size, size=int(redo.sum()), p=p)
        redo = out[:, mid] == original
        if not redo.any():
            return out
    raise ValueError("corrupt_middle: could not draw a different word (is p concentrated on one word?)")
