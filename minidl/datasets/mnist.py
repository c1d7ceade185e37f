"""MNIST handwritten digits from IDX files.

IDX is a tiny binary format: a 4-byte magic number, then one big-endian
uint32 per dimension, then the raw values in C order::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 = uint8 (MNIST uses only this)
    byte  3     number of dimensions n
    4n bytes    the n sizes, big-endian uint32
    the rest    prod(sizes) values

So ``t10k-images-idx3-ubyte`` starts ``00 00 08 03 | 10000 | 28 | 28`` and
``t10k-labels-idx1-ubyte`` starts ``00 00 08 01 | 10000``.  Files may be gzipped
(recognised by their first bytes, whatever their name).

``load_mnist`` returns (like the synthetic ``make_digits``):

    {"images": (N, 28, 28) uint8, 0 = background, 255 = ink,
     "labels": (N,) int64 in 0..9,
     "source": str}
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .paths import DataFormatError, DataNotFoundError, find_file

# IDX type codes -> NumPy dtypes (big-endian where it matters).
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_SPLITS = {"train": "train", "test": "t10k"}


def read_idx(path):
    """Read an IDX file (raw or gzipped) into a NumPy array of its shape."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataFormatError(path, None, "not an IDX file (it must start with two zero bytes)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise DataFormatError(path, None, f"unknown IDX element type 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(path, None, f"truncated header: {ndim} dimensions need {header} bytes")
    shape = tuple(int(x) for x in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DataFormatError(path, None, f"shape {shape} needs {expected} bytes, the file has {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(folder, stem):
    for name in (stem + ".gz", stem):
        candidate = folder / name if folder is not None else find_file("mnist/" + name)
        if candidate is not None and candidate.exists():
            return candidate
    return None


def load_mnist(path=None, split="test"):
    """Load MNIST ``split`` ("train": 60,000 or "test": 10,000 digits).

    path: folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``,
    or None to search ``mnist/`` in the data dir and the download cache
    (``md.datasets.download("mnist")`` fills it).
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(path) if path is not None else None
    prefix = _SPLITS[split]
    files = {}
    for kind, stem in (("images", f"{prefix}-images-idx3-ubyte"), ("labels", f"{prefix}-labels-idx1-ubyte")):
        files[kind] = _find_idx(folder, stem)
        if files[kind] is None:
            where = f"in {folder}" if folder is not None else "in the data dir or the cache (mnist/)"
            raise DataNotFoundError(f"no {stem}[.gz] {where}; get it with "
                                    f"md.datasets.download('mnist') or pass the folder holding it")
    images, labels = read_idx(files["images"]), read_idx(files["labels"])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataFormatError(files["images"], None, f"images {images.shape} and labels {labels.shape} "
                                                     f"do not make an (N, H, W) / (N,) pair")
    return {"images": images, "labels": labels.astype(np.int64), "source": str(files["images"].parent)}
