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

Why they decay, one factor at a time: ``state_jacobians`` measures every
J_t = ds_t/ds_{t-1} of one sequence (s = h, or [h, c] for the LSTM), and
``jacobian_product_norms`` the largest singular value of their product

    sigma_max( J_T J_{T-1} ... J_{T-d+1} ) = sigma_max( ds_T / ds_{T-d} )

the most that a gradient arriving at step T can keep after d steps back.  For
the tanh RNN the slide's bound caps each factor, |tanh'| <= 1:

    ||J_t|| <= ||diag(tanh'(z_t))|| ||W_hh|| <= sigma_max(W_hh)     so the product <= sigma_max(W_hh)^d

``grad_norms_through_layers`` (the gradient reaching each layer's output) and
``grad_norms_per_layer`` (each layer's weight gradient) ask the same question
through depth instead of time: how much gradient reaches each layer of a stack.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, ops
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


def state_jacobians(layer, x) -> np.ndarray:
    """The step Jacobians J_t = ds_t/ds_{t-1} along ONE sequence, as a NumPy array (T, S, S).

    layer  -- nn.RNN / nn.GRU / nn.LSTM (its ``.cell`` is used) or a cell;
    x      -- the sequence, (T, D) or (1, T, D) (Tensor or array); the state starts at zeros;
    S      -- the state size: H, or 2H for the LSTM, whose state s = [h, c] (the gradient
              through time flows through both).

    ``J[t][i, j] = d s_{t+1}[i] / d s_t[j]`` (0-based: J[0] is the first step's Jacobian).
    For the vanilla RNN, h_t = tanh(h_{t-1} W_hh + x_t W_xh + b), this is
    diag(1 - h_t^2) W_hh^T.

    How: one backward per step.  The state s_{t-1} is copied into S rows of a batch,
    row i's output is weighted by the unit vector e_i, so row i of the input
    gradient is row i of J_t -- S vector-Jacobian products in one pass.
    Parameter ``.grad`` are left as they were.
    """
    cell = getattr(layer, "cell", layer)
    xs = backend.asnumpy(x.data if isinstance(x, Tensor) else x)
    if xs.ndim == 3 and xs.shape[0] == 1:
        xs = xs[0]
    if xs.ndim != 2:
        raise ValueError(f"state_jacobians: expected one sequence (T, D) or (1, T, D), got shape "
                         f"{tuple(xs.shape)}")
    T, D = xs.shape
    if not cell.built:
        cell.build(D)
    W = cell.W
    xp = backend.xp_of(W.data)
    carry = cell.initial_state(1, like=W)
    parts = carry if isinstance(carry, tuple) else (carry,)
    S = sum(p.shape[1] for p in parts)
    rows = Tensor(xp.eye(S, dtype=W.dtype))                 # e_i weights output row i
    saved = [(p, p.grad) for p in cell.parameters()]
    jacobians = []
    try:
        for t in range(T):
            x_t = Tensor(xp.asarray(np.repeat(xs[t:t + 1], S, axis=0), dtype=W.dtype))      # (S, D)
            leaves = tuple(Tensor(xp.repeat(p.data, S, axis=0), requires_grad=True) for p in parts)
            _, new = cell(x_t, leaves if isinstance(carry, tuple) else leaves[0])
            new_parts = new if isinstance(new, tuple) else (new,)
            s_t = ops.concat(list(new_parts), axis=-1) if len(new_parts) > 1 else new_parts[0]
            (s_t * rows).sum().backward()                   # row i: e_i^T ds_t/ds_{t-1}
            jacobians.append(np.concatenate([backend.asnumpy(leaf.grad) for leaf in leaves], axis=1))
            parts = tuple(Tensor(p.data[:1]) for p in new_parts)    # s_t, detached, one row
    finally:
        for p, g in saved:
            p.grad = g
    return np.stack(jacobians).astype(np.float64)


def jacobian_product_norms(jacobians) -> np.ndarray:
    """sigma_max(J_T ... J_{T-d+1}) for d = 1..T: array of length T (index d - 1), float64.

    ``jacobians`` -- (T, S, S) from ``state_jacobians``.  Entry d - 1 is the largest
    factor by which ds_T/ds_{T-d} can stretch a gradient arriving at the last step:
    it bounds ||dL/ds_{T-d}|| / ||dL/ds_T|| when the loss sits on step T.

    The running product is renormalised at every step (its scale kept as a
    logarithm), so a product of 1e-300 or 1e+300 is still measured, not rounded
    to 0 or inf before the end.
    """
    J = np.asarray(jacobians, dtype=np.float64)
    if J.ndim != 3 or J.shape[1] != J.shape[2]:
        raise ValueError(f"jacobian_product_norms: expected (T, S, S) Jacobians, got shape {J.shape}")
    product, log_scale, norms = np.eye(J.shape[1]), 0.0, []
    for J_t in J[::-1]:                                      # the last step first: backprop's order
        product = product @ J_t
        sigma = float(np.linalg.norm(product, 2))
        if sigma == 0.0:
            norms += [0.0] * (len(J) - len(norms))
            break
        log_scale += math.log(sigma)
        norms.append(math.exp(log_scale) if log_scale < 709 else math.inf)
        product /= sigma
    return np.array(norms)


def grad_norms_through_layers(layers, x, loss_fn) -> np.ndarray:
    """||dL/dy_l|| for the output y_l of each layer of a stack: how much gradient reaches layer l.

    layers   -- a list of Layers applied in order, y_l = layers[l](y_{l-1}), y_0 = x
                (e.g. the blocks of a deep RNN, plain or wrapped in nn.Residual);
    x        -- the input Tensor;
    loss_fn  -- maps the last output to a scalar loss.

    The same zero-probe trick as ``grad_norms_through_time``, through depth instead of
    time.  Parameter ``.grad`` are left as they were.  Index 0 is the first layer.
    """
    probes, y = [], x
    for layer in layers:
        y = layer(y)
        probe = Tensor(backend.xp_of(y.data).zeros(y.shape, dtype=y.dtype), requires_grad=True)
        probes.append(probe)
        y = y + probe                                   # same value; its gradient is dL/dy_l
    # listed after the forward: lazy layers create their parameters at the first call
    saved = [(p, p.grad) for layer in layers for p in layer.parameters()]
    try:
        loss_fn(y).backward()
    finally:
        for p, g in saved:
            p.grad = g
    return np.array([float(np.linalg.norm(backend.asnumpy(p.grad))) for p in probes])


def grad_norms_per_layer(layers) -> np.ndarray:
    """||dL/dθ_l|| for each layer l (its parameters' gradients together), after a ``backward``.

    layers -- a list of Layers (e.g. the stack of a deep RNN, ``list(model)`` of a Serial).
    A layer without parameters, or whose parameters have no gradient yet, gets 0.
    """
    norms = []
    for layer in layers:
        total = sum(float((backend.asnumpy(p.grad).astype(np.float64) ** 2).sum())
                    for p in layer.parameters() if p.grad is not None)
        norms.append(math.sqrt(total))
    return np.array(norms)
