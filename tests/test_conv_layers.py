"""Conv2d, pooling, GlobalAvgPool2d and BatchNorm layers: gradient checks (inputs and parameters)
on every backend, lazy shapes, train/eval behaviour, and errors that name the layer and the shapes."""
import numpy as np
import pytest

import minidl as md
from minidl import backend, nn


def _rand(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def check(layer, *inputs):
    with md.default_dtype("float64"):
        report = md.gradcheck(layer, *inputs)
    assert report, str(report)
    return report


# ----------------------------------------------------------------------------- Conv2d
def test_conv2d_layer_builds_lazily_with_pytorch_layout(backend_name):
    layer = nn.Conv2d(8, 3, stride=2, padding=1)
    assert layer.name == "Conv2d_8_3x3_s2" and not layer.parameters()
    y = layer(md.tensor(_rand((5, 3, 28, 28))))
    assert y.shape == (5, 8, 14, 14)
    assert layer.W.shape == (8, 3, 3, 3) and layer.b.shape == (8,)
    # Glorot-uniform with fan_in = 3*9, fan_out = 8*9: |W| <= sqrt(6 / (27 + 72))
    assert np.abs(layer.W.numpy()).max() <= np.sqrt(6 / 99) + 1e-6
    np.testing.assert_array_equal(layer.b.numpy(), 0)
    assert nn.Conv2d(4, (3, 5)).name == "Conv2d_4_3x5"


def test_conv2d_layer_equals_the_op_with_its_weights(backend_name):
    layer = nn.Conv2d(4, (2, 3), stride=(2, 1), padding=(1, 0))
    x = md.tensor(_rand((2, 3, 6, 7)))
    y = layer(x)
    ref = md.ops.conv2d(x, layer.W, layer.b, stride=(2, 1), padding=(1, 0))
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("options", [dict(stride=2, padding=1), dict(stride=1, padding=0, use_bias=False)])
def test_conv2d_layer_gradients(backend_name, options):
    with md.default_dtype("float64"):
        layer = nn.Conv2d(3, (3, 2), **options)
    report = check(layer, _rand((2, 2, 6, 5)))
    names = [e.name for e in report.entries]
    assert names[0] == "input 0" and "param W" in names
    assert ("param b" in names) == options.get("use_bias", True)


def test_conv2d_layer_errors_name_the_layer_and_shapes(backend_name):
    layer = nn.Conv2d(8, 3, stride=2)
    with pytest.raises(ValueError, match=r"Conv2d_8_3x3_s2: expects a 4-D input \(batch, channels, height, "
                                         r"width\), got shape \(28, 28\)"):
        layer(md.tensor(_rand((28, 28))))
    layer(md.tensor(_rand((2, 1, 28, 28))))             # builds for 1 channel
    with pytest.raises(ValueError, match=r"Conv2d_8_3x3_s2: input of shape \(2, 3, 28, 28\) has 3 channels "
                                         r"but the weights of shape \(8, 1, 3, 3\) expect 1"):
        layer(md.tensor(_rand((2, 3, 28, 28))))
    with pytest.raises(ValueError, match=r"Conv2d_8_3x3_s2: kernel 3x3 is larger than the padded input 2x2"):
        layer(md.tensor(_rand((2, 1, 2, 2))))


# ----------------------------------------------------------------------------- pooling layers
@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
def test_pool_layers(backend_name, cls):
    layer = cls(2)
    assert layer.name == f"{cls.__name__}_2x2"
    y = layer(md.tensor(_rand((2, 3, 7, 6))))
    assert y.shape == (2, 3, 3, 3)                      # (7 - 2) // 2 + 1 = 3: the last row is dropped
    check(cls(3, stride=2), _rand((2, 2, 7, 7), 1))
    with pytest.raises(ValueError, match=rf"{cls.__name__}_2x2: expects a 4-D input .* got shape \(7, 6\)"):
        layer(md.tensor(_rand((7, 6))))
    with pytest.raises(ValueError, match=rf"{cls.__name__}_2x2: pooling window 2x2 is larger than the padded "
                                         rf"input 1x6"):
        layer(md.tensor(_rand((2, 3, 1, 6))))


def test_global_average_pooling(backend_name):
    x = _rand((2, 3, 4, 5))
    y = nn.GlobalAvgPool2d()(md.tensor(x))
    np.testing.assert_allclose(y.numpy(), x.mean(axis=(2, 3)), rtol=1e-5)
    check(nn.GlobalAvgPool2d(), x)
    with pytest.raises(ValueError, match=r"GlobalAvgPool2d: expects a 4-D input"):
        nn.GlobalAvgPool2d()(md.tensor(_rand((2, 3))))


def test_flatten_bridges_conv_to_dense(backend_name):
    model = nn.Serial(nn.Conv2d(4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dense(10))
    assert model(md.tensor(_rand((2, 1, 8, 8)))).shape == (2, 10)
    assert model[4].W.shape == (4 * 4 * 4, 10)


# ----------------------------------------------------------------------------- BatchNorm
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 3)])
def test_batchnorm_training_gradients(backend_name, shape):
    with md.default_dtype("float64"):
        layer = nn.BatchNorm()
        layer(md.tensor(_rand(shape)))
        layer.gamma.data = layer.gamma.data + backend.xp_of(layer.gamma.data).asarray([0.5, -1.0, 2.0])
        layer.beta.data = layer.beta.data + 0.3
    report = check(layer, _rand(shape, 2) * 3 + 1)
    assert [e.name for e in report.entries] == ["input 0", "param gamma", "param beta"]


