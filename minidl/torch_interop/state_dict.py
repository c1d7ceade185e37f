"""Weights (and buffers) in PyTorch's layout: ``to_torch_state_dict`` / ``from_torch_state_dict``.

    sd = md.torch_interop.to_torch_state_dict(model)     # {name: NumPy array}, PyTorch layout
    md.torch_interop.from_torch_state_dict(model, torch_module.state_dict())

Names follow ``torch.nn.Sequential``: the layer at position i of a ``Serial``
(or ``Branch``, ``Parallel``, ``Residual``, ``ConcatEmbeddings``) owns the keys
``"i.weight"``, ``"i.bias"``... (nested containers give ``"i.j.weight"``, a
Residual's shortcut ``"shortcut.weight"``); parameter-free layers take a
position and no key, as in a Sequential.  PyTorch is never imported here: the
arrays are NumPy, and ``from_torch_state_dict`` accepts torch tensors too.
The layout of each layer is in the table of ``minidl/torch_interop/__init__.py``.

Loading is strict: every key the model needs must be there with exactly the
shape the layer has (or, for a layer not built yet, a shape that fits its
sizes), and no key may be left over.  A two-layer or bidirectional PyTorch RNN
loaded into a one-way, one-layer minidl layer, a stray key, a scalar where a
vector belongs: each is an ``ExchangeError`` naming the key and the reason,
and nothing in the model has changed (every check runs before any write).
"""
from __future__ import annotations

import re

import numpy as np

from .. import backend
from . import recurrent


class ExchangeError(ValueError):
    """A model or a state dict that cannot be exchanged, with the reason."""


def _np(x):
    """A NumPy array from a minidl array, a torch tensor or a NumPy array."""
    if hasattr(x, "detach"):                      # torch.Tensor, without importing torch
        return x.detach().cpu().numpy()
    return np.asarray(backend.asnumpy(x))


# ----------------------------------------------------------------------------- walking a model
def children(layer):
    """[(key, sublayer), ...] of a container layer, in PyTorch's naming; None for a leaf."""
    from .. import nn
    if isinstance(layer, nn.Residual):
        kids = [(str(i), s) for i, s in enumerate(layer.layers)]
        return kids + ([("shortcut", layer.shortcut)] if layer.shortcut is not None else [])
    if isinstance(layer, (nn.Serial, nn.Branch, nn.Parallel)):
        return [(str(i), s) for i, s in enumerate(layer.layers)]
    if isinstance(layer, nn.ConcatEmbeddings):
        return [(str(j), t) for j, t in enumerate(layer.tables)]
    return None


def kind_of(layer):
    """The layout family of a leaf layer that holds weights, or None."""
    from .. import nn
    kinds = ((nn.Dense, "dense"), (nn.Embedding, "embedding"), (nn.Conv2d, "conv"),
             (nn.BatchNorm, "batchnorm"), (nn.LSTM, "recurrent"), (nn.GRU, "recurrent"),
             (nn.RNN, "recurrent"), (nn.Bidirectional, "bidirectional"))
    return next((k for cls, k in kinds if type(layer) is cls), None)


def leaves(layer, prefix=""):
    """(kind or None, leaf layer, key prefix) for every leaf under ``layer``, in Sequential order."""
    kids = children(layer)
    if kids is None:
        yield kind_of(layer), layer, prefix
        return
    for key, sub in kids:
        yield from leaves(sub, f"{prefix}{key}.")


_HOW_TO_SIZE = {"Dense": "give the input size: nn.Dense({n}, n_in=...)",
                "Conv2d": "give the input size: nn.Conv2d({n}, k, in_channels=...)",
                "BatchNorm": "give the size: nn.BatchNorm(n_channels=...)"}


def check_built(layer, where):
    """An ExchangeError when a lazy layer has not created its weights yet (they are made at the first call)."""
    parts = [layer.forward_layer, layer.backward_layer] if kind_of(layer) == "bidirectional" else [layer]
    for part in parts:
        built = part.cell.built if hasattr(part, "cell") else getattr(part, "built", True)
        if built:
            continue
        name = type(part).__name__
        how = _HOW_TO_SIZE.get(name, "build it with the input size: layer.cell.build(n_in)")
        n = getattr(part, "n_units", getattr(part, "filters", ""))
        raise ExchangeError(f"{layer.name} (keys {where!r}...) has no weights yet: a lazy {name} creates "
                            "them at its first call, once it sees the input size. Call the model once on "
                            f"a batch (e.g. model(x[:1])), or {how.format(n=n)}")


