"""The way out to PyTorch, and back: one call each way.

    net = md.torch_interop.to_torch(model)          # the equivalent torch.nn module, weights copied
    md.torch_interop.from_torch(net, model)         # PyTorch's weights back into the minidl model

    sd = md.torch_interop.to_torch_state_dict(model)          # {name: NumPy array}, PyTorch layout
    md.torch_interop.from_torch_state_dict(model, sd)         # strict: every key, every shape

``to_torch`` (convert.py) builds the module; the weights travel through the
state dict (state_dict.py, recurrent.py), whose keys follow
``torch.nn.Sequential``: position i of a Serial owns ``"i.weight"``...

The layout, per layer (each line is tested against PyTorch in tests/test_torch_exchange.py):

=================  ==================================  =====================================
minidl             here                                PyTorch
=================  ==================================  =====================================
Dense              W (n_in, n_units), b (n_units,)     Linear.weight (out, in) = W^T, .bias = b
Embedding          W (V, d)                            Embedding.weight (V, d), the same
Conv2d             W (out, in, kh, kw), b (out,)       Conv2d.weight / .bias, the same
BatchNorm          gamma, beta; buffers running_mean,  weight, bias, running_mean, running_var
                   running_var                         (+ num_batches_tracked, 0 here)
RNN / LSTM / GRU   W (H + D, G H) over [h, x], b       weight_ih_l0 = W[H:]^T, weight_hh_l0 =
                                                       W[:H]^T, bias_ih_l0 + bias_hh_l0 = b;
                                                       LSTM gates f,i,g,o -> i,f,g,o; GRU
                                                       (reset_after=True) u,r,h' -> r,z,n with
                                                       z = 1 - u (see recurrent.py)
Bidirectional      forward_layer / backward_layer      the same keys + "_reverse"
=================  ==================================  =====================================

Exchangeable (``to_torch`` builds each): Dense, Embedding, ReLU, Sigmoid, Tanh,
Softmax, LogSoftmax, SigmoidRange, Mean (with a mask), PaddingMask, Normalize,
Dropout, Flatten, Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, BatchNorm,
RNN, LSTM, GRU(reset_after=True) with their tuple outputs (``return_state``),
``reverse`` and masks, Bidirectional, and the containers Serial, Branch,
Parallel (shared towers stay shared), Residual, ConcatEmbeddings.  Refused, with
the reason: the course's GRU (``reset_after=False``: PyTorch has no such layer),
``nn.Fn``, HierarchicalSoftmax, your own Layer subclasses, and any lazy layer
that has not seen its first input yet (call the model once, or give n_in).
"""
from .state_dict import ExchangeError, from_torch_state_dict, to_torch_state_dict
from .convert import from_torch, to_torch

__all__ = ["ExchangeError", "to_torch_state_dict", "from_torch_state_dict", "to_torch", "from_torch"]
