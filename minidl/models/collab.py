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
"""
from __future__ import annotations

from .. import ops
from ..autograd import Tensor, array_of, tensor
from ..data.tabular import emb_sz_rule
from ..nn import Dense, Embedding, Layer, init, parameter


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