def check_exchangeable(layer, where):
    if layer.parameters() or list(layer.named_buffers()):
        raise ExchangeError(f"{layer.name} (keys {where!r}...): no PyTorch layout for a "
                            f"{type(layer).__name__} with weights; exchangeable are Dense, Embedding, "
                            "Conv2d, BatchNorm, RNN, LSTM, GRU(reset_after=True), Bidirectional and "
                            "the containers Serial, Branch, Parallel, Residual, ConcatEmbeddings")


# ----------------------------------------------------------------------------- export
def _export(kind, layer):
    """{key relative to the layer: NumPy array} for one leaf."""
    if kind == "dense":
        out = {"weight": _np(layer.W.data).T.copy()}
        if layer.use_bias:
            out["bias"] = _np(layer.b.data)
        return out
    if kind == "embedding":
        return {"weight": _np(layer.W.data)}
    if kind == "conv":
        out = {"weight": _np(layer.W.data)}
        if layer.use_bias:
            out["bias"] = _np(layer.b.data)
        return out
    if kind == "batchnorm":
        # minidl does not count batches (PyTorch reads the count only when momentum=None): 0
        return {"weight": _np(layer.gamma.data), "bias": _np(layer.beta.data),
                "running_mean": _np(layer.running_mean), "running_var": _np(layer.running_var),
                "num_batches_tracked": np.array(0, dtype=np.int64)}
    if kind == "bidirectional":
        return {**recurrent.export(layer.forward_layer, ""), **recurrent.export(layer.backward_layer, "_reverse")}
    return recurrent.export(layer, "")


def to_torch_state_dict(model) -> dict:
    """The model's parameters and buffers as a PyTorch ``state_dict`` of NumPy arrays."""
    out = {}
    for kind, layer, p in leaves(model):
        if kind is None:
            check_exchangeable(layer, p)
            continue
        check_built(layer, p)
        try:
            part = _export(kind, layer)
        except recurrent.LayoutError as exc:
            raise ExchangeError(str(exc)) from None
        out.update({p + k: v for k, v in part.items()})
    return out


# ----------------------------------------------------------------------------- import
class _Keys:
    """The state dict being loaded: takes keys with a shape check, remembers which were used."""

    def __init__(self, state_dict):
        self.sd = {k: _np(v) for k, v in state_dict.items()}
        self.used = set()

    def take(self, key, shape, who, hint=""):
        """The array under ``key``; ``shape`` may hold None for a size the layer has yet to learn."""
        if key not in self.sd:
            near = sorted(k for k in self.sd if k.rsplit(".", 1)[0] == key.rsplit(".", 1)[0])
            raise ExchangeError(f"{who}: the state dict has no {key!r}" + (f" (it has {near})" if near else "")
                                + hint)
        a = self.sd[key]
        if a.ndim != len(shape) or any(want is not None and got != want for got, want in zip(a.shape, shape)):
            want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ExchangeError(f"{who}: {key!r} has shape {tuple(a.shape)}, but the layer needs {want}")
        self.used.add(key)
        return a

    def optional(self, key):
        if key in self.sd:
            self.used.add(key)


