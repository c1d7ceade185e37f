"""Fused whole-sequence LSTM and GRU: one Function per sequence, BPTT written by hand.

``nn.LSTM``/``nn.GRU`` run their cell through ``md.scan`` by default (readable:
every step is ~15 small graph nodes and autograd does BPTT), or, with
``fused=True``, through the two Functions below (fast: ONE graph node for the
whole sequence).  Same maths, same parameters (the cell's ``W`` and ``b``), and
tests/test_fused_rnn.py proves the two agree in value and in every gradient.
Measured (benchmarks/, char LM B = 32, T = 64, H = 256, one thread): a training
step is 1.50x (LSTM) and 1.86x (GRU) faster than the plain scan.  Where the
speed comes from:

* the input projections x_t @ W[H:] + b of ALL steps are one big matmul
  (T*B, D) @ (D, nH) before the loop; only h_{t-1} @ W[:H] is left per step;
* buffers for the whole sequence are allocated once and filled in place,
  time-major (T, B, .) so that each step reads and writes one contiguous block;
* backward finds dW with ONE matmul over all steps at the end: every step
  multiplied the same W by its [h_{t-1}, x_t], so  dW = sum_t [h_{t-1}, x_t]^T dz_t,
  a single (H + D, T*B) @ (T*B, nH) product instead of T small ones;
* a step's gate maths is one call: the NumPy expressions below, or on CuPy one
  fused elementwise kernel (``minidl/fast/cupy_kernels.py``: same names, same
  arguments, same equations, line by line).

Shapes (the interface is batch-first, as everywhere in minidl):

    x (B, T, D)   h0, c0 (B, H)   W (H + D, nH)   b (nH,)      n = 4 (LSTM), 3 (GRU)
    mask (B, T) or None (1 = real step, 0 = padding)
    outputs: ys (B, T, H), h_T (B, H) [, c_T (B, H)]

Masking carries the state through padded steps and zeroes their outputs,
exactly like the scan path of ``nn.recurrent``:

    h_t = m_t h_new + (1 - m_t) h_{t-1}      c_t likewise      y_t = m_t h_t

``reverse=True`` visits t = T-1, ..., 0 (the backward half of a Bidirectional);
ys stay in time order.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .. import backend, validate


def _kernel(name, like):
    """The CuPy kernel ``name`` when ``like`` lives on the GPU, else None (use the NumPy expressions)."""
    if backend.name_of(like) != "cupy":
        return None
    from . import cupy_kernels          # compiled with CuPy, so only imported on the GPU
    return cupy_kernels.kernel(name)


def _sigmoid_(z):
    """z <- σ(z) = 1 / (1 + e^-z), in place (no temporaries: this runs T times per sequence).

    For z < -88 (float32) e^-z overflows to inf and 1/inf = 0 is exactly the right
    limit, so only the warning is silenced: the sequence loops run inside
    ``np.errstate(over="ignore")`` (once per sequence, not once per step).  (exp is about twice as fast as tanh in
    NumPy, hence this form rather than ops.activations.stable_sigmoid.)
    """
    xp = backend.xp_of(z)
    xp.negative(z, out=z)
    xp.exp(z, out=z)                  # callers run under np.errstate(over="ignore")
    z += 1
    xp.reciprocal(z, out=z)


# ============================================================================= one step's gate maths
# Each function is the NumPy twin of the CuPy kernel with the same name.
# gates/dz: one step's (B, nH) block; every other array (B, H).

def lstm_forward(gates, c_prev, c, tanh_c, h):
    """gates: pre-activations [f|i|g|o] in, activations out (in place);
    writes c = f c_prev + i g,  tanh_c = tanh(c),  h = o tanh_c."""
    H = c_prev.shape[1]
    k = _kernel("lstm_forward", gates)
    if k is not None:
        k(c_prev, H, gates, c, tanh_c, h)
        return
    xp = backend.xp_of(gates)
    f, i, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    # tanh(z) = 2σ(2z) - 1, so one sigmoid pass over the row serves all four gates
    # (exact maths; in float32 it leaves ~1e-7 absolute error on g, below anything training sees)
    g *= 2
    _sigmoid_(gates)
    g *= 2
    g -= 1
    xp.multiply(f, c_prev, out=c)
    c += i * g
    xp.tanh(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)


def lstm_backward_factors(gates, tanh_c, local):
    """What the LSTM backward multiplies by that does not depend on the incoming
    gradient, for EVERY step at once (T, B, .): a few passes over the sequence
    instead of a dozen small ones per step (measured: the NumPy backward loop of
    the NER tagger, B=64 and H=50, in half the time).

        local    (T, B, 4H)  each gate's activation derivative, written into ``local``:
                             σ' = s(1 - s) for f, i, o and tanh' = 1 - g^2 for g
        o_dtanh  (T, B, H)   o (1 - tanh(c)^2), the route from dL/dh_t into dL/dc_t (returned)

    None on CuPy: the per-step kernel computes them in registers for free.
    """
    if _kernel("lstm_backward", gates) is not None:
        return None
    xp = backend.xp_of(gates)
    H = tanh_c.shape[-1]
    xp.subtract(1, gates, out=local)
    local *= gates
    g, local_g = gates[..., 2 * H:3 * H], local[..., 2 * H:3 * H]
    xp.multiply(g, g, out=local_g)
    xp.subtract(1, local_g, out=local_g)
    o_dtanh = tanh_c * tanh_c
    xp.subtract(1, o_dtanh, out=o_dtanh)
    o_dtanh *= gates[..., 3 * H:]
    return o_dtanh


def lstm_backward(gates, c_prev, tanh_c, dh, dc_next, dz, dc_prev, o_dtanh=None, scratch=None):
    """dh, dc_next: dL/dh_t, dL/dc_t from above.  Writes dz = dL/d(pre-activations)
    and dc_prev = dL/dc_{t-1} through c_t = f c_{t-1} + i g.

    NumPy: ``dz`` already holds this step's activation derivatives (written there by
    ``lstm_backward_factors``, saving a sequence-sized array) and is multiplied in
    place; ``o_dtanh`` is this step's slice of the factors, ``scratch`` a (B, 4H) buffer."""
    H = c_prev.shape[1]
    k = _kernel("lstm_backward", gates)
    if k is not None:
        k(gates, c_prev, tanh_c, dh, dc_next, H, dz, dc_prev)
        return
    xp = backend.xp_of(gates)
    f, i, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H]
    # dc = dc_next + dh o (1 - tanh(c)^2): h = o tanh(c) adds to dL/dc
    dc = dh * o_dtanh
    dc += dc_next
    # dL/d(activation) of each gate, into its block of the scratch row ...
    xp.multiply(dc, c_prev, out=scratch[:, :H])             # f multiplies c_prev
    xp.multiply(dc, g, out=scratch[:, H:2 * H])             # i multiplies g
    xp.multiply(dc, i, out=scratch[:, 2 * H:3 * H])         # g is multiplied by i
    xp.multiply(dh, tanh_c, out=scratch[:, 3 * H:])         # o multiplies tanh(c)
    dz *= scratch                                           # ... times the activation's derivative
    xp.multiply(dc, f, out=dc_prev)                         # c_t = f c_{t-1} + ...


