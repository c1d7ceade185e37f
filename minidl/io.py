"""Saving and loading a layer's state: ``md.save(layer, path)``, ``md.load(layer, path)``.

The state is every parameter and every buffer (``layer.named_buffers()``:
BatchNorm's running statistics -- without them a model in eval mode predicts
something else after a round trip).  The file is a plain ``.npz`` (a zip of
``.npy`` arrays, readable with ``np.load`` alone):

    "p0", "p1", ...        one array per parameter, under a generated key
    "b0", "b1", ...        one array per buffer
    "__minidl_meta__"      uint8 bytes of a JSON string:
                           {"format": "minidl-checkpoint", "version": 3,
                            "params":  [{"name": "0.W", "key": "p0", "shape": [1000, 32],
                                         "dtype": "float32"}, ...],
                            "buffers": [{"name": "2.running_mean", "key": "b0", ...}, ...]}

The dotted names live in the JSON, not in the zip: a name is any string (a
parameter called ``file`` or ``allow_pickle`` is fine).  Version 1 files (each
array under its name) and version 2 files (no buffers) still load into a model
without buffers; a model with buffers refuses them, saying which are missing.

Safety, because a checkpoint is data from somewhere else:

* **No pickles, bounded reads, one error type.**  ``minidl/checkpoint_file.py``
  reads the metadata first; the names, shapes and dtypes are compared with the
  layer's before any array is read, and each read is capped at its declared
  size.  Every damaged, truncated or forged file raises ``CheckpointError``.
* **Atomic save, safe beside other processes.**  ``minidl/atomic_file.py``: a
  private temporary in the same folder, fsync, ``os.replace``.  A crash leaves
  the old checkpoint intact; only temporaries of provably dead writers are
  cleaned up, so four processes saving to one path never break each other.
  The file's mode follows the umask (or the existing file's), like any file.
* **All-or-nothing load.**  Every check runs before any parameter or buffer
  changes, so a refused load (``CheckpointError``, saying why) leaves the layer
  as it was: missing or extra names, a shape mismatch, an unknown format
  version, a truncated or corrupt file.

Dtype rule: a floating array is cast to the dtype of the layer's parameter
(a float64 checkpoint loads into a float32 model, rounding each value); a
non-floating array for a floating parameter is refused.

Backends: arrays are stored from the host and loaded onto the backend of the
layer's existing parameters, so a model saved on the GPU loads on the CPU.
A lazily built layer (``Dense(32)`` without ``n_in``) must be called once, so
its parameters exist, before it can save or load; the error says so.
Optimizer state and gradients are not stored.
"""
from __future__ import annotations

import json
import os

import numpy as np

from . import backend, validate
from .atomic_file import atomic_write
from .checkpoint_file import FORMAT, META_KEY, READS, CheckpointError, CheckpointFile  # noqa: F401

VERSION = 3


def _unbuilt(layer) -> list[str]:
    """Names of the (sub)layers still waiting for their first call to create parameters."""
    out = [layer.name] if getattr(layer, "built", True) is False else []
    for sub in layer.sublayers():
        out += _unbuilt(sub)
    return out


def _state(layer):
    """[(dotted name, "parameter" or "buffer", array)] of everything a checkpoint holds."""
    return ([(n, "parameter", p.data) for n, p in layer.named_parameters()]
            + [(n, "buffer", b) for n, b in layer.named_buffers()])


# ----------------------------------------------------------------------------- save
def save(layer, path) -> None:
    """Write every parameter and buffer of ``layer`` to ``path`` (.npz), atomically."""
    path = validate.path(path, "path", "md.save")
    validate.layer(layer, "layer", "md.save")
    waiting = _unbuilt(layer)
    if waiting:
        raise CheckpointError(f"cannot save {layer.name}: {', '.join(waiting)} has not created its "
                              "parameters yet (lazy layers build at their first call); run the model "
                              "on one batch first")
    _write(path, _state(layer))


def save_arrays(path, named_arrays, extra=None) -> None:
    """Write ``[(name, array), ...]`` to ``path`` in the checkpoint format above, atomically.

    ``extra`` (JSON-serialisable) is kept in the metadata; ``read_arrays`` returns it.
    The Trax facade writes its flat weights and optimizer slots with it.
    """
    path = validate.path(path, "path", "md.io.save_arrays")
    _write(path, [(n, "parameter", a) for n, a in named_arrays], extra)


