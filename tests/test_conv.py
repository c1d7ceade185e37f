"""Convolution and pooling ops: values against a loop-over-pixels reference, float64 gradient
checks (inputs, weights, bias) on every backend, the readable twin, ties, and clear errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minidl as md
from minidl import backend
from minidl.ops.conv import col2im, conv2d_simple, conv_output_size, im2col, windows

HYP = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def reference_conv2d(x, w, b, stride, padding):
    """The definition, one output pixel at a time (NumPy, float64)."""
    (sh, sw), (ph, pw) = stride, padding
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    y = np.zeros((N, O, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]          # (N, C, kh, kw)
            y[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w) + (0 if b is None else b)
    return y


def reference_pool(x, k, s, reduce):
    N, C, H, W = x.shape
    Ho, Wo = (H - k[0]) // s[0] + 1, (W - k[1]) // s[1] + 1
    y = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            y[:, :, i, j] = reduce(x[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]], axis=(2, 3))
    return y


def _rand(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# (kernel, stride, padding): square and not, stride 1 and 2, padding 0, 1 and uneven
GEOMETRIES = [((3, 3), (1, 1), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((3, 2), (2, 2), (1, 1)),
              ((2, 3), (2, 1), (1, 2)), ((1, 1), (1, 1), (0, 0)), ((5, 5), (3, 3), (2, 2))]


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("k,s,p", GEOMETRIES)
def test_conv2d_matches_the_loop_definition(backend_name, k, s, p):
    x, w, b = _rand((2, 3, 7, 8), 1), _rand((4, 3) + k, 2), _rand(4, 3)
    with md.default_dtype("float64"):
        y = md.ops.conv2d(md.tensor(x), md.tensor(w), md.tensor(b), stride=s, padding=p)
    want = reference_conv2d(x, w, b, s, p)
    assert y.shape == want.shape == (2, 4, conv_output_size(7, k[0], s[0], p[0]),
                                     conv_output_size(8, k[1], s[1], p[1]))
    np.testing.assert_allclose(y.numpy(), want, atol=1e-12)


def test_output_size_formula():
    assert conv_output_size(28, 3, 2, 1) == 14          # (28 + 2 - 3) // 2 + 1
    assert conv_output_size(14, 3, 2, 1) == 7
    assert conv_output_size(7, 3, 2, 1) == 4            # odd sizes round down: (7 + 2 - 3) // 2 + 1
    assert conv_output_size(28, 5) == 24


def test_im2col_columns_are_the_patches():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float64).reshape(2, 1, 4, 4)
    cols = im2col(x, 2, 2, stride=2)                    # (C*kh*kw, Ho*Wo*N) = (4, 2*2*2)
    assert cols.shape == (4, 8)
    # column (i, j, n) with the batch fastest: output pixel (0, 1) of image 1 is column 3
    np.testing.assert_array_equal(cols[:, 3], x[1, 0, 0:2, 2:4].ravel())
    np.testing.assert_array_equal(cols[:, 0], x[0, 0, 0:2, 0:2].ravel())


def test_col2im_is_the_adjoint_of_windows():
    """<windows(x), g> == <x, col2im(g)> for every x, g: the definition of the gradient of a gather."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 6))
    win = windows(x, 3, 2, 2, 1)                        # (N, C, Ho, Wo, kh, kw), overlapping rows
    g = rng.normal(size=win.shape)
    back = col2im(g.transpose(4, 5, 0, 1, 2, 3), x.shape, 2, 1)
    np.testing.assert_allclose((win * g).sum(), (x * back).sum(), rtol=1e-12)


def test_col2im_accumulates_overlapping_windows():
    """Stride 1, 3x3: the centre pixel of a 5x5 image is read by all 9 windows."""
    ones = np.ones((3, 3, 1, 1, 3, 3))                  # (kh, kw, N, C, Ho, Wo)
    counts = col2im(ones, (1, 1, 5, 5), 1, 1)[0, 0]
    assert counts[2, 2] == 9 and counts[0, 0] == 1 and counts[0, 2] == 3


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("k,s,p", GEOMETRIES[:4])
def test_conv2d_gradients_inputs_weights_bias(backend_name, k, s, p):
    x, w, b = _rand((2, 3, 6, 7), 4), _rand((4, 3) + k, 5), _rand(4, 6)
    report = md.gradcheck(lambda x, w, b: md.ops.conv2d(x, w, b, stride=s, padding=p), x, w, b)
    assert report, str(report)
    assert len(report.entries) == 3


@HYP
@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(3, 7),
       w=st.integers(3, 7), kh=st.integers(1, 3), kw=st.integers(1, 3), s=st.integers(1, 2),
       p=st.integers(0, 1), seed=st.integers(0, 100))
def test_conv2d_gradients_random_shapes_without_bias(backend_name, n, c, o, h, w, kh, kw, s, p, seed):
    x, wt = _rand((n, c, h, w), seed), _rand((o, c, kh, kw), seed + 1)
    report = md.gradcheck(lambda x, wt: md.ops.conv2d(x, wt, stride=s, padding=p), x, wt)
    assert report, str(report)


