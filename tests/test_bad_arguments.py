"""Issue 28's unclear crashes and silent acceptances: each is now one line naming the argument,
the value and what was expected (or a correct result)."""
import json
import subprocess
import sys

import numpy as np
import pytest

import minidl as md
from minidl import nn, optim
from minidl.data import TabularProcessor, TextVectorizer


# ----------------------------------------------------------------------------- unclear crashes
def test_concat_and_stack_of_arrays_only_work_and_an_empty_list_is_named():
    y = md.concat([np.ones(2), np.zeros(3)])
    assert y.dtype == np.float32 and y.numpy().tolist() == [1, 1, 0, 0, 0]
    assert md.stack([np.ones(2), np.zeros(2)], axis=1).shape == (2, 2)
    for f in (md.concat, md.stack):
        with pytest.raises(ValueError, match=f"{f.__name__}: xs must hold at least one tensor, got an empty list"):
            f([])
    with pytest.raises(TypeError, match="concat: xs must be a list or tuple of tensors, got Tensor"):
        md.concat(md.tensor([1.0]))
    with pytest.raises(ValueError, match=r"concat: xs\[1\] has shape \(2, 3\) but xs\[0\] has \(2, 2\); "
                                         r"the shapes must be equal except along axis 0"):
        md.concat([np.ones((2, 2)), np.ones((2, 3))])


def test_split_of_an_empty_axis_gives_empty_sections_as_numpy():
    parts = md.split(md.tensor(np.ones((0, 2))), 2)
    assert [p.shape for p in parts] == [(0, 2), (0, 2)]
    with pytest.raises(ValueError, match="split: indices_or_sections .* must be a positive integer, got 0"):
        md.split(md.tensor(np.ones(4)), 0)
    assert [p.shape for p in md.split(md.tensor(np.ones(4)), np.int64(2))] == [(2,), (2,)]


def test_a_forward_returning_a_python_float_is_named():
    class Half(md.Function):
        def forward(self, x):
            return 0.5

        def backward(self, gy):
            return gy

    with pytest.raises(TypeError, match="Half.forward returned float 0.5 as output 0; forward must return "
                                        "backend arrays"):
        Half()(md.tensor([1.0]))


def test_a_broadcast_mismatch_names_the_function_and_every_input_shape():
    with pytest.raises(ValueError, match=r"^Add: the inputs do not broadcast together "
                                         r"\(input 0 of shape \(2,\), input 1 of shape \(3,\)\)$") as info:
        md.tensor([1.0, 2.0]) + md.tensor([1.0, 2.0, 3.0])
    assert info.value.__suppress_context__             # NumPy's nameless message is not chained on


def test_any_other_error_from_a_forward_comes_through_unchanged():
    class Picky(md.Function):
        def forward(self, x):
            raise ValueError("Picky needs a positive x")

    with pytest.raises(ValueError, match="^Picky needs a positive x$"):
        Picky()(md.tensor([1.0]))


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.Embedding(10, 0), ValueError, "Embedding: d_feature must be a positive integer, got 0"),
    (lambda: nn.Embedding(0, 4), ValueError, "Embedding: vocab_size must be a positive integer, got 0"),
    (lambda: nn.Conv2d(-1, 3), ValueError, "Conv2d: filters must be a positive integer, got -1"),
    (lambda: nn.Conv2d(0, 3), ValueError, "Conv2d: filters must be a positive integer, got 0"),
    (lambda: nn.Conv2d(4, 0), ValueError, "Conv2d: kernel_size must be a positive integer, got 0"),
    (lambda: nn.Conv2d(4, 3, padding=-1), ValueError, "Conv2d: padding must be an integer >= 0, got -1"),
    (lambda: nn.Conv2d(4, 3, stride=1.5), TypeError, "Conv2d: stride must be a whole number, got 1.5"),
    (lambda: nn.MaxPool2d(0), ValueError, "MaxPool2d: kernel_size must be a positive integer, got 0"),
])
def test_layer_sizes_follow_the_one_size_rule(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_binary_cross_entropy_takes_lists_and_refuses_targets_outside_0_1():
    loss = md.losses.binary_cross_entropy([0.5, -1.0], [1, 0])
    want = np.mean([np.log1p(np.exp(-0.5)), np.log1p(np.exp(-1.0))])
    assert loss.item() == pytest.approx(want, rel=1e-6)
    for bad in ([2.0, 0.0], [-0.5, 1.0], [np.nan, 1.0]):
        with pytest.raises(ValueError, match=r"binary_cross_entropy: targets must lie in \[0, 1\]"):
            md.losses.binary_cross_entropy(md.tensor([0.5, 1.0]), bad)


def test_textvectorizer_load_names_the_missing_key(tmp_path):
    vec = TextVectorizer()
    vec.adapt(["a b c"])
    path = tmp_path / "v.json"
    vec.save(path)
    config = json.loads(path.read_text())
    del config["output_mode"]
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="saved TextVectorizer config lacks 'output_mode'"):
        TextVectorizer.load(path)


