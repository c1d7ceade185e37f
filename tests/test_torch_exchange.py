"""The way out to PyTorch: ``to_torch`` / ``from_torch``, and the strict state-dict exchange.

For every exchangeable layer, the twin that ``to_torch`` builds gives the same
outputs, the same input gradients and the same parameter gradients (in
PyTorch's layout) as the minidl model, in float64.  Buffers (BatchNorm's
running statistics) travel both ways.  What cannot be exchanged is refused with
the reason, and a refused load changes nothing.  Skipped without PyTorch.
"""
import numpy as np
import pytest

import minidl as md
from minidl import backend, nn
from minidl.torch_interop import ExchangeError, from_torch, from_torch_state_dict, to_torch, to_torch_state_dict

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
B, T, D, H = 3, 5, 4, 6


@pytest.fixture(autouse=True)
def _float64():
    with md.default_dtype("float64"):
        yield


def _ids(shape, V=9, pad=False):
    ids = RNG.integers(1, V, size=shape)
    if pad:                                    # ragged: trailing padding, and one hole in the middle
        ids[0, -2:] = 0
        ids[1, 1] = 0
    return ids


def _floats(*shape):
    return RNG.standard_normal(shape)


def _flat(out):
    return list(out) if isinstance(out, tuple) and not isinstance(out[0], tuple) else \
        [t for o in out for t in (o if isinstance(o, tuple) else (o,))]


def _flatten_all(out):
    if isinstance(out, tuple):
        return [t for o in out for t in _flatten_all(o)]
    return [out]


def _grads_in_torch_layout(model):
    """minidl's parameter gradients, exported with the weights' layout (data <-> grad swapped)."""
    params = model.parameters()
    saved = [p.data for p in params]
    for p in params:
        g = p.grad if p.grad is not None else backend.xp_of(p.data).zeros_like(p.data)
        p.data = g
    try:
        return to_torch_state_dict(model)
    finally:
        for p, d in zip(params, saved):
            p.data = d


def _expected_torch_grad(name, exported, net):
    """PyTorch adds bias_ih and bias_hh, so both receive the gate's gradient (GRU: but the n block of bias_hh
    is b_hn's own)."""
    if "bias_hh_l" not in name:
        return exported[name]
    g = exported[name.replace("bias_hh", "bias_ih")].copy()
    owner = net.get_submodule(name.rsplit(".", 1)[0]) if "." in name else net
    if isinstance(owner, torch.nn.GRU):
        n = g.shape[0] // 3
        g[2 * n:] = exported[name][2 * n:]
    return g


