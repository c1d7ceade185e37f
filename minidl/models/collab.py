"""Collaborative filtering: predict user u's rating of item i from learned latent factors.

DotProduct (the matrix-factorisation model; fastai's DotProductBias)

    r_hat(u, i) = sigmoid_range( p_u . q_i + b_u + b_i,  low, high )

    p_u = P[u]  (n_factors,)   user factors   P: (n_users, n_factors)   an Embedding
    q_i = Q[i]  (n_factors,)   item factors   Q: (n_items, n_factors)   an Embedding
    b_u, b_i    scalars        user / item bias: Embeddings of width 1
    users, items: (B,) int  ->  r_hat: (B,)

    bias=False drops b_u and b_i; y_range=None drops the squashing.  The factors
    start at N(0, 0.01^2) and the biases at 0 (fastai's initialisation): every
    prediction starts at the middle of the range, and the gradient, not the
    initial noise, decides what the factors come to mean.

CollabNN (fastai's neural collaborative filtering)

    x = [ P[u] | Q[i] | user_meta | item_meta ]          (B, d_u + d_i + m_u + m_i)
    r_hat = sigmoid_range( Dense_1( dropout( ReLU( Dense_h(x) ))), low, high )   (B,)

    The embedding widths default to ``md.data.emb_sz_rule`` (min(600, round(1.6
    n ** 0.56))) of the number of users / items; their rows start at N(0, 1/d)
    (fastai's 0.01 leaves the MLP on a long plateau in short runs).  Instead of a fixed dot product
    the MLP learns how user and item vectors combine; optional metadata
    (genres, age, occupation...) is simply concatenated to the embeddings.

Training a rating model (fit_ratings, predict_ratings, rating_mse, average_user)

    A rating model is called on two id arrays (and, for CollabNN, metadata),
    not on one input, so fit_ratings writes its training loop out once.
    ``users, items, ratings`` are the whole (n,) rating table; ``rows`` pick the
    ratings to train or score on; ``user_meta`` (n_users, m_u) and ``item_meta``
    (n_items, m_i) are per-user / per-item tables, looked up by id per batch.

        loss = mean over the batch of (r_hat(u, i) - r)^2
        per epoch: shuffle train_rows; per batch: zero_grad, backward, AdamW step, one-cycle step

    The optimizer is fastai's Adam (beta2 0.99, eps 1e-5) with decoupled weight
    decay ``wd`` (AdamW; wd=0 is plain Adam) and the one-cycle schedule.
    ``with average_user(model, new, known):`` gives users without ratings the
    average embedding (and bias) of the known ones, for the cold start.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .. import ops, optim
from ..autograd import Tensor, array_of, no_grad, tensor
from ..data.tabular import emb_sz_rule
from ..nn import Dense, Embedding, Layer, init, parameter
from ..ops.losses import mse


def _embedding(n, d, std):
    e = Embedding(n, d)
    e.W = parameter(init.normal((n, d), std=std) if std else init.zeros((n, d)))
    return e


class DotProduct(Layer):
    def __init__(self, n_users: int, n_items: int, n_factors: int = 50, y_range=(0.0, 5.5),
                 bias: bool = True):
        super().__init__()
        self.n_users, self.n_items, self.n_factors = int(n_users), int(n_items), int(n_factors)
        self.y_range, self.bias = (tuple(y_range) if y_range is not None else None), bias
        self.user_factors = _embedding(n_users, n_factors, 0.01)
        self.item_factors = _embedding(n_items, n_factors, 0.01)
        if bias:
            self.user_bias = _embedding(n_users, 1, 0.0)
            self.item_bias = _embedding(n_items, 1, 0.0)

    @property
    def name(self):
        return f"DotProduct{'Bias' if self.bias else ''}_{self.n_factors}"

    def forward(self, users, items):
        users, items = array_of(users), array_of(items)
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"{self.name}: users and items must be 1-D id arrays of the same length, "
                             f"got shapes {tuple(users.shape)} and {tuple(items.shape)}")
        p, q = self.user_factors(users), self.item_factors(items)            # (B, k) each
        r = ops.sum(ops.mul(p, q), axis=1)                                   # (B,)  p_u . q_i
        if self.bias:
            r = r + ops.reshape(self.user_bias(users), (-1,)) + ops.reshape(self.item_bias(items), (-1,))
        return r if self.y_range is None else ops.sigmoid_range(r, *self.y_range)


class CollabNN(Layer):
    def __init__(self, n_users: int, n_items: int, user_sz: int | None = None, item_sz: int | None = None,
                 n_hidden: int = 100, y_range=(0.0, 5.5), n_user_meta: int = 0, n_item_meta: int = 0,
                 dropout: float = 0.0):
        super().__init__()
        self.user_sz = int(user_sz or emb_sz_rule(n_users))
        self.item_sz = int(item_sz or emb_sz_rule(n_items))
        self.n_user_meta, self.n_item_meta = int(n_user_meta), int(n_item_meta)
        self.y_range, self.dropout = (tuple(y_range) if y_range is not None else None), float(dropout)
        # N(0, 1/d) rows (Embedding's default), not fastai's N(0, 0.01^2): from near-zero
        # inputs the MLP sits on a plateau for epochs before the embeddings grow
        self.user_factors = Embedding(n_users, self.user_sz)
        self.item_factors = Embedding(n_items, self.item_sz)
        n_in = self.user_sz + self.item_sz + self.n_user_meta + self.n_item_meta
        self.hidden = Dense(n_hidden, n_in=n_in)
        self.out = Dense(1, n_in=n_hidden)

    @property
    def name(self):
        meta = f"+meta{self.n_user_meta}_{self.n_item_meta}" if self.n_user_meta + self.n_item_meta else ""
        return f"CollabNN_{self.user_sz}_{self.item_sz}{meta}"

    def forward(self, users, items, user_meta=None, item_meta=None):
        users, items = array_of(users), array_of(items)
        parts = [self.user_factors(users), self.item_factors(items)]
        for meta, width, what in ((user_meta, self.n_user_meta, "user_meta"),
                                  (item_meta, self.n_item_meta, "item_meta")):
            if width == 0:
                if meta is not None:
                    raise ValueError(f"{self.name}: got {what} but was built with n_{what}=0")
                continue
            if meta is None or tuple(meta.shape) != (len(users), width):
                got = None if meta is None else tuple(meta.shape)
                raise ValueError(f"{self.name}: {what} must have shape ({len(users)}, {width}), got {got}")
            parts.append(meta if isinstance(meta, Tensor) else tensor(meta))
        h = ops.relu(self.hidden(ops.concat(parts, axis=1)))
        h = ops.dropout(h, self.dropout, self.training)
        r = ops.reshape(self.out(h), (-1,))
        return r if self.y_range is None else ops.sigmoid_range(r, *self.y_range)


# ----------------------------------------------------------------------------- training a rating model
def _rating_inputs(users, items, rows, user_meta, item_meta):
    """The model's arguments for the ratings ``rows``: ids, plus the metadata rows of those ids."""
    if (user_meta is None) != (item_meta is None):
        raise ValueError("give both user_meta and item_meta (a width-1 table of zeros for a side "
                         f"without metadata), got user_meta {'absent' if user_meta is None else 'present'} "
                         f"and item_meta {'absent' if item_meta is None else 'present'}")
    u, i = users[rows], items[rows]
    return [u, i] if user_meta is None else [u, i, user_meta[u], item_meta[i]]


