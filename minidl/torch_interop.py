"""Weight exchange with PyTorch: the way out for a learner who outgrows minidl.

    sd = md.io.to_torch_state_dict(model)          # {name: numpy array}, PyTorch layout
    torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    md.io.from_torch_state_dict(model, torch_model.state_dict())

Names follow ``torch.nn.Sequential``: the layer at position i of a ``Serial``
owns the keys ``"i.weight"``, ``"i.bias"``... (nested combinators give
``"i.j.weight"``); parameter-free layers (ReLU, Mean...) take a position and no
key, exactly as in a Sequential.  PyTorch itself is never imported here: the
arrays are NumPy, and ``from_torch_state_dict`` accepts torch tensors too.

The layout mapping (each line is a test in tests/test_torch_parity.py):

=================  ==================================  =====================================
minidl             here                                PyTorch
=================  ==================================  =====================================
Dense              W (n_in, n_units), b (n_units,)     Linear.weight (out, in) = W^T, .bias = b
Embedding          W (V, d)                            Embedding.weight (V, d), the same
Conv2d             w (out, in, kh, kw), b (out,)       Conv2d.weight / .bias, the same
LSTM               W (H + D, 4H) over [h, x], gates    weight_ih_l0 (4H, D) = W[H:]^T,
                   f, i, g, o; b (4H,)                 weight_hh_l0 (4H, H) = W[:H]^T, gates
                                                       reordered to i, f, g, o; bias_ih_l0 = b,
                                                       bias_hh_l0 = 0 (PyTorch adds the two)
GRU(reset_after=   W (H + D, 3H), gates u, r, h';      gates r, z, n with z = 1 - u, so the
True)              b (3H,), b_hn (H,)                  z rows are the NEGATED u rows;
                                                       bias_hh_l0's n block = b_hn
Bidirectional      forward_layer / backward_layer      the same keys + "_reverse"
=================  ==================================  =====================================

The course's GRU (``reset_after=False``) applies Γr before the recurrent
product; PyTorch has no such layer, so exchanging it is refused with the reason.
"""
from __future__ import annotations

import numpy as np

from . import backend


class ExchangeError(ValueError):
    """A model or a state dict that cannot be exchanged, with the reason."""


def _np(x):
    """A NumPy array from a minidl array, a torch tensor or a NumPy array."""
    if hasattr(x, "detach"):                      # torch.Tensor, without importing torch
        return x.detach().cpu().numpy()
    return backend.asnumpy(x)


# LSTM gate blocks: minidl f, i, g, o  ->  PyTorch i, f, g, o
_LSTM_TO_TORCH = [1, 0, 2, 3]


def _blocks(a, n):
    return np.split(a, n, axis=0)


def _lstm_out(layer, suffix):
    cell, H = layer.cell, layer.cell.n_units
    W, b = _np(cell.W.data), _np(cell.b.data)
    order = lambda m: np.concatenate([_blocks(m, 4)[k] for k in _LSTM_TO_TORCH], axis=0)
    return {f"weight_ih_l0{suffix}": order(W[H:].T), f"weight_hh_l0{suffix}": order(W[:H].T),
            f"bias_ih_l0{suffix}": order(b), f"bias_hh_l0{suffix}": np.zeros_like(b)}


def _lstm_in(layer, sd, suffix):
    H = layer.cell.n_units
    unorder = lambda m: np.concatenate([_blocks(m, 4)[k] for k in _LSTM_TO_TORCH], axis=0)
    w_ih, w_hh = unorder(sd[f"weight_ih_l0{suffix}"]), unorder(sd[f"weight_hh_l0{suffix}"])
    b = unorder(sd[f"bias_ih_l0{suffix}"] + sd[f"bias_hh_l0{suffix}"])
    if not layer.cell.built:
        layer.cell.build(w_ih.shape[1])
    _assign(layer.cell.W, np.concatenate([w_hh.T, w_ih.T], axis=0), f"LSTM_{H} W")
    _assign(layer.cell.b, b, f"LSTM_{H} b")


def _gru_check(layer):
    if not layer.cell.reset_after:
        raise ExchangeError(f"{layer.name}: the course's GRU (reset_after=False) has no PyTorch twin "
                            "(PyTorch applies the relevance gate after the recurrent product); "
                            "build it as nn.GRU(n, reset_after=True) to exchange weights")


def _gru_out(layer, suffix):
    _gru_check(layer)
    cell, H = layer.cell, layer.cell.n_units
    W, b, b_hn = _np(cell.W.data), _np(cell.b.data), _np(cell.b_hn.data)
    (Wu, Wr, Wh), (bu, br, bh) = np.split(W, 3, axis=1), np.split(b, 3)
    z = lambda m: -m                              # PyTorch's z is 1 - u: sigma(-a) = 1 - sigma(a)
    return {f"weight_ih_l0{suffix}": np.concatenate([Wr[H:].T, z(Wu[H:].T), Wh[H:].T]),
            f"weight_hh_l0{suffix}": np.concatenate([Wr[:H].T, z(Wu[:H].T), Wh[:H].T]),
            f"bias_ih_l0{suffix}": np.concatenate([br, z(bu), bh]),
            f"bias_hh_l0{suffix}": np.concatenate([np.zeros_like(br), np.zeros_like(bu), b_hn])}