def gru_gates_forward(gates, h_prev, rh):
    """gates [u|r|h']: the u, r pre-activations become Γu, Γr (in place);
    writes rh = Γr * h_prev, the recurrent input of the candidate."""
    H = h_prev.shape[1]
    k = _kernel("gru_gates_forward", gates)
    if k is not None:
        k(h_prev, H, gates, rh)
        return
    _sigmoid_(gates[:, :2 * H])                             # Γu, Γr
    backend.xp_of(gates).multiply(gates[:, H:2 * H], h_prev, out=rh)


def gru_candidate_forward(gates, h_prev, h):
    """The h' pre-activation becomes h' = tanh(.) (in place); writes h = (1 - Γu) h_prev + Γu h'."""
    H = h_prev.shape[1]
    k = _kernel("gru_candidate_forward", gates)
    if k is not None:
        k(h_prev, H, gates, h)
        return
    xp = backend.xp_of(gates)
    u, h_cand = gates[:, :H], gates[:, 2 * H:]
    xp.tanh(h_cand, out=h_cand)
    h[...] = (1 - u) * h_prev + u * h_cand


def gru_candidate_backward(gates, h_prev, dh, dz, dh_prev):
    """dh = dL/dh_t.  Writes dz_u, dz_h' into dz and the direct path dh_prev = dh (1 - Γu)."""
    H = h_prev.shape[1]
    k = _kernel("gru_candidate_backward", gates)
    if k is not None:
        k(gates, h_prev, dh, H, dz, dh_prev)
        return
    u, h_cand = gates[:, :H], gates[:, 2 * H:]
    dz[:, :H] = dh * (h_cand - h_prev) * u * (1 - u)
    dz[:, 2 * H:] = dh * u * (1 - h_cand * h_cand)
    dh_prev[...] = dh * (1 - u)