def _compare(model, inputs, float_inputs=(), train=True, tol=1e-9):
    """Run model and its twin on the same inputs; compare outputs, input and parameter gradients."""
    model.train(train)
    xs = [md.tensor(a, requires_grad=i in float_inputs) for i, a in enumerate(inputs)]
    out = model(*xs)
    outs = _flatten_all(out)
    weights = [RNG.standard_normal(o.shape) for o in outs]
    sum(((o * md.tensor(w)).sum() for o, w in zip(outs, weights)), md.tensor(0.0)).backward()

    net = to_torch(model)
    assert net.training == train
    ts = [torch.tensor(a, requires_grad=i in float_inputs) for i, a in enumerate(inputs)]
    out_t = net(*ts)
    outs_t = _flatten_all(out_t)
    assert len(outs_t) == len(outs)
    sum((o * torch.tensor(w)).sum() for o, w in zip(outs_t, weights)).backward()

    for o, ot in zip(outs, outs_t):
        np.testing.assert_allclose(o.numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
    for i in float_inputs:
        np.testing.assert_allclose(backend.asnumpy(xs[i].grad), ts[i].grad.numpy(), rtol=tol, atol=tol)
    exported = _grads_in_torch_layout(model)
    names = [n for n, p in net.named_parameters() if p.requires_grad]
    assert names, "a layer with weights should have trainable parameters"
    for name, p in net.named_parameters():
        if p.requires_grad:
            np.testing.assert_allclose(_expected_torch_grad(name, exported, net), p.grad.numpy(),
                                       rtol=tol, atol=tol, err_msg=name)
    return net


CASES = {
    "dense": (lambda: nn.Serial(nn.Dense(H)), lambda: [_floats(B, D)], (0,)),
    "dense_3d_no_bias": (lambda: nn.Serial(nn.Dense(H, use_bias=False)), lambda: [_floats(B, T, D)], (0,)),
    "embedding_repeated_ids": (lambda: nn.Serial(nn.Embedding(9, D), nn.Dense(2)),
                               lambda: [np.array([[1, 2, 2], [6, 1, 1]])], ()),
    "relu_sigmoid_tanh": (lambda: nn.Serial(nn.Dense(H), nn.ReLU(), nn.Dense(H), nn.Sigmoid(), nn.Dense(H), nn.Tanh()),
                          lambda: [_floats(B, D)], (0,)),
    "softmax": (lambda: nn.Serial(nn.Dense(H), nn.Softmax()), lambda: [_floats(B, D)], (0,)),
    "log_softmax_axis0": (lambda: nn.Serial(nn.Dense(H), nn.LogSoftmax(axis=0)), lambda: [_floats(B, D)], (0,)),
    "embedding_mean_dense": (lambda: nn.Serial(nn.Embedding(9, D), nn.Mean(axis=1), nn.Dense(2), nn.LogSoftmax()),
                             lambda: [_ids((B, T))], ()),
    "masked_mean": (lambda: nn.Serial(nn.Branch(nn.Embedding(9, D), nn.PaddingMask()), nn.Mean(axis=1), nn.Dense(2)),
                    lambda: [_ids((B, T), pad=True)], ()),
    "sigmoid_range_normalize": (lambda: nn.Serial(nn.Dense(H), nn.Normalize(), nn.Dense(1), nn.SigmoidRange(0.5, 5.5)),
                                lambda: [_floats(B, D)], (0,)),
    "dropout_eval": (lambda: nn.Serial(nn.Dense(H), nn.Dropout(0.5), nn.Dense(2)), lambda: [_floats(B, D)], (0,)),
    "conv_pools_flatten": (lambda: nn.Serial(nn.Conv2d(3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                             nn.Conv2d(2, 2, stride=2, padding=1), nn.AvgPool2d(2, 1), nn.Flatten(),
                                             nn.Dense(2)),
                           lambda: [_floats(2, 2, 8, 8)], (0,)),
    "conv_global_pool": (lambda: nn.Serial(nn.Conv2d(3, (3, 2), use_bias=False), nn.GlobalAvgPool2d(), nn.Dense(2)),
                         lambda: [_floats(2, 2, 6, 5)], (0,)),
    "batchnorm_dense": (lambda: nn.Serial(nn.Dense(H), nn.BatchNorm(), nn.ReLU(), nn.Dense(2)),
                        lambda: [_floats(8, D)], (0,)),
    "batchnorm_conv": (lambda: nn.Serial(nn.Conv2d(3, 3, padding=1), nn.BatchNorm(), nn.Flatten(), nn.Dense(2)),
                       lambda: [_floats(4, 2, 5, 5)], (0,)),
    "rnn_tanh": (lambda: nn.Serial(nn.RNN(H)), lambda: [_floats(B, T, D)], (0,)),
    "rnn_relu_last": (lambda: nn.Serial(nn.RNN(H, activation="relu", return_sequences=False)),
                      lambda: [_floats(B, T, D)], (0,)),
    "lstm": (lambda: nn.Serial(nn.LSTM(H)), lambda: [_floats(B, T, D)], (0,)),
    "lstm_fused": (lambda: nn.Serial(nn.LSTM(H, fused=True)), lambda: [_floats(B, T, D)], (0,)),
    "lstm_state_tuple": (lambda: nn.Serial(nn.LSTM(H, return_sequences=False, return_state=True)),
                         lambda: [_floats(B, T, D)], (0,)),
    "lstm_reverse": (lambda: nn.Serial(nn.LSTM(H, reverse=True)), lambda: [_floats(B, T, D)], (0,)),
    "lstm_masked": (lambda: nn.Serial(nn.Branch(nn.Embedding(9, D), nn.PaddingMask()), nn.LSTM(H, return_state=True)),
                    lambda: [_ids((B, T), pad=True)], ()),
    "gru_reset_after": (lambda: nn.Serial(nn.GRU(H, reset_after=True)), lambda: [_floats(B, T, D)], (0,)),
    "gru_state_reverse": (lambda: nn.Serial(nn.GRU(H, reset_after=True, reverse=True, return_state=True)),
                          lambda: [_floats(B, T, D)], (0,)),
    "gru_masked_last": (lambda: nn.Serial(nn.Branch(nn.Embedding(9, D), nn.PaddingMask()),
                                          nn.GRU(H, reset_after=True, return_sequences=False)),
                        lambda: [_ids((B, T), pad=True)], ()),
    "bilstm": (lambda: nn.Serial(nn.Bidirectional(nn.LSTM(H))), lambda: [_floats(B, T, D)], (0,)),
    "bigru_last_state": (lambda: nn.Serial(nn.Bidirectional(nn.GRU(H, reset_after=True, return_sequences=False,
                                                                   return_state=True))),
                         lambda: [_floats(B, T, D)], (0,)),
    "bilstm_masked": (lambda: nn.Serial(nn.Branch(nn.Embedding(9, D), nn.PaddingMask()), nn.Bidirectional(nn.LSTM(H))),
                      lambda: [_ids((B, T), pad=True)], ()),
    "birnn_reverse_inside": (lambda: nn.Serial(nn.Bidirectional(nn.RNN(H, reverse=True))),
                             lambda: [_floats(B, T, D)], (0,)),
    "residual_with_shortcut": (lambda: nn.Serial(nn.Residual(nn.Dense(H), nn.Tanh(), shortcut=nn.Dense(H)), nn.Dense(2)),
                               lambda: [_floats(B, D)], (0,)),
    "residual_lstm": (lambda: nn.Serial(nn.Dense(H), nn.Residual(nn.LSTM(H))), lambda: [_floats(B, T, D)], (0,)),
    "siamese_shared_tower": (lambda: (lambda tower: nn.Parallel(tower, tower))(
        nn.Serial(nn.Embedding(9, D), nn.LSTM(H), nn.Mean(axis=1), nn.Normalize())),
        lambda: [_ids((B, T)), _ids((B, T))], ()),
    "concat_embeddings": (lambda: nn.Serial(nn.ConcatEmbeddings([(5, 2), (7, 3)]), nn.Dense(2)),
                          lambda: [np.stack([RNG.integers(0, 5, 6), RNG.integers(0, 7, 6)], axis=1)], ()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_twin_matches_in_values_and_every_gradient(case, backend_name):
    make, inputs, float_inputs = CASES[case]
    model = make()
    xs = inputs()
    model(*[md.tensor(a) for a in xs])          # build the lazy layers
    train = case != "dropout_eval"
    _compare(model, xs, float_inputs, train=train)


def test_batchnorm_buffers_travel_both_ways():
    model = nn.Serial(nn.Dense(H), nn.BatchNorm(momentum=0.3))
    x = _floats(8, D)
    model(md.tensor(x))
    net = to_torch(model)
    np.testing.assert_allclose(net[1].running_mean.numpy(), backend.asnumpy(model[1].running_mean))
    for _ in range(3):                          # both update their running statistics the same way
        model(md.tensor(x))
        net(torch.tensor(x))
    np.testing.assert_allclose(net[1].running_var.numpy(), backend.asnumpy(model[1].running_var), rtol=1e-12)
    with torch.no_grad():                       # trained on in PyTorch: new statistics come back
        net[1].running_mean.add_(1.5)
    fresh = nn.Serial(nn.Dense(H), nn.BatchNorm())              # unbuilt: built from the shapes
    from_torch(net, fresh)
    np.testing.assert_allclose(backend.asnumpy(fresh[1].running_mean), net[1].running_mean.numpy())
    fresh.eval()
    net.eval()
    np.testing.assert_allclose(fresh(md.tensor(x)).numpy(), net(torch.tensor(x)).detach().numpy(), atol=1e-12)
    assert set(dict(model.named_buffers())) == {"1.running_mean", "1.running_var"}


def test_round_trip_train_in_torch_and_come_back():
    """Embedding -> LSTM -> Dense: to PyTorch, a few Adam steps there, back into a fresh minidl model."""
    model = nn.Serial(nn.Embedding(20, 8), nn.LSTM(16), nn.Dense(5))
    ids = _ids((4, 7), V=20)
    model(md.tensor(ids))
    net = to_torch(model)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    y = torch.tensor(RNG.integers(0, 5, size=(4, 7)))
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.tensor(ids)).reshape(-1, 5), y.reshape(-1)).backward()
        opt.step()
    back = from_torch(net, nn.Serial(nn.Embedding(20, 8), nn.LSTM(16), nn.Dense(5)))
    np.testing.assert_allclose(back(md.tensor(ids)).numpy(), net(torch.tensor(ids)).detach().numpy(), atol=1e-12)
    assert not np.allclose(back(md.tensor(ids)).numpy(), model(md.tensor(ids)).numpy())   # it did move


def test_twin_dtype_mode_and_frozen_embedding():
    with md.default_dtype("float32"):
        model = nn.Serial(nn.Embedding(5, 3, trainable=False), nn.Dense(2))
        model(md.tensor(np.array([[1, 2]])))
    model.eval()
    net = to_torch(model)
    assert net[1].weight.dtype == torch.float32 and not net.training
    assert not net[0].weight.requires_grad and net[1].weight.requires_grad


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("make, match", [
    (lambda: nn.Serial(nn.GRU(H)), "reset_after=True"),
    (lambda: nn.Serial(nn.Dense(H), nn.Fn("Double", lambda x: 2 * x)), "Python function"),
    (lambda: nn.Serial(nn.Dense(H), nn.HierarchicalSoftmax(8)), "HierarchicalSoftmax"),
], ids=["course_gru", "fn", "hierarchical_softmax"])
def test_layers_without_a_twin_are_refused_with_the_reason(make, match):
    model = make()
    try:
        model(md.tensor(_floats(B, T, D)))
    except Exception:
        pass                                    # the hierarchical softmax is not called like a layer
    with pytest.raises(ExchangeError, match=match):
        to_torch(model)


@pytest.mark.parametrize("make, fix", [
    (lambda: nn.Serial(nn.Dense(3)), r"nn.Dense\(3, n_in=...\)"),
    (lambda: nn.Serial(nn.Embedding(5, 4), nn.LSTM(3)), r"cell.build\(n_in\)"),
    (lambda: nn.Serial(nn.Bidirectional(nn.GRU(3, reset_after=True))), "call the model once|Call the model once"),
], ids=["dense", "lstm", "bidirectional"])
def test_unbuilt_lazy_layers_say_to_call_the_model_once(make, fix):
    for export in (to_torch_state_dict, to_torch):
        with pytest.raises(ExchangeError, match="Call the model once") as info:
            export(make())
        assert __import__("re").search(fix, str(info.value)), str(info.value)


def _lstm_model():
    model = nn.Serial(nn.LSTM(H))
    model(md.tensor(_floats(B, T, D)))
    return model


def _torch_sd(module):
    return {"0." + k: v for k, v in module.double().state_dict().items()}


@pytest.mark.parametrize("make_sd, match", [
    (lambda: _torch_sd(torch.nn.LSTM(D, H, num_layers=2, batch_first=True)), "multi-layer PyTorch RNN"),
    (lambda: _torch_sd(torch.nn.LSTM(D, H, bidirectional=True, batch_first=True)), "nn.Bidirectional"),
    (lambda: {**_torch_sd(torch.nn.LSTM(D, H, batch_first=True)), "0.stray": torch.zeros(3)}, "'0.stray'"),
    (lambda: {**_torch_sd(torch.nn.LSTM(D, H, batch_first=True)), "0.bias_hh_l0": torch.tensor(0.5)},
     r"'0.bias_hh_l0' has shape \(\), but the layer needs \(24,\)"),
    (lambda: _torch_sd(torch.nn.LSTM(D + 1, H, batch_first=True)), r"weight_ih_l0' has shape \(24, 5\)"),
    (lambda: _torch_sd(torch.nn.GRU(D, H, batch_first=True)), r"weight_ih_l0' has shape \(18, 4\)"),
    (lambda: {k: v for k, v in _torch_sd(torch.nn.LSTM(D, H, batch_first=True)).items() if "bias_hh" not in k},
     "has no '0.bias_hh_l0'"),
], ids=["two_layer", "bidirectional_into_one_way", "stray_key", "scalar_bias", "wrong_input_size",
        "gru_into_lstm", "missing_bias"])
def test_strict_load_refuses_and_changes_nothing(make_sd, match):
    model = _lstm_model()
    before = [backend.asnumpy(p.data).copy() for p in model.parameters()]
    with pytest.raises(ExchangeError, match=match):
        from_torch_state_dict(model, make_sd())
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(b, backend.asnumpy(p.data))


def test_a_one_way_torch_lstm_into_a_bidirectional_model_names_the_missing_direction():
    model = nn.Serial(nn.Bidirectional(nn.LSTM(H)))
    model(md.tensor(_floats(B, T, D)))
    with pytest.raises(ExchangeError, match="bidirectional=True"):
        from_torch_state_dict(model, _torch_sd(torch.nn.LSTM(D, H, batch_first=True)))


def test_strict_load_of_a_good_state_dict_is_exact():
    """The refusals above are not a load that refuses everything: the matching module loads, exactly."""
    ref = torch.nn.LSTM(D, H, batch_first=True).double()
    model = _lstm_model()
    from_torch_state_dict(model, _torch_sd(ref))
    x = _floats(B, T, D)
    np.testing.assert_allclose(model(md.tensor(x)).numpy(), ref(torch.tensor(x))[0].detach().numpy(), atol=1e-12)


def test_plain_import_never_loads_torch():
    import subprocess
    import sys
    code = "import sys, minidl as md; md.torch_interop.to_torch; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_readme_example_runs_and_comes_back_with_torch_weights():
    import pathlib
    import re
    text = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"<!-- torch-example:start -->\n```python\n(.*?)```\n<!-- torch-example:end -->", text, re.S)
    assert block, "the README's PyTorch example is missing its markers"
    scope = {}
    exec(compile(block.group(1), "README.md (torch example)", "exec"), scope)
    model, net, ids = scope["model"], scope["net"], scope["ids"]
    with torch.no_grad():
        want = net(torch.tensor(ids)).numpy()
    np.testing.assert_allclose(model(md.tensor(ids)).numpy(), want, rtol=1e-4, atol=1e-5)
