"""The course's sentiment classifier (Trax style): Embedding -> Mean -> Dense -> LogSoftmax.

    ids (B, T) int  --Embedding-->  (B, T, d)  --Mean over T-->  (B, d)
                    --Dense-->      (B, n_classes)  --LogSoftmax-->  log-probabilities (B, n_classes)

The tweet is represented by the average of its word vectors (a bag of words
that ignores order), and a linear layer reads the class off that average.

mask_padding=False is the course's model exactly.  Padding id 0 then takes
part in the average (a short tweet padded to the batch's longest is mostly
padding), and the model learns to live with that.  mask_padding=True
averages over real tokens only:

    Serial(Branch(Embedding, PaddingMask(0)), Mean(axis=1), Dense, LogSoftmax)
    # Branch hands (vectors, mask) to Mean, which computes sum_t m_t x_t / sum_t m_t

Training: the outputs are log-probabilities; feed them to
``md.losses.cross_entropy(log_probs, labels)``.  That loss applies
log_softmax itself, and log_softmax(log_softmax(z)) = log_softmax(z)
(log-probabilities already log-sum-exp to 0), so the loss and its gradient are
exactly the negative log-likelihood of the labels.
"""
from __future__ import annotations

from ..nn import Branch, Dense, Embedding, LogSoftmax, Mean, PaddingMask, Serial


def SentimentModel(vocab_size: int, d_feature: int, n_classes: int = 2,
                   mask_padding: bool = False, pad_id: int = 0):
    """Serial(Embedding(vocab_size, d_feature), Mean(axis=1), Dense(n_classes), LogSoftmax()).

    vocab_size: number of token ids (0 = padding, 1 = unknown word);  d_feature: embedding size.
    Input (B, T) int ids, output (B, n_classes) log-probabilities.
    """
    embed = Embedding(vocab_size, d_feature)
    if mask_padding:
        embed = Branch(embed, PaddingMask(pad_id))
    return Serial(embed, Mean(axis=1), Dense(n_classes, n_in=d_feature), LogSoftmax())
