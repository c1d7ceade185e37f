"""The course's NER tagger (Trax style): Embedding -> LSTM -> Dense -> LogSoftmax, one tag per token.

    ids (B, T) int  --Embedding-->  (B, T, d)  --LSTM(d)-->  (B, T, d)
                    --Dense-->      (B, T, n_tags)  --LogSoftmax-->  log p(tag | words so far)

Unlike the sentiment model, nothing is averaged away: the LSTM keeps one
output per position, so the model emits one distribution over tags per word.
A left-to-right LSTM sees only the words up to t; ``bidirectional=True`` adds a
second LSTM reading right to left, so "Paris" in "Paris said" can use "said":

    Serial(Branch(Embedding, PaddingMask()), Bidirectional(LSTM(d)), Dense, LogSoftmax)

The mask (ids != 0) lets the backward LSTM start at each sentence's last real
word instead of reading the padding first.  The forward-only model needs no
mask: with post-padding, the outputs at real positions never see the pads.

Training: ``md.losses.nll_loss(log_probs, tags, mask=ids != 0)`` ignores the
padded positions.
"""
from __future__ import annotations

from ..nn import LSTM, Bidirectional, Branch, Dense, Embedding, LogSoftmax, PaddingMask, Serial


def NERTagger(vocab_size: int, d_model: int, n_tags: int, bidirectional: bool = False,
              fused: bool = False):
    """Serial(Embedding(vocab_size, d_model), LSTM(d_model), Dense(n_tags), LogSoftmax()).

    Input (B, T) int ids (0 = padding), output (B, T, n_tags) log-probabilities.
    ``bidirectional=True`` uses Bidirectional(LSTM(d_model)) (outputs 2 d_model wide)
    fed with the padding mask; ``fused=True`` runs the LSTMs' fast path (same numbers).
    """
    if not bidirectional:
        return Serial(Embedding(vocab_size, d_model), LSTM(d_model, fused=fused), Dense(n_tags),
                      LogSoftmax())
    return Serial(Branch(Embedding(vocab_size, d_model), PaddingMask()),
                  Bidirectional(LSTM(d_model, fused=fused)), Dense(n_tags), LogSoftmax())
