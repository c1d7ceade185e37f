"""``trax.layers`` (the course imports it as ``tl``): Trax's layers with Trax's stack semantics, on minidl.

    from trax import layers as tl
    model = tl.Serial(tl.Embedding(vocab_size=9088, d_feature=256), tl.Mean(axis=1),
                      tl.Dense(n_units=2), tl.LogSoftmax())
    print(model)          # Serial[ Embedding_9088_256  Mean  Dense_2  LogSoftmax ] (one per line)

The files: ``base.py`` (the layer contract, weights, init, files), ``stack.py`` (the data
stack), ``combinators.py`` (Serial, Parallel, Branch, Select, Residual, ...), ``core.py``
(Dense, Embedding, Mean, activations, LayerNorm, ShiftRight), ``rnn.py`` (GRU, LSTM),
``metrics.py`` (losses and metrics as layers), ``initializers.py`` (Trax's initial weights).
"""
from . import initializers  # noqa: F401
from .base import (EMPTY_STATE, EMPTY_WEIGHTS, GET_STATE_FROM_CACHE, GET_WEIGHTS_FROM_CACHE, Fn,  # noqa: F401
                   Layer, LayerError, PureLayer, flatten_weights_and_state, to_list, unflatten_weights_and_state)
from .stack import inputs_from_stack, outputs_onto_stack  # noqa: F401
from .combinators import (Add, Branch, Concatenate, Drop, Dup, Multiply, Parallel, Residual, Select,  # noqa: F401
                          Serial, Split, SubtractTop, Swap)
from .core import (ArgMax, Dense, Dropout, Embedding, Exp, Flatten, LayerNorm, Log, LogSoftmax, Max, Mean,  # noqa: F401
                   Min, Relu, ShiftRight, Sigmoid, Softmax, Sum, Tanh, log_softmax, logsoftmax_sample, one_hot)
from .rnn import GRU, LSTM  # noqa: F401
from .metrics import (Accuracy, BinaryCrossEntropy, CategoryAccuracy, CategoryCrossEntropy,  # noqa: F401
                      CrossEntropyLoss, L2Loss, WeightedCategoryAccuracy, WeightedCategoryCrossEntropy)
from .initializers import (GlorotNormalInitializer, GlorotUniformInitializer, RandomNormalInitializer,  # noqa: F401
                           RandomUniformInitializer, ScaledInitializer)
