"""The pieces of one training step that ``fit`` and ``lr_find`` share: a batch taken apart,
its input made tensors, the forward pass, and the loss checked before backward.

    x, y, mask = _unpack(batch)                      # (x, y) or (x, y, mask)
    out, loss = _forward(model, loss_fn, _as_input(x), y, mask)
    _check_loss(loss, loss_fn)                       # a scalar Tensor, or a clear error

x may be a tuple of inputs (a rating model takes user and item ids): the model is then called
as model(*x).  One file so that ``train.py`` and ``lr_find.py`` both import it, not each other.
"""
from __future__ import annotations

from .autograd import Tensor, tensor


def _unpack(batch):
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return batch[0], batch[1], batch[2] if len(batch) == 3 else None
    raise TypeError(f"a batch must be an (x, y) or (x, y, mask) tuple, got {type(batch).__name__}"
                    + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))


def _as_input(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, tuple):
        return tuple(_as_input(a) for a in x)
    return tensor(x)


def _epoch_iterable(batches, epochs, what):
    if callable(batches) and not hasattr(batches, "__iter__"):
        return batches
    if iter(batches) is batches and epochs > 1:
        raise TypeError(f"{what} is a one-shot iterator (e.g. a generator), which would be empty "
                        "after the first epoch; pass a list, a md.data.DataLoader, or a function "
                        "that returns a fresh iterable")
    return lambda: batches


def _forward(model, loss_fn, x, y, mask):
    out = model(*x) if isinstance(x, tuple) else model(x)
    loss = loss_fn(out, y) if mask is None else loss_fn(out, y, mask)
    return out, loss


def _check_loss(loss, loss_fn):
    if not isinstance(loss, Tensor):
        raise TypeError(f"fit: the loss function {getattr(loss_fn, '__name__', loss_fn)!r} returned a "
                        f"{type(loss).__name__}, not a Tensor: backward needs the graph, so return the "
                        "loss Tensor itself (not loss.item() or a float)")
    if loss.size != 1:
        raise ValueError(f"fit: the loss must be a scalar, got shape {tuple(loss.shape)}; reduce it "
                         "(e.g. .mean()) in the loss function")
