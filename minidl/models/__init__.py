"""The course's models as small builder functions (Trax style): each returns a Layer.

``SentimentModel(vocab_size, d_feature, n_classes=2)``  Embedding -> Mean -> Dense -> LogSoftmax
``DotProduct``, ``CollabNN``   collaborative filtering (collab.py)
``TabularModel``             entity embeddings + continuous columns -> MLP (tabular.py)
``glove``                    co-occurrence counts, the GloVe trainer, analogies (glove.py, word_vectors.py)
"""
from .sentiment import SentimentModel  # noqa: F401
from .ner import NERTagger  # noqa: F401
from .siamese import SiameseLSTM  # noqa: F401
from .collab import CollabNN, DotProduct  # noqa: F401
from .tabular import TabularModel  # noqa: F401
from .bag_of_words import BagOfWordsNet  # noqa: F401
from .ngram import NGramLM, fit_interpolation  # noqa: F401
from .neural_lm import NeuralLM, SerialScorer, WindowScorer, hinge_ranking_loss, corrupt_middle  # noqa: F401
from . import glove  # noqa: F401
