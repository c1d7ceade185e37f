"""nn.Residual: y = F(x) + shortcut(x); gradient checks, masks, errors, and the gradient it carries
down a deep stack."""
import numpy as np
import pytest

import minidl as md
from minidl import nn
from minidl.nn import diagnostics


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def test_residual_adds_the_input_to_the_layers_output(backend_name):
    d1, act, d2 = nn.Dense(5), nn.Tanh(), nn.Dense(4)
    block = nn.Residual(d1, act, d2)
    x = md.tensor(_x((3, 4)))
    np.testing.assert_allclose(block(x).numpy(), (d2(act(d1(x))) + x).numpy(), rtol=1e-6)
    assert [n for n, _ in block.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert len(block) == 3 and block[1] is act


def test_residual_gradcheck_inputs_and_parameters(backend_name):
    with md.default_dtype("float64"):
        block = nn.Residual(nn.Dense(3), nn.Tanh(), nn.Dense(4))
        report = md.gradcheck(block, _x((2, 4)))
    assert report, str(report)
    assert [e.name for e in report.entries] == ["input 0", "param 0.W", "param 0.b", "param 2.W", "param 2.b"]


def test_residual_with_a_projection_shortcut_gradcheck(backend_name):
    """shortcut=Dense(n) maps x (B, 4) to F's output size (B, 3): y = F(x) + x W_s + b_s."""
    with md.default_dtype("float64"):
        block = nn.Residual(nn.Dense(3), nn.Tanh(), shortcut=nn.Dense(3))
        report = md.gradcheck(block, _x((2, 4)))
    assert report, str(report)
    assert [e.name for e in report.entries] == ["input 0", "param 0.W", "param 0.b",
                                                "param shortcut.W", "param shortcut.b"]


def test_residual_around_a_recurrent_layer_passes_the_mask_to_the_layer_only(backend_name):
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]])
    with md.default_dtype("float64"):
        block = nn.Residual(nn.GRU(3))
        x = md.tensor(_x((2, 4, 3)))
        y = block(x, mask)
        np.testing.assert_allclose(y.numpy(), (block[0](x, mask=mask) + x).numpy(), rtol=1e-12)

        class WithMask(nn.Layer):
            def __init__(self):
                super().__init__()
                self.block = block

            def forward(self, x):
                return self.block(x, mask)

        report = md.gradcheck(WithMask(), _x((2, 4, 3)))
    assert report, str(report)


def test_residual_errors_are_clear():
    with pytest.raises(ValueError, match=r"Residual: the layers return shape \(3, 2\) but the shortcut "
                                         r"carries shape \(3, 4\)"):
        nn.Residual(nn.Dense(2))(md.tensor(_x((3, 4))))
    with pytest.raises(ValueError, match="at least one layer"):
        nn.Residual()
    with pytest.raises(TypeError, match="shortcut is a int"):
        nn.Residual(nn.Tanh(), shortcut=3)
    with pytest.raises(TypeError, match="not a Layer"):
        nn.Residual(nn.Tanh)


def test_skip_connections_carry_the_gradient_down_a_deep_stack():
    """20 tanh layers with small weights: the plain stack's first layer gets almost no gradient
    (each layer multiplies it by diag(tanh') W^T, norm < 1); with F(x) + x it gets about as much
    as the last layer, because dL/dx = dL/dy (dF/dx + I)."""
    def stack(residual):
        md.seed(0)
        layers = [nn.Serial(nn.Dense(8), nn.Tanh()) for _ in range(20)]
        if residual:
            layers = [nn.Residual(layer) for layer in layers]
        model = nn.Serial(*layers)
        x = md.tensor(_x((16, 8)))
        model(x)
        for p in model.parameters():
            if p.ndim == 2:
                p.data *= 0.3                       # small weights: each plain layer shrinks the gradient
        model(x).sum().backward()
        return diagnostics.grad_norms_per_layer(list(model))

    plain, skip = stack(False), stack(True)
    assert plain[0] < 1e-6 * plain[-1]
    assert skip[0] > 0.3 * skip[-1]