def _gru_in(layer, sd, suffix):
    _gru_check(layer)
    H = layer.cell.n_units
    (ir, iz, i_n) = _blocks(sd[f"weight_ih_l0{suffix}"], 3)
    (hr, hz, h_n) = _blocks(sd[f"weight_hh_l0{suffix}"], 3)
    (bir, biz, bin_) = _blocks(sd[f"bias_ih_l0{suffix}"], 3)
    (bhr, bhz, bhn) = _blocks(sd[f"bias_hh_l0{suffix}"], 3)
    if not layer.cell.built:
        layer.cell.build(ir.shape[1])
    col = lambda hh, ih: np.concatenate([hh.T, ih.T], axis=0)          # [h, x] rows
    _assign(layer.cell.W, np.concatenate([col(-hz, -iz), col(hr, ir), col(h_n, i_n)], axis=1), f"GRU_{H} W")
    _assign(layer.cell.b, np.concatenate([-(biz + bhz), bir + bhr, bin_]), f"GRU_{H} b")
    _assign(layer.cell.b_hn, bhn, f"GRU_{H} b_hn")


def _assign(param, value, what):
    value = np.asarray(value)
    if tuple(value.shape) != tuple(param.shape):
        raise ExchangeError(f"{what}: the state dict gives shape {tuple(value.shape)}, the model has "
                            f"{tuple(param.shape)}")
    param.data = backend.xp_of(param.data).asarray(value.astype(param.dtype))


def _conv_weight(layer):
    return layer.W if hasattr(layer, "W") else layer.w


def _entries(layer, prefix):
    """(kind, layer, key prefix) for every exchangeable layer under ``layer``, in Sequential order."""
    from . import nn
    if isinstance(layer, nn.Serial) or isinstance(layer, (nn.Branch, nn.Parallel)):
        for i, sub in enumerate(layer.layers):
            yield from _entries(sub, f"{prefix}{i}.")
        return
    kinds = {nn.Dense: "dense", nn.Embedding: "embedding", nn.LSTM: "lstm", nn.GRU: "gru",
             nn.Bidirectional: "bidirectional"}
    conv = getattr(nn, "Conv2d", None)
    if conv is not None:
        kinds[conv] = "conv"
    for cls, kind in kinds.items():
        if isinstance(layer, cls):
            yield kind, layer, prefix
            return
    if layer.parameters():
        raise ExchangeError(f"{layer.name}: no PyTorch mapping for a {type(layer).__name__} with parameters")


def _recurrent_out(layer, prefix, suffix=""):
    from . import nn
    pairs = (_lstm_out if isinstance(layer, nn.LSTM) else _gru_out)(layer, suffix)
    return {prefix + k: v for k, v in pairs.items()}


def to_torch_state_dict(model) -> dict:
    """The model's parameters as a PyTorch ``state_dict`` of NumPy arrays (see the table above)."""
    out = {}
    for kind, layer, p in _entries(model, ""):
        if kind == "dense":
            out[p + "weight"] = _np(layer.W.data).T.copy()
            if layer.use_bias:
                out[p + "bias"] = _np(layer.b.data)
        elif kind == "embedding":
            out[p + "weight"] = _np(layer.W.data)
        elif kind == "conv":
            out[p + "weight"] = _np(_conv_weight(layer).data)
            if getattr(layer, "b", None) is not None:
                out[p + "bias"] = _np(layer.b.data)
        elif kind == "bidirectional":
            out.update(_recurrent_out(layer.forward_layer, p))
            out.update(_recurrent_out(layer.backward_layer, p, "_reverse"))
        else:
            out.update(_recurrent_out(layer, p))
    return out


def from_torch_state_dict(model, state_dict) -> None:
    """Load a PyTorch ``state_dict`` (torch tensors or arrays) into ``model``, in place.

    Every key the model needs must be present with the right shape, and no key
    may be left over: a mismatch is an ``ExchangeError`` naming the key.
    """
    from . import nn
    sd = {k: _np(v) for k, v in state_dict.items()}
    used = set()

    def take(key):
        if key not in sd:
            raise ExchangeError(f"the state dict has no {key!r} (it has {sorted(sd)[:8]}...)")
        used.add(key)
        return sd[key]

    for kind, layer, p in _entries(model, ""):
        if kind == "dense":
            w = take(p + "weight")
            if not layer.built:
                layer.build(w.shape[1])
            _assign(layer.W, w.T, f"{layer.name} W")
            if layer.use_bias:
                _assign(layer.b, take(p + "bias"), f"{layer.name} b")
        elif kind == "embedding":
            _assign(layer.W, take(p + "weight"), f"{layer.name} W")
        elif kind == "conv":
            w = take(p + "weight")
            if not getattr(layer, "built", True):
                layer.build(w.shape[1])
            _assign(_conv_weight(layer), w, f"{layer.name} weight")
            if getattr(layer, "b", None) is not None:
                _assign(layer.b, take(p + "bias"), f"{layer.name} bias")
        else:
            own = {k[len(p):]: take(k) for k in list(sd) if k.startswith(p) and "." not in k[len(p):]}
            pairs = ((layer.forward_layer, ""), (layer.backward_layer, "_reverse")) \
                if kind == "bidirectional" else ((layer, ""),)
            for rec, suffix in pairs:
                try:
                    (_lstm_in if isinstance(rec, nn.LSTM) else _gru_in)(rec, own, suffix)
                except KeyError as exc:
                    raise ExchangeError(f"the state dict has no {p + exc.args[0]!r} for {rec.name}") from None
    left = sorted(set(sd) - used)
    if left:
        raise ExchangeError(f"the state dict has keys the model does not use: {left}")