def gru_gates_backward(gates, h_prev, d_rh, dz, dh_prev):
    """d_rh = dL/d(Γr * h_prev).  Writes dz_r into dz and adds d_rh Γr to dh_prev."""
    H = h_prev.shape[1]
    k = _kernel("gru_gates_backward", gates)
    if k is not None:
        k(gates, h_prev, d_rh, H, dz, dh_prev)
        return
    r = gates[:, H:2 * H]
    dz[:, H:2 * H] = d_rh * h_prev * r * (1 - r)
    dh_prev += d_rh * r


# ============================================================================= the sequence Functions
class _Sequence(Function):
    """Bookkeeping shared by LSTMSequence and GRUSequence (layouts, order of steps, masks)."""

    def __init__(self, mask=None, reverse=False):
        self.mask, self.reverse = mask, reverse      # mask: a backend array (B, T) or None

    def project_inputs(self, x, h0, W, n_gates):
        """Remember sizes, the time-major inputs and mask; return x_t @ W_x of every step, (T, B, nH)."""
        B, T, D = x.shape
        if T == 0:              # the scan path refuses it too: there is no step to run
            raise ValueError(f"{type(self).__name__}: the sequence has no steps: x of shape {x.shape} has T = 0")
        if self.mask is not None:
            validate.mask(self.mask, type(self).__name__)
        H = h0.shape[1]
        self.T, self.H = T, H
        self.xs = x.transpose(1, 0, 2).reshape(T * B, D)            # (T*B, D), a time-major copy
        self.m = None if self.mask is None else \
            self.mask.T.astype(x.dtype)[:, :, None]                 # (T, B, 1)
        return (self.xs @ W[H:]).reshape(T, B, n_gates * H)

    def steps(self):
        """The order in which the forward pass visits the steps."""
        return range(self.T - 1, -1, -1) if self.reverse else range(self.T)

    def before(self, states, first, t):
        """The state step t started from: states of the previously visited step, or the initial one."""
        p = t + 1 if self.reverse else t - 1
        return states[p] if 0 <= p < self.T else first

    def step_inputs(self, states, first):
        """[h_{t-1}, x_t] of every step, (T*B, H + D): what W multiplied in the forward pass."""
        xp = backend.xp_of(states)
        T, B, H = states.shape
        hx = xp.empty((T, B, H + self.xs.shape[1]), dtype=states.dtype)
        hx[:, :, H:] = self.xs.reshape(T, B, -1)
        if self.reverse:
            hx[:-1, :, :H], hx[-1, :, :H] = states[1:], first
        else:
            hx[0, :, :H], hx[1:, :, :H] = first, states[:-1]
        return hx.reshape(T * B, -1)

    def outputs(self, hs):
        """ys (B, T, H) from the time-major states: y_t = m_t h_t."""
        ys = hs if self.m is None else hs * self.m
        return ys.transpose(1, 0, 2)

    def output_grads(self, g_ys):
        """dL/dys (B, T, H) -> time-major, through y_t = m_t h_t."""
        g = g_ys.transpose(1, 0, 2)
        return g if self.m is None else g * self.m

    def input_grads(self, dz, W_x, B):
        """dL/dx (B, T, D) = dz_t @ W_x^T for every step at once."""
        xp = backend.xp_of(dz)
        dx = dz.reshape(self.T * B, -1) @ W_x.T
        return xp.ascontiguousarray(dx.reshape(self.T, B, -1).transpose(1, 0, 2))


