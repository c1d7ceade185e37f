"""Weight decay (L2 in the gradient vs decoupled AdamW) and the one-cycle schedule, by hand-worked numbers."""
import math

import numpy as np
import pytest

import minidl as md
from minidl import nn, optim


def _param(values):
    with md.default_dtype("float64"):
        return nn.parameter(np.array(values, dtype=float))


def _set_grad(p, g):
    p.grad = md.backend.xp_of(p.data).asarray(g, dtype=p.dtype)


def _loss(p, target):
    d = p - md.tensor(np.asarray(target, dtype=float))
    return (d * d).sum() * 0.5


@pytest.mark.parametrize("make", [lambda ps, wd: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=wd),
                                  lambda ps, wd: optim.Adam(ps, lr=0.1, weight_decay=wd)],
                         ids=["SGD", "Adam"])
def test_weight_decay_is_the_l2_penalty_in_the_gradient(backend_name, make):
    """weight_decay = lam on the loss  ==  no weight decay on  loss + (lam/2)|p|^2  (= loss + wd |p|^2, lam = 2 wd)."""
    wd = 0.05
    a, b = _param([1.0, -2.0, 0.5]), _param([1.0, -2.0, 0.5])
    opt_a, opt_b = make([a], 2 * wd), make([b], 0.0)
    for _ in range(4):
        opt_a.zero_grad(); _loss(a, [0.3, 0.1, -1.0]).backward(); opt_a.step()
        opt_b.zero_grad(); (_loss(b, [0.3, 0.1, -1.0]) + wd * (b * b).sum()).backward(); opt_b.step()
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-12)
    assert not np.allclose(a.numpy(), _param([1.0, -2.0, 0.5]).numpy())


def test_adamw_step_by_hand(backend_name):
    p = _param([1.0, -2.0])
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.1)
    _set_grad(p, [0.5, 1.0])
    opt.step()
    # decay: p * (1 - 0.1 * 0.1) = [0.99, -1.98]; Adam's first step moves each coordinate by lr * sign(g)
    np.testing.assert_allclose(p.numpy(), [0.99 - 0.1, -1.98 - 0.1], atol=1e-8)
    assert "weight_decay=0.1" in repr(opt)


def test_adamw_decays_every_weight_alike_but_adam_l2_does_not(backend_name):
    """A weight with no gradient: AdamW shrinks it by (1 - lr wd); Adam's L2 term gets divided by
    sqrt(v_hat) = |wd p|, so the same weight moves a full lr-sized step."""
    lr, wd = 0.01, 0.1
    p_w, p_l2 = _param([2.0]), _param([2.0])
    aw, l2 = optim.AdamW([p_w], lr=lr, weight_decay=wd), optim.Adam([p_l2], lr=lr, weight_decay=wd)
    _set_grad(p_w, [0.0]); _set_grad(p_l2, [0.0])
    aw.step(); l2.step()
    np.testing.assert_allclose(p_w.numpy(), [2.0 * (1 - lr * wd)], rtol=1e-12)
    np.testing.assert_allclose(p_l2.numpy(), [2.0 - lr], rtol=1e-6)


def test_one_cycle_shape():
    total, max_lr = 101, 1.0
    lrs, moms = zip(*[optim.one_cycle(t, total, max_lr) for t in range(total)])
    peak = 25                                                    # round(0.25 * 100)
    assert math.isclose(lrs[0], max_lr / 25) and math.isclose(lrs[peak], max_lr)
    assert math.isclose(lrs[-1], max_lr / 1e5)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))           # rises ...
    assert all(a > b for a, b in zip(lrs[peak:-1], lrs[peak + 1:]))          # ... then falls
    assert math.isclose(moms[0], 0.95) and math.isclose(moms[peak], 0.85) and math.isclose(moms[-1], 0.95)
    # half-cosine: halfway through the warm-up the lr is halfway between its ends
    assert math.isclose(optim.one_cycle(50, 101, 1.0, pct_start=1.0)[0], (1.0 + 1 / 25) / 2)
    with pytest.raises(ValueError, match="outside"):
        optim.one_cycle(101, 101, 1.0)


def test_one_cycle_drives_the_optimizer(backend_name):
    p = _param([1.0])
    opt = optim.Adam([p], lr=123.0)
    sched = optim.OneCycle(opt, max_lr=0.1, total_steps=5)
    assert math.isclose(opt.lr, 0.1 / 25) and math.isclose(opt.b1, 0.95)    # set at construction
    seen = [opt.lr]
    for _ in range(4):
        _set_grad(p, [1.0]); opt.step(); seen.append(sched.step())
    assert seen == pytest.approx([optim.one_cycle(t, 5, 0.1)[0] for t in range(5)])
    assert len(sched.lrs) == 5
    sched.step()                                                 # after the 5th optimizer step: allowed
    with pytest.raises(RuntimeError, match="stepped 6 times.*5 steps"):
        sched.step()
    sgd = optim.SGD([p], lr=1.0)                                 # plain SGD: no momentum to cycle
    optim.OneCycle(sgd, max_lr=0.5, total_steps=9)
    assert sgd.momentum == 0.0 and math.isclose(sgd.lr, 0.5 / 25)
    sgd_m = optim.SGD([p], lr=1.0, momentum=0.9)
    optim.OneCycle(sgd_m, max_lr=0.5, total_steps=9)
    assert math.isclose(sgd_m.momentum, 0.95)
