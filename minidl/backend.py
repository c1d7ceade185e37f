"""Which array module does the arithmetic: NumPy (default) or CuPy.

This is the only place in minidl that chooses between ``numpy`` and ``cupy``.
Everything else asks an array for its module (``xp_of(a)``) or asks for the
active one (``xp()``), so one piece of model code runs on the CPU and the GPU.

The few operations the two libraries spell differently live here once:

* ``scatter_add(target, idx, values)``  -- ``add.at`` with repeated indices accumulating
  (the backward of every gather: indexing and Embedding);
* ``asnumpy(a)`` / ``to_backend(a, name)`` -- moving arrays between host and device;
* random numbers -- ``host_rng()`` (parameter init, shuffling; drawn on the host so
  NumPy and CuPy models start from *identical* weights) and ``device_rng()``
  (dropout masks, drawn where the data lives).

(The CuPy elementwise kernels of the fused RNNs are a speed trick and live with
them, in minidl/fast/cupy_kernels.py.)

Dtype policy: ``float32`` is the default floating dtype (fast, what GPUs like);
``float64`` is for gradient checks (``with default_dtype("float64"): ...``).
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib

import numpy as np

# The active backend and default dtype are per thread (and per asyncio task):
# ``with default_dtype("float64")`` in a gradient check on one thread must not
# turn another thread's model into float64.  A new thread starts from the
# defaults, numpy and float32, as PyTorch's grad mode does.
BACKENDS = ("numpy", "cupy")
_name = contextvars.ContextVar("minidl_backend", default="numpy")
_dtype = contextvars.ContextVar("minidl_default_dtype", default=np.dtype(np.float32))

_state = {
    "seed": 0,
    "host_rng": np.random.default_rng(0),
    "device_rng": {},           # backend name -> RNG object, created lazily
}

_cupy = None                    # the cupy module once imported successfully
_cupy_error = None              # why it could not be used (str), once probed


# ----------------------------------------------------------------------------- CuPy probing
def _probe_cupy():
    """Import CuPy and touch the GPU once; remember the reason if that fails."""
    global _cupy, _cupy_error
    if _cupy is not None or _cupy_error is not None:
        return _cupy
    try:
        cp = importlib.import_module("cupy")
    except ImportError as exc:
        _cupy_error = f"CuPy is not installed ({exc}); install it with pip install -e '.[gpu]'"
        return None
    try:
        n = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:          # CUDARuntimeError: no driver, driver too old, ...
        _cupy_error = f"CuPy is installed but the CUDA driver failed: {exc}"
        return None
    if n == 0:
        _cupy_error = "CuPy is installed but no NVIDIA GPU is visible"
        return None
    try:
        (cp.arange(3) + 1).sum().item()   # a real kernel launch catches broken toolkits
    except Exception as exc:
        _cupy_error = f"CuPy found a GPU but could not run a kernel: {exc}"
        return None
    _cupy = cp
    return cp


def cupy_unavailable_reason() -> str | None:
    """None when CuPy works, otherwise a sentence saying why not."""
    _probe_cupy()
    return None if _cupy is not None else _cupy_error


def available_backends() -> list[str]:
    """``["numpy"]`` or ``["numpy", "cupy"]`` depending on what this machine can run."""
    return ["numpy", "cupy"] if _probe_cupy() is not None else ["numpy"]


def use(name: str) -> None:
    """Make ``name`` ("numpy" or "cupy") the backend for new tensors and parameters."""
    check_name(name)
    if name == "cupy" and _probe_cupy() is None:
        raise RuntimeError(f"cannot use the 'cupy' backend: {_cupy_error}")
    _name.set(name)


def check_name(name) -> str:
    """``name`` if it is a backend minidl knows; otherwise a ValueError listing the valid ones."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; the backends are {', '.join(map(repr, BACKENDS))}")
    return name


def get_backend() -> str:
    return _name.get()


@contextlib.contextmanager
def using(name: str):
    """``with using("cupy"): ...`` -- switch backend for a block, then switch back."""
    check_name(name)
    if name == "cupy" and _probe_cupy() is None:
        raise RuntimeError(f"cannot use the 'cupy' backend: {_cupy_error}")
    token = _name.set(name)
    try:
        yield
    finally:
        _name.reset(token)


def module(name: str):
    """The array module called ``name``."""
    if check_name(name) == "numpy":
        return np
    if _probe_cupy() is None:
        raise RuntimeError(f"cannot use the 'cupy' backend: {_cupy_error}")
    return _cupy


def xp():
    """The active array module (numpy or cupy)."""
    return np if _name.get() == "numpy" else _cupy


def xp_of(a):
    """The array module that owns ``a``: cupy for a cupy array, numpy otherwise."""
    if type(a) is np.ndarray:              # the common case first: this runs for every op
        return np
    if _cupy is None and type(a).__module__.startswith("cupy"):
        _probe_cupy()                      # a CuPy array made before minidl looked for CuPy
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return _cupy
    return np


def name_of(a) -> str:
    return "cupy" if xp_of(a) is not np else "numpy"


