"""CuPy elementwise kernels for the fused LSTM/GRU paths (``minidl/fast/fused_rnn.py``).

Why kernels at all: one LSTM step's gate maths is about a dozen elementwise
operations (three sigmoids, two tanh, products, sums).  As separate CuPy ops
that is a dozen kernel launches and a dozen trips through GPU memory per time
step; for the small (B, H) arrays of a recurrent step the launches, not the
arithmetic, dominate.  Each kernel below does one step's gate maths in ONE
launch: every thread owns one (batch row, unit) pair and computes all of its
gates in registers.

Each kernel is the line-by-line twin of a NumPy function in
``minidl/fast/fused_rnn.py`` (same name, same arguments, same equations); read
them side by side.  Layout conventions shared with that file:

    gates, dz   (B, 4H) for the LSTM, slices [f | i | g | o]  -- pre-activations
                (B, 3H) for the GRU,  slices [u | r | h']        in, activations out
    everything else (B, H)

A thread handles element i of the (B, H) arrays: batch row b = i / H, unit
j = i % H; the gate k of that unit sits at column k*H + j of its gates row,
i.e. at flat index b*nH + k*H + j.  ``raw`` arrays are indexed by that flat
(logical) index; CuPy maps it through the strides, so views work.

CuPy itself comes from ``backend.module("cupy")``: minidl/backend.py stays the
one place that decides whether CuPy is importable and working.
"""
from __future__ import annotations

from .. import backend

# sigmoid(x) = 1 / (1 + e^-x) written as 0.5 (1 + tanh(x / 2)): the same function,
# exact for any |x| (no overflow of e^-x), as in ``ops.activations.stable_sigmoid``.
_PREAMBLE = r"""
template <typename T> __device__ T sigmoid(T x) { return T(0.5) * (T(1) + tanh(T(0.5) * x)); }
"""


def _k(in_params, out_params, operation, name):
    return backend.module("cupy").ElementwiseKernel(in_params, out_params, operation, "minidl_" + name,
                                preamble=_PREAMBLE)


# ----------------------------------------------------------------------------- LSTM
_SOURCES = {
    # forward: pre-activations -> f, i, g, o (in place);  c = f c_prev + i g;  h = o tanh(c)
    "lstm_forward": (
        "T c_prev, int32 H",
        "raw T gates, T c, T tanh_c, T h",
        """
        const ptrdiff_t k = (i / H) * 4 * H + i % H;     // f of this unit; i, g, o follow at +H
        const T f  = sigmoid(gates[k]);
        const T ig = sigmoid(gates[k + H]);
        const T g  = tanh(gates[k + 2 * H]);
        const T o  = sigmoid(gates[k + 3 * H]);
        gates[k] = f;  gates[k + H] = ig;  gates[k + 2 * H] = g;  gates[k + 3 * H] = o;
        c = f * c_prev + ig * g;
        tanh_c = tanh(c);
        h = o * tanh_c;
        """),
    # backward: dh, dc_next (into h_t, c_t) -> dz (pre-activations), dc_prev (into c_{t-1})
    "lstm_backward": (
        "raw T gates, T c_prev, T tanh_c, T dh, T dc_next, int32 H",
        "raw T dz, T dc_prev",
        """
        const ptrdiff_t k = (i / H) * 4 * H + i % H;
        const T f = gates[k], ig = gates[k + H], g = gates[k + 2 * H], o = gates[k + 3 * H];
        const T dc = dc_next + dh * o * (T(1) - tanh_c * tanh_c);
        dz[k]         = dc * c_prev * f * (T(1) - f);
        dz[k + H]     = dc * g * ig * (T(1) - ig);
        dz[k + 2 * H] = dc * ig * (T(1) - g * g);
        dz[k + 3 * H] = dh * tanh_c * o * (T(1) - o);
        dc_prev = dc * f;
        """),
    # ------------------------------------------------------------------------- GRU
    # forward, part 1: gate pre-activations -> Γu, Γr (in place);  rh = Γr * h_prev
    "gru_gates_forward": (
        "T h_prev, int32 H",
        "raw T gates, T rh",
        """
        const ptrdiff_t k = (i / H) * 3 * H + i % H;     // u of this unit; r at +H, h' at +2H
        const T u = sigmoid(gates[k]);
        const T r = sigmoid(gates[k + H]);
        gates[k] = u;  gates[k + H] = r;
        rh = r * h_prev;
        """),
    # forward, part 2: candidate pre-activation -> h' (in place);  h = (1 - Γu) h_prev + Γu h'
    "gru_candidate_forward": (
        "T h_prev, int32 H",
        "raw T gates, T h",
        """
        const ptrdiff_t k = (i / H) * 3 * H + i % H;
        const T u = gates[k];
        const T hc = tanh(gates[k + 2 * H]);
        gates[k + 2 * H] = hc;
        h = (T(1) - u) * h_prev + u * hc;
        """),
    # backward, part 1: dh (into h_t) -> dz_u, dz_h', and the direct path dh_prev = dh (1 - Γu)
    "gru_candidate_backward": (
        "raw T gates, T h_prev, T dh, int32 H",
        "raw T dz, T dh_prev",
        """
        const ptrdiff_t k = (i / H) * 3 * H + i % H;
        const T u = gates[k], hc = gates[k + 2 * H];
        dz[k]         = dh * (hc - h_prev) * u * (T(1) - u);
        dz[k + 2 * H] = dh * u * (T(1) - hc * hc);
        dh_prev = dh * (T(1) - u);
        """),
    # backward, part 2: d_rh = dL/d(Γr * h_prev) -> dz_r;  dh_prev += d_rh Γr
    "gru_gates_backward": (
        "raw T gates, T h_prev, T d_rh, int32 H",
        "raw T dz, T dh_prev",
        """
        const ptrdiff_t k = (i / H) * 3 * H + i % H;
        const T r = gates[k + H];
        dz[k + H] = d_rh * h_prev * r * (T(1) - r);
        dh_prev = dh_prev + d_rh * r;
        """),
}

_compiled = {}


def kernel(name: str):
    """The compiled ``cupy.ElementwiseKernel`` called ``name``; None for an unknown name, or
    when the cupy backend has no ``ElementwiseKernel`` -- the test suite's CPU stand-in for
    CuPy (tests/strict_cupy/), on which the fused RNNs then run their NumPy twins."""
    if name not in _SOURCES or not hasattr(backend.module("cupy"), "ElementwiseKernel"):
        return None
    if name not in _compiled:
        _compiled[name] = _k(*_SOURCES[name], name)
    return _compiled[name]