class LSTMSequence(_Sequence):
    """(ys, h_T, c_T) = LSTM over the whole sequence; inputs (x, h0, c0, W, b).

    W (H + D, 4H) with column slices [f | i | g | o] and b (4H,): the LSTMCell's
    parameters (nn.cells.LSTMCell has the equations)."""

    def forward(self, x, h0, c0, W, b):
        xp = backend.xp_of(x)
        B = x.shape[0]
        gates = self.project_inputs(x, h0, W, 4)     # becomes the gate activations, step by step
        gates += b
        W_h = W[:self.H]
        hs, cs, tanh_cs = (xp.empty((self.T, B, self.H), dtype=x.dtype) for _ in range(3))
        h, c = h0, c0
        with np.errstate(over="ignore"):
            for t in self.steps():
                gates[t] += h @ W_h
                lstm_forward(gates[t], c, cs[t], tanh_cs[t], hs[t])
                if self.m is not None:
                    _keep_state_where_padded_(self.m[t], hs[t], h)
                    _keep_state_where_padded_(self.m[t], cs[t], c)
                h, c = hs[t], cs[t]
        self.h0, self.c0, self.W = h0, c0, W
        self.gates, self.hs, self.cs, self.tanh_cs = gates, hs, cs, tanh_cs
        return self.outputs(hs), h.copy(), c.copy()

    def backward(self, g_ys, g_hT, g_cT):
        xp = backend.xp_of(g_ys)
        B, H, m = g_ys.shape[0], self.H, self.m
        W_h, W_x = self.W[:H], self.W[H:]
        g_ys = self.output_grads(g_ys)
        dz = xp.empty_like(self.gates)               # dL/d(pre-activations) of every step
        dh, dc = g_hT.copy(), g_cT                   # the gradient reaching h_t, c_t from later steps
        spare = xp.empty((B, H), dtype=dz.dtype)     # dc_{t-1} is written here, then buffers swap
        o_dtanh = lstm_backward_factors(self.gates, self.tanh_cs, dz)     # None on CuPy
        scratch = None if o_dtanh is None else xp.empty((B, 4 * H), dtype=dz.dtype)
        W_hT = xp.ascontiguousarray(W_h.T)           # a contiguous (4H, H): ~15% faster products
        for t in reversed(self.steps()):
            dh += g_ys[t]                            # dh is always an array we own
            if m is not None:                        # split between the new state and the carried one
                dh, dh_carry = dh * m[t], dh * (1 - m[t])
                dc, dc_carry = dc * m[t], dc * (1 - m[t])
            dc_prev = spare
            lstm_backward(self.gates[t], self.before(self.cs, self.c0, t), self.tanh_cs[t], dh, dc,
                          dz[t], dc_prev, None if o_dtanh is None else o_dtanh[t], scratch)
            spare = dc if dc is not g_cT else xp.empty((B, H), dtype=dz.dtype)
            dh, dc = dz[t] @ W_hT, dc_prev
            if m is not None:
                dh += dh_carry
                dc += dc_carry
        dz2 = dz.reshape(-1, 4 * H)
        dW = self.step_inputs(self.hs, self.h0).T @ dz2
        return self.input_grads(dz, W_x, B), dh, dc, dW, dz2.sum(axis=0)


