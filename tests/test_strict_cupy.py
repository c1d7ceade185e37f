"""The strict CuPy stand-in (tests/strict_cupy/) refuses what CuPy refuses, and minidl runs on it.

If the stand-in were lenient, the suite's CuPy cases would pass in CI and fail on a GPU:
so each refusal below is pinned, with CuPy's own message, next to what it lets through.
"""
import copy
import json
import pickle

import numpy as np
import pytest

import minidl as md
import strict_cupy as scp
from conftest import on_stand_in
from minidl import backend, nn

IMPLICIT = "Implicit conversion to a NumPy array is not allowed"
MIXED = r"Unsupported type <class 'numpy.ndarray'>"


@pytest.fixture
def d():
    return scp.asarray(np.arange(6.0).reshape(2, 3))


# ----------------------------------------------------------------------------- the known bug class
def a_test_that_compares_a_device_array_on_the_host(xp):
    """What a GPU run found in tests/test_bidirectional.py: np.testing on a CuPy array."""
    y = md.functional.tanh(md.tensor(xp.asarray([[0.5, -0.5]])))
    np.testing.assert_allclose(y.data, np.tanh([[0.5, -0.5]]), rtol=1e-6)


def test_a_host_comparison_of_a_device_array_fails_on_the_stand_in_as_on_cupy():
    a_test_that_compares_a_device_array_on_the_host(np)               # passes on NumPy
    with backend._cupy_stand_in(scp), md.using("cupy"):
        with pytest.raises(TypeError, match=IMPLICIT):
            a_test_that_compares_a_device_array_on_the_host(scp)


@pytest.mark.parametrize("to_host", [np.asarray, np.array, lambda a: np.testing.assert_array_equal(a, 0),
                                     lambda a: np.array([a[0], a[1]]), lambda a: np.float64(a),
                                     lambda a: np.mean([a.sum(), a.sum()])],
                         ids=["asarray", "array", "np.testing", "list of rows", "np.float64", "np.mean of list"])
def test_no_implicit_conversion_to_numpy(d, to_host):
    with pytest.raises(TypeError, match=IMPLICIT):
        to_host(d)


def test_get_and_asnumpy_are_the_ways_out_and_copy(d):
    for host in (d.get(), scp.asnumpy(d)):
        assert type(host) is np.ndarray
        np.testing.assert_array_equal(host, np.arange(6.0).reshape(2, 3))
        host[0, 0] = 99
    assert d[0, 0].item() == 0.0                                      # the device copy is untouched
    assert d.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert type(scp.asnumpy([1, 2])) is np.ndarray                    # host data passes through


@pytest.mark.parametrize("mix", [lambda d, h: d + h, lambda d, h: h * d, lambda d, h: scp.exp(h),
                                 lambda d, h: np.maximum(d, h), lambda d, h: scp.concatenate([d, h]),
                                 lambda d, h: np.add.at(h, np.array([0]), d[0]),
                                 lambda d, h: np.add(d, 1, out=h), lambda d, h: d.dot(h.T)],
                         ids=["d+h", "h*d", "xp.exp(h)", "np.maximum", "concatenate", "np.add.at", "out=host",
                              "dot"])
def test_no_mixing_with_numpy_arrays(d, mix):
    with pytest.raises(TypeError, match=MIXED + "|Output arguments must be cupy.ndarray"):
        mix(d, np.ones((2, 3)))


def test_in_place_operators_refuse_host_arrays_too(d):
    with pytest.raises(TypeError, match=MIXED):
        d += np.ones((2, 3))
    d += 1                                                            # scalars are fine
    assert scp.asnumpy(d)[0, 0] == 1.0


def test_assigning_host_arrays_as_cupy_does(d):
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        d[0] = np.ones(3)                                             # basic indexing: a scalar only
    d[0] = 7.0
    d[[1]] = np.full((1, 3), 5.0)                                     # advanced indexing copies from the host
    d[np.array([0, 1]), 0] = scp.asarray([1.0, 2.0])
    np.testing.assert_array_equal(scp.asnumpy(d), [[1, 7, 7], [2, 5, 5]])