def _plan(kind, layer, keys, p):
    """(layer to build with n_in or None, [(owner layer, attribute, array in minidl layout)])."""
    who = f"{layer.name} (keys {p!r}...)"
    if kind == "dense":
        w = keys.take(p + "weight", (layer.n_units, layer.n_in if layer.built else None), who)
        writes = [(layer, "W", w.T)]
        if layer.use_bias:
            writes.append((layer, "b", keys.take(p + "bias", (layer.n_units,), who)))
        return [(layer, w.shape[1])] if not layer.built else [], writes
    if kind == "embedding":
        return [], [(layer, "W", keys.take(p + "weight", (layer.vocab_size, layer.d_feature), who))]
    if kind == "conv":
        w = keys.take(p + "weight", (layer.filters, layer.in_channels if layer.built else None) + layer.kernel_size, who)
        writes = [(layer, "W", w)]
        if layer.use_bias:
            writes.append((layer, "b", keys.take(p + "bias", (layer.filters,), who)))
        return [(layer, w.shape[1])] if not layer.built else [], writes
    if kind == "batchnorm":
        C = layer.n_channels if layer.built else None
        gamma = keys.take(p + "weight", (C,), who)
        C = gamma.shape[0]
        keys.optional(p + "num_batches_tracked")
        writes = [(layer, "gamma", gamma), (layer, "beta", keys.take(p + "bias", (C,), who)),
                  (layer, "running_mean", keys.take(p + "running_mean", (C,), who)),
                  (layer, "running_var", keys.take(p + "running_var", (C,), who))]
        return [(layer, C)] if not layer.built else [], writes
    pairs = ((layer.forward_layer, ""), (layer.backward_layer, "_reverse")) if kind == "bidirectional" \
        else ((layer, ""),)
    builds, writes = [], []
    for rec, suffix in pairs:
        take = lambda key, shape: keys.take(p + key, shape, who, _missing_hint(suffix))
        try:
            n_in, w = recurrent.import_(rec, take, suffix)
        except recurrent.LayoutError as exc:
            raise ExchangeError(f"{who}: {exc}") from None
        builds += [] if rec.cell.built else [(rec.cell, n_in)]
        writes += w
    return builds, writes


def _missing_hint(suffix):
    return "; the model is bidirectional, so it needs a PyTorch RNN built with bidirectional=True" \
        if suffix == "_reverse" else ""


def _leftover(left):
    """The error for keys that no layer of the model takes, with the likely reason."""
    why = []
    if any(re.search(r"_l[1-9]\d*(_reverse)?$", k) for k in left):
        why.append("they belong to a multi-layer PyTorch RNN (num_layers > 1), but a minidl RNN/GRU/LSTM is "
                   "one layer: stack one per layer, nn.Serial(nn.LSTM(H), nn.LSTM(H)), and exchange them "
                   "layer by layer")
    if any(k.endswith("_reverse") for k in left):
        why.append("a bidirectional PyTorch RNN loads into nn.Bidirectional(...), not into a one-way layer")
    if any("weight_hr_" in k for k in left):
        why.append("an LSTM with proj_size > 0 has no minidl twin")
    return ExchangeError(f"the state dict has keys the model does not use: {left}"
                         + (": " + "; ".join(why) if why else ""))


def from_torch_state_dict(model, state_dict) -> None:
    """Load a PyTorch ``state_dict`` (torch tensors or arrays) into ``model``, in place.

    Strict: each key the model needs, with the layer's shape, and no key left
    over, or an ``ExchangeError`` naming the key (and the model is unchanged).
    Lazy layers not built yet are built from the shapes in the state dict.
    """
    keys = _Keys(state_dict)
    builds, writes = [], []
    for kind, layer, p in leaves(model):
        if kind is None:
            check_exchangeable(layer, p)
            continue
        b, w = _plan(kind, layer, keys, p)
        builds += b
        writes += w
    left = sorted(set(keys.sd) - keys.used)
    if left:
        raise _leftover(left)
    not_float = [f"{owner.name}.{attr} ({value.dtype})" for owner, attr, value in writes if value.dtype.kind != "f"]
    if not_float:
        raise ExchangeError(f"the state dict gives non-floating values for {not_float}; weights are floating arrays")
    for layer, n_in in builds:
        layer.build(n_in)
    for owner, attr, value in writes:
        _write(owner, attr, value)


def _write(owner, attr, value):
    """Set a parameter's data (same backend and dtype as before) or a buffer."""
    current = getattr(owner, attr)
    is_param = hasattr(current, "requires_grad")          # a Parameter; else a registered buffer
    data = current.data if is_param else current
    new = backend.xp_of(data).asarray(np.ascontiguousarray(value).astype(data.dtype))
    if is_param:
        current.data, current.grad = new, None
    else:
        setattr(owner, attr, new)
