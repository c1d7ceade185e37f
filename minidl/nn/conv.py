"""Convolution and pooling layers (NCHW): Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d.

Conv2d(filters, kernel_size, stride=1, padding=0)
    x: (N, C, H, W)  ->  y: (N, filters, Ho, Wo),   Ho = (H + 2p - kh) // s + 1
    W: (filters, C, kh, kw)   b: (filters,)        (PyTorch's layout)
    C, the number of input channels, is inferred from the first input (like
    Dense's n_in).  W is Glorot-uniform with fan_in = C kh kw and fan_out =
    filters kh kw (Keras's Conv2D default), b starts at zero.
    The arithmetic is ``md.ops.conv2d`` (im2col + one matmul).

MaxPool2d(k, stride=None) / AvgPool2d(k, stride=None)
    x: (N, C, H, W)  ->  y: (N, C, Ho, Wo),   Ho = (H - k) // s + 1,   stride defaults to k.
    No parameters.  Max pooling passes the gradient to the first maximum of each window.

GlobalAvgPool2d()
    x: (N, C, H, W)  ->  y: (N, C): the mean of each channel over the whole grid.
    Turns a feature map of any size into one number per channel, so a Dense
    layer after it does not care about the input's height and width.

Flatten lives in ``core.py``:  (N, C, H, W) -> (N, C*H*W), the usual bridge to Dense.

Bad input is an error that names the layer and the shapes: a 3-D or 5-D
input, a channel count different from the one the layer was built for, a
kernel or window larger than the (padded) input.
"""
from __future__ import annotations

from .. import ops, validate
from ..ops.conv import check_conv2d, check_input_4d, check_window, pair
from . import init
from .layer import Layer, parameter


class Conv2d(Layer):
    def __init__(self, filters: int, kernel_size, stride=1, padding=0, use_bias: bool = True,
                 in_channels: int | None = None):
        super().__init__()
        self.filters, self.use_bias = validate.positive_int(filters, "filters", "Conv2d"), use_bias
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride, self.padding = pair(stride, "stride", "Conv2d"), pair(padding, "padding", "Conv2d")
        if in_channels is not None:
            in_channels = validate.positive_int(in_channels, "in_channels", "Conv2d")
        self.in_channels, self.built = in_channels, False
        if in_channels is not None:
            self.build(in_channels)

    @property
    def name(self):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return f"Conv2d_{self.filters}_{kh}x{kw}" + (f"_s{sh}" if sh == sw else f"_s{sh}x{sw}") * (
            (sh, sw) != (1, 1))

    def build(self, in_channels: int):
        self.in_channels = int(in_channels)
        kh, kw = self.kernel_size
        shape = (self.filters, self.in_channels, kh, kw)
        self.W = parameter(init.glorot_uniform(self.in_channels * kh * kw, self.filters * kh * kw, shape))
        if self.use_bias:
            self.b = parameter(init.zeros(self.filters))
        self.built = True

    def forward(self, x):
        check_input_4d(x.shape, self.name)
        if not self.built:
            self.build(x.shape[1])
        check_conv2d(x.shape, self.W.shape, self.stride, self.padding, self.name)
        return ops.conv2d(x, self.W, self.b if self.use_bias else None, self.stride, self.padding)


class _Pool(Layer):
    op = None

    def __init__(self, k, stride=None):
        super().__init__()
        self.k = pair(k, "kernel_size", type(self).__name__)
        self.stride = self.k if stride is None else pair(stride, "stride", type(self).__name__)

    @property
    def name(self):
        (kh, kw), (sh, sw) = self.k, self.stride
        return f"{type(self).__name__}_{kh}x{kw}" + (f"_s{sh}" if (sh, sw) != (kh, kw) else "")

    def forward(self, x):
        check_input_4d(x.shape, self.name)
        check_window(x.shape, self.k, self.stride, (0, 0), self.name, what="pooling window")
        return type(self).op(x, self.k, self.stride)


class MaxPool2d(_Pool):
    op = staticmethod(ops.max_pool2d)


class AvgPool2d(_Pool):
    op = staticmethod(ops.avg_pool2d)


class GlobalAvgPool2d(Layer):
    def forward(self, x):
        check_input_4d(x.shape, self.name)
        return ops.mean(x, axis=(2, 3))
