"""The entity-embedding network for tables (fastai's TabularModel, without batch norm).

    cats  (N, k) int      one column per categorical variable (``md.data.TabularProcessor``)
    conts (N, c) float    standardised continuous columns (and, for the one-hot
                          baseline, the one-hot blocks themselves)

    e = dropout( ConcatEmbeddings(cats) )                     (N, d_1 + ... + d_k)
    x = [ e | conts ]                                         (N, d + c)
    h = dropout( ReLU( Dense(x) ) ), once per hidden width    (N, layers[-1])
    y = Dense(n_out)(h)                                       (N, n_out) logits

With ``emb_sizes=[]`` the embedding part disappears and the model is the same
MLP on ``conts`` alone, called as ``model(conts)``: feed it one-hot columns and
it is the one-hot baseline (with ``layers=()``, logistic regression),
so the comparison changes nothing but the input encoding.  fastai also
batch-normalises the continuous input and each hidden layer; the standardised
columns already have mean 0 and std 1, and this small model trains well without.
"""
from __future__ import annotations

from .. import ops
from ..autograd import Tensor, tensor
from ..nn import ConcatEmbeddings, Dense, Layer


class TabularModel(Layer):
    def __init__(self, emb_sizes, n_cont: int, n_out: int, layers=(200, 100), dropout: float = 0.1,
                 emb_dropout: float = 0.05, names=None):
        super().__init__()
        self.emb_sizes, self.n_cont = [tuple(s) for s in emb_sizes], int(n_cont)
        self.dropout, self.emb_dropout = float(dropout), float(emb_dropout)
        self.embeds = ConcatEmbeddings(self.emb_sizes, names) if self.emb_sizes else None
        n_in = (self.embeds.d_out if self.embeds else 0) + self.n_cont
        if n_in == 0:
            raise ValueError("TabularModel needs categorical columns, continuous columns, or both")
        self.hidden = []
        for j, width in enumerate(layers):
            dense = Dense(width, n_in=n_in)
            self.add_layer(f"hidden{j}", dense)
            self.hidden.append(dense)
            n_in = width
        self.head = Dense(n_out, n_in=n_in)

    @property
    def name(self):
        widths = "_".join(str(d.n_units) for d in self.hidden)
        return f"TabularModel_{len(self.emb_sizes)}emb_{self.n_cont}cont_{widths}"

    def forward(self, cats, conts=None):
        if self.embeds is None and conts is None:       # no categorical part: model(conts)
            cats, conts = None, cats
        parts = []
        if self.embeds is not None:
            parts.append(ops.dropout(self.embeds(cats), self.emb_dropout, self.training))
        if self.n_cont:
            if conts is None or conts.shape[-1] != self.n_cont:
                raise ValueError(f"{self.name}: expected conts of shape (N, {self.n_cont}), got "
                                 f"{None if conts is None else tuple(conts.shape)}")
            parts.append(conts if isinstance(conts, Tensor) else tensor(conts))
        x = parts[0] if len(parts) == 1 else ops.concat(parts, axis=1)
        for dense in self.hidden:
            x = ops.dropout(ops.relu(dense(x)), self.dropout, self.training)
        return self.head(x)