def test_reductions_and_indexing_give_device_scalars(d):
    s, e = d.sum(), d[1, 2]
    assert isinstance(s, scp.ndarray) and s.shape == () and isinstance(e, scp.ndarray)
    assert isinstance(np.sum(d), scp.ndarray)                         # NumPy functions dispatch to the device
    assert float(s) == 15.0 and int(e) == 5 and f"{s:.1f}" == "15.0" and s.item() == 15.0
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps({"loss": s})                                       # NumPy's float64 would pass
    with pytest.raises(TypeError):
        ["a", "b", "c"][d[0].argmax()]                                # no __index__, as CuPy
    with pytest.raises(TypeError, match="only (0-dimensional|size-1|length-1) arrays"):
        float(d)                                                      # float(d.get()): NumPy's rule


def test_truth_values_as_cupy(d):
    assert bool(d[1, 1]) and not bool(d[0, 0])
    with pytest.raises(ValueError, match="more than one element is ambiguous"):
        bool(d)
    with pytest.warns(DeprecationWarning, match="empty array"):
        assert not bool(scp.zeros(0))


def test_iteration_len_and_pickling_stay_on_the_device(d):
    rows = list(d)
    assert len(rows) == len(d) == 2 and all(isinstance(r, scp.ndarray) for r in rows)
    with pytest.raises(TypeError, match="iteration over a 0-d array"):
        iter(d.sum())
    for twin in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d)):
        assert isinstance(twin, scp.ndarray)
        np.testing.assert_array_equal(scp.asnumpy(twin), scp.asnumpy(d))


def test_ufunc_methods_are_the_ones_cupy_has():
    t = scp.zeros(4)
    scp.add.at(t, scp.asarray([0, 0, 3]), scp.asarray([1.0, 2.0, 5.0]))      # repeats accumulate
    np.testing.assert_array_equal(scp.asnumpy(t), [3, 0, 0, 5])
    assert scp.add.reduce(scp.ones(3)).item() == 3.0
    for method, call in [("reduce", lambda: scp.maximum.reduce(t)), ("at", lambda: scp.multiply.at(t, [0], 2.0)),
                         ("reduceat", lambda: scp.multiply.reduceat(t, [0, 2]))]:
        with pytest.raises(NotImplementedError, match=f"{method}` is not supported yet"):
            call()


def test_only_names_cupy_has():
    for missing in ("errstate", "ElementwiseKernel", "seterr", "add_docstring"):
        assert not hasattr(scp, missing), missing
    for name in sorted(scp._NUMPY_NAMES & set(dir(np))):            # each listed name resolves
        getattr(scp, name)                                            # (the installed NumPy's names)
    assert isinstance(scp.random.RandomState(0).random_sample((2,)), scp.ndarray)
    assert scp.cuda.runtime.getDeviceCount() == 1
    scp.cuda.Device().synchronize()
    assert scp.get_array_module(np.ones(1), scp.ones(1)) is scp and scp.get_array_module(np.ones(1)) is np


def test_operators_defer_to_a_tensor_as_cupy_arrays_do():
    with backend._cupy_stand_in(scp), md.using("cupy"):
        t = md.tensor([1.0, 2.0])
        y = scp.asarray([3.0, 4.0], dtype=np.float32) * t
        assert isinstance(y, md.Tensor) and y.backend == "cupy"


# ----------------------------------------------------------------------------- the seam
def test_the_seam_makes_the_stand_in_the_cupy_backend_and_gives_it_back():
    before = backend.cupy_unavailable_reason()
    with backend._cupy_stand_in(scp):
        assert backend.available_backends() == ["numpy", "cupy"]
        assert backend.cupy_unavailable_reason() is None
        with md.using("cupy"):
            x = md.tensor([1.0, 2.0])
            assert type(x.data) is scp.ndarray and x.backend == "cupy" and backend.xp_of(x.data) is scp
            assert type(x.numpy()) is np.ndarray
        assert type(md.tensor([1.0]).to("cupy").data) is scp.ndarray
    assert backend.cupy_unavailable_reason() == before
    assert md.get_backend() == "numpy"


def test_the_fused_rnn_runs_its_numpy_twins_on_the_stand_in(cp):
    from minidl.fast import cupy_kernels, fused_rnn
    if not on_stand_in():
        pytest.skip("real CuPy: the kernels run (tests/test_fused_rnn.py checks them)")
    assert cupy_kernels.kernel("lstm_forward") is None
    assert fused_rnn._kernel("lstm_forward", cp.zeros((2, 8))) is None
    with md.using("cupy"):
        layer = nn.LSTM(4, fused=True)
        y = layer(md.tensor(np.random.default_rng(0).normal(size=(2, 3, 5))))
        y.sum().backward()
        assert type(layer.cell.W.grad) is cp.ndarray
