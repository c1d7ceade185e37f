"""The stand-in's array type and ufuncs (the package docstring says what they refuse and why).

``ndarray`` holds a NumPy array in ``_a``; ``_wrap``/``_unwrap`` are the only places
that cross between the two types, and ``_unwrap`` is where a host array is refused.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")
_SCALARS = (bool, int, float, complex, np.generic)      # what a CuPy kernel takes besides its arrays


def _cupy():
    """The stand-in's namespace (the package), where CuPy's names live."""
    return sys.modules[__package__]


def _unsupported(x):
    return TypeError(f"Unsupported type {type(x)}")      # CuPy's words (_scalar.pyx)


def _wrap(r):
    """NumPy results -> device arrays; NumPy scalars become 0-d device arrays, as CuPy returns."""
    if isinstance(r, np.ndarray):
        return ndarray._of(r)
    if isinstance(r, np.generic):
        return ndarray._of(np.asarray(r))
    if isinstance(r, (tuple, list)):
        return (list if isinstance(r, list) else tuple)(_wrap(x) for x in r)
    return r


def _unwrap(x, host_ok=False):
    """Device arrays -> their NumPy data (in lists and tuples too); a host array is refused."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        if host_ok:
            return x
        raise _unsupported(x)
    if isinstance(x, (tuple, list)):
        return (list if isinstance(x, list) else tuple)(_unwrap(v, host_ok) for v in x)
    return x


def _unwrap_kw(kwargs, host_ok=False):
    return {k: _unwrap(v, host_ok) for k, v in kwargs.items()}


def _defers_to(x, y):
    """CuPy's ``_should_use_rop``: let ``y`` answer ``x op y`` (a minidl Tensor does, by priority)."""
    y_ufunc = getattr(y, "__array_ufunc__", _defers_to)
    if y_ufunc is not _defers_to:
        return y_ufunc is None
    return getattr(x, "__array_priority__", 0) < getattr(y, "__array_priority__", 0)


# ============================================================================= the array type
class ndarray:
    """A device array: a NumPy array that only CuPy's ways lead into and out of."""
    __slots__ = ("_a",)
    __array_priority__ = 100                            # as cupy.ndarray
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = np.empty(shape, dtype=dtype, order=order)   # cupy.ndarray(shape, dtype): uninitialised

    @classmethod
    def _of(cls, a):
        d = object.__new__(cls)
        d._a = a
        return d

    # --- the ways out
    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        self._a[...] = arr

    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    # --- the refusals
    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(d)``, ``h + d``, ``np.add.at(d, i, v)``: CuPy's ufunc of the same name, or nothing."""
        mine = getattr(_cupy(), ufunc.__name__, None)
        if not isinstance(mine, ufunc_):
            return NotImplemented
        if "out" in kwargs:
            (kwargs["out"],) = kwargs["out"]
        for x in inputs + ((kwargs["out"],) if "out" in kwargs else ()):
            if not isinstance(x, _SCALARS + (ndarray, np.ndarray)):
                return NotImplemented
        return mine(*inputs, **kwargs) if method == "__call__" else getattr(mine, method)(*inputs, **kwargs)

    def __array_function__(self, func, types_, args, kwargs):
        """``np.sum(d)``, ``np.concatenate([d, e])``: CuPy's function of the same name, or nothing."""
        mine = _cupy()
        try:
            for part in func.__module__.split(".")[1:] + [func.__name__]:
                mine = getattr(mine, part)
        except AttributeError:
            return NotImplemented
        if mine is func or not all(issubclass(t, (ndarray, np.ndarray)) for t in types_):
            return NotImplemented
        return mine(*args, **kwargs)

    def __int__(self): return int(self._a)              # CuPy: int(self.get())
    def __float__(self): return float(self._a)
    def __complex__(self): return complex(self._a)

    def __bool__(self):
        if self.size == 0:
            warnings.warn("The truth value of an empty array is ambiguous. Returning False, but in future "
                          "this will result in an error. Use `array.size > 0` to check that an array is not "
                          "empty.", DeprecationWarning, stacklevel=2)
            return False
        if self.size == 1:
            return bool(self._a)
        raise ValueError("The truth value of an array with more than one element is ambiguous. "
                         "Use a.any() or a.all()")

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):                                 # yields device arrays, as CuPy
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __repr__(self): return repr(self._a)
    def __str__(self): return str(self._a)
    def __format__(self, spec): return format(self._a, spec)
    def __reduce__(self): return _cupy().array, (self._a,)   # pickle and deepcopy, as CuPy

    # --- indexing: host ints, slices, lists and numpy index arrays are fine (CuPy moves them)
    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, host_ok=True)])

    def __setitem__(self, key, value):
        key = _unwrap(key, host_ok=True)
        if isinstance(value, ndarray):
            value = value._a
        elif not _is_advanced(key) and np.shape(value) != ():
            # basic indexing assigns through ndarray.fill, which takes a scalar only (CuPy gh-2079)
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._a[key] = value

    # --- facts about the array (plain host values, as on CuPy)
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    device = property(lambda self: _cupy().cuda.Device(0))
    T = property(lambda self: ndarray._of(self._a.T))
    mT = property(lambda self: ndarray._of(self._a.mT))
    real = property(lambda self: ndarray._of(self._a.real))
    imag = property(lambda self: ndarray._of(self._a.imag))
    base = property(lambda self: None if self._a.base is None else ndarray._of(self._a.base))

    def __getattr__(self, name):
        """The methods of cupy.ndarray, computed by NumPy's on the data; host arrays refused."""
        if name not in _METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name)

        def call(*args, **kwargs):
            out = kwargs.get("out")
            r = _wrap(method(*_unwrap(args, host_ok=name == "take"), **_unwrap_kw(kwargs)))
            return out if isinstance(out, ndarray) else r
        return call