def test_conv2d_skips_the_input_gradient_nobody_needs(backend_name):
    x = md.tensor(_rand((2, 1, 5, 5)))                  # data: requires_grad=False
    w = md.tensor(_rand((3, 1, 3, 3)), requires_grad=True)
    md.ops.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 1, 3, 3)


@pytest.mark.parametrize("k,s,p", GEOMETRIES[:4])
def test_readable_twin_equals_im2col_in_value_and_gradient(backend_name, k, s, p):
    with md.default_dtype("float64"):
        x = md.tensor(_rand((2, 3, 6, 7), 7), requires_grad=True)
        w = md.tensor(_rand((4, 3) + k, 8), requires_grad=True)
        b = md.tensor(_rand(4, 9), requires_grad=True)
    R = md.tensor(_rand((2, 4, conv_output_size(6, k[0], s[0], p[0]), conv_output_size(7, k[1], s[1], p[1])), 10),
                  dtype="float64")
    grads = []
    for conv in (md.ops.conv2d, conv2d_simple):
        for t in (x, w, b):
            t.grad = None
        y = conv(x, w, b, stride=s, padding=p)
        (y * R).sum().backward()
        grads.append((y.numpy(), *(backend.asnumpy(t.grad) for t in (x, w, b))))
    for fast, simple in zip(*grads):
        np.testing.assert_allclose(fast, simple, rtol=1e-10, atol=1e-12)
    gradcheck = md.gradcheck(lambda x, w: conv2d_simple(x, w, stride=s, padding=p), x, w)
    assert gradcheck, str(gradcheck)


# ----------------------------------------------------------------------------- pooling
@pytest.mark.parametrize("k,s", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 3), (1, 2)), ((3, 3), (1, 1))])
def test_pooling_values_and_gradients(backend_name, k, s):
    x = _rand((2, 3, 7, 8), 11)                         # continuous values: no ties
    with md.default_dtype("float64"):
        ymax = md.ops.max_pool2d(md.tensor(x), k, s).numpy()
        yavg = md.ops.avg_pool2d(md.tensor(x), k, s).numpy()
    np.testing.assert_allclose(ymax, reference_pool(x, k, s, np.max), atol=1e-12)
    np.testing.assert_allclose(yavg, reference_pool(x, k, s, np.mean), atol=1e-12)
    for op in (md.ops.max_pool2d, md.ops.avg_pool2d):
        report = md.gradcheck(lambda x: op(x, k, s), x)
        assert report, str(report)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum(backend_name):
    x = np.zeros((1, 1, 4, 4))                          # every window is a 4-way tie (a ReLU's zeros)
    x[0, 0, 2, 3] = x[0, 0, 3, 2] = 5.0                 # and one window with a 2-way tie at the top
    with md.default_dtype("float64"):
        t = md.tensor(x, requires_grad=True)
        y = md.ops.max_pool2d(t, 2)
        y.backward(md.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype="float64"))
    g = backend.asnumpy(t.grad)[0, 0]
    want = np.zeros((4, 4))
    want[0, 0], want[0, 2], want[2, 0] = 1.0, 2.0, 3.0  # all-zero windows: their top-left element
    want[2, 3] = 4.0                                    # (2, 3) comes before (3, 2) in row-major order
    np.testing.assert_array_equal(g, want)


def test_max_pool_gradcheck_on_tied_input_steps_off_the_kinks(backend_name):
    x = np.round(_rand((2, 2, 4, 4), 12))               # small integers: many ties
    report = md.gradcheck(lambda x: md.ops.max_pool2d(x, 2), x)
    assert report, str(report)


def test_avg_pool_overlapping_windows_share_gradients(backend_name):
    t = md.tensor(np.ones((1, 1, 3, 3)), requires_grad=True, dtype="float64")
    md.ops.avg_pool2d(t, 2, stride=1).sum().backward()  # 4 windows of 4 pixels, each pixel / 4
    np.testing.assert_allclose(backend.asnumpy(t.grad)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / np.float64(4))


# ----------------------------------------------------------------------------- errors
def test_bad_shapes_are_clear_errors(backend_name):
    x, w = md.tensor(_rand((2, 3, 5, 5))), md.tensor(_rand((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: expects a 4-D input .* got shape \(3, 5, 5\).*reshape"):
        md.ops.conv2d(md.tensor(_rand((3, 5, 5))), w)
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(2, 2, 5, 5\) has 2 channels but the "
                                         r"weights of shape \(4, 3, 3, 3\) expect 3"):
        md.ops.conv2d(md.tensor(_rand((2, 2, 5, 5))), w)
    with pytest.raises(ValueError, match=r"conv2d: kernel 8x8 is larger than the padded input 7x7 "
                                         r"\(input shape \(2, 3, 5, 5\), padding \(1, 1\)\)"):
        md.ops.conv2d(x, md.tensor(_rand((4, 3, 8, 8))), padding=1)
    with pytest.raises(ValueError, match=r"max_pool2d: pooling window 6x6 is larger than the padded input 5x5"):
        md.ops.max_pool2d(x, 6)
    with pytest.raises(ValueError, match=r"avg_pool2d: expects a 4-D input"):
        md.ops.avg_pool2d(md.tensor(_rand((2, 5, 5))), 2)
