"""Differentiable primitives, grouped by family (one file each).

``arithmetic``  + - * / ** @, exp, log, sqrt, abs, clip, maximum, where
``reductions``  sum, mean, max, min
``shape``       reshape, transpose, indexing, concat, stack, split, unstack, embedding
``activations`` relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, dropout
``losses``      cross_entropy (one Function: softmax - onehot) and its composed twin, nll_loss, binary_cross_entropy, mse,
                triplet_loss

Naming: a Function whose natural name is also a Layer's in ``minidl.nn`` carries
the suffix ``Op`` (``ReLUOp``, ``MeanOp``, ``EmbeddingOp``...), so a traceback
says which of the two you are in: ``nn.ReLU`` (the layer) calls ``ops.relu``,
which runs ``ReLUOp.forward``.
"""
from .arithmetic import (add, sub, mul, div, neg, pow, rpow, exp, log, sqrt, abs, clip,  # noqa: F401
                         maximum, where, matmul, cast)
from .reductions import sum, mean, max, min  # noqa: F401
from .shape import reshape, transpose, getitem, concat, stack, split, unstack, embedding  # noqa: F401
from .activations import relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, dropout  # noqa: F401
from .activations import sigmoid_range  # noqa: F401
from .conv import conv2d  # noqa: F401
from .pool import max_pool2d, avg_pool2d  # noqa: F401
from .norm import batch_norm  # noqa: F401

# The one explicit step that gives Tensor its operators (a + b, a @ b, a.sum(), ...).
from . import tensor_methods
tensor_methods.install()
