"""``trax.optimizers``: Trax's optimizers -- its defaults and its exact update rules -- on minidl Parameters.

    optimizers.SGD(learning_rate=0.01)                          w <- w - lr g
    optimizers.Adam(learning_rate=1e-4, weight_decay_rate=1e-5, b1=0.9, b2=0.999, eps=1e-5,
                    clip_grad_norm=None)
        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
        m_hat = m / (1 - b1^(step + 1));   v_hat = v / (1 - b2^(step + 1))
        w <- (1 - weight_decay_rate) w - lr m_hat / (sqrt(v_hat) + eps)

Trax's Adam differs from ``minidl.optim.Adam`` (PyTorch's) in three ways, all
kept here so a course notebook trains as it did on Trax: eps is 1e-5; weight
decay shrinks every weight by the factor (1 - weight_decay_rate) at every step,
whatever the learning rate (decoupled, as AdamW, but not scaled by lr); and
``training.Loop`` counts steps from 1 while the bias correction uses step + 1,
so the first update is corrected by 1 - b1^2, not 1 - b1.

``clip_grad_norm``: when the global norm of all gradients is at least the
threshold, every gradient is scaled by threshold / norm (Trax's rule).

Each optimizer works on flat lists of arrays (one per weight: ``tree_init`` /
``tree_update``, Trax's API); ``training.Loop`` hands it minidl's Parameters and
their ``.grad`` and writes the new values back.  A weight array is never
written in place (each step makes a new one, so an array read from
``layer.weights`` keeps its values, as JAX's immutable arrays do); the slots,
the optimizer's own state, are updated in place to save memory traffic.
"""
from __future__ import annotations

import math

from .. import backend
from .fastmath import tree_flatten, tree_unflatten


class Optimizer:
    """Trax's optimizer contract: hyper-parameters in ``opt_params``, a slot per weight, ``update``."""

    def __init__(self, learning_rate=0.01, clip_grad_norm=None, **init_opt_params):
        init_opt_params["learning_rate"] = learning_rate
        self._init_opt_params = {k: float(v) for k, v in init_opt_params.items()}
        self._slots = None
        self._clip_grad_norm = clip_grad_norm

    def init(self, weights):
        """The slot (optimizer state) for one weight array."""
        raise NotImplementedError

    def update(self, step, grads, weights, slots, opt_params):
        """(new weights, new slots) for one weight array; never writes into ``weights``."""
        raise NotImplementedError

    @property
    def slots(self):
        return self._slots

    @slots.setter
    def slots(self, slots):
        self._slots = slots

    @property
    def opt_params(self):
        return self._init_opt_params

    @opt_params.setter
    def opt_params(self, opt_params):
        self._init_opt_params = opt_params

    def tree_init(self, weight_tree):
        self._slots = tuple(self.init(w) for w in tree_flatten(weight_tree))
        return self._slots, self._init_opt_params

    def tree_update(self, step, grad_tree, weight_tree, slots, opt_params, store_slots=True):
        """(new weights in the nesting of ``weight_tree``, new slots, {gradients_l2, weights_l2})."""
        grads, weights = tree_flatten(grad_tree), tree_flatten(weight_tree)
        grads_norm = _l2_norm(grads)
        if self._clip_grad_norm is not None and grads_norm >= self._clip_grad_norm:
            grads = [g * (self._clip_grad_norm / grads_norm) for g in grads]
        pairs = [self.update(step, g, w, s, opt_params) for g, w, s in zip(grads, weights, slots)]
        new_weights, _ = tree_unflatten([w for w, _ in pairs], weight_tree)
        slots = tuple(s for _, s in pairs)
        if store_slots:
            self._slots = slots
        return new_weights, slots, {"gradients_l2": grads_norm, "weights_l2": _l2_norm(weights)}


def _l2_norm(arrays):
    """sqrt of the sum of squares of every element (vdot: one pass, no temporary array)."""
    return math.sqrt(sum(float(backend.xp_of(a).vdot(a.ravel(), a.ravel())) for a in arrays))


class SGD(Optimizer):
    """Plain gradient descent: w <- w - lr g (no slots)."""

    def init(self, weights):
        return None

    def update(self, step, grads, weights, slots, opt_params):
        new = (-opt_params["learning_rate"]) * grads          # w - lr g, as ONE new array
        new += weights
        return new, None


class Adam(Optimizer):
    """Trax's Adam (see the module docstring for how it differs from minidl.optim.Adam)."""

    def __init__(self, learning_rate=0.0001, weight_decay_rate=1e-5, b1=0.9, b2=0.999, eps=1e-5,
                 clip_grad_norm=None):
        super().__init__(learning_rate=learning_rate, weight_decay_rate=weight_decay_rate, b1=b1, b2=b2,
                         eps=eps, clip_grad_norm=clip_grad_norm)

    def init(self, weights):
        xp = backend.xp_of(weights)
        return xp.zeros_like(weights), xp.zeros_like(weights)

    def update(self, step, grads, weights, slots, opt_params):
        m, v = slots
        lr, wd = opt_params["learning_rate"], opt_params["weight_decay_rate"]
        b1, b2, eps = opt_params["b1"], opt_params["b2"], opt_params["eps"]
        xp = backend.xp_of(weights)
        # m <- (1 - b1) g + b1 m and v <- (1 - b2) g^2 + b2 v, kept in the slot arrays (the
        # optimizer's own state); the weights get a new array: a caller may hold the old one.
        m *= b1
        m += (1 - b1) * grads                               # first moment estimate
        v *= b2
        v += (1 - b2) * (grads * grads)                     # second moment estimate
        c1, c2 = 1 - b1 ** (step + 1), 1 - b2 ** (step + 1)  # bias corrections, at Trax's step + 1
        denominator = xp.sqrt(v / c2)                       # sqrt(v_hat) + eps
        denominator += eps
        new = (1 - wd) * weights
        new -= (lr / c1) * m / denominator                  # lr m_hat / (sqrt(v_hat) + eps)
        return new, (m, v)
