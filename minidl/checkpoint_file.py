"""Reading an ``md.save`` checkpoint as untrusted bytes: every fault is a ``CheckpointError``.

A checkpoint is data from somewhere else: a flipped byte, a truncated copy, a
file crafted to hurt.  ``CheckpointFile(path)`` reads it in an order that
bounds what a bad file can cost:

1. the zip's directory and the small JSON metadata member (at most
   ``MAX_META_BYTES``) -- never a pickle (``allow_pickle`` is never needed);
2. the caller compares the metadata's names, shapes and dtypes with the model
   (``md.load`` does) *before any array is read*, so a file cannot make
   ``md.load`` allocate more than the model's own size;
3. ``array(name)`` then reads one ``.npy`` member: its header must declare
   exactly the metadata's dtype and shape, the member's stored size must be
   exactly header + data, and the read is capped at that size, so a
   decompression bomb stops after the declared bytes.  The zip's CRC is
   checked at the end of every member.

Whatever breaks inside the zip machinery -- ``BadZipFile``, a
``NotImplementedError`` for an unknown compression method or an "encrypted"
flag set by a flipped bit, a ``zlib.error``, an ``EOFError`` -- becomes a
``CheckpointError`` saying which file and why.  Layout of the file: see
``minidl/io.py``.
"""
from __future__ import annotations

import json
import zipfile

import numpy as np

META_KEY = "__minidl_meta__"
FORMAT = "minidl-checkpoint"
READS = (1, 2, 3)
MAX_META_BYTES = 64 << 20          # the JSON of ~300,000 parameters; a bigger "metadata" is not ours


class CheckpointError(ValueError):
    """A checkpoint could not be saved or loaded; the message says why."""


class Entry:
    """One stored array as the metadata describes it: parameter or buffer, its zip key, shape, dtype."""
    def __init__(self, name, key, shape, dtype, kind):
        self.name, self.key, self.shape, self.dtype, self.kind = name, key, shape, dtype, kind


