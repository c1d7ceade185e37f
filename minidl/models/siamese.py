"""The course's Siamese network for duplicate questions: two towers that share ONE set of weights.

    tower = Serial(Embedding(V, d), LSTM(d), Mean(axis=1), Normalize())
    model = Parallel(tower, tower)             # the same object twice
    v1, v2 = model(q1, q2)                     # (B, T) ids each -> (B, d) unit vectors each

    q (B, T) --Embedding--> (B, T, d) --LSTM--> (B, T, d) --Mean over T--> (B, d) --Normalize--> (B, d)

Sharing is what makes it a *Siamese* network: both questions go through the
very same function, so "how old are you" gets the same vector whichever side
it is on, and cos(v1, v2) = v1 . v2 compares like with like.  ``Parallel`` of
one layer twice shares by construction: ``model.parameters()`` lists each
weight once, and backward adds the gradients of both branches into it.

Train with ``md.losses.triplet_loss(v1, v2, margin)`` on batches of duplicate
pairs (row i of q1 and row i of q2 ask the same thing).
"""
from __future__ import annotations

from ..nn import LSTM, Embedding, Mean, Normalize, Parallel, Serial


def SiameseLSTM(vocab_size: int, d_model: int, fused: bool = False):
    """Parallel(tower, tower) with tower = Serial(Embedding, LSTM, Mean(axis=1), Normalize).

    Returns the Parallel; ``model[0]`` (the same object as ``model[1]``) is the tower,
    which embeds one batch of questions on its own.
    """
    tower = Serial(Embedding(vocab_size, d_model), LSTM(d_model, fused=fused), Mean(axis=1), Normalize())
    return Parallel(tower, tower)
