"""minidl: a from-scratch deep-learning engine on NumPy and CuPy, written to be read.

    import minidl as md
    from minidl import nn, optim

    x = md.tensor([[1.0, 2.0]], requires_grad=True)
    (x * 3).sum().backward()
    x.grad                      # array([[3., 3.]], dtype=float32)

Layers (bottom to top): backend -> autograd -> ops -> gradcheck -> nn -> optim ->
data/datasets -> models; the README's "The engine in one screen" has the map.
Speed tricks live in ``minidl/fast/`` and run only when switched on by name
(``fused=True``, ``sparse_grad=True``, ``replay=True``).
"""
from .backend import (use, get_backend, available_backends, seed, using,
                      get_default_dtype, set_default_dtype, default_dtype)
from .autograd import (Tensor, Function, tensor, no_grad, enable_grad, set_grad_enabled,
                       is_grad_enabled)
from .transforms import grad, value_and_grad
from .ops import concat, stack, split, where, maximum
from . import functional, losses
from .gradcheck import gradcheck, GradcheckError, numerical_grad

import numpy as _np
float32, float64, int64 = _np.float32, _np.float64, _np.int64
__version__ = "0.1.0"
from . import nn  # noqa: E402
from . import optim, metrics, models, train  # noqa: E402
from .io import save, load, CheckpointError  # noqa: E402
from .nn.scan import scan  # noqa: E402
from . import manifold  # noqa: E402
from . import data, datasets  # noqa: E402
from . import torch_interop, viz  # noqa: E402

__all__ = [
    # tensors and autograd
    "Tensor", "Function", "tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "grad", "value_and_grad", "scan",
    # backends and dtypes
    "use", "get_backend", "available_backends", "seed", "using", "get_default_dtype", "set_default_dtype",
    "default_dtype", "float32", "float64", "int64",
    # ops and checks
    "concat", "stack", "split", "where", "maximum", "functional", "losses", "ops",
    "gradcheck", "GradcheckError", "numerical_grad",
    # the rest of the package
    "nn", "optim", "metrics", "models", "train", "save", "load", "CheckpointError", "manifold", "data",
    "datasets", "torch_interop", "viz",
]
