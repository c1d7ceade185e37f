"""Layers (Trax names).  ``from minidl import nn``."""
from .layer import Layer, Parameter, parameter  # noqa: F401
from .dense import Dense  # noqa: F401
from . import init  # noqa: F401
from .activations import ReLU, Sigmoid, Tanh, Softmax, LogSoftmax  # noqa: F401
from .embedding import Embedding  # noqa: F401
from .core import Mean, PaddingMask, Dropout, Flatten, Fn  # noqa: F401
from .combinators import Serial, Parallel, Branch  # noqa: F401
from .scan import scan  # noqa: F401
from .cells import RNNCell, GRUCell, LSTMCell  # noqa: F401
from .recurrent import RNN, GRU, LSTM, Bidirectional  # noqa: F401
from .diagnostics import grad_norms_through_time  # noqa: F401
from .activations import SigmoidRange  # noqa: F401
from .tabular import ConcatEmbeddings  # noqa: F401
from .normalize import Normalize  # noqa: F401
from .conv import Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d  # noqa: F401
from .norm import BatchNorm  # noqa: F401
from .hierarchical_softmax import HierarchicalSoftmax  # noqa: F401
from .combinators import Residual  # noqa: F401
