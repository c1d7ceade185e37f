"""``md.functional`` (import as F): every differentiable op as a plain function.

    import minidl.functional as F
    h = F.relu(x @ W + b)
    p = F.softmax(h, axis=-1)
"""
from .ops.arithmetic import add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clip, maximum, where, matmul  # noqa: F401
from .ops.reductions import sum, mean, max, min  # noqa: F401
from .ops.shape import reshape, transpose, concat, stack, split, embedding  # noqa: F401
from .ops.activations import relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, dropout  # noqa: F401
from .ops.losses import one_hot  # noqa: F401
from .ops.activations import sigmoid_range  # noqa: F401
from .ops.conv import conv2d  # noqa: F401
from .ops.pool import max_pool2d, avg_pool2d  # noqa: F401
