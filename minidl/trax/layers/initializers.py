"""Trax's weight initializers: ``initializer(shape, rng) -> float32 array`` (NumPy, on the host).

The distributions are Trax's (its defaults decide a layer's starting weights):

    RandomNormalInitializer(stddev=1e-2)     N(0, stddev^2)            Dense's and the RNNs' biases (1e-6)
    RandomUniformInitializer(lim=1.0)        U(-lim, lim)              the GRU's kernels (0.01)
    ScaledInitializer(out_dim, in_dim, scale, mode, distribution)
        gain = scale / fan, fan = fan_in, fan_out or their mean (mode)
        "uniform": U(-sqrt(3 gain), sqrt(3 gain));  "normal": N(0, gain)
    GlorotUniformInitializer()               scaled, fan_avg, uniform: U(+-sqrt(6 / (fan_in + fan_out)))
    GlorotNormalInitializer, LeCunUniformInitializer, LeCunNormalInitializer, KaimingUniform/Normal

Embedding uses ScaledInitializer(-1, -2, 1.0, "fan_out", "uniform"): U(+-sqrt(3 / d_feature)),
whose standard deviation 1/sqrt(d_feature) is that of minidl's nn.Embedding.  The numbers
themselves come from ``fastmath.random`` (NumPy's generator), not JAX's.
"""
from __future__ import annotations

import math

import numpy as np

from ..fastmath import random


def _fans(shape, out_dim=-1, in_dim=-2):
    """(fan_in, fan_out): the sizes of the input and output axes (Trax counts no receptive field)."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    return float(shape[in_dim]), float(shape[out_dim])


def RandomNormalInitializer(stddev=1e-2):
    return lambda shape, rng: (stddev * random.normal(rng, tuple(int(n) for n in shape))).astype(np.float32)


def RandomUniformInitializer(lim=1.0):
    return lambda shape, rng: random.uniform(rng, tuple(int(n) for n in shape), np.float32, -lim, lim)


def ScaledInitializer(out_dim, in_dim, scale, mode, distribution):
    if scale <= 0:
        raise ValueError(f"ScaledInitializer: scale must be positive, got {scale}")
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"ScaledInitializer: mode must be fan_in, fan_out or fan_avg, got {mode!r}")
    if distribution not in ("uniform", "normal"):
        raise ValueError(f"ScaledInitializer: distribution must be 'uniform' or 'normal' here, got {distribution!r}")

    def init(shape, rng):
        shape = tuple(int(n) for n in shape)
        fan_in, fan_out = _fans(shape, out_dim, in_dim)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        gain = scale / fan
        if distribution == "uniform":
            lim = math.sqrt(3.0 * gain)
            return random.uniform(rng, shape, np.float32, -lim, lim)
        return (random.normal(rng, shape) * math.sqrt(gain)).astype(np.float32)
    return init


def GlorotUniformInitializer(out_dim=-1, in_dim=-2, scale=1.0):
    return ScaledInitializer(out_dim, in_dim, scale, "fan_avg", "uniform")


def GlorotNormalInitializer(out_dim=-1, in_dim=-2, scale=1.0):
    return ScaledInitializer(out_dim, in_dim, scale, "fan_avg", "normal")


def LeCunUniformInitializer(out_dim=-1, in_dim=-2, scale=1.0):
    return ScaledInitializer(out_dim, in_dim, scale, "fan_in", "uniform")


def LeCunNormalInitializer(out_dim=-1, in_dim=-2, scale=1.0):
    return ScaledInitializer(out_dim, in_dim, scale, "fan_in", "normal")


def KaimingUniformInitializer(out_dim=-1, in_dim=-2, param=0.0):
    return ScaledInitializer(out_dim, in_dim, 2.0 / math.sqrt(1 + param ** 2), "fan_in", "uniform")


def KaimingNormalInitializer(out_dim=-1, in_dim=-2, param=0.0):
    return ScaledInitializer(out_dim, in_dim, 2.0 / math.sqrt(1 + param ** 2), "fan_in", "normal")
