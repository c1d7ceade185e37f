"""2-D convolution by im2col: ``conv2d(x, w, b=None, stride=1, padding=0)``, forward beside backward.

Layout is PyTorch's (NCHW), so weights can be compared with and copied from it:

    x: (N, C, H, W)     w: (O, C, kh, kw)     b: (O,)     y: (N, O, Ho, Wo)

    y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * xp[n, c, i*s + u, j*s + v]

where ``xp`` is x with a border of ``p`` zeros and ``s`` the stride.  (This is a
cross-correlation -- the kernel is not flipped -- which is what every framework
calls a convolution.)  The output size, per spatial axis:

    Ho = (H + 2p - kh) // s + 1          Wo = (W + 2p - kw) // s + 1

e.g. H = 28, k = 3, p = 1, s = 2  ->  (28 + 2 - 3) // 2 + 1 = 14.

im2col ("image to columns"): the whole convolution as ONE matrix product.
Each output pixel reads a (C, kh, kw) patch of the input; lay every patch out
as a column and the kernels as rows, and the sliding dot products become a
GEMM, which BLAS (or cuBLAS) does far faster than any loop over pixels.  The
intermediates:

    xt       (C, H + 2p, W + 2p, N)    x zero-padded, batch axis LAST (see "Layout" below)
    windows  (C, Ho, Wo, N, kh, kw)    a strided VIEW of xt, no copy:
                                       windows[c, i, j, n, u, v] = xt[c, i*s + u, j*s + v, n]
    cols     (C*kh*kw, Ho*Wo*N)        one column per output pixel: its patch, flattened
                                       (the one real copy; each input pixel appears
                                       in up to kh*kw columns)
    w_mat    (O, C*kh*kw)              w flattened the same way, a view
    y_mat    (O, Ho*Wo*N)  = w_mat @ cols + b[:, None]
    y        (N, O, Ho, Wo)            y_mat viewed as (O, Ho, Wo, N), axes reordered

Backward, given gy (N, O, Ho, Wo) -- the three gradients of a Dense layer
y_mat = w_mat @ cols, then col2im to get from the patches back to pixels:

    gy_mat   (O, Ho*Wo*N)              gy with the batch axis last again
    gw       (O, C, kh, kw)  = (gy_mat @ cols.T) reshaped
    gb       (O,)            = gy summed over N, Ho, Wo
    gcols    (C*kh*kw, Ho*Wo*N) = w_mat.T @ gy_mat, viewed as (C, kh, kw, Ho, Wo, N)
    gx       (N, C, H, W)    = col2im(gcols) without the padding border

col2im is the adjoint of taking windows: every patch element sends its
gradient back to the pixel it was read from, and a pixel read by several
overlapping windows collects all of them.  We loop over the kh*kw kernel
offsets (u, v), not over pixels: for one offset the pixels read form a regular
strided grid ``xt[:, u : u + s*Ho : s, v : v + s*Wo : s]`` in which no pixel
appears twice, so a plain vectorised ``+=`` is exact; collisions happen only
*between* offsets, which are separate statements.  That is kh*kw slice-adds
instead of an unbuffered scatter (``np.add.at``) over all C*kh*kw*Ho*Wo*N
elements, which is many times slower.

Layout: why the batch axis goes last inside.  The arithmetic does not care, but
NumPy's copies and adds run their innermost loop along the last axis, and a
loop of 3 (kw) or 7 (Wo) elements is mostly loop overhead; with the batch
there every inner loop is N (64) long.  Measured on the benchmark CNN: im2col
4x and col2im 3x faster than with NCHW patches.  ``y`` is returned as an
(N, O, Ho, Wo) view of that (O, Ho, Wo, N) memory, so the next convolution's
"batch last" transpose costs nothing (NumPy and CuPy accept any strides).

``conv2d_simple`` computes the same thing from already-checked ops (slicing,
matmul, add), one kernel offset at a time: the readable twin that
tests/test_conv.py holds the im2col version equal to.
"""
from __future__ import annotations

from .. import backend, validate
from ..autograd import Function, Tensor, as_tensor
from . import arithmetic, shape


# ----------------------------------------------------------------------------- sizes and checks
def pair(v, what: str = "value", who: str = "") -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5) -> (3, 5)``: one number per spatial axis (height, width).

    Each must be a whole number >= 1 (>= 0 for ``padding``): the one size rule of ``minidl/validate.py``."""
    who = who or what
    minimum = 0 if what == "padding" else 1
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{who}: {what} must be an int or a pair (height, width), got {v!r}")
        return tuple(validate.positive_int(n, what, who, minimum) for n in v)
    n = validate.positive_int(v, what, who, minimum)
    return n, n


def conv_output_size(size: int, k: int, stride: int = 1, padding: int = 0) -> int:
    """The number of positions of a window of ``k`` on ``size`` pixels: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - k) // stride + 1


