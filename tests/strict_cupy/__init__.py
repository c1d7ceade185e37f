"""A strict CuPy stand-in for the test suite: CuPy's names and refusals, NumPy's arithmetic.

CI has no GPU, so without this every CuPy case of the suite would skip and the
GPU path would rot between GPU runs.  When no working CuPy is found,
tests/conftest.py installs this module as minidl's ``cupy`` backend (through the
test seam ``minidl.backend._cupy_stand_in``) and the ``cupy`` case of the
``backend_name``/``xp`` fixtures runs here.  Like array-api-strict for scikit-learn
and SciPy, it refuses what a GPU array refuses, so the bugs that only show on a
GPU show in CI.  Its arrays (``ndarray``, backed by a NumPy array) behave as
CuPy's do, as read in CuPy's source (v15 development branch: cupy/_core/core.pyx,
_kernel.pyx, _scalar.pyx, _routines_indexing.pyx):

* no implicit conversion to NumPy: ``np.asarray(d)``, ``np.array(d)``, ``np.testing.*(d, ...)``,
  matplotlib, ``np.array([d0, d1])`` raise CuPy's ``TypeError: Implicit conversion to a
  NumPy array is not allowed...``.  ``d.get()`` and ``asnumpy(d)`` are the ways out
  (``d.item()`` and ``d.tolist()`` copy out values, as on CuPy);
* no mixing with ``numpy.ndarray`` in one operation: ``d + h``, ``h * d``, ``xp.exp(h)``,
  ``np.add.at(h, i, d)`` raise ``TypeError: Unsupported type <class 'numpy.ndarray'>``;
  ``d[:2] = h`` raises CuPy's ValueError (only advanced-index assignment copies from the host);
* reductions and integer indexing give 0-d device arrays, never NumPy scalars (a ``d.sum()``
  that reaches ``json`` fails, as on CuPy; NumPy's float64 would pass as a float), and a 0-d
  device array is no list index (no ``__index__``: ``words[d.argmax()]`` fails);
* ``float(d)``, ``int(d)`` are CuPy's ``float(d.get())``: NumPy's rule for the data (NumPy 2.4:
  0-d arrays only); ``bool(d)`` is CuPy's (one element; an empty array warns and is False);
* ``ufunc.at`` only for add, subtract, maximum, minimum and the bitwise ops; ``reduce`` and
  ``accumulate`` only for add and multiply; ``reduceat`` only for add (CuPy's NotImplementedError);
* only NumPy names that CuPy also has (``xp.errstate`` is an AttributeError, as on CuPy), and no
  ``ElementwiseKernel``: minidl's fused RNNs then run their NumPy twins (see minidl/fast/cupy_kernels.py).

What it does not model: speed, memory, asynchrony (``cuda`` synchronisation is a no-op), CuPy's
wrap-around of out-of-range integer indices (this raises, as NumPy does), CuPy's random streams
(``random.RandomState`` draws with NumPy's), float rounding of GPU kernels, and CuPy's
zero-copy 0-d views from integer indexing (these are copies).  Real kernels need the real GPU:
``python -m benchmarks gpu-check``.
"""
from __future__ import annotations

import sys
import types

import numpy as np

from .core import IMPLICIT as IMPLICIT  # the refusal message, for tests that match it
from .core import ndarray, ufunc_, _unwrap, _unwrap_kw, _wrap

ufunc = ufunc_


