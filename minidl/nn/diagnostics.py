"""How much gradient reaches each time step?  The vanishing-gradient lesson, measured.

BPTT multiplies the gradient by one Jacobian per step on its way back:

    dL/dh_t = dL/dh_T · dh_T/dh_{T-1} · ... · dh_{t+1}/dh_t
    dh_{t+1}/dh_t = diag(g'(z_{t+1})) · W_h[:H]^T           (vanilla RNN)

With small recurrent weights (or saturated tanh units) each factor shrinks the
gradient, so ||dL/dh_t|| decays geometrically as t moves away from the loss:
the first steps learn nothing.  The LSTM's additive cell path c_t = f c_{t-1} + ...
and the identity-ReLU RNN keep those factors near 1.

How it is measured: a "probe" -- a zero tensor that requires grad -- is added
to every hidden state, h_t + p_t.  Adding zero changes no value, and
dL/dp_t = dL/dh_t (the total gradient reaching h_t, through the outputs and
through all later steps), so after ``backward`` the probes' ``.grad`` are the
numbers we want.  This runs the readable scan path of the layer's cell.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor
from .scan import scan


def grad_norms_through_time(layer, x, loss_fn=None) -> np.ndarray:
    """||dL/dh_t|| for t = 1..T, as a NumPy array of length T (index 0 is the first step).

    layer    -- nn.RNN / nn.GRU / nn.LSTM (its ``.cell`` is used) or a cell itself;
    x        -- a Tensor (B, T, D);
    loss_fn  -- maps the hidden states (B, T, H) to a scalar loss; the default,
                ``ys[:, -1].sum()``, puts the whole loss on the last step (many-to-one),
                the setting where vanishing gradients hurt.

    The norm is over the batch and the units.  Parameter ``.grad`` are left as they were.
    """
    cell = getattr(layer, "cell", layer)
    B = x.shape[0]
    probes = []

    def step(x_t, carry):
        _, carry = cell(x_t, carry)
        h = carry[0] if isinstance(carry, tuple) else carry
        probe = Tensor(backend.xp_of(h.data).zeros(h.shape, dtype=h.dtype), requires_grad=True)
        probes.append(probe)
        h = h + probe                                   # same value; its gradient is dL/dh_t
        carry = (h,) + carry[1:] if isinstance(carry, tuple) else h
        return h, carry

    if not cell.built:
        cell.build(x.shape[-1])
    saved = [(p, p.grad) for p in cell.parameters()]
    try:
        ys, _ = scan(step, x, cell.initial_state(B, like=x), axis=1)
        loss = loss_fn(ys) if loss_fn is not None else ys[:, -1].sum()
        loss.backward()
    finally:
        for p, g in saved:
            p.grad = g
    return np.array([float(np.linalg.norm(backend.asnumpy(p.grad))) for p in probes])
