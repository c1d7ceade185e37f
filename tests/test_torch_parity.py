"""Parity with the reference framework: the same weights give the same numbers in PyTorch.

Values and gradients of Dense, Embedding, the LSTM and GRU (reset_after) cells
and layers, cross-entropy, SGD with momentum and Adam, plus the weight
exchange ``md.io.to_torch_state_dict`` / ``from_torch_state_dict`` both ways.
Skipped when PyTorch is not installed (``pip install -e '.[bench]'``).
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn, optim

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
B, T, D, H = 3, 5, 4, 6


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _load(torch_module, model, rename=lambda k: k):
    sd = {rename(k): torch.from_numpy(v.astype(np.float64)) for k, v in md.io.to_torch_state_dict(model).items()}
    torch_module.double().load_state_dict(sd)
    return torch_module


def _close(a, b, tol=1e-8):
    np.testing.assert_allclose(np.asarray(a), b.detach().numpy() if hasattr(b, "detach") else b,
                               rtol=tol, atol=tol)


@pytest.fixture(autouse=True)
def _float64():
    with md.default_dtype("float64"):
        yield


def test_dense_value_and_gradients():
    layer = nn.Serial(nn.Dense(H))
    x = RNG.standard_normal((B, D))
    xm = md.tensor(x, requires_grad=True)
    y = layer(xm)
    (y * y).sum().backward()
    ref = _load(torch.nn.Sequential(torch.nn.Linear(D, H)), layer)
    xt = _t(x, True)
    yt = ref(xt)
    (yt * yt).sum().backward()
    _close(y.numpy(), yt)
    _close(xm.grad, xt.grad)
    _close(layer[0].W.grad.T, ref[0].weight.grad)
    _close(layer[0].b.grad, ref[0].bias.grad)


def test_embedding_value_and_gradient_with_repeated_ids():
    layer = nn.Serial(nn.Embedding(7, D))
    ids = np.array([[1, 2, 2], [6, 1, 1]])
    y = layer(md.tensor(ids))
    (y * y).sum().backward()
    ref = _load(torch.nn.Sequential(torch.nn.Embedding(7, D)), layer)
    yt = ref(torch.tensor(ids))
    (yt * yt).sum().backward()
    _close(y.numpy(), yt)
    _close(layer[0].W.grad, ref[0].weight.grad)


@pytest.mark.parametrize("fused", [False, True], ids=["scan", "fused"])
def test_lstm_layer_value_and_gradients(fused):
    layer = nn.Serial(nn.LSTM(H, fused=fused))
    x = RNG.standard_normal((B, T, D))
    xm = md.tensor(x, requires_grad=True)
    y = layer(xm)
    (y * y).sum().backward()
    ref = _load(torch.nn.LSTM(D, H, batch_first=True), layer, rename=lambda k: k.split(".", 1)[1])
    xt = _t(x, True)
    yt, _ = ref(xt)
    (yt * yt).sum().backward()
    _close(y.numpy(), yt)
    _close(xm.grad, xt.grad)
    W_grad = layer[0].cell.W.grad
    swap = lambda g: np.concatenate([g[H:2 * H], g[:H], g[2 * H:]])          # torch's i, f <- our f, i
    _close(swap(W_grad[H:].T), ref.weight_ih_l0.grad)
    _close(swap(W_grad[:H].T), ref.weight_hh_l0.grad)


def test_gru_reset_after_layer_and_bidirectional_match_torch():
    layer = nn.Serial(nn.Bidirectional(nn.GRU(H, reset_after=True)))
    x = RNG.standard_normal((B, T, D))
    xm = md.tensor(x, requires_grad=True)
    y = layer(xm)
    (y * y).sum().backward()
    ref = _load(torch.nn.GRU(D, H, batch_first=True, bidirectional=True), layer,
                rename=lambda k: k.split(".", 1)[1])
    xt = _t(x, True)
    yt, _ = ref(xt)
    (yt * yt).sum().backward()
    _close(y.numpy(), yt)
    _close(xm.grad, xt.grad)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_cells_match_torch_cells(kind):
    layer = nn.LSTM(H) if kind == "lstm" else nn.GRU(H, reset_after=True)
    cell = layer.cell
    x, h = RNG.standard_normal((B, D)), RNG.standard_normal((B, H))
    cell.build(D)
    ref_cls = torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell
    ref = _load(ref_cls(D, H), nn.Serial(layer), rename=lambda k: k.split(".", 1)[1].replace("_l0", ""))
    if kind == "lstm":
        c = RNG.standard_normal((B, H))
        y, _ = cell(md.tensor(x), (md.tensor(h), md.tensor(c)))
        yt, _ = ref(_t(x), (_t(h), _t(c)))
    else:
        y, _ = cell(md.tensor(x), md.tensor(h))
        yt = ref(_t(x), _t(h))
    _close(y.numpy(), yt)


def test_the_course_gru_is_refused_with_the_reason():
    model = nn.Serial(nn.GRU(H))
    model(md.tensor(RNG.standard_normal((B, T, D))))
    with pytest.raises(md.io.ExchangeError, match="reset_after=True"):
        md.io.to_torch_state_dict(model)


def test_round_trip_through_a_torch_model():
    model = nn.Serial(nn.Embedding(9, D), nn.LSTM(H), nn.Dense(3))
    ids = md.tensor(RNG.integers(0, 9, size=(B, T)))
    before = model(ids).numpy()

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.lstm, self.out = torch.nn.Embedding(9, D), torch.nn.LSTM(D, H, batch_first=True), \
                torch.nn.Linear(H, 3)

        def forward(self, i):
            return self.out(self.lstm(self.emb(i))[0])

    ref = Tagger().double()
    names = {"0": "emb", "1": "lstm", "2": "out"}
    sd = {names[k.split(".")[0]] + "." + k.split(".", 1)[1]: torch.from_numpy(v)
          for k, v in md.io.to_torch_state_dict(model).items()}
    ref.load_state_dict(sd)
    _close(before, ref(torch.tensor(ids.numpy())), tol=1e-6)
    fresh = nn.Serial(nn.Embedding(9, D), nn.LSTM(H), nn.Dense(3))
    back = {str(list(names.values()).index(k.split(".")[0])) + "." + k.split(".", 1)[1]: v
            for k, v in ref.state_dict().items()}
    md.io.from_torch_state_dict(fresh, back)
    _close(before, fresh(ids).numpy(), tol=1e-10)


def test_cross_entropy_value_and_gradient():
    z, y = RNG.standard_normal((B, T, 7)), RNG.integers(0, 7, size=(B, T))
    zm = md.tensor(z, requires_grad=True)
    loss = md.losses.cross_entropy(zm, y)
    loss.backward()
    zt = _t(z, True)
    ref = torch.nn.functional.cross_entropy(zt.reshape(-1, 7), torch.tensor(y).reshape(-1))
    ref.backward()
    _close(loss.item(), ref)
    _close(zm.grad, zt.grad)


@pytest.mark.parametrize("make", [
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda p: optim.Adam(p, lr=0.05), lambda p: torch.optim.Adam(p, lr=0.05)),
], ids=["sgd-momentum", "adam"])
def test_optimizers_take_the_same_steps(make):
    start = RNG.standard_normal((4, 3))
    target = RNG.standard_normal((4, 3))
    w = nn.parameter(start)
    wt = _t(start, True)
    ours, theirs = make[0]([w]), make[1]([wt])
    for _ in range(5):
        ours.zero_grad()
        ((w - md.tensor(target)) ** 2).sum().backward()
        ours.step()
        theirs.zero_grad()
        ((wt - _t(target)) ** 2).sum().backward()
        theirs.step()
    _close(w.numpy(), wt, tol=1e-7)
