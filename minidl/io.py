"""Saving and loading a layer's parameters: ``md.save(layer, path)``, ``md.load(layer, path)``.

The file is a plain ``.npz`` (a zip of ``.npy`` arrays, readable with
``np.load`` alone):

    "p0", "p1", ...        one array per parameter, under a generated key
    "__minidl_meta__"      uint8 bytes of a JSON string:
                           {"format": "minidl-checkpoint", "version": 2,
                            "params": [{"name": "0.W", "key": "p0", "shape": [1000, 32],
                                        "dtype": "float32"}, ...],
                            "extra": {...}}    (optional: what ``save_arrays`` was given)

The dotted parameter names live in the JSON, not in the zip: a name is any
string (a parameter called ``file`` or ``allow_pickle`` is fine), and version 1
files, which stored each array under its name, still load.

Safety, because a checkpoint is data from somewhere else:

* **No pickles.** Metadata is JSON, arrays are numeric, and loading uses
  ``np.load(..., allow_pickle=False)``: a file with an object array is refused,
  never unpickled (unpickling can run arbitrary code).
* **Atomic save.** The file is written to a temporary file in the same folder,
  flushed to disk (fsync), then renamed over the target with ``os.replace``.
  A crash mid-save leaves the old checkpoint intact, never half a file; the
  next save of the same target removes such a crash's leftover temporaries.
* **Sizes checked before allocating.** Each member's ``.npy`` header is read
  first and its declared size compared with the bytes really there, so a
  forged header declaring 10^12 elements is refused, not a MemoryError.
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
VERSION = 2
READS = (1, 2)


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
    save_arrays(path, [(n, p.data) for n, p in named])


def save_arrays(path, named_arrays, extra=None) -> None:
    """Write ``[(name, array), ...]`` to ``path`` in the checkpoint format above, atomically.

    ``extra`` (JSON-serialisable) is kept in the metadata; ``read_arrays`` returns it.
    ``md.save`` writes a layer's parameters with it; the Trax facade its flat weights.
    """
    arrays = {f"p{i}": backend.asnumpy(a) for i, (_, a) in enumerate(named_arrays)}
    meta = {"format": FORMAT, "version": VERSION,
            "params": [{"name": n, "key": k, "shape": list(a.shape), "dtype": str(a.dtype)}
                       for (n, _), (k, a) in zip(named_arrays, arrays.items())]}
    if extra is not None:
        meta["extra"] = extra
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save {path}: the folder {folder} does not exist")
    prefix = "." + os.path.basename(path) + "."
    _remove_stale_temporaries(folder, prefix)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
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


def _remove_stale_temporaries(folder, prefix):
    """Delete ``.<name>.*.tmp`` left by an earlier save of the same target that was killed."""
    for entry in os.listdir(folder):
        if entry.startswith(prefix) and entry.endswith(".tmp"):
            try:
                os.remove(os.path.join(folder, entry))
            except OSError:
                pass                       # another process's live temporary, or already gone


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
def read_arrays(path) -> tuple[dict, dict]:
    """(metadata, {name: array}) from ``path``, or a CheckpointError saying what is wrong.

    Every safety check above runs (no pickles, sizes checked before allocating);
    ``metadata.get("extra")`` is what ``save_arrays`` was given."""
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
    if magic == b"\x93NUMPY":
        raise CheckpointError(f"{path} holds a single .npy array, not an .npz checkpoint written by md.save")
    try:
        with zipfile.ZipFile(path) as z:
            arrays = {info.filename[:-4]: _member(z, info, path) for info in z.infolist()}
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
    if meta.get("version") not in READS:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')!r}, but this "
                              f"minidl reads versions {', '.join(map(str, READS))}")
    try:
        # version 1 stored each array under its parameter name; version 2 under "key"
        listed = {e["name"]: (e.get("key", e["name"]), tuple(e["shape"]), e["dtype"]) for e in meta["params"]}
    except (KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: damaged metadata ({type(exc).__name__}: {exc})") from None
    keys = sorted(k for k, _, _ in listed.values())
    if keys != sorted(arrays):
        raise CheckpointError(f"{path}: the metadata lists arrays {keys} but the file holds "
                              f"{sorted(arrays)} (a damaged checkpoint)")
    by_name = {}
    for name, (key, shape, dtype) in listed.items():
        a = arrays[key]
        if (a.shape, str(a.dtype)) != (shape, dtype):
            raise CheckpointError(f"{path}: array {name!r} is {a.dtype}{a.shape} but the metadata "
                                  f"says {dtype}{shape}")
        by_name[name] = a
    return meta, by_name


def _member(z, info, path):
    """One ``.npy`` member, read only after its header's declared size is checked."""
    name = info.filename
    if not name.endswith(".npy"):
        raise CheckpointError(f"{path}: member {name!r} is not a .npy array; an md.save checkpoint "
                              "holds nothing else")
    with z.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
        except ValueError as exc:
            raise CheckpointError(f"{path}: member {name!r} has no valid .npy header ({exc})") from None
        if dtype.hasobject:               # loading it would mean unpickling: arbitrary code
            raise CheckpointError(f"{path}: array {name[:-4]!r} holds Python objects, which could only "
                                  "be loaded by unpickling; refused")
        declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if declared > info.file_size:
            raise CheckpointError(f"{path}: member {name!r} declares {dtype}{tuple(shape)} "
                                  f"({declared:,} bytes) but holds only {info.file_size:,} bytes; refused "
                                  "before allocating")
        raw = f.read()                    # to the end, so the zip's CRC check runs
    if len(raw) != declared:
        raise CheckpointError(f"{path}: member {name!r} is truncated ({len(raw):,} of {declared:,} bytes)")
    flat = np.frombuffer(raw, dtype=dtype).copy()          # a writable array that owns its memory
    return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)


def load(layer, path) -> None:
    """Replace every parameter of ``layer`` by the one saved under the same name in ``path``.

    Raises ``CheckpointError`` (and changes nothing) unless the checkpoint holds
    exactly the layer's parameter names, each with the layer's shape.
    """
    _, arrays = read_arrays(path)
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