def _strict(fn, name):
    """CuPy's function ``name``: NumPy's computes it, on device arrays only."""
    def call(*args, **kwargs):
        out = kwargs.get("out")
        r = _wrap(fn(*_unwrap(args), **_unwrap_kw(kwargs)))
        return out if isinstance(out, ndarray) else r
    call.__name__ = call.__qualname__ = name
    call.__module__ = __name__
    return call


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    """A new device array from host data (a copy: the host -> device transfer) or device arrays."""
    return ndarray._of(np.array(_unwrap(obj, host_ok=True), dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    return array(a, dtype=dtype, order=order or "K")


asanyarray = asarray


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    host = np.asarray(a, order=order)
    if out is not None:
        out[...] = host
        return out
    return host


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else np


def take(a, indices, axis=None, out=None):           # indices may come from the host (CuPy moves them)
    return a.take(indices, axis, out)


def is_available():
    return True


# The NumPy names CuPy also has at its top level (from its cupy/__init__.py), looked up lazily below.
# NumPy-only names (errstate, add_docstring, ...) are missing here as they are on CuPy.
_NUMPY_NAMES = set("""
abs absolute acos acosh add all allclose amax amin angle any append apply_along_axis apply_over_axes arange
arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin argpartition argsort argwhere around
array_equal array_equiv array_split asarray_chkfinite ascontiguousarray asfortranarray asin asinh astype
atan atan2 atanh atleast_1d atleast_2d atleast_3d average bartlett bincount bitwise_and bitwise_count
bitwise_invert bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor blackman bool bool_
broadcast_arrays broadcast_shapes broadcast_to byte can_cast cbrt cdouble ceil choose clip column_stack
common_type complex128 complex64 complexfloating compress concat concatenate conj conjugate convolve copy
copysign copyto corrcoef correlate cos cosh count_nonzero cov cross csingle cumprod cumsum cumulative_prod
cumulative_sum deg2rad degrees delete diag diag_indices diag_indices_from diagflat diagonal diff digitize
divide divmod dot double dsplit dstack dtype e ediff1d einsum empty empty_like equal euler_gamma exp exp2
expand_dims expm1 extract eye fabs fill_diagonal finfo fix flatnonzero flip fliplr flipud float16 float32
float64 float_power floating floor floor_divide fmax fmin fmod frexp full full_like gcd generic gradient
greater greater_equal half hamming hanning heaviside histogram histogram2d histogramdd hsplit hstack hypot
i0 identity iinfo imag indices inexact inf inner int16 int32 int64 int8 int_ intc integer interp
intersect1d intp invert isclose iscomplex iscomplexobj isdtype isfinite isfortran isin isinf isnan isneginf
isposinf isreal isrealobj isscalar issubdtype iterable ix_ kaiser kron lcm ldexp left_shift less
less_equal lexsort linspace log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or
logical_xor logspace long longlong matmul matrix_transpose max maximum may_share_memory mean median meshgrid
min min_scalar_type minimum mintypecode mod modf moveaxis multiply nan nan_to_num nanargmax nanargmin
nancumprod nancumsum nanmax nanmean nanmedian nanmin nanprod nanstd nansum nanvar ndim negative newaxis
nextafter nonzero not_equal number ones ones_like outer packbits pad partition percentile permute_dims pi
piecewise place positive pow power prod promote_types ptp put put_along_axis putmask quantile rad2deg
radians ravel ravel_multi_index real real_if_close reciprocal remainder repeat require reshape resize
result_type right_shift rint roll rollaxis rot90 round row_stack searchsorted select setdiff1d setxor1d
shape shares_memory short sign signbit signedinteger sin sinc single sinh size sort split sqrt square
squeeze stack std subtract sum swapaxes take_along_axis tan tanh tensordot tile trace transpose trapezoid
tri tril tril_indices tril_indices_from trim_zeros triu triu_indices triu_indices_from true_divide trunc
typename ubyte uint uint16 uint32 uint64 uint8 uintc uintp ulong ulonglong union1d unique unique_all
unique_counts unique_inverse unique_values unpackbits unravel_index unsignedinteger unwrap ushort vander var
vdot vstack where zeros zeros_like""".split())


_resolved = {}        # not the module's globals: ``any``, ``sum``, ``bool``... must stay Python's in here


def __getattr__(name):
    """``xp.exp``, ``xp.zeros``, ``xp.float32``...: NumPy's object, made strict (once per name)."""
    if name in _resolved:
        return _resolved[name]
    if name not in _NUMPY_NAMES:
        raise AttributeError(f"module 'cupy' has no attribute {name!r}")
    obj = getattr(np, name)
    if isinstance(obj, np.ufunc):
        value = ufunc_(obj)
    elif isinstance(obj, type) or not callable(obj):  # dtypes, scalar types, constants: NumPy's own
        value = obj
    else:
        value = _strict(obj, name)
    _resolved[name] = value
    return value


linalg = types.SimpleNamespace(LinAlgError=np.linalg.LinAlgError, **{
    n: _strict(getattr(np.linalg, n), n) for n in
    "cholesky qr svd eigh eigvalsh norm det slogdet solve lstsq inv pinv matrix_power matrix_rank".split()})
lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
    as_strided=_strict(np.lib.stride_tricks.as_strided, "as_strided"),
    sliding_window_view=_strict(np.lib.stride_tricks.sliding_window_view, "sliding_window_view")))


