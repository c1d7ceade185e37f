"""Parity with PyTorch (skipped when torch is not installed): conv2d, max/avg pooling and batch norm
agree with torch.nn.functional in value and in every gradient, float64, on the same arrays.

Because minidl uses PyTorch's layouts (NCHW, weights (out, in, kh, kw)), the
arrays are passed over unchanged: a mismatch here is a real disagreement.
"""
import numpy as np
import pytest

import minidl as md
from minidl import backend, nn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _rand(shape, seed):
    return np.random.default_rng(seed).normal(size=shape)


def _pair(x, rg=True):
    """The same float64 values as a minidl tensor and a torch tensor."""
    return (md.tensor(x, requires_grad=rg, dtype="float64"),
            torch.tensor(x, dtype=torch.float64, requires_grad=rg))


def _host(a):
    """A NumPy array from a minidl Tensor, a torch tensor or a NumPy/CuPy array."""
    if isinstance(a, md.Tensor):
        return a.numpy()
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return backend.asnumpy(a)


def _assert_same(ours, theirs, rtol=1e-9, atol=1e-11):
    np.testing.assert_allclose(_host(ours), _host(theirs), rtol=rtol, atol=atol)


def _backward_both(y_md, y_t, seed):
    g = _rand(tuple(y_t.shape), seed)
    y_md.backward(md.tensor(g, dtype="float64"))
    y_t.backward(torch.tensor(g))


@pytest.mark.parametrize("k,s,p", [((3, 3), 2, 1), ((3, 2), 1, 0), ((2, 3), (2, 1), (1, 2)), ((5, 5), 3, 2)])
def test_conv2d_matches_torch(backend_name, k, s, p):
    (x, xt), (w, wt), (b, bt) = _pair(_rand((3, 4, 9, 8), 0)), _pair(_rand((5, 4) + k, 1)), _pair(_rand(5, 2))
    y, yt = md.ops.conv2d(x, w, b, stride=s, padding=p), F.conv2d(xt, wt, bt, stride=s, padding=p)
    _assert_same(y, yt)
    _backward_both(y, yt, 3)
    for ours, theirs in ((x, xt), (w, wt), (b, bt)):
        _assert_same(ours.grad, theirs.grad)


def test_conv2d_layer_loads_torch_weights(backend_name):
    conv = torch.nn.Conv2d(3, 6, 3, stride=2, padding=1).double()
    layer = nn.Conv2d(6, 3, stride=2, padding=1)
    x = _rand((2, 3, 10, 10), 4)
    with md.default_dtype("float64"):
        layer(md.tensor(x))
        layer.W.data = backend.to_backend(conv.weight.detach().numpy(), backend_name)
        layer.b.data = backend.to_backend(conv.bias.detach().numpy(), backend_name)
        _assert_same(layer(md.tensor(x)), conv(torch.tensor(x)))


@pytest.mark.parametrize("k,s", [(2, None), (3, 2), ((2, 3), (1, 2))])
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_matches_torch_even_on_ties(backend_name, k, s, ties):
    data = _rand((2, 3, 7, 8), 5)
    if ties:
        data = np.maximum(np.round(data), 0)            # ReLU-like: zeros and small integers, many ties
    (x, xt) = _pair(data)
    y, yt = md.ops.max_pool2d(x, k, s), F.max_pool2d(xt, k, s)
    _assert_same(y, yt)
    _backward_both(y, yt, 6)
    _assert_same(x.grad, xt.grad)


@pytest.mark.parametrize("k,s", [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_avg_pool2d_matches_torch(backend_name, k, s):
    (x, xt) = _pair(_rand((2, 3, 7, 8), 7))
    y, yt = md.ops.avg_pool2d(x, k, s), F.avg_pool2d(xt, k, s)
    _assert_same(y, yt)
    _backward_both(y, yt, 8)
    _assert_same(x.grad, xt.grad)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 6)])
def test_batch_norm_matches_torch_in_training_and_eval(backend_name, shape):
    with md.default_dtype("float64"):
        layer = nn.BatchNorm(momentum=0.1, eps=1e-5)
        layer(md.tensor(_rand(shape, 0)))              # build
        layer.running_mean[...] = 0
        layer.running_var[...] = 1
        layer.gamma.data = layer.gamma.data * 0 + backend.to_backend(_rand(3, 1), backend_name)
        layer.beta.data = layer.beta.data * 0 + backend.to_backend(_rand(3, 2), backend_name)
    gt = torch.tensor(backend.asnumpy(layer.gamma.data), requires_grad=True)
    bt = torch.tensor(backend.asnumpy(layer.beta.data), requires_grad=True)
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    (x, xt) = _pair(_rand(shape, 3) * 2 + 1)
    y = layer(x)
    yt = F.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=0.1, eps=1e-5)
    _assert_same(y, yt)
    _backward_both(y, yt, 4)
    _assert_same(x.grad, xt.grad, rtol=1e-8, atol=1e-10)
    _assert_same(layer.gamma.grad, gt.grad)
    _assert_same(layer.beta.grad, bt.grad)
    _assert_same(layer.running_mean, rm)
    _assert_same(layer.running_var, rv)

    layer.eval()
    x2 = _rand(shape, 9)
    with md.no_grad():
        y2 = layer(md.tensor(x2, dtype="float64"))
    yt2 = F.batch_norm(torch.tensor(x2), rm, rv, gt, bt, training=False, eps=1e-5)
    _assert_same(y2, yt2)