class CheckpointFile:
    """An open checkpoint: ``.version``, ``.entries`` {name: Entry}; ``.array(name)`` reads one array."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:             # a missing or unreadable file: the OSError as it is
            magic = f.read(6)
        # np.load would try anything else as a pickle and then advise allow_pickle=True:
        # say plainly what the file is not instead.
        if magic == b"\x93NUMPY":
            raise CheckpointError(f"{path} holds a single .npy array, not an .npz checkpoint written by md.save")
        if not magic.startswith(b"PK"):
            raise CheckpointError(f"{path} is not a readable .npz checkpoint: it does not start with the "
                                  f"zip signature of an .npz file (first bytes {magic!r})")
        self._zip = None
        try:
            self._guarded("the zip directory", self._open)
            self._read_meta()
        except BaseException:
            self.close()
            raise

    def _open(self):
        self._zip = zipfile.ZipFile(self.path)
        self._members = {info.filename: info for info in self._zip.infolist()}

    # --- the guard around the zip machinery
    def _guarded(self, what, read):
        try:
            return read()
        except CheckpointError:
            raise
        except Exception as exc:    # untrusted bytes: any failure inside the zip machinery is a damaged file
            raise CheckpointError(f"{self.path} is not a readable .npz checkpoint (truncated, corrupt or "
                                  f"another kind of file) while reading {what}: {type(exc).__name__}: {exc}") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    # --- metadata
    def _read_meta(self):
        path = self.path
        names = [n for n in self._members if n != META_KEY + ".npy"]
        if META_KEY + ".npy" not in self._members:
            raise CheckpointError(f"{path} has no {META_KEY!r} entry: it was not written by md.save")
        for n in names:
            if not n.endswith(".npy"):
                raise CheckpointError(f"{path}: member {n!r} is not a .npy array; an md.save checkpoint "
                                      "holds nothing else")
        raw = self._member_bytes(META_KEY, np.dtype(np.uint8), None, limit=MAX_META_BYTES)
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{path}: the metadata is not valid JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else meta
            raise CheckpointError(f"{path}: unknown checkpoint format {found!r} (expected {FORMAT!r})")
        self.version = meta.get("version")
        self.extra = meta.get("extra")         # what md.io.save_arrays was given (the Trax facade's layout)
        if self.version not in READS:
            raise CheckpointError(f"{path}: checkpoint format version {self.version!r}, but this "
                                  f"minidl reads versions {', '.join(map(str, READS))}")
        self.entries = {}
        try:
            # version 1 stored each array under its parameter name; versions 2, 3 under "key";
            # version 3 added the buffers (BatchNorm's running statistics)
            listed = [(e, "parameter") for e in meta["params"]] + [(e, "buffer") for e in meta.get("buffers", [])]
            for e, kind in listed:
                name, key = str(e["name"]), str(e.get("key", e["name"]))
                shape = tuple(int(n) for n in e["shape"])
                if name in self.entries or any(n < 0 for n in shape):
                    raise ValueError(f"entry {name!r} repeated or with a negative size")
                self.entries[name] = Entry(name, key, shape, self._dtype(name, e["dtype"]), kind)
        except CheckpointError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise CheckpointError(f"{path}: damaged metadata ({type(exc).__name__}: {exc})") from None
        keys = sorted(e.key + ".npy" for e in self.entries.values())
        if keys != sorted(names):
            raise CheckpointError(f"{path}: the metadata lists arrays {[k[:-4] for k in keys]} but the file "
                                  f"holds {sorted(n[:-4] for n in names)} (a damaged checkpoint)")

    def _dtype(self, name, text):
        try:
            dtype = np.dtype(str(text))
        except TypeError:
            raise CheckpointError(f"{self.path}: array {name!r} has an unknown dtype {text!r}") from None
        if dtype.hasobject:               # loading it would mean unpickling: arbitrary code
            raise CheckpointError(f"{self.path}: array {name!r} holds Python objects, which could only "
                                  "be loaded by unpickling; refused")
        if dtype.kind not in "biuf":
            raise CheckpointError(f"{self.path}: array {name!r} has dtype {dtype}, not numbers")
        return dtype

    # --- arrays
    def array(self, name) -> np.ndarray:
        """The array stored under ``name`` (its header checked against the metadata, the read bounded)."""
        e = self.entries[name]
        return self._member_bytes(e.key, e.dtype, e.shape)

    def _member_bytes(self, key, dtype, shape, limit=None):
        member = key + ".npy"
        return self._guarded(f"member {member!r}", lambda: self._read_member(member, dtype, shape, limit))

    def _read_member(self, member, dtype, shape, limit):
        path, info = self.path, self._members[member]
        with self._zip.open(info) as f:
            try:
                version = np.lib.format.read_magic(f)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                    else np.lib.format.read_array_header_2_0
                got_shape, fortran, got_dtype = read_header(f)
            except ValueError as exc:
                raise CheckpointError(f"{path}: member {member!r} has no valid .npy header ({exc})") from None
            if got_dtype.hasobject:
                raise CheckpointError(f"{path}: array {member[:-4]!r} holds Python objects, which could only "
                                      "be loaded by unpickling; refused")
            if got_dtype != dtype or (shape is not None and tuple(got_shape) != shape):
                want = f"{dtype}{shape if shape is not None else ''}"
                raise CheckpointError(f"{path}: member {member!r} declares {got_dtype}{tuple(got_shape)} but the "
                                      f"metadata says {want}")
            declared = int(np.prod(got_shape, dtype=object)) * dtype.itemsize
            if limit is not None and declared > limit:
                raise CheckpointError(f"{path}: member {member!r} declares {declared:,} bytes, more than the "
                                      f"{limit:,} allowed; refused before reading")
            stored = info.file_size - f.tell()
            if stored != declared:
                raise CheckpointError(f"{path}: member {member!r} declares {got_dtype}{tuple(got_shape)} "
                                      f"({declared:,} bytes) but holds {stored:,} bytes; refused before reading")
            raw = f.read(declared + 1)     # capped: a lying size cannot inflate past it; EOF checks the CRC
        if len(raw) != declared:
            raise CheckpointError(f"{path}: member {member!r} is truncated ({len(raw):,} of {declared:,} bytes)")
        flat = np.frombuffer(raw, dtype=dtype).copy()          # a writable array that owns its memory
        return flat.reshape(tuple(got_shape)[::-1]).T if fortran else flat.reshape(got_shape)
