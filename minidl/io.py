"""Saving and loading a layer's parameters: ``md.save(layer, path)``, ``md.load(layer, path)``.

The file is a plain ``.npz`` (a zip of ``.npy`` arrays, readable with
``np.load`` alone):

    "0.W", "0.b", ...      one array per parameter, under its dotted name
    "__minidl_meta__"      uint8 bytes of a JSON string:
                           {"format": "minidl-checkpoint", "version": 1,
                            "params": [{"name": "0.W", "shape": [1000, 32], "dtype": "float32"}, ...]}

Safety, because a checkpoint is data from somewhere else:

* **No pickles.** Metadata is JSON, arrays are numeric, and loading uses
  ``np.load(..., allow_pickle=False)``: a file with an object array is refused,
  never unpickled (unpickling can run arbitrary code).
* **Atomic save.** The file is written to a temporary file in the same folder,
  flushed to disk (fsync), then renamed over the target with ``os.replace``.
  A crash mid-save leaves the old checkpoint intact, never half a file.
* **All-or-nothing load.** Every check runs before any parameter changes, so a
  refused load (``CheckpointError``, saying why) leaves the layer as it was:
  missing or extra names, a shape mismatch, an unknown format version, a
  truncated or corrupt file.

Dtype rule: a floating array is cast to the dtype of the layer's parameter
(a float64 checkpoint loads into a float32 model, rounding each value); a
non-floating array for a floating parameter is refused.

Backends: arrays are stored from the host and loaded onto the backend of the
layer's existing parameters, so a model saved on the GPU loads on the CPU.
A lazily built layer (``Dense(32)`` without ``n_in``) must be called once, so
its parameters exist, before it can load; the error says so.  Only
parameters are stored: optimizer state and gradients are not.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from . import backend

META_KEY = "__minidl_meta__"
FORMAT = "minidl-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint could not be saved or loaded; the message says why."""


def _named(layer):
    return list(layer.named_parameters())


def _unbuilt(layer) -> list[str]:
    """Names of the (sub)layers still waiting for their first call to create parameters."""
    out = [layer.name] if getattr(layer, "built", True) is False else []
    for sub in layer.sublayers():
        out += _unbuilt(sub)
    return out


# ----------------------------------------------------------------------------- save
def save(layer, path) -> None:
    """Write every parameter of ``layer`` to ``path`` (.npz), atomically."""
    named = _named(layer)
    waiting = _unbuilt(layer)
    if waiting:
        raise CheckpointError(f"cannot save {layer.name}: {', '.join(waiting)} has not created its "
                              "parameters yet (lazy layers build at their first call); run the model "
                              "on one batch first")
    arrays = {name: backend.asnumpy(p.data) for name, p in named}
    meta = {"format": FORMAT, "version": VERSION, "model": repr(layer),
            "params": [{"name": n, "shape": list(a.shape), "dtype": str(a.dtype)}
                       for n, a in arrays.items()]}
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())           # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)              # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); harmless to skip where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- load
def _read(path) -> tuple[dict, dict]:
    """(metadata, {name: array}) from ``path``, or a CheckpointError saying what is wrong."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as f:
        magic = f.read(6)
    # np.load would try anything else as a pickle and then advise allow_pickle=True:
    # say plainly what the file is not instead.
    if not magic.startswith(b"PK") and magic != b"\x93NUMPY":
        raise CheckpointError(f"{path} is not a readable .npz checkpoint: it does not start with the "
                              f"zip signature of an .npz file (first bytes {magic!r})")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise CheckpointError(f"{path} holds a single .npy array, not an .npz checkpoint "
                                  "written by md.save")
        with z:
            arrays = {key: _array(z, key, path) for key in z.files}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise CheckpointError(f"{path} is not a readable .npz checkpoint (truncated, corrupt or "
                              f"another kind of file): {type(exc).__name__}: {exc}") from None
    if META_KEY not in arrays:
        raise CheckpointError(f"{path} has no {META_KEY!r} entry: it was not written by md.save")
    try:
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: the metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else meta
        raise CheckpointError(f"{path}: unknown checkpoint format {found!r} (expected {FORMAT!r})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')!r}, but this "
                              f"minidl reads version {VERSION}")
    try:
        listed = {e["name"]: (tuple(e["shape"]), e["dtype"]) for e in meta["params"]}
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: damaged metadata ({type(exc).__name__}: {exc})") from None
    if set(listed) != set(arrays):
        raise CheckpointError(f"{path}: the metadata lists {sorted(listed)} but the file holds "
                              f"{sorted(arrays)} (a damaged checkpoint)")
    for name, a in arrays.items():
        if (a.shape, str(a.dtype)) != listed[name]:
            raise CheckpointError(f"{path}: array {name!r} is {a.dtype}{a.shape} but the metadata "
                                  f"says {listed[name][1]}{listed[name][0]}")
    return meta, arrays


def _array(z, key, path):
    try:
        return z[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):     # an object array: loading it would mean unpickling
            raise CheckpointError(f"{path}: array {key!r} holds Python objects, which could only "
                                  "be loaded by unpickling; refused") from None
        raise


def load(layer, path) -> None:
    """Replace every parameter of ``layer`` by the one saved under the same name in ``path``.

    Raises ``CheckpointError`` (and changes nothing) unless the checkpoint holds
    exactly the layer's parameter names, each with the layer's shape.
    """
    _, arrays = _read(path)
    named = _named(layer)
    mine = dict(named)
    unexpected = [n for n in arrays if n not in mine]       # in the file, not in the layer
    missing = [n for n in mine if n not in arrays]          # in the layer, not in the file
    if missing or unexpected:
        why = []
        if missing:
            why.append(f"missing from the checkpoint: {missing}")
        if unexpected:
            why.append(f"in the checkpoint but not in {layer.name}: {unexpected}")
        waiting = _unbuilt(layer)
        if waiting:
            why.append(f"{', '.join(waiting)} has not built its parameters yet: call the model on "
                       "one batch before md.load")
        raise CheckpointError(f"cannot load {path} into {layer.name}: " + "; ".join(why))
    for name, p in named:
        a = arrays[name]
        if a.shape != p.shape:
            raise CheckpointError(f"cannot load {path} into {layer.name}: {name!r} has shape "
                                  f"{a.shape} in the checkpoint but {p.shape} in the layer")
        if a.dtype.kind != "f" and p.dtype.kind == "f":
            raise CheckpointError(f"cannot load {path} into {layer.name}: {name!r} is {a.dtype} in "
                                  f"the checkpoint but the parameter is {p.dtype}")
    # Every check passed: build all new arrays first (a device copy may fail), then assign.
    new = [backend.xp_of(p.data).asarray(arrays[n].astype(p.dtype, copy=False)) for n, p in named]
    for (_, p), data in zip(named, new):
        p.data, p.grad = data, None


# The way out to PyTorch (layout mapping documented there).
from .torch_interop import ExchangeError, from_torch_state_dict, to_torch_state_dict  # noqa: E402,F401