class GRUSequence(_Sequence):
    """(ys, h_T) = GRU over the whole sequence; inputs (x, h0, W, b).

    W (H + D, 3H) with column slices [u | r | h'] and b (3H,): the GRUCell's
    parameters (nn.cells.GRUCell has the equations)."""

    def forward(self, x, h0, W, b):
        xp = backend.xp_of(x)
        B = x.shape[0]
        gates = self.project_inputs(x, h0, W, 3)
        gates += b
        H = self.H
        W_h_ur = xp.ascontiguousarray(W[:H, :2 * H])   # h -> gates u, r
        W_h_c = xp.ascontiguousarray(W[:H, 2 * H:])    # Γr * h -> candidate h'
        hs, rhs = (xp.empty((self.T, B, H), dtype=x.dtype) for _ in range(2))   # h_t, Γr * h_{t-1}
        h = h0
        with np.errstate(over="ignore"):
            for t in self.steps():
                a = gates[t]
                a[:, :2 * H] += h @ W_h_ur
                gru_gates_forward(a, h, rhs[t])
                a[:, 2 * H:] += rhs[t] @ W_h_c
                gru_candidate_forward(a, h, hs[t])
                if self.m is not None:
                    _keep_state_where_padded_(self.m[t], hs[t], h)
                h = hs[t]
        self.h0, self.W, self.W_h_ur, self.W_h_c = h0, W, W_h_ur, W_h_c
        self.gates, self.hs, self.rhs = gates, hs, rhs
        return self.outputs(hs), h.copy()

    def backward(self, g_ys, g_hT):
        xp = backend.xp_of(g_ys)
        B, H, m = g_ys.shape[0], self.H, self.m
        g_ys = self.output_grads(g_ys)
        dz = xp.empty_like(self.gates)
        dh = g_hT
        W_h_cT, W_h_urT = xp.ascontiguousarray(self.W_h_c.T), xp.ascontiguousarray(self.W_h_ur.T)
        for t in reversed(self.steps()):
            dh = dh + g_ys[t]
            if m is not None:
                dh, dh_carry = dh * m[t], dh * (1 - m[t])
            h_prev = self.before(self.hs, self.h0, t)
            dh_prev = xp.empty((B, H), dtype=dz.dtype)
            gru_candidate_backward(self.gates[t], h_prev, dh, dz[t], dh_prev)
            d_rh = dz[t, :, 2 * H:] @ W_h_cT
            gru_gates_backward(self.gates[t], h_prev, d_rh, dz[t], dh_prev)
            dh_prev += dz[t, :, :2 * H] @ W_h_urT
            dh = dh_prev if m is None else dh_prev + dh_carry
        dz2 = dz.reshape(-1, 3 * H)
        # the gates multiplied W[:, :2H] by [h_{t-1}, x_t]; the candidate W[:, 2H:] by [Γr * h_{t-1}, x_t]
        hx = self.step_inputs(self.hs, self.h0)
        rhx = xp.concatenate([self.rhs.reshape(-1, H), self.xs], axis=1)
        dW = xp.concatenate([hx.T @ dz2[:, :2 * H], rhx.T @ dz2[:, 2 * H:]], axis=1)
        return self.input_grads(dz, self.W[H:], B), dh, dW, dz2.sum(axis=0)


def _keep_state_where_padded_(m, new, prev):
    """new <- m new + (1 - m) prev, in place: a padded step (m = 0) keeps the old state."""
    new -= prev
    new *= m
    new += prev


def lstm_sequence(x, h0, c0, W, b, mask=None, reverse=False):
    """Tensors in, Tensors (ys, h_T, c_T) out.  ``mask``: a backend array (B, T) or None."""
    return LSTMSequence(mask, reverse)(x, h0, c0, W, b)


def gru_sequence(x, h0, W, b, mask=None, reverse=False):
    """Tensors in, Tensors (ys, h_T) out.  ``mask``: a backend array (B, T) or None."""
    return GRUSequence(mask, reverse)(x, h0, W, b)
