"""ConcatEmbeddings: one Embedding per categorical column, looked up and joined side by side.

    ids: (N, k) int, column j holding ids of categorical variable j (0..n_j - 1)
    tables W_j: (n_j, d_j), one per column
    y = [ W_1[ids[:, 0]] | W_2[ids[:, 1]] | ... | W_k[ids[:, k-1]] ]:  (N, d_1 + ... + d_k)

This is the "entity embeddings" input of a tabular network (Guo & Berkhahn
2016; fastai's TabularModel): each categorical column gets its own learned
vector per level, instead of a one-hot block.  Equivalently it is the product
of the concatenated one-hot blocks [onehot_1 | ... | onehot_k] with the
block-diagonal matrix diag(W_1, ..., W_k), without building either.

The backward needs nothing new: the lookups are ``ops.embedding`` (a
scatter-add into each table) and the join is ``ops.concat`` (its backward cuts
dL/dy at the seams d_1, d_1 + d_2, ... and hands each slice to its table).

Sizes: ``sizes`` is a list of (n_categories, d) pairs; ``md.data.emb_sz_rule``
gives fastai's default d = min(600, round(1.6 * n ** 0.56)).
"""
from __future__ import annotations

from .. import ops, validate
from ..autograd import array_of
from .embedding import Embedding
from .layer import Layer


class ConcatEmbeddings(Layer):
    def __init__(self, sizes, names=None):
        super().__init__()
        if not isinstance(sizes, (list, tuple)) or not all(isinstance(s, (list, tuple)) and len(s) == 2 for s in sizes):
            raise TypeError(f"ConcatEmbeddings: sizes must be a list of (n_categories, d) pairs, got {sizes!r}")
        self.sizes = [(validate.positive_int(n, "sizes (n_categories)", "ConcatEmbeddings"),
                       validate.positive_int(d, "sizes (d)", "ConcatEmbeddings")) for n, d in sizes]
        if not self.sizes:
            raise ValueError("ConcatEmbeddings: sizes must hold at least one (n_categories, d) pair, got []")
        self.names = list(names) if names is not None else [f"col{j}" for j in range(len(self.sizes))]
        if len(self.names) != len(self.sizes):
            raise ValueError(f"ConcatEmbeddings: {len(self.names)} names for {len(self.sizes)} columns")
        self.tables = [Embedding(n, d) for n, d in self.sizes]
        for j, table in enumerate(self.tables):
            self.add_layer(str(j), table)
        self.d_out = sum(d for _, d in self.sizes)

    @property
    def name(self):
        return f"ConcatEmbeddings_{len(self.sizes)}_{self.d_out}"

    def forward(self, ids):
        data = array_of(ids)
        if data.ndim != 2 or data.shape[1] != len(self.tables):
            raise ValueError(f"{self.name}: expected ids of shape (N, {len(self.tables)}) -- one column "
                             f"per categorical variable -- got shape {tuple(data.shape)}")
        parts = []
        for j, (table, col) in enumerate(zip(self.tables, self.names)):
            try:
                parts.append(table(data[:, j]))
            except IndexError as exc:            # say which column held the bad id
                raise IndexError(f"{self.name}, column {j} ({col!r}): {exc}") from None
        return parts[0] if len(parts) == 1 else ops.concat(parts, axis=-1)