@contextlib.contextmanager
def _cupy_stand_in(module):
    """Test seam, used only by the tests (tests/conftest.py): inside the block ``module`` IS the cupy backend.

    CI has no GPU, so the test suite runs its CuPy cases on a strict CPU stand-in
    (tests/strict_cupy/) whose arrays refuse implicit conversion to NumPy as CuPy's
    do.  Inside the block everything that asks for CuPy sees ``module`` as if the
    probe had found a GPU: ``use``/``using("cupy")``, ``available_backends()``,
    ``module("cupy")``, ``xp_of``, ``asnumpy``.  The probe's own verdict comes back after.
    """
    global _cupy, _cupy_error
    _probe_cupy()
    saved = _cupy, _cupy_error
    _cupy, _cupy_error = module, None
    _state["device_rng"].pop("cupy", None)      # a generator of the real CuPy must not leak in, nor out
    try:
        yield module
    finally:
        _cupy, _cupy_error = saved
        _state["device_rng"].pop("cupy", None)


# ----------------------------------------------------------------------------- dtypes
def get_default_dtype():
    return _dtype.get()


def _floating(dtype):
    dt = numeric_dtype(dtype, "set_default_dtype")
    if dt.kind != "f":
        raise ValueError(f"set_default_dtype: the default dtype must be floating, got {dt}")
    return dt


def numeric_dtype(dtype, who: str):
    """``dtype`` as a NumPy dtype of real numbers (bool, int, float), or a TypeError naming it."""
    try:
        dt = np.dtype(dtype) if dtype is not None else None
    except (TypeError, ValueError, SyntaxError):       # np.dtype parses strings: "0:" is a SyntaxError
        dt = None
    if dt is None or dt.kind not in "biuf":
        raise TypeError(f"{who}: dtype must be a real number type such as 'float32', 'float64' or 'int64', "
                        f"got {dtype!r}")
    return dt


def set_default_dtype(dtype) -> None:
    _dtype.set(_floating(dtype))


@contextlib.contextmanager
def default_dtype(dtype):
    """``with default_dtype("float64"): layer = nn.Dense(3)`` -- float64 parameters."""
    token = _dtype.set(_floating(dtype))
    try:
        yield
    finally:
        _dtype.reset(token)


def scalar_dtype(x, dtype):
    """The dtype a Python number takes next to a tensor of ``dtype`` (NumPy 2's rule, NEP 50):

    the tensor's dtype when it can hold the number (float tensor * 0.5, int tensor + 2),
    else a float (the default float dtype) or int64 that NumPy then promotes with the
    tensor: ``md.tensor([1, 2]) * 0.5`` is [0.5, 1.0] (float64, as in NumPy), never [0, 0].
    """
    kind = dtype.kind
    if isinstance(x, bool) or (isinstance(x, int) and kind in "iuf") or (isinstance(x, float) and kind == "f"):
        return dtype
    return np.dtype(np.int64) if isinstance(x, int) else get_default_dtype()


# ----------------------------------------------------------------------------- moving arrays
def asnumpy(a):
    """A NumPy array with the same values (copies from the GPU when needed)."""
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return _cupy.asnumpy(a)
    return np.asarray(a)


def to_backend(a, name: str):
    """``a`` as an array of backend ``name`` (no copy when it already lives there)."""
    if check_name(name) == "numpy":
        return asnumpy(a)
    return module("cupy").asarray(a)


# ----------------------------------------------------------------------------- scatter-add
def scatter_add(target, idx, values):
    """``target[idx] += values`` where repeated indices *accumulate* (in place).

    Plain ``target[idx] += values`` keeps only one write per repeated index, which
    is exactly the bug that makes hand-written Embedding gradients wrong.
    """
    xp_of(target).add.at(target, idx, values)      # numpy.add.at and cupy.add.at (CuPy >= 13)
    return target


def scatter_add_rows(n_rows: int, ids, rows, out=None):
    """Sum ``rows`` (N, d) into a fresh (n_rows, d) array at row ``ids`` (N,)
    (or add them into ``out``, an existing C-contiguous (n_rows, d) array).

    The embedding backward.  On NumPy, ``np.add.at`` over the *flattened* table
    (element index id*d + j) is the fast form: measured 2.3 ms against 8.5 ms for
    sort + ``add.reduceat`` and 9.7 ms for a 2-D ``add.at`` (N=3200, d=256,
    V=10,000), because 1-D ``add.at`` has a tight loop and the 2-D one does not.
    On CuPy the atomic scatter-add kernel is already the fast path.
    """
    xp_ = xp_of(rows)
    if out is None:
        out = xp_.zeros((n_rows,) + rows.shape[1:], dtype=rows.dtype)
    if ids.size == 0:
        return out
    if xp_ is not np:
        return scatter_add(out, ids, rows)
    d = int(np.prod(rows.shape[1:], dtype=np.int64))
    flat = (ids.astype(np.int64)[:, None] * d + np.arange(d)).ravel()
    np.add.at(out.reshape(-1), flat, rows.reshape(-1))
    return out


# ----------------------------------------------------------------------------- random numbers
def seed(n: int) -> None:
    """Seed every RNG minidl uses (host init/shuffles and the device RNG)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"md.seed: n must be an integer >= 0 (a NumPy seed), got {n!r}")
    _state["seed"] = int(n)
    _state["host_rng"] = np.random.default_rng(int(n))
    _state["device_rng"] = {}


def host_rng() -> np.random.Generator:
    """The NumPy Generator used for parameter init and shuffling (always on the host)."""
    return _state["host_rng"]


def device_rng(name: str | None = None):
    """A RandomState-like generator living on backend ``name`` (default: active)."""
    name = name or get_backend()
    rngs = _state["device_rng"]
    if name not in rngs:
        # A distinct, seed-derived stream so dropout masks do not repeat init draws.
        s = _state["seed"] * 1_000_003 + 17
        rngs[name] = module(name).random.RandomState(s % (2**32))
    return rngs[name]