def predict_ratings(model, users, items, rows, user_meta=None, item_meta=None, chunk: int = 4096):
    """Predictions r_hat (len(rows),) as a NumPy array: eval mode, no graph, ``chunk`` ratings at a time.

    The model goes back to the mode it was in (dropout on again if it was training).
    """
    rows = np.asarray(rows)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return np.concatenate([model(*_rating_inputs(users, items, rows[s:s + chunk], user_meta, item_meta))
                                   .numpy() for s in range(0, len(rows), chunk)])
    finally:
        model.train(was_training)


def rating_mse(model, users, items, ratings, rows, user_meta=None, item_meta=None) -> float:
    """mean over ``rows`` of (r_hat - r)^2, a float."""
    return float(np.mean((predict_ratings(model, users, items, rows, user_meta, item_meta)
                          - ratings[rows]) ** 2))


def fit_ratings(model, users, items, ratings, train_rows, val_rows=None, epochs: int = 5,
                max_lr: float = 5e-3, wd: float = 0.0, batch_size: int = 64, seed: int = 0,
                user_meta=None, item_meta=None) -> dict:
    """Train a rating model with MSE, AdamW(betas (0.9, 0.99), eps 1e-5, weight_decay=wd) and one cycle.

    The order of the batches comes from ``np.random.default_rng(seed)``, so a run
    is repeatable.  Returns {"train": [MSE per epoch], "val": [MSE per epoch]
    (empty without val_rows), "lrs": the learning rate of every step}.
    """
    train_rows = np.asarray(train_rows)
    if len(train_rows) == 0:
        raise ValueError(f"fit_ratings: no training ratings (train_rows has shape {train_rows.shape})")
    opt = optim.AdamW(model, lr=max_lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=wd)
    steps_per_epoch = -(-len(train_rows) // batch_size)
    sched = optim.OneCycle(opt, max_lr=max_lr, total_steps=epochs * steps_per_epoch)
    order_rng = np.random.default_rng(seed)
    history = {"train": [], "val": []}
    for _ in range(epochs):
        perm = order_rng.permutation(train_rows)
        for s in range(0, len(perm), batch_size):
            rows = perm[s:s + batch_size]
            loss = mse(model(*_rating_inputs(users, items, rows, user_meta, item_meta)), tensor(ratings[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        history["train"].append(rating_mse(model, users, items, ratings, train_rows, user_meta, item_meta))
        if val_rows is not None:
            history["val"].append(rating_mse(model, users, items, ratings, val_rows, user_meta, item_meta))
    history["lrs"] = sched.lrs
    return history


@contextmanager
def average_user(model, new_users, known_users):
    """Inside the block, the rows of ``new_users`` hold the average of the ``known_users`` rows.

    The usual cold-start answer: a user with no ratings has an embedding row (and
    bias) that training never moved, so give them the typical user's instead:
        P[new] <- mean(P[known]),   b_user[new] <- mean(b_user[known])   (when the model has biases)
    The tables are restored on leaving the block, even after an error.
    """
    tables = [model.user_factors.W] + ([model.user_bias.W] if getattr(model, "user_bias", None) is not None else [])
    saved = [t.data.copy() for t in tables]
    for t in tables:
        t.data[new_users] = t.data[known_users].mean(axis=0)
    try:
        yield model
    finally:
        for t, s in zip(tables, saved):
            t.data[...] = s
