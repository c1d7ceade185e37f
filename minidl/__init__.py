"""minidl: a from-scratch deep-learning engine on NumPy and CuPy, written to be read.

    import minidl as md
    from minidl import nn, optim

    x = md.tensor([[1.0, 2.0]], requires_grad=True)
    (x * 3).sum().backward()
    x.grad                      # array([[3., 3.]], dtype=float32)

Layers (bottom to top): backend -> autograd -> ops -> gradcheck -> nn -> optim ->
data/datasets -> models; see DESIGN in the README.
"""
from .backend import (use, get_backend, available_backends, seed, using,  # noqa: F401
                      get_default_dtype, set_default_dtype, default_dtype)
from .autograd import (Tensor, Function, tensor, no_grad, enable_grad, set_grad_enabled,  # noqa: F401
                       is_grad_enabled)
from .transforms import grad, value_and_grad  # noqa: F401
from .ops import concat, stack, split, where, maximum  # noqa: F401
from . import functional, losses  # noqa: F401
from .gradcheck import gradcheck, GradcheckError, numerical_grad  # noqa: F401

import numpy as _np
float32, float64, int64 = _np.float32, _np.float64, _np.int64
__version__ = "0.1.0"
from . import nn  # noqa: E402,F401
from . import optim, metrics, models, train  # noqa: E402,F401
from .io import save, load, CheckpointError  # noqa: E402,F401
from .nn.scan import scan  # noqa: E402,F401
from . import manifold  # noqa: E402,F401
from . import data, datasets  # noqa: E402,F401
