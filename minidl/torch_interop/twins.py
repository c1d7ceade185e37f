"""PyTorch modules that behave exactly like the minidl layers with no plain ``torch.nn`` twin.

Imported only by ``to_torch`` (it imports torch).  Each class keeps PyTorch's
parameter names, so ``to_torch_state_dict`` loads into it unchanged:

    Serial           a ``torch.nn.Sequential`` that spreads a tuple over the next module's
                     arguments, as minidl's Serial does ((x, mask) -> Mean(x, mask))
    Branch, Parallel every module on the same input / module i on input i; a tuple out
    Residual         y = F(x) + shortcut(x), modules "0", "1", ... and "shortcut"
    Mean             the (masked) mean over an axis; PaddingMask: ids != pad_id
    SigmoidRange, Normalize, GlobalAvgPool2d, ConcatEmbeddings: as in minidl
    BatchNorm        PyTorch's batch norm for any input with channels on axis 1
    LSTM, GRU, RNN   torch.nn.LSTM/GRU/RNN (batch_first) returning what minidl returns:
                     ys (B, T, H) or h_T (B, H), the state (h, or (h, c)) with
                     return_state=True, reverse=True, bidirectional, and a padding mask
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Serial(nn.Sequential):
    def forward(self, *xs):
        x = xs if len(xs) > 1 else xs[0]
        for module in self:
            x = module(*x) if type(x) is tuple else module(x)
        return x


class Branch(nn.Sequential):
    def forward(self, *xs):
        return tuple(module(*xs) for module in self)


class Parallel(nn.Sequential):
    def forward(self, *xs):
        if len(xs) == 1 and type(xs[0]) is tuple:
            xs = xs[0]
        return tuple(module(x) for module, x in zip(self, xs))


class Residual(nn.Module):
    def __init__(self, layers, shortcut=None):
        super().__init__()
        self.n = len(layers)
        for i, module in enumerate(layers):
            self.add_module(str(i), module)
        self.shortcut = shortcut

    def forward(self, x, *rest):
        y = x if not rest else (x,) + rest
        for i in range(self.n):
            module = getattr(self, str(i))
            y = module(*y) if type(y) is tuple else module(y)
        return y + (x if self.shortcut is None else self.shortcut(x))


class Mean(nn.Module):
    def __init__(self, axis=1, keepdims=False):
        super().__init__()
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x, mask=None):
        if mask is None:
            return x.mean(dim=self.axis, keepdim=self.keepdims)
        axis = self.axis % x.ndim
        m = mask.to(x.dtype)
        w = m / m.sum(dim=axis, keepdim=True).clamp(min=1)
        w = w.reshape(w.shape + (1,) * (x.ndim - w.ndim))
        return (x * w).sum(dim=axis, keepdim=self.keepdims)


class PaddingMask(nn.Module):
    def __init__(self, pad_id=0):
        super().__init__()
        self.pad_id = pad_id

    def forward(self, ids):
        return ids != self.pad_id


class SigmoidRange(nn.Module):
    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        return self.low + (self.high - self.low) * torch.sigmoid(x)


class Normalize(nn.Module):
    def __init__(self, eps=1e-12):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        return x / torch.sqrt((x * x).sum(dim=-1, keepdim=True) + self.eps)


class GlobalAvgPool2d(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class ConcatEmbeddings(nn.Sequential):
    def forward(self, ids):
        return torch.cat([table(ids[:, j]) for j, table in enumerate(self)], dim=-1)


class BatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm1d/2d in one: statistics over every axis but the channels (axis 1)."""

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"BatchNorm needs (batch, channels, ...) input, got shape {tuple(x.shape)}")


class _Recurrent:
    """minidl's outputs on top of PyTorch's RNN modules (mixed into LSTM, GRU, RNN below)."""

    def setup(self, return_sequences, return_state, reverse):
        self.return_sequences, self.return_state, self.reverse = return_sequences, return_state, reverse

    def forward(self, x, mask=None, initial_state=None):
        dirs = 2 if self.bidirectional else 1
        state0 = self._initial(x, initial_state)
        if mask is None and not self.reverse:
            ys, state = super().forward(x, state0)                    # the library's own fast loop
            finals = [self._at(state, d) for d in range(dirs)]
        else:                                                          # minidl's masked / reversed scan
            outs = [self._scan(x, mask, d, self._at(state0, d) if state0 is not None else None)
                    for d in range(dirs)]
            ys = torch.cat([y for y, _ in outs], dim=-1)
            finals = [s for _, s in outs]
        h = torch.cat([s[0] if isinstance(s, tuple) else s for s in finals], dim=-1)
        out = ys if self.return_sequences else h
        if not self.return_state:
            return out
        return out, (tuple(finals) if dirs == 2 else finals[0])

    def _at(self, state, d):
        """Direction d of PyTorch's (dirs, B, H) state: h, or (h, c)."""
        return tuple(s[d] for s in state) if isinstance(state, tuple) else state[d]

    def _initial(self, x, initial_state):
        if initial_state is None:
            return None
        per_dir = list(initial_state) if self.bidirectional else [initial_state]
        if isinstance(self, nn.LSTM):
            return tuple(torch.stack([s[k] for s in per_dir]) for k in (0, 1))
        return torch.stack(per_dir)

    def _scan(self, x, mask, d, state):
        """One direction over time, step by step: a padded step keeps the state and outputs 0."""
        sfx = "_reverse" if d == 1 else ""
        w = [getattr(self, f"{name}_l0{sfx}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        B, T, _ = x.shape
        if state is None:
            zeros = x.new_zeros(B, self.hidden_size)
            state = (zeros, zeros) if isinstance(self, nn.LSTM) else zeros
        backward = (d == 1) != bool(self.reverse)
        ys = [None] * T
        for t in (reversed(range(T)) if backward else range(T)):
            new = self.cell_step(x[:, t], state, *w)
            if mask is not None:
                m = mask[:, t].to(x.dtype)[:, None]
                new = tuple(m * n + (1 - m) * o for n, o in zip(new, state)) if isinstance(new, tuple) \
                    else m * new + (1 - m) * state
            state = new
            h = state[0] if isinstance(state, tuple) else state
            ys[t] = h if mask is None else mask[:, t].to(x.dtype)[:, None] * h
        return torch.stack(ys, dim=1), state


class LSTM(_Recurrent, nn.LSTM):
    @staticmethod
    def cell_step(x, state, w_ih, w_hh, b_ih, b_hh):
        h, c = state
        i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class GRU(_Recurrent, nn.GRU):
    @staticmethod
    def cell_step(x, h, w_ih, w_hh, b_ih, b_hh):
        xr, xz, xn = F.linear(x, w_ih, b_ih).chunk(3, dim=-1)
        hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        return (1 - z) * torch.tanh(xn + r * hn) + z * h


class RNN(_Recurrent, nn.RNN):
    def cell_step(self, x, h, w_ih, w_hh, b_ih, b_hh):
        z = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
        return torch.tanh(z) if self.nonlinearity == "tanh" else torch.relu(z)
