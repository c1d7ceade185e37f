"""Checkpoint files for the Trax facade: Trax's file names, minidl's pickle-free format; Trax's own read safely.

Writing.  ``training.Loop`` and ``layer.save_to_file`` write ``model.pkl.gz`` (and
``model_<step>.pkl.gz``...) as Trax names them, but the content is minidl's
checkpoint format (``minidl/io.py``: a zip of ``.npy`` arrays plus JSON, written
atomically): the flat weights in Trax's order, the optimizer slots, and in the
JSON the step, the history and the input signature.  The name is kept so the
course's ``model.init_from_file(os.path.join(output_dir, 'model.pkl.gz'))`` works;
Trax itself cannot read these files (they are not gzip'd pickles).

Reading.  ``read`` accepts that format and also a checkpoint written by Trax
(a gzip'd pickle, with the weights inside or in ``model.weights.npy.gz``), e.g. a
pretrained model shipped with the course.  Unpickling can run arbitrary code, so
Trax's pickle goes through an allow-list (PyTorch's ``weights_only=True`` idea):
only NumPy arrays, dtypes and scalars, Trax's ShapeDtype and plain containers
may be built; anything else -- a function, a class, ``os.system`` -- is refused
before it is called, and arrays of Python objects are refused after.
"""
from __future__ import annotations

import collections
import gzip
import io as _bytes_io
import os
import pickle

import numpy as np

from .. import io
from ..io import CheckpointError
from .shapes import ShapeDtype

_NP_CORE = getattr(np, "_core", None) or np.core
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _NP_CORE.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _NP_CORE.multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _NP_CORE.multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _NP_CORE.multiarray.scalar,
    ("numpy.core.numeric", "_frombuffer"): _NP_CORE.numeric._frombuffer,       # arrays, pickle protocol 5
    ("numpy._core.numeric", "_frombuffer"): _NP_CORE.numeric._frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("trax.shapes", "ShapeDtype"): ShapeDtype,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
}


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that can build arrays and containers and nothing else."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        scalar_type = getattr(np, name, None) if module == "numpy" else None
        if isinstance(scalar_type, type) and issubclass(scalar_type, np.generic):
            return scalar_type                   # np.int32 as a ShapeDtype's dtype
        raise pickle.UnpicklingError(
            f"refused: the checkpoint asks to load {module}.{name}, which is not an array, a dtype or a "
            "container; building it could run arbitrary code, so this file is not loaded")


# ----------------------------------------------------------------------------- writing
def write(path, flat_weights, input_signature=None, step=None, history=None, slots=None):
    """``slots``: one list per training task, one entry per parameter (None or a tuple of arrays)."""
    named = [(f"flat_weights.{i}", w) for i, w in enumerate(flat_weights)]
    layout = None
    if slots is not None:
        layout = []
        for t, task_slots in enumerate(slots):
            layout.append([None if s is None else len(s) for s in task_slots])
            named += [(f"slots.{t}.{j}.{k}", a) for j, s in enumerate(task_slots) for k, a in enumerate(s or ())]
    extra = {"trax_facade": 1, "n_flat_weights": len(flat_weights), "input_signature": _sig_to_json(input_signature),
             "step": step, "history": history, "slots": layout}
    io.save_arrays(os.fspath(path), named, extra)


def _sig_to_json(sig):
    if sig is None:
        return None
    if isinstance(sig, (tuple, list)):
        return [_sig_to_json(s) for s in sig]
    return {"shape": [None if n is None else int(n) for n in sig.shape], "dtype": np.dtype(sig.dtype).str}


def _sig_from_json(obj):
    if obj is None:
        return None
    if isinstance(obj, list):
        return tuple(_sig_from_json(s) for s in obj)
    return ShapeDtype(tuple(obj["shape"]), np.dtype(obj["dtype"]))


