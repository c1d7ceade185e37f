"""Backend selection, RNG, scatter-add, and NumPy/CuPy agreement."""
import numpy as np
import pytest

import minidl as md
from minidl import backend


def test_numpy_is_always_available_and_default():
    assert "numpy" in md.available_backends()
    assert md.get_backend() == "numpy"


def test_asking_for_cupy_without_it_says_why():
    reason = backend.cupy_unavailable_reason()
    if reason is None:
        pytest.skip("CuPy works here")
    with pytest.raises(RuntimeError, match="cannot use the 'cupy' backend: .*(not installed|driver|GPU)"):
        md.use("cupy")
    assert md.get_backend() == "numpy"


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend"):
        md.use("jax")


def test_seed_is_deterministic(backend_name):
    from minidl import nn
    md.seed(5)
    a = nn.Dense(4, n_in=3).W.numpy()
    md.seed(5)
    b = nn.Dense(4, n_in=3).W.numpy()
    md.seed(6)
    c = nn.Dense(4, n_in=3).W.numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_scatter_add_accumulates_repeats(xp):
    target = xp.zeros(4)
    backend.scatter_add(target, xp.asarray([0, 0, 3]), xp.asarray([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(backend.asnumpy(target), [3, 0, 0, 5])


def test_scatter_add_rows_equals_add_at(xp):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, size=50)
    rows = rng.normal(size=(50, 3))
    want = np.zeros((10, 3))
    np.add.at(want, ids, rows)
    got = backend.scatter_add_rows(10, xp.asarray(ids), xp.asarray(rows))
    np.testing.assert_allclose(backend.asnumpy(got), want, rtol=1e-12)


def test_default_dtype_context():
    with md.default_dtype("float64"):
        assert md.tensor([1.0]).dtype == np.float64
    assert md.tensor([1.0]).dtype == np.float32
    with pytest.raises(ValueError):
        md.set_default_dtype("int32")


def test_numpy_and_cupy_agree_on_forward_and_backward(cp):
    from minidl import nn
    results = []
    for name in ("numpy", "cupy"):
        with md.using(name):
            md.seed(0)
            layer = nn.Dense(5, n_in=4)
            x = md.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
            loss = md.losses.cross_entropy(md.functional.tanh(layer(x)), np.array([0, 3, 4]))
            loss.backward()
            results.append((loss.item(), layer.W.grad if name == "numpy" else backend.asnumpy(layer.W.grad)))
    assert abs(results[0][0] - results[1][0]) < 1e-5
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-6)


def test_tensor_to_moves_between_backends(cp):
    x = md.tensor([1.0, 2.0]).to("cupy")
    assert x.backend == "cupy"
    assert x.to("numpy").backend == "numpy"