def test_lessons_refuse_a_negative_seed_in_one_line():
    out = subprocess.run([sys.executable, "-m", "lessons", "run", "01_tweet_sentiment", "--quick", "--seed", "-1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].endswith("argument --seed: must be an integer >= 0, got -1")


def test_benchmarks_readme_table_names_an_empty_row(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"rows": [{}]}))
    out = subprocess.run([sys.executable, "-m", "benchmarks", "readme-table", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "row 0 lacks framework, model, size_label, backend, status" in out.stderr


# ----------------------------------------------------------------------------- silent or weak
def test_tabular_integer_levels_accept_the_floats_pandas_gives_back():
    proc = TabularProcessor(cat_names=["shop"]).fit({"shop": [1, 2, 3]})
    cats, _ = proc.transform({"shop": [1.0, np.nan, 3.0]})
    assert cats[:, 0].tolist() == [1, 0, 3]                  # every row went to #na# before
    cats, _ = proc.transform({"shop": np.array([3.0, 2.0], dtype=np.float32)})
    assert cats[:, 0].tolist() == [3, 2]
    saved = TabularProcessor.from_state({**proc.state(), "vocab": {"shop": ["#na#", "1.0", "2.0", "3.0"]}})
    assert saved.transform({"shop": [2, 3.0]})[0][:, 0].tolist() == [2, 3]   # a processor saved with float levels


def test_a_gru_state_passed_on_as_a_mask_is_refused():
    model = nn.Serial(nn.GRU(8, return_state=True), nn.Mean(axis=1))
    with pytest.raises(ValueError, match=r"Mean: mask must hold only 0 and 1 .* got a float32 array of shape "
                                         r"\(2, 8\) .*is a state or a score being passed where the mask belongs"):
        model(md.tensor(np.random.default_rng(0).normal(size=(2, 8, 3))))


@pytest.mark.parametrize("mask", [np.full((2, 3), 2.0), np.full((2, 3), np.nan), -np.ones((2, 3)),
                                  np.full((2, 3), 0.5), np.full((2, 3), 2)])
@pytest.mark.parametrize("layer", [nn.Mean(axis=1), nn.LSTM(4), nn.GRU(4, fused=True), nn.RNN(4)],
                         ids=["Mean", "LSTM", "GRU-fused", "RNN"])
def test_masks_hold_only_zeros_and_ones(layer, mask):
    with pytest.raises(ValueError, match=f"{layer.name}: mask must hold only 0 and 1"):
        layer(md.tensor(np.ones((2, 3, 4))), mask)
    ok = np.array([[1, 1, 0], [1, 0, 0]])
    for good in (ok, ok.astype(bool), ok.astype(np.float32)):
        layer(md.tensor(np.ones((2, 3, 4))), good)
    with pytest.raises(ValueError, match="masked_accuracy: mask must hold only 0 and 1"):
        md.metrics.masked_accuracy(np.zeros((2, 3, 5)), np.zeros((2, 3), int), mask)


def test_loss_masks_are_weights_that_must_be_finite_and_not_negative():
    z = md.tensor(np.zeros((2, 3)))
    assert md.losses.cross_entropy(z, [0, 1], mask=[0.5, 1.0]).item() == pytest.approx(np.log(3))
    for loss in (md.losses.cross_entropy, md.losses.nll_loss):
        for bad in ([-1.0, 1.0], [np.inf, 1.0], [np.nan, 1.0]):
            with pytest.raises(ValueError, match=f"{loss.__name__}: mask must hold finite weights >= 0"):
                loss(z - 5, [0, 1], mask=bad)


def test_nll_loss_refuses_probabilities():
    probs = md.tensor(np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"nll_loss: log_probs must be log-probabilities \(<= 0\).*values up to 0.3333"):
        md.losses.nll_loss(probs, [0, 1])
    logp = md.functional.log_softmax(md.tensor(np.random.default_rng(0).normal(size=(4, 6)) * 30))
    md.losses.nll_loss(logp, [0, 1, 2, 3])                        # real log-probabilities always pass


def test_fit_refuses_clip_zero_and_the_optimizer_refuses_non_finite_gradients():
    model = nn.Dense(1, n_in=2)
    batches = [(np.ones((4, 2)), np.ones((4, 1)))]
    for clip in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="fit: clip .* must be a positive number"):
            md.train.fit(model, md.losses.mse, optim.SGD(model, 0.1), batches, clip=clip, progress=False)
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm must be a positive number, got 0.0"):
        optim.clip_grad_norm(model, 0)


@pytest.mark.parametrize("make", [lambda m: optim.SGD(m, 0.1, momentum=0.9), lambda m: optim.Adam(m, 0.1),
                                  lambda m: optim.AdamW(m, 0.1), lambda m: optim.Adagrad(m, 0.1)],
                         ids=["SGD", "Adam", "AdamW", "Adagrad"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_step_with_a_non_finite_gradient_moves_neither_weights_nor_state(make, bad):
    model = nn.Serial(nn.Dense(3, n_in=2), nn.Dense(1))
    model(md.tensor(np.ones((1, 2))))
    opt = make(model)
    for _ in range(2):                                        # some optimizer state to protect
        opt.zero_grad()
        (model(md.tensor(np.ones((4, 2)))) ** 2).sum().backward()
        opt.step()
    weights = [p.numpy().copy() for p in model.parameters()]
    state = {id(p): {k: np.array(v, copy=True) for k, v in s.items()} for p, s in opt.state.items()}
    model[1].W.grad[0, 0] = bad
    with pytest.raises(optim.NonFiniteGradientError, match=r"step: the gradient holds NaN or inf: non-finite "
                                                           r"gradient in 1.W \(Dense.W\)") as info:
        opt.step()
    assert info.value.params == ["1.W (Dense.W)"]
    for p, w in zip(model.parameters(), weights):
        np.testing.assert_array_equal(p.numpy(), w)
    for p, s in opt.state.items():
        for k, v in s.items():
            np.testing.assert_array_equal(v, state[id(p)][k])


def test_a_float16_gradient_whose_sum_overflows_is_still_a_normal_step():
    p = nn.Parameter(np.zeros(3, np.float16))
    p.grad = np.full(3, 60000, np.float16)                    # finite, but the sum overflows float16
    optim.SGD([p], 1e-4).step()
    np.testing.assert_allclose(p.numpy().astype(float), -6.0, rtol=1e-2)


def test_gradcheck_with_nothing_to_check_says_so_instead_of_passed():
    with pytest.raises(ValueError, match=r"gradcheck: nothing to check: no floating input and no parameter "
                                         r"\(input 0: int64; integer inputs are passed through"):
        md.gradcheck(lambda ids: md.tensor(ids.data * 2.0), np.array([1, 2]))


def test_a_function_object_called_twice_is_refused():
    op = md.ops.activations.SigmoidOp()
    a, b = md.tensor([1.0], requires_grad=True), md.tensor([2.0], requires_grad=True)
    op(a)
    with pytest.raises(RuntimeError, match="SigmoidOp: this Function object was already called once"):
        op(b)


@pytest.mark.parametrize("layer", [nn.LSTM(4, fused=True), nn.GRU(4, fused=True), nn.LSTM(4), nn.RNN(4, replay=True)],
                         ids=["LSTM-fused", "GRU-fused", "LSTM", "RNN-replay"])
def test_every_recurrent_path_refuses_an_empty_sequence(layer):
    with pytest.raises(ValueError, match=r"the sequence has no steps: input of shape \(2, 0, 3\) has T = 0"):
        layer(md.tensor(np.ones((2, 0, 3))))
