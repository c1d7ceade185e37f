"""Inputs that used to give silently wrong numbers now give right ones or a clear error.

Each test here failed before its fix (issue: reliability).
"""
import threading

import numpy as np
import pytest

import minidl as md
from minidl import nn, optim


def test_out_of_range_axis_is_an_error_not_a_wraparound():
    x = md.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="axis 5 is out of bounds for a tensor with 2 dimension"):
        x.sum(axis=5)
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        nn.Mean(axis=3)(md.tensor(np.ones((2, 5, 3))))
    assert x.sum(axis=-1).shape == (2,)                     # negatives inside the range still work


def test_mse_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match=r"mse: prediction of shape \(4, 1\) and target of shape \(4,\)"):
        md.losses.mse(md.tensor(np.ones((4, 1))), md.tensor(np.zeros(4)))


def test_python_scalars_promote_as_in_numpy():
    ints = md.tensor([1, 2])
    np.testing.assert_allclose((ints * 0.5).numpy(), [0.5, 1.0])
    np.testing.assert_allclose((ints + 0.7).numpy(), [1.7, 2.7])
    assert (ints + 2).dtype == np.int64
    flags = md.tensor([True, False])
    assert (flags * 0.5).dtype.kind == "f" and (flags * 0.5).numpy().tolist() == [0.5, 0.0]
    assert (md.tensor([1.0]) * 3).dtype == np.float32                  # floats keep their dtype


def test_a_stray_float64_array_does_not_upcast_a_float32_tensor():
    y = md.tensor([1.0, 2.0]) * np.array([0.5, 0.25])                  # float64 NumPy array
    assert y.dtype == np.float32


def test_editing_a_parameter_between_forward_and_backward_is_refused():
    layer = nn.Dense(2)
    loss = (layer(md.tensor(np.ones((1, 3)))) ** 2).sum()
    layer.W.data *= 10
    with pytest.raises(RuntimeError, match=r"input 1 \(Dense.W\) was modified in place after the forward"):
        loss.backward()


def test_an_optimizer_step_after_backward_is_fine():
    layer = nn.Dense(2)
    opt = optim.SGD(layer, lr=0.1)
    for _ in range(2):
        loss = (layer(md.tensor(np.ones((1, 3)))) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_default_dtype_and_backend_are_per_thread():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def other():
        with md.default_dtype("float64"):
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    try:
        seen["dtype"] = md.tensor([1.0]).dtype
    finally:
        release.set()
        t.join()
    assert seen["dtype"] == np.float32


@pytest.mark.parametrize("name", ["gpu", "torch", "NumPy"])
def test_unknown_backend_names_are_refused_listing_the_valid_ones(name):
    with pytest.raises(ValueError, match=f"unknown backend '{name}'; the backends are 'numpy', 'cupy'"):
        md.tensor([1.0]).to(name)
    with pytest.raises(ValueError, match="unknown backend"):
        md.use(name)
