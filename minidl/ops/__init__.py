"""Differentiable primitives, grouped by family (one file each).

``arithmetic``  + - * / ** @, exp, log, sqrt, abs, clip, maximum, where
``reductions``  sum, mean, max, min
``shape``       reshape, transpose, indexing, concat, stack, split, embedding
``activations`` relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, dropout
``losses``      cross_entropy (fused) and its composed twin, binary_cross_entropy, mse, triplet_loss
"""
from .arithmetic import (add, sub, mul, div, neg, pow, rpow, exp, log, sqrt, abs, clip,  # noqa: F401
                         maximum, where, matmul, cast)
from .reductions import sum, mean, max, min  # noqa: F401
from .shape import reshape, transpose, getitem, concat, stack, split, embedding  # noqa: F401
from .activations import relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, dropout  # noqa: F401
from .activations import sigmoid_range  # noqa: F401,E402
from .conv import conv2d  # noqa: F401,E402
from .pool import max_pool2d, avg_pool2d  # noqa: F401,E402