# ----------------------------------------------------------------------------- reading
def read(path) -> dict:
    """{flat_weights, flat_state, input_signature, step, history, slots} from either kind of file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"PK":
        return _read_minidl(path)
    if magic == b"\x1f\x8b":
        return _read_trax(path)
    raise CheckpointError(f"{path} is neither a minidl checkpoint (a zip) nor a Trax one (a gzip'd pickle): "
                          f"it starts with {magic!r}")


def _read_minidl(path):
    meta, arrays = io.read_arrays(path)
    extra = meta.get("extra") or {}
    if extra.get("trax_facade") != 1:
        raise CheckpointError(f"{path} was written by md.save for a minidl.nn model, not by the Trax facade; "
                              "load it with md.load(model, path)")
    flat = [arrays[f"flat_weights.{i}"] for i in range(extra["n_flat_weights"])]
    slots = None
    if extra.get("slots") is not None:
        slots = [[None if n is None else tuple(arrays[f"slots.{t}.{j}.{k}"] for k in range(n))
                  for j, n in enumerate(layout)] for t, layout in enumerate(extra["slots"])]
    return {"flat_weights": flat, "flat_state": [], "input_signature": _sig_from_json(extra.get("input_signature")),
            "step": extra.get("step"), "history": extra.get("history"), "slots": slots}


def _read_trax(path):
    try:
        with gzip.open(path, "rb") as f:
            d = _ArraysOnly(f).load()
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except (OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable Trax checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(d, dict) or "flat_weights" not in d:
        raise CheckpointError(f"{path}: a Trax checkpoint is a dict with 'flat_weights'; this one is not")
    flat = d["flat_weights"]
    if isinstance(flat, int):                  # newer Trax: the weights sit in a file beside it
        weights_path = path[:-len("pkl.gz")] + "weights.npy.gz" if path.endswith(".pkl.gz") else path + ".npy"
        if not os.path.exists(weights_path):
            weights_path = path + ".npy"
        flat = _read_npy_stream(weights_path)
    _only_numeric_arrays(flat, path)
    _only_numeric_arrays(d.get("flat_state", []), path)
    return {"flat_weights": list(flat), "flat_state": list(d.get("flat_state") or []),
            "input_signature": d.get("input_signature"), "step": d.get("step"), "history": None, "slots": None}


def _only_numeric_arrays(tree, path):
    for leaf in _leaves(tree):
        if isinstance(leaf, np.ndarray) and leaf.dtype.hasobject:
            raise CheckpointError(f"{path}: an array of Python objects (refused: only numeric arrays are loaded)")


def _leaves(tree):
    if isinstance(tree, (list, tuple)):
        for t in tree:
            yield from _leaves(t)
    elif isinstance(tree, dict):
        for t in tree.values():
            yield from _leaves(t)
    else:
        yield tree


def _read_npy_stream(path):
    """The arrays of a gzip'd sequence of .npy records (Trax's ``np_to_file``), read without pickles.

    Each record's header is checked before its data is read, and the data is read in
    chunks, so a forged header declaring a huge array fails on the missing bytes."""
    if not os.path.exists(path):
        raise CheckpointError(f"the Trax checkpoint keeps its weights in {path}, which does not exist")
    out = []
    with gzip.open(path, "rb") as f:
        while f.peek(1):
            try:
                version = np.lib.format.read_magic(f)
                header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, fortran, dtype = header(f)
            except ValueError as exc:
                raise CheckpointError(f"{path}: record {len(out)} has no valid .npy header ({exc})") from None
            if dtype.hasobject:
                raise CheckpointError(f"{path}: record {len(out)} holds Python objects; refused")
            size = int(np.prod(shape, dtype=object)) * dtype.itemsize
            buf = _bytes_io.BytesIO()
            while buf.tell() < size:
                chunk = f.read(min(1 << 20, size - buf.tell()))
                if not chunk:
                    raise CheckpointError(f"{path}: record {len(out)} is truncated ({buf.tell()} of {size} bytes)")
                buf.write(chunk)
            flat = np.frombuffer(buf.getvalue(), dtype=dtype).copy()
            out.append(flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape))
    return out