def test_batchnorm_normalises_each_channel_and_tracks_running_statistics(backend_name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3, 5, 5)) * np.array([1, 5, 0.2])[None, :, None, None] + np.array([0, 10, -3])[None, :, None, None]
    layer = nn.BatchNorm(momentum=0.1)
    y = layer(md.tensor(x)).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    assert layer.gamma.shape == (3,) and layer.name == "BatchNorm_3"
    m = x.size // 3
    np.testing.assert_allclose(backend.asnumpy(layer.running_mean), 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-4)
    np.testing.assert_allclose(backend.asnumpy(layer.running_var),
                               0.9 + 0.1 * x.var(axis=(0, 2, 3)) * m / (m - 1), rtol=1e-4)


def test_batchnorm_eval_uses_running_statistics(backend_name):
    layer = nn.BatchNorm(momentum=1.0)                  # running stats = the last batch's
    x = _rand((32, 2), 3) * 4 + 7
    layer(md.tensor(x))
    layer.eval()
    one = md.tensor(x[:1])                              # a batch of one works in eval mode
    unbiased = x.var(axis=0, ddof=1)
    np.testing.assert_allclose(layer(one).numpy(), (x[:1] - x.mean(0)) / np.sqrt(unbiased + 1e-5), rtol=1e-4)
    before = backend.asnumpy(layer.running_mean).copy()
    layer(md.tensor(x * 10))
    np.testing.assert_array_equal(backend.asnumpy(layer.running_mean), before)   # eval does not update
    check(layer, x[:4])                                 # eval-mode gradients: an affine map


def test_train_and_eval_switch_batchnorm_and_dropout_together(backend_name):
    model = nn.Serial(nn.Dense(8), nn.BatchNorm(), nn.ReLU(), nn.Dropout(0.5), nn.Dense(2))
    x = md.tensor(_rand((16, 4)))
    a, b = model(x).numpy(), model(x).numpy()
    assert not np.allclose(a, b)                        # dropout masks differ in training
    model.eval()
    assert not model[1].training and not model[3].training
    a, b = model(x).numpy(), model(x).numpy()
    np.testing.assert_array_equal(a, b)                 # deterministic in evaluation
    model.train()
    assert model[1].training and model[3].training


def test_batchnorm_errors(backend_name):
    layer = nn.BatchNorm()
    layer(md.tensor(_rand((4, 3, 2, 2))))
    with pytest.raises(ValueError, match=r"BatchNorm_3: input of shape \(4, 5, 2, 2\) has 5 channels on axis 1, "
                                         r"but the layer was built for 3"):
        layer(md.tensor(_rand((4, 5, 2, 2))))
    with pytest.raises(ValueError, match=r"BatchNorm_3: training mode needs more than one value per channel"):
        layer(md.tensor(_rand((1, 3))))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 3, 2)])
def test_fused_batch_norm_equals_the_composed_twin(backend_name, shape):
    from minidl.nn.norm import batch_norm_simple
    results = []
    for fn in (md.ops.batch_norm, batch_norm_simple):
        with md.default_dtype("float64"):
            x = md.tensor(_rand(shape, 5) * 2 - 1, requires_grad=True)
            gamma = md.tensor(_rand(3, 6), requires_grad=True)
            beta = md.tensor(_rand(3, 7), requires_grad=True)
            R = md.tensor(_rand(shape, 8))
        y, mean, var = fn(x, gamma, beta, 1e-5)
        (y * R).sum().backward()
        results.append([y.numpy(), backend.asnumpy(mean), backend.asnumpy(var)]
                       + [backend.asnumpy(t.grad) for t in (x, gamma, beta)])
    for fused, simple in zip(*results):
        np.testing.assert_allclose(fused, simple, rtol=1e-9, atol=1e-12)
    # and the layer uses each of them
    for fused in (True, False):
        with md.default_dtype("float64"):
            layer = nn.BatchNorm(fused=fused)
        check(layer, _rand(shape, 9))