def _write(path, state, extra=None):
    """The .npz of ``state`` [(name, "parameter" or "buffer", array)], written atomically."""
    arrays, meta = {}, {"format": FORMAT, "version": VERSION, "params": [], "buffers": []}
    counts = {"parameter": 0, "buffer": 0}
    for name, kind, data in state:
        key = f"{kind[0]}{counts[kind]}"                  # p0, p1, ... and b0, b1, ...
        counts[kind] += 1
        arrays[key] = backend.asnumpy(data)
        meta["params" if kind == "parameter" else "buffers"].append(
            {"name": name, "key": key, "shape": list(arrays[key].shape), "dtype": str(arrays[key].dtype)})
    if extra is not None:
        meta["extra"] = extra
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save {path}: the folder {folder} does not exist")
    with atomic_write(path, ".tmp") as f:
        np.savez(f, **arrays)


# ----------------------------------------------------------------------------- load
def load(layer, path) -> None:
    """Replace every parameter and buffer of ``layer`` by the one saved under the same name in ``path``.

    Raises ``CheckpointError`` (and changes nothing) unless the checkpoint holds
    exactly the layer's parameter and buffer names, each with the layer's shape.
    """
    path = validate.path(path, "path", "md.load")
    validate.layer(layer, "layer", "md.load")
    if not os.path.exists(path):
        raise FileNotFoundError(f"md.load: no checkpoint at path {path!r}")
    mine = {n: (kind, data) for n, kind, data in _state(layer)}
    with CheckpointFile(path) as ck:
        _check_names(layer, path, ck, mine)
        for name, (kind, data) in mine.items():       # shapes and dtypes before reading a single array
            e = ck.entries[name]
            if e.shape != tuple(data.shape):
                raise CheckpointError(f"cannot load {path} into {layer.name}: {name!r} has shape "
                                      f"{e.shape} in the checkpoint but {tuple(data.shape)} in the layer")
            if e.dtype.kind != "f" and data.dtype.kind == "f":
                raise CheckpointError(f"cannot load {path} into {layer.name}: {name!r} is {e.dtype} in "
                                      f"the checkpoint but the {kind} is {data.dtype}")
        arrays = {name: ck.array(name) for name in mine}
    # Every check passed: build all new arrays first (a device copy may fail), then assign.
    new = {n: backend.xp_of(data).asarray(arrays[n].astype(data.dtype, copy=False)) for n, (_, data) in mine.items()}
    for name, p in layer.named_parameters():
        p.data, p.grad = new[name], None
    for name, owner, attr in _buffer_slots(layer):
        setattr(owner, attr, new[name])


def read_arrays(path) -> tuple[dict, dict]:
    """({"version", "extra"}, {name: array}) from ``path``, or a CheckpointError saying what is wrong.

    Every safety check of ``md.load`` runs (no pickles, reads bounded by the declared
    sizes); "extra" is what ``save_arrays`` was given (None if nothing).
    """
    path = validate.path(path, "path", "md.io.read_arrays")
    if not os.path.exists(path):
        raise FileNotFoundError(f"md.io.read_arrays: no checkpoint at path {path!r}")
    with CheckpointFile(path) as ck:
        return {"version": ck.version, "extra": ck.extra}, {n: ck.array(n) for n in ck.entries}


def _check_names(layer, path, ck, mine):
    """Refuse a checkpoint whose parameter or buffer names differ from the layer's, naming each."""
    why = []
    for kind in ("parameter", "buffer"):
        have = {n for n, e in ck.entries.items() if e.kind == kind}
        want = [n for n, (k, _) in mine.items() if k == kind]
        missing = [n for n in want if n not in have]              # in the layer's order
        unexpected = sorted(have - set(want))
        if missing and kind == "parameter":
            why.append(f"missing from the checkpoint: {missing}")
        elif missing:
            old = f" (format version {ck.version} files were written before buffers were saved)" if ck.version < 3 else ""
            why.append(f"buffers missing from the checkpoint: {missing}{old}")
        if unexpected:
            what = "" if kind == "parameter" else "buffers "
            why.append(f"{what}in the checkpoint but not in {layer.name}: {unexpected}")
    if why:
        waiting = _unbuilt(layer)
        if waiting:
            why.append(f"{', '.join(waiting)} has not built its parameters yet: call the model on "
                       "one batch before md.load")
        raise CheckpointError(f"cannot load {path} into {layer.name}: " + "; ".join(why))


def _buffer_slots(layer):
    """(dotted name, owning layer, attribute) of every buffer, in ``named_buffers()`` order."""
    seen = set()
    for prefix, owner in [("", layer)] + [(n + ".", s) for n, s in layer._named_sublayers("")]:
        if id(owner) in seen:
            continue
        seen.add(id(owner))
        for attr in owner._buffers:
            yield prefix + attr, owner, attr


# The way out to PyTorch (layout mapping documented there).
from .torch_interop import ExchangeError, from_torch_state_dict, to_torch_state_dict  # noqa: E402,F401