def check_input_4d(x_shape, who: str, what: str = "input"):
    """A clear error for anything that is not a (batch, channels, height, width) batch."""
    if len(x_shape) != 4:
        hint = ("; a batch of grey images (N, H, W) needs a channel axis: x.reshape(N, 1, H, W)"
                if len(x_shape) == 3 else "")
        raise ValueError(f"{who}: expects a 4-D {what} (batch, channels, height, width), "
                         f"got shape {tuple(x_shape)}{hint}")


def check_window(x_shape, k, stride, padding, who: str, what: str = "kernel"):
    """The window must fit in the padded input and strides/padding must make sense."""
    (kh, kw), (sh, sw), (ph, pw) = k, stride, padding
    if min(kh, kw) < 1 or min(sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{who}: {what} {kh}x{kw}, stride {(sh, sw)} and padding {(ph, pw)} must "
                         f"be positive (padding may be 0)")
    H, W = x_shape[2] + 2 * ph, x_shape[3] + 2 * pw
    if kh > H or kw > W:
        raise ValueError(f"{who}: {what} {kh}x{kw} is larger than the padded input {H}x{W} "
                         f"(input shape {tuple(x_shape)}, padding {(ph, pw)})")


def check_conv2d(x_shape, w_shape, stride, padding, who: str = "conv2d"):
    """Every shape error of a convolution, named and explained, before any arithmetic."""
    check_input_4d(x_shape, who)
    if len(w_shape) != 4:
        raise ValueError(f"{who}: weights must be 4-D (out_channels, in_channels, kh, kw), "
                         f"got shape {tuple(w_shape)}")
    if x_shape[1] != w_shape[1]:
        raise ValueError(f"{who}: input of shape {tuple(x_shape)} has {x_shape[1]} channels but the "
                         f"weights of shape {tuple(w_shape)} expect {w_shape[1]} "
                         f"(axis 1 is the channel axis: NCHW)")
    check_window(x_shape, w_shape[2:], pair(stride, "stride"), pair(padding, "padding"), who)


# ----------------------------------------------------------------------------- im2col building blocks
def windows(a, kh: int, kw: int, sh: int, sw: int, axes=(2, 3)):
    """A strided view of every (kh, kw) window of ``a`` at stride (sh, sw) over ``axes``.

    ``a`` (..., Hp, Wp, ...) -> (..., Ho, Wo, ..., kh, kw): the spatial axes shrink
    to the number of window positions and two window axes are appended.
    ``sliding_window_view`` gives every window at stride 1 without copying (it
    adds two axes with the same byte strides as height and width); taking
    every s-th of them is again a view.  NumPy and CuPy both have it.
    """
    xp = backend.xp_of(a)
    win = xp.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=axes)
    step = [slice(None)] * a.ndim
    step[axes[0]], step[axes[1]] = slice(None, None, sh), slice(None, None, sw)
    return win[tuple(step)]


def col2im(gwin, padded_shape, sh: int, sw: int, axes=(2, 3)):
    """Adjoint of ``windows``: add the gradients of all windows back into pixels.

    gwin: (kh, kw) + the window-grid shape, i.e. gwin[u, v] is the gradient of the
    pixels at offset (u, v) of every window, with Ho, Wo on ``axes``.
    Returns an array of ``padded_shape``.  One vectorised slice-add per kernel
    offset; see the module docstring for why that is exact without ``np.add.at``.
    """
    kh, kw = gwin.shape[:2]
    Ho, Wo = gwin.shape[2 + axes[0]], gwin.shape[2 + axes[1]]
    g = backend.xp_of(gwin).zeros(padded_shape, dtype=gwin.dtype)
    where = [slice(None)] * len(padded_shape)
    for u in range(kh):
        for v in range(kw):
            where[axes[0]] = slice(u, u + sh * (Ho - 1) + 1, sh)
            where[axes[1]] = slice(v, v + sw * (Wo - 1) + 1, sw)
            g[tuple(where)] += gwin[u, v]
    return g


def batch_last_padded(x, ph: int, pw: int):
    """x (N, C, H, W) as (C, H + 2ph, W + 2pw, N): padded with zeros, batch axis last.

    One copy does both (none at all without padding: then it is a transposed view).
    """
    xt = x.transpose(1, 2, 3, 0)
    if ph == 0 and pw == 0:
        return xt
    C, H, W, N = xt.shape
    out = backend.xp_of(x).zeros((C, H + 2 * ph, W + 2 * pw, N), dtype=x.dtype)
    out[:, ph:ph + H, pw:pw + W] = xt
    return out


