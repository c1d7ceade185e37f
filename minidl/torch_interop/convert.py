"""``to_torch(model)`` builds the PyTorch twin of a minidl model; ``from_torch(module, model)`` copies back.

    net = md.torch_interop.to_torch(model)      # a torch.nn.Module, the weights copied
    ...                                         # train it with any PyTorch tool
    md.torch_interop.from_torch(net, model)     # its weights (and buffers) back into model

The twin computes the same function, layer for layer (tests/test_torch_exchange.py
compares outputs and gradients for each layer): plain ``torch.nn`` modules where
PyTorch has one (Linear, Embedding, Conv2d, pools, Dropout, Flatten, the
activations) and the small modules of ``twins.py`` where minidl's behaviour
differs (Serial spreading tuples, masked Mean, recurrent layers returning
minidl's outputs).  A layer the twin cannot reproduce is refused with the
reason, before anything is built: a plain Python function (``nn.Fn``), the
course's GRU (``reset_after=False``), the hierarchical softmax, a Layer
subclass of your own.

The twin lives on the CPU in the dtype of the model's parameters, in the
model's train/eval mode; a frozen Embedding stays frozen.  PyTorch is an
optional extra: it is imported here only when one of these functions runs.
"""
from __future__ import annotations

import numpy as np

from .state_dict import ExchangeError, children, from_torch_state_dict, to_torch_state_dict


def _twin(layer, memo):
    """The torch module for ``layer``; one module per minidl object, so shared weights stay shared."""
    if id(layer) in memo:
        return memo[id(layer)]
    from torch import nn as tnn
    from .. import nn
    from . import recurrent, twins
    kids = children(layer)
    if kids is not None:
        subs = [_twin(s, memo) for _, s in kids]
        if isinstance(layer, nn.Residual):
            out = twins.Residual(subs[:len(layer.layers)], subs[-1] if layer.shortcut is not None else None)
        else:
            cls = {nn.Serial: twins.Serial, nn.Branch: twins.Branch, nn.Parallel: twins.Parallel,
                   nn.ConcatEmbeddings: twins.ConcatEmbeddings}[type(layer)]
            out = cls(*subs)
        memo[id(layer)] = out
        return out
    t = type(layer)
    simple = {nn.ReLU: tnn.ReLU, nn.Sigmoid: tnn.Sigmoid, nn.Tanh: tnn.Tanh, nn.Flatten: tnn.Flatten,
              nn.GlobalAvgPool2d: twins.GlobalAvgPool2d}
    if t in simple:
        out = simple[t]()
    elif t in (nn.Softmax, nn.LogSoftmax):
        out = (tnn.Softmax if t is nn.Softmax else tnn.LogSoftmax)(dim=layer.axis)
    elif t is nn.Mean:
        out = twins.Mean(layer.axis, layer.keepdims)
    elif t is nn.PaddingMask:
        out = twins.PaddingMask(layer.pad_id)
    elif t is nn.Dropout:
        out = tnn.Dropout(layer.rate)
    elif t is nn.SigmoidRange:
        out = twins.SigmoidRange(layer.low, layer.high)
    elif t is nn.Normalize:
        out = twins.Normalize(layer.eps)
    elif t in (nn.MaxPool2d, nn.AvgPool2d):
        out = (tnn.MaxPool2d if t is nn.MaxPool2d else tnn.AvgPool2d)(layer.k, layer.stride)
    elif t is nn.Dense:
        out = tnn.Linear(layer.n_in, layer.n_units, bias=layer.use_bias)
    elif t is nn.Embedding:
        out = tnn.Embedding(layer.vocab_size, layer.d_feature)
        out.weight.requires_grad_(layer.trainable)
    elif t is nn.Conv2d:
        out = tnn.Conv2d(layer.in_channels, layer.filters, layer.kernel_size, layer.stride, layer.padding,
                         bias=layer.use_bias)
    elif t is nn.BatchNorm:
        out = twins.BatchNorm(layer.n_channels, eps=layer.eps, momentum=layer.momentum)
    elif t in (nn.LSTM, nn.GRU, nn.RNN, nn.Bidirectional):
        rec = layer.forward_layer if t is nn.Bidirectional else layer
        try:
            recurrent.check_gru(rec)
        except recurrent.LayoutError as exc:
            raise ExchangeError(str(exc)) from None
        cls = {nn.LSTM: twins.LSTM, nn.GRU: twins.GRU, nn.RNN: twins.RNN}[type(rec)]
        extra = {"nonlinearity": rec.cell.activation} if type(rec) is nn.RNN else {}
        out = cls(rec.cell.n_in, rec.n_units, batch_first=True, bidirectional=t is nn.Bidirectional, **extra)
        out.setup(rec.return_sequences, rec.return_state, rec.reverse)
    else:
        raise ExchangeError(f"{layer.name}: no PyTorch twin for a {t.__name__} "
                            + ("(a Python function: write it as a torch.nn.Module)" if t is nn.Fn else
                               "(not one of minidl's exchangeable layers; see minidl/torch_interop/__init__.py)"))
    memo[id(layer)] = out
    return out


def _dtype_of(model):
    params = model.parameters()
    return np.dtype(params[0].dtype) if params else np.dtype(np.float32)


def to_torch(model):
    """A ``torch.nn.Module`` that computes what ``model`` computes, with its weights and buffers copied.

    Raises ``ExchangeError`` with the reason for a layer that has no twin, and
    for a lazy layer that has not built its weights yet (call the model once).
    """
    import torch
    state = to_torch_state_dict(model)          # first: it names an unbuilt or unexchangeable layer
    module = _twin(model, {})
    module = module.to(getattr(torch, _dtype_of(model).name))
    frozen = {name for name, p in module.named_parameters() if not p.requires_grad}
    module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=True)
    for name, p in module.named_parameters():
        p.requires_grad_(name not in frozen)
    return module.train(model.training)


def from_torch(module, model):
    """Copy ``module``'s weights and buffers (a twin from ``to_torch``, or any module with the same
    ``state_dict`` keys) into ``model``, in place, strictly; returns ``model``."""
    from_torch_state_dict(model, module.state_dict())
    return model