# ============================================================================= random
class RandomState:
    """cupy.random.RandomState: the draws are NumPy's (other numbers than a GPU's), moved to the device."""

    def __init__(self, seed=None):
        self._rs = np.random.RandomState(seed)

    def _draw(self, method, *args, dtype=None, **kwargs):
        r = np.asarray(getattr(self._rs, method)(*_unwrap(args), **_unwrap_kw(kwargs)))
        return ndarray._of(r if dtype is None else r.astype(dtype))

    def seed(self, seed=None): self._rs.seed(seed)
    def rand(self, *size, dtype=float): return self._draw("random_sample", size or None, dtype=dtype)
    def randn(self, *size, dtype=float): return self._draw("standard_normal", size or None, dtype=dtype)
    def random_sample(self, size=None, dtype=float): return self._draw("random_sample", size, dtype=dtype)
    def standard_normal(self, size=None, dtype=float): return self._draw("standard_normal", size, dtype=dtype)
    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float): return self._draw("normal", loc, scale, size, dtype=dtype)
    def uniform(self, low=0.0, high=1.0, size=None, dtype=float): return self._draw("uniform", low, high, size, dtype=dtype)
    def randint(self, low, high=None, size=None, dtype="l"): return self._draw("randint", low, high, size, dtype=dtype)
    def binomial(self, n, p, size=None, dtype=int): return self._draw("binomial", n, p, size, dtype=dtype)
    def choice(self, a, size=None, replace=True, p=None): return self._draw("choice", a, size, replace, p)
    def permutation(self, num): return self._draw("permutation", num)
    random = random_sample

    def shuffle(self, a):
        if not isinstance(a, ndarray):
            raise TypeError("The array must be cupy.ndarray")
        self._rs.shuffle(a._a)


_global_rs = RandomState()
random = types.SimpleNamespace(RandomState=RandomState, get_random_state=lambda: _global_rs, **{
    n: getattr(_global_rs, n) for n in
    "seed rand randn random random_sample standard_normal normal uniform randint binomial choice "
    "permutation shuffle".split()})


# ============================================================================= cuda
class _Device:
    """cupy.cuda.Device: one device, id 0.  Work is done eagerly, so there is never anything to wait for."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        self.compute_capability = "0"

    def synchronize(self): pass
    def use(self): return self
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def __repr__(self): return f"<CUDA Device {self.id} (strict CuPy stand-in)>"


_stream = types.SimpleNamespace(synchronize=lambda: None)
cuda = types.SimpleNamespace(
    Device=_Device, is_available=is_available, get_current_stream=lambda: _stream,
    Stream=types.SimpleNamespace(null=_stream),
    runtime=types.SimpleNamespace(
        getDeviceCount=lambda: 1, deviceSynchronize=lambda: None, runtimeGetVersion=lambda: 0,
        getDeviceProperties=lambda device: {"name": b"strict CuPy stand-in (NumPy on the CPU)",
                                            "totalGlobalMem": 0, "major": 0, "minor": 0}))
__version__ = "0+strict-stand-in"
