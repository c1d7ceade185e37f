"""The recurrent layers in PyTorch's layout: one fused [h, x] weight <-> weight_ih / weight_hh.

minidl's cells keep ONE weight over the concatenation [h, x] (nn/cells.py):

    W: (H + D, G H)     rows W[:H] recurrent (h -> gates), rows W[H:] input (x -> gates)
    b: (G H,)           G gates side by side, in the slides' order

PyTorch keeps two transposed blocks and two biases that it adds:

    weight_ih_l0 (G H, D) = W[H:]^T      weight_hh_l0 (G H, H) = W[:H]^T
    bias_ih_l0 (G H,)                    bias_hh_l0 (G H,)        gates: b = bias_ih + bias_hh

Gate orders and conventions, per layer:

    RNN    G = 1    the same; tanh or relu (PyTorch's ``nonlinearity``)
    LSTM   G = 4    minidl f, i, g, o   <->   PyTorch i, f, g, o  (the first two blocks swap)
    GRU    G = 3    minidl u, r, h'     <->   PyTorch r, z, n with z = 1 - u, so the z rows
                    are the NEGATED u rows (sigma(-a) = 1 - sigma(a)); only reset_after=True
                    (PyTorch's candidate n = tanh(W_in x + b_in + r * (W_hn h + b_hn))):
                    bias_hh's n block is minidl's b_hn, the only bias PyTorch does not add

Exporting writes the whole bias into bias_ih and zeros into bias_hh (the n block
of the GRU excepted); importing adds the two back.  A suffix ``"_reverse"`` names
the backward direction of a bidirectional PyTorch RNN.
"""
from __future__ import annotations

import numpy as np

from .. import backend

# LSTM gate blocks: minidl f, i, g, o  ->  PyTorch i, f, g, o (the same swap undoes itself)
_LSTM_SWAP = [1, 0, 2, 3]


class LayoutError(ValueError):
    """A recurrent layer with no PyTorch twin (the course's GRU), with the reason."""


def _kind(layer):
    from .. import nn
    return {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}[type(layer)]


def n_gates(layer) -> int:
    return {"lstm": 4, "gru": 3, "rnn": 1}[_kind(layer)]


def check_gru(layer):
    if _kind(layer) == "gru" and not layer.cell.reset_after:
        raise LayoutError(f"{layer.name}: the course's GRU (reset_after=False) has no PyTorch twin "
                          "(PyTorch applies the relevance gate after the recurrent product, a different "
                          "function); build it as nn.GRU(n, reset_after=True) to exchange weights")


def _swap(m):
    """LSTM rows f, i, g, o <-> i, f, g, o (blocks along axis 0)."""
    blocks = np.split(m, 4, axis=0)
    return np.concatenate([blocks[k] for k in _LSTM_SWAP], axis=0)


def export(layer, suffix):
    """{weight_ih_l0<suffix>: ..., ...} for one direction, NumPy, PyTorch layout."""
    check_gru(layer)
    cell, H = layer.cell, layer.cell.n_units
    W, b = backend.asnumpy(cell.W.data), backend.asnumpy(cell.b.data)
    w_ih, w_hh, b_hh = W[H:].T, W[:H].T, np.zeros_like(b)
    kind = _kind(layer)
    if kind == "lstm":
        w_ih, w_hh, b = _swap(w_ih), _swap(w_hh), _swap(b)
    elif kind == "gru":
        r_of = lambda m: [m[H:2 * H], -m[:H], m[2 * H:]]
        w_ih, w_hh, b = (np.concatenate(r_of(m)) for m in (w_ih, w_hh, b))
        b_hh = np.concatenate([np.zeros(2 * H, b.dtype), backend.asnumpy(cell.b_hn.data)])
    return {f"weight_ih_l0{suffix}": np.ascontiguousarray(w_ih), f"weight_hh_l0{suffix}": np.ascontiguousarray(w_hh),
            f"bias_ih_l0{suffix}": b, f"bias_hh_l0{suffix}": b_hh}


def import_(layer, take, suffix):
    """(n_in, [(owner, attribute, array in minidl layout)]) from PyTorch's four arrays.

    ``take(key, shape)`` returns the array after checking its shape (None: any size).
    """
    check_gru(layer)
    cell, H, G = layer.cell, layer.cell.n_units, n_gates(layer)
    w_ih = take(f"weight_ih_l0{suffix}", (G * H, cell.n_in if cell.built else None))
    w_hh = take(f"weight_hh_l0{suffix}", (G * H, H))
    b_ih = take(f"bias_ih_l0{suffix}", (G * H,))
    b_hh = take(f"bias_hh_l0{suffix}", (G * H,))
    kind = _kind(layer)
    writes = []
    if kind == "lstm":
        w_ih, w_hh, b = _swap(w_ih), _swap(w_hh), _swap(b_ih + b_hh)
    elif kind == "gru":
        back = lambda m: [-m[H:2 * H], m[:H], m[2 * H:]]
        w_ih, w_hh = (np.concatenate(back(m)) for m in (w_ih, w_hh))
        b = np.concatenate(back(np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]])))
        writes.append((cell, "b_hn", b_hh[2 * H:]))
    else:
        b = b_ih + b_hh
    writes = [(cell, "W", np.concatenate([w_hh.T, w_ih.T], axis=0)), (cell, "b", b)] + writes
    return w_ih.shape[1], writes