def im2col(x, kh: int, kw: int, stride=1, padding=0):
    """The patches matrix (C*kh*kw, Ho*Wo*N) of an array x (N, C, H, W): column = patch.

    Columns run over output pixels row by row, the batch index fastest.
    """
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(padding, "padding")
    win = windows(batch_last_padded(x, ph, pw), kh, kw, sh, sw, axes=(1, 2))   # (C, Ho, Wo, N, kh, kw)
    C, Ho, Wo, N = win.shape[:4]
    return win.transpose(0, 4, 5, 1, 2, 3).reshape(C * kh * kw, Ho * Wo * N)


# ----------------------------------------------------------------------------- the Function
class Conv2d(Function):
    """y = conv2d(x, w) (+ b) by im2col + one matmul; backward by two matmuls + col2im."""

    def __init__(self, stride=1, padding=0):
        self.stride, self.padding = pair(stride, "stride"), pair(padding, "padding")

    def forward(self, x, w, b=None):
        check_conv2d(x.shape, w.shape, self.stride, self.padding)
        (sh, sw), (ph, pw) = self.stride, self.padding
        O, C, kh, kw = w.shape
        N, _, H, W = x.shape
        cols = im2col(x, kh, kw, self.stride, self.padding)           # (C*kh*kw, Ho*Wo*N)
        Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
        w_mat = w.reshape(O, C * kh * kw)
        y_mat = w_mat @ cols                                          # (O, Ho*Wo*N): the one GEMM
        if b is not None:
            y_mat += b[:, None]
        # Keep what backward needs, and only that: cols for gw, w_mat for gx.
        need_x, need_w = self.needs_input_grad[:2]
        self.cols = cols if need_w else None
        self.w_mat = w_mat if need_x else None
        self.geometry = (x.shape, (C, H + 2 * ph, W + 2 * pw, N), (Ho, Wo), w.shape)
        return y_mat.reshape(O, Ho, Wo, N).transpose(3, 0, 1, 2)      # (N, O, Ho, Wo), a view

    def backward(self, gy):
        (N, C, H, W), padded_shape, (Ho, Wo), w_shape = self.geometry
        (O, _, kh, kw), (ph, pw) = w_shape, self.padding
        need = self.needs_input_grad
        gy_mat = gy.transpose(1, 2, 3, 0).reshape(O, Ho * Wo * N)     # free when gy came from a conv
        gx = gw = gb = None
        if need[0]:
            gcols = (self.w_mat.T @ gy_mat).reshape(C, kh, kw, Ho, Wo, N)
            g = col2im(gcols.transpose(1, 2, 0, 3, 4, 5), padded_shape, *self.stride, axes=(1, 2))
            gx = g[:, ph:ph + H, pw:pw + W].transpose(3, 0, 1, 2)     # unpad, back to (N, C, H, W)
        if need[1]:
            gw = (gy_mat @ self.cols.T).reshape(w_shape)
        if len(need) > 2 and need[2]:
            gb = gy_mat.sum(axis=1)
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D convolution of x (N, C, H, W) with w (O, C, kh, kw) and optional bias b (O,).

    stride, padding: an int or a (height, width) pair.  Returns (N, O, Ho, Wo)
    with Ho = (H + 2p - kh) // s + 1 (see the module docstring for every shape).
    """
    fn = Conv2d(stride, padding)
    return fn(x, w) if b is None else fn(x, w, b)


# ----------------------------------------------------------------------------- the readable twin
def conv2d_simple(x, w, b=None, stride=1, padding=0):
    """The same convolution composed of checked ops, one kernel offset (u, v) at a time:

        y = sum_{u, v}  xp[:, :, u::s, v::s] (as (N, Ho, Wo, C))  @  w[:, :, u, v].T  (C, O)

    No im2col, no hand-written backward: autograd differentiates the slices and
    matmuls.  Slower (kh*kw small products and a graph node for each), but every
    step is visible.  Padding is concatenated zeros.
    """
    if not isinstance(x, Tensor):
        x = as_tensor(x, w if isinstance(w, Tensor) else None)
    w = as_tensor(w, x)
    check_conv2d(x.shape, w.shape, stride, padding, "conv2d_simple")
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(padding, "padding")
    O, C, kh, kw = w.shape
    N, _, H, W = x.shape
    xp = backend.xp_of(x.data)
    if ph:
        rows = Tensor(xp.zeros((N, C, ph, W), dtype=x.dtype))
        x = shape.concat([rows, x, rows], axis=2)
    if pw:
        cols = Tensor(xp.zeros((N, C, H + 2 * ph, pw), dtype=x.dtype))
        x = shape.concat([cols, x, cols], axis=3)
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    y = None
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u:u + sh * (Ho - 1) + 1:sh, v:v + sw * (Wo - 1) + 1:sw]   # (N, C, Ho, Wo)
            term = arithmetic.matmul(patch.transpose(0, 2, 3, 1), w[:, :, u, v].T)      # (N, Ho, Wo, O)
            y = term if y is None else y + term
    if b is not None:
        y = y + as_tensor(b, y)
    return y.transpose(0, 3, 1, 2)
