"""The course's models as small builder functions (Trax style): each returns a Layer.

``SentimentModel(vocab_size, d_feature, n_classes=2)``  Embedding -> Mean -> Dense -> LogSoftmax
"""
from .sentiment import SentimentModel  # noqa: F401
from .ner import NERTagger  # noqa: F401,E402
from .siamese import SiameseLSTM  # noqa: F401,E402