_METHODS = set("""all any argmax argmin argpartition argsort astype choose clip compress conj conjugate copy
cumprod cumsum diagonal dot fill flatten max mean min nonzero partition prod ptp put ravel repeat reshape
round searchsorted sort squeeze std sum swapaxes take trace transpose var view""".split())


def _is_advanced(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (list, np.ndarray, bool, np.bool_)) for k in parts)


def _operators():
    """Python operators as CuPy's: ``x op y`` is the ufunc unless ``y`` (a Tensor) answers it."""
    def binary(uf):
        def op(self, other):
            return NotImplemented if not isinstance(other, ndarray) and _defers_to(self, other) else uf(self, other)

        def rop(self, other):
            return uf(other, self)

        def iop(self, other):
            return uf(self, other, out=(self,))
        return op, rop, iop
    for name, uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
                     ("floordiv", np.floor_divide), ("mod", np.remainder), ("pow", np.power),
                     ("matmul", np.matmul), ("and", np.bitwise_and), ("or", np.bitwise_or),
                     ("xor", np.bitwise_xor), ("lshift", np.left_shift), ("rshift", np.right_shift)]:
        op, rop, iop = binary(uf)
        setattr(ndarray, f"__{name}__", op)
        setattr(ndarray, f"__r{name}__", rop)
        setattr(ndarray, f"__i{name}__", iop)
    ndarray.__divmod__ = lambda self, other: np.divmod(self, other)

    def compare(uf, fill=None):
        def op(self, other):
            if not isinstance(other, ndarray):
                if _defers_to(self, other):
                    return NotImplemented
                if isinstance(other, np.ndarray) and other.ndim == 0:
                    other = other.item()                      # CuPy compares with a host 0-d as a scalar
                if fill and (other is None or type(other).__eq__ is object.__eq__):
                    return ndarray._of(fill(self.shape, dtype=bool))   # == None: never equal (CuPy)
            return uf(self, other)
        return op
    for name, uf, fill in [("lt", np.less, None), ("le", np.less_equal, None), ("gt", np.greater, None),
                           ("ge", np.greater_equal, None), ("eq", np.equal, np.zeros), ("ne", np.not_equal, np.ones)]:
        setattr(ndarray, f"__{name}__", compare(uf, fill))
    for name, uf in [("neg", np.negative), ("pos", np.positive), ("abs", np.absolute), ("invert", np.invert)]:
        setattr(ndarray, f"__{name}__", lambda self, uf=uf: uf(self))


_operators()


# ============================================================================= ufuncs and functions
class ufunc_:
    """A CuPy ufunc: device arrays and scalars in, device arrays out; ``out=`` must be a device array."""
    _AT = {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"}
    _REDUCE = {"add", "multiply"}

    def __init__(self, uf):
        self._uf, self.__name__ = uf, uf.__name__
        self.nin, self.nout, self.nargs = uf.nin, uf.nout, uf.nargs

    def __repr__(self):
        return f"<ufunc 'cupy_{self.__name__}'>"

    def _args(self, args, kwargs):
        for x in args:
            if not isinstance(x, _SCALARS + (ndarray,)):
                raise _unsupported(x)
        out = kwargs.get("out")
        out = out[0] if isinstance(out, tuple) and len(out) == 1 else out
        if out is not None and not isinstance(out, ndarray):
            raise TypeError("Output arguments must be cupy.ndarray")
        return _unwrap(args), {**_unwrap_kw(kwargs), **({"out": out._a} if out is not None else {})}, out

    def __call__(self, *args, **kwargs):
        args, kwargs, out = self._args(args, kwargs)
        r = self._uf(*args, **kwargs)
        return out if out is not None else _wrap(r)

    def _only(self, method, names):
        if self.__name__ not in names:
            raise NotImplementedError(f"`cupy_{self.__name__}.{method}` is not supported yet")

    def at(self, a, indices, b=None):
        self._only("at", self._AT)
        if not isinstance(a, ndarray):
            raise _unsupported(a)
        self._uf.at(a._a, _unwrap(indices, host_ok=True), *(() if b is None else (_unwrap(b, host_ok=True),)))

    def outer(self, A, B, **kwargs):                  # CuPy moves host operands here (core.array)
        return _wrap(self._uf.outer(_unwrap(A, True), _unwrap(B, True), **_unwrap_kw(kwargs)))

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        self._only("reduce", self._REDUCE)
        return self._method("reduce", array, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        self._only("accumulate", self._REDUCE)
        return self._method("accumulate", array, axis=axis, dtype=dtype, out=out)

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        self._only("reduceat", {"add"})
        return self._method("reduceat", array, _unwrap(indices, host_ok=True), axis=axis, dtype=dtype, out=out)

    def _method(self, method, array, *rest, out=None, **kwargs):
        (a,), kw, out = self._args((array,), {"out": out} if out is not None else {})
        r = getattr(self._uf, method)(a, *rest, **kwargs, **kw)
        return out if out is not None else _wrap(r)


