"""The exercise set (minidl/exercises): reference solutions pass, typical mistakes fail with a
hint that names them, untouched templates are "not started", start never overwrites, the CLI works.

Each WRONG entry below is a mistake learners really make, written as a subclass of the
reference solution that overrides backward; the test asserts the grader fails it AND that
the report's hint contains the words that name the mistake.
"""
import subprocess
import sys

import numpy as np
import pytest

from minidl import exercises
from minidl.exercises import grader
from minidl.exercises.__main__ import main
from minidl.exercises.solutions import (add_mul, conv_im2col, embedding, glove_loss, lstm_step,
                                        masked_mean, matmul, relu, rnn_step, sigmoid,
                                        softmax_cross_entropy, tanh, triplet_loss)

from minidl.exercises.solutions.add_mul import sum_to


# ----------------------------------------------------------------------------- typical mistakes
class AddMulNoSum(add_mul.MulAdd):            # returns gradients of y's (broadcast) shape
    def backward(self, gy):
        return gy * self.b, gy * self.a, gy


class AddMulAxis0(add_mul.MulAdd):            # hard-codes the batch axis
    def backward(self, gy):
        def fit(g, shape):
            return g if g.shape == shape else g.sum(axis=0)
        return fit(gy * self.b, self.a.shape), fit(gy * self.a, self.b.shape), fit(gy, self.c_shape)


class AddMulMean(add_mul.MulAdd):             # averages the copies instead of adding them
    def backward(self, gy):
        def mean_to(g, shape):
            return sum_to(g, shape) * np.prod(shape) / g.size
        return mean_to(gy * self.b, self.a.shape), mean_to(gy * self.a, self.b.shape), \
            mean_to(gy, self.c_shape)


class MatMulTransposed(matmul.MatMul):        # dB as (M, K)
    def backward(self, gy):
        return gy @ self.B.T, gy.T @ self.A


class MatMulNegative(matmul.MatMul):
    def backward(self, gy):
        return -(gy @ self.B.T), -(self.A.T @ gy)


class SigmoidForgotFactor(sigmoid.Sigmoid):
    def backward(self, gy):
        return gy * self.y


class SigmoidSign(sigmoid.Sigmoid):
    def backward(self, gy):
        return gy * self.y * (self.y - 1)


class SigmoidNoGy(sigmoid.Sigmoid):
    def backward(self, gy):
        return self.y * (1 - self.y)


class TanhNoSquare(tanh.Tanh):
    def backward(self, gy):
        return gy * (1 - self.y)


class TanhSign(tanh.Tanh):
    def backward(self, gy):
        return gy * (self.y ** 2 - 1)


class ReLUNoGy(relu.ReLU):
    def backward(self, gy):
        return (self.x > 0).astype(gy.dtype)


class ReLUMaskByGy(relu.ReLU):                # looks at the wrong sign
    def backward(self, gy):
        return gy * (gy > 0)


class CEForgotN(softmax_cross_entropy.SoftmaxCrossEntropy):
    def backward(self, gy):
        dz, _ = super().backward(gy)
        return dz * len(self.y), None


class CESign(softmax_cross_entropy.SoftmaxCrossEntropy):
    def backward(self, gy):
        dz, _ = super().backward(gy)
        return -dz, None


class MeanNoMask(masked_mean.MaskedMean):     # gradient flows into the padding
    def backward(self, gy):
        return np.broadcast_to(gy[:, None, :] / self.count[:, None, :], self.m.shape[:2] + gy.shape[1:]).copy(), None


class MeanByT(masked_mean.MaskedMean):        # divides by the padded length
    def backward(self, gy):
        return gy[:, None, :] * self.m / self.m.shape[1], None


class EmbeddingFancyIndex(embedding.Embedding):
    def backward(self, gy):
        dW = np.zeros(self.W_shape)
        dW[self.ids] += gy                    # a repeated id is written once
        return dW, None


class EmbeddingMeanOfRepeats(embedding.Embedding):
    def backward(self, gy):
        dW, _ = super().backward(gy)
        counts = np.bincount(self.ids.ravel(), minlength=len(dW))
        return dW / np.maximum(counts, 1)[:, None], None


class GloVeForgotTwo(glove_loss.GloVeLoss):
    def backward(self, gy):
        return tuple(g / 2 if g is not None else None for g in super().backward(gy))


class GloVeFancyIndex(glove_loss.GloVeLoss):
    def backward(self, gy):
        dW, dWc, db, dbc, _, _ = super().backward(gy)
        de = 2 * gy * self.weight * self.err
        dW = np.zeros_like(self.W)
        dW[self.i] += de[:, None] * self.W_ctx[self.j]
        return dW, dWc, db, dbc, None, None


class RNNNoBatchSum(rnn_step.RNNStep):
    def backward(self, gy):
        dx, dh, dW, _ = super().backward(gy)
        return dx, dh, dW, gy * (1 - self.h_new ** 2)


class RNNTransposedW(rnn_step.RNNStep):
    def backward(self, gy):
        dx, dh, dW, db = super().backward(gy)
        return dx, dh, dW.T, db


class RNNForgotTanh(rnn_step.RNNStep):
    def backward(self, gy):
        dW, dhx = self.hx.T @ gy, gy @ self.W.T
        return dhx[:, self.H:], dhx[:, :self.H], dW, gy.sum(axis=0)


class LSTMIgnoresGc(lstm_step.LSTMStep):      # forgets that c_t is an output too
    def backward(self, gh, gc):
        return super().backward(gh, np.zeros_like(gc))


class LSTMNoDcPrev(lstm_step.LSTMStep):       # no gradient to c_{t-1}
    def backward(self, gh, gc):
        dx, dh, dc, dW, db = super().backward(gh, gc)
        return dx, dh, np.zeros_like(dc), dW, db


class LSTMGateOrder(lstm_step.LSTMStep):      # dz blocks concatenated as i, f, g, o
    def backward(self, gh, gc):
        H = self.c.shape[1]
        f, i, g, o, tanh_c = self.f, self.i, self.g, self.o, self.tanh_c
        dc_t = gc + gh * o * (1 - tanh_c ** 2)
        dz = np.concatenate([dc_t * g * i * (1 - i), dc_t * self.c * f * (1 - f),
                             dc_t * i * (1 - g ** 2), gh * tanh_c * o * (1 - o)], axis=1)
        dhx = dz @ self.W.T
        return dhx[:, H:], dhx[:, :H], dc_t * f, self.hx.T @ dz, dz.sum(axis=0)


class TripletForgotMean(triplet_loss.TripletLoss):
    def backward(self, gy):
        dv1, dv2 = super().backward(gy)
        return dv1 * len(self.v1), dv2 * len(self.v1)


class TripletHingeAlwaysOn(triplet_loss.TripletLoss):
    def backward(self, gy):
        self.hinge_mean = np.ones_like(self.hinge_mean)
        self.hinge_closest = np.ones_like(self.hinge_closest)
        return super().backward(gy)


class ConvAssignCol2im(conv_im2col.Conv2d):   # overlapping windows overwrite each other
    def backward(self, gy):
        _, dw, db = super().backward(gy)
        F, C, kh, kw = self.w.shape
        N, _, H, W = self.x_shape
        OH, OW = H - kh + 1, W - kw + 1
        dcols = (gy.transpose(0, 2, 3, 1).reshape(-1, F) @ self.w.reshape(F, -1)).reshape(N, OH, OW, C, kh, kw)
        dx = np.zeros(self.x_shape)
        for i in range(kh):
            for j in range(kw):
                dx[:, :, i:i + OH, j:j + OW] = dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return dx, dw, db


class ConvBiasNoSum(conv_im2col.Conv2d):
    def backward(self, gy):
        dx, dw, _ = super().backward(gy)
        return dx, dw, gy.sum(axis=(2, 3))


class ConvReshapeTransposed(conv_im2col.Conv2d):   # (C*kh*kw, F) reshaped straight to w's shape
    def backward(self, gy):
        dx, _, db = super().backward(gy)
        F = self.w.shape[0]
        dw = (self.cols.reshape(-1, self.cols.shape[-1]).T @ gy.transpose(0, 2, 3, 1).reshape(-1, F))
        return dx, dw.reshape(self.w.shape), db


# (exercise, wrong class, words the hint must contain)
WRONG = [
    ("add_mul", AddMulNoSum, "missing sum over a broadcast axis"),
    ("add_mul", AddMulAxis0, "keepdims=True"),
    ("add_mul", AddMulMean, "missing sum"),
    ("matmul", MatMulTransposed, "transposed"),
    ("matmul", MatMulNegative, "sign is flipped"),
    ("sigmoid", SigmoidForgotFactor, "sigmoid'(x) = y(1 - y)"),
    ("sigmoid", SigmoidSign, "sign is flipped"),
    ("sigmoid", SigmoidNoGy, "ignores the incoming gradient"),
    ("tanh", TanhNoSquare, "tanh'(x) = 1 - y^2"),
    ("tanh", TanhSign, "sign is flipped"),
    ("relu", ReLUNoGy, "ignores the incoming gradient"),
    ("relu", ReLUMaskByGy, "mask or selection"),
    ("softmax_cross_entropy", CEForgotN, "constant factor"),
    ("softmax_cross_entropy", CESign, "sign is flipped"),
    ("masked_mean", MeanNoMask, "padding or masked positions"),
    ("masked_mean", MeanByT, "number of real tokens"),
    ("embedding", EmbeddingFancyIndex, "ignoring repeated ids"),
    ("embedding", EmbeddingMeanOfRepeats, "ignoring repeated ids"),
    ("glove_loss", GloVeForgotTwo, "constant factor: analytic = 0.5 x numeric"),
    ("glove_loss", GloVeFancyIndex, "ignoring repeated ids"),
    ("rnn_step", RNNNoBatchSum, "missing sum over a broadcast axis"),
    ("rnn_step", RNNTransposedW, "transposed"),
    ("rnn_step", RNNForgotTanh, "tanh'(x) = 1 - y^2"),
    ("lstm_step", LSTMIgnoresGc, "the gradient arriving for output 1 (c_t) (backward's argument 2) is ignored"),
    ("lstm_step", LSTMNoDcPrev, "all zeros"),
    ("lstm_step", LSTMGateOrder, "gate slices in the wrong order"),
    ("triplet_loss", TripletForgotMean, "constant factor"),
    ("triplet_loss", TripletHingeAlwaysOn, "inactive ReLU or hinge"),
    ("conv_im2col", ConvAssignCol2im, "overlapping windows"),
    ("conv_im2col", ConvBiasNoSum, "missing sum over a broadcast axis"),
    ("conv_im2col", ConvReshapeTransposed, "reshape of a transposed matrix"),
]


# ----------------------------------------------------------------------------- the grader
@pytest.mark.parametrize("ex", exercises.EXERCISES, ids=lambda ex: ex.name)
def test_reference_solution_passes(ex):
    result = exercises.check(ex, solution=True)
    assert result.status == "passing", str(result)
    assert len(result.cases) >= 1 and all(c.report.passed for c in result.cases)
    assert "PASSING" in str(result)


@pytest.mark.parametrize("name, wrong, words", WRONG, ids=[w[1].__name__ for w in WRONG])
def test_typical_mistake_fails_and_the_hint_names_it(name, wrong, words):
    result = exercises.check(exercises.find(name), cls=wrong)
    assert result.status == "failing"
    text = str(result)
    assert "FAILING" in text and "hint:" in text
    assert words in text, text


def test_every_exercise_has_at_least_two_typical_mistakes():
    counts = {ex.name: sum(w[0] == ex.name for w in WRONG) for ex in exercises.EXERCISES}
    assert min(counts.values()) >= 2, counts
    assert len(exercises.EXERCISES) >= 12


@pytest.mark.parametrize("ex", exercises.EXERCISES, ids=lambda ex: ex.name)
def test_template_is_a_runnable_exercise(ex, tmp_path):
    text = grader.template_path(ex).read_text()
    assert 'raise NotImplementedError("your code here")' in text
    assert "Derive" in text and "Used in" in text and f"check {ex.name}" in text
    assert "solutions" not in text                     # no pointer to the answer in the template
    created, _ = exercises.start(ex, tmp_path)
    assert created
    result = exercises.check(ex, tmp_path)             # untouched: not started, and no crash
    assert result.status == "not started", str(result)
    assert "your code here" in str(result)


def test_start_never_overwrites(tmp_path):
    ex = exercises.find("sigmoid")
    created, msg = exercises.start(ex, tmp_path)
    assert created and "created" in msg
    mine = tmp_path / ex.filename
    mine.write_text("# my work in progress\n")
    created, msg = exercises.start(ex, tmp_path)
    assert not created and "already exists" in msg and "kept" in msg
    assert mine.read_text() == "# my work in progress\n"


def _write_attempt(tmp_path, name, backward_body):
    """start the exercise, then replace the template's raise with ``backward_body``."""
    ex = exercises.find(name)
    exercises.start(ex, tmp_path)
    path = tmp_path / ex.filename
    path.write_text(path.read_text().replace('raise NotImplementedError("your code here")', backward_body))
    return ex


def test_learner_file_is_graded_from_the_folder(tmp_path):
    ex = _write_attempt(tmp_path, "sigmoid", "return gy * self.y * (1 - self.y)")
    assert exercises.check(ex, tmp_path).status == "passing"
    ex = _write_attempt(tmp_path, "tanh", "return gy * (1 - self.y)")
    result = exercises.check(ex, tmp_path)
    assert result.status == "failing" and "tanh'(x) = 1 - y^2" in str(result)
    assert not list(tmp_path.glob("__pycache__"))       # no bytecode left in the learner's folder


def test_crashing_backward_and_edited_forward_are_reported_not_raised(tmp_path):
    ex = _write_attempt(tmp_path, "embedding", "return self.nope, None")
    result = exercises.check(ex, tmp_path)
    assert result.status == "failing" and "AttributeError" in str(result) and "line" in str(result)
    ex = exercises.find("relu")
    exercises.start(ex, tmp_path)
    path = tmp_path / ex.filename
    path.write_text(path.read_text().replace("np.maximum(x, 0.0)", "np.maximum(x, 0.1)"))
    assert "forward pass differs" in str(exercises.check(ex, tmp_path))
    ex6 = _write_attempt(tmp_path, "softmax_cross_entropy", "return (self.p - 1) / len(self.y)")
    assert "None for the inputs that have no gradient" in str(exercises.check(ex6, tmp_path))
    path.write_text("this is not python")
    assert "does not load" in str(exercises.check(ex, tmp_path))


@pytest.mark.parametrize("name", ["add_mul", "embedding", "glove_loss", "triplet_loss"])
def test_other_seeds_draw_other_cases_that_the_solutions_pass(name):
    ex = exercises.find(name)
    a, b = ex.cases(0)[0], ex.cases(3)[0]
    assert not all(np.array_equal(x, y) for x, y in zip(a.inputs, b.inputs))
    assert exercises.check(ex, solution=True, seed=3).passed


def test_hints_are_graded(tmp_path):
    ex = exercises.find("lstm_step")
    first = exercises.hint(ex, tmp_path)
    assert "1 of 4" in first and ex.hints[0] in first and ex.hints[1] not in first
    second = exercises.hint(ex, tmp_path)
    assert "2 of 4" in second and ex.hints[1] in second
    assert "3 of 4" in exercises.hint(ex, tmp_path, level=3)
    last = exercises.hint(ex, tmp_path, level=99)
    assert "4 of 4" in last and "last hint" in last


# ----------------------------------------------------------------------------- the command line
def test_cli_list_start_check_hint(tmp_path, capsys):
    d = str(tmp_path)
    assert main(["start", "sigmoid", "--dir", d]) == 0
    assert main(["start", "03", "--dir", d]) == 1                   # by number; never overwrites
    assert "already exists" in capsys.readouterr().out
    assert main(["check", "sigmoid", "--dir", d]) == 2              # not started
    assert "NOT STARTED" in capsys.readouterr().out
    _write_attempt(tmp_path, "matmul", "return gy @ self.B.T, gy.T @ self.A")
    _write_attempt(tmp_path, "tanh", "return gy * (1 - self.y ** 2)")
    assert main(["check", "matmul", "--dir", d]) == 1
    assert "transposed" in capsys.readouterr().out
    assert main(["check", "tanh", "--dir", d]) == 0
    assert main(["check", "lstm", "--solution"]) == 0              # unique prefix
    capsys.readouterr()
    assert main(["list", "--dir", d]) == 0
    rows = {line.split()[1]: line for line in capsys.readouterr().out.splitlines()
            if line[:2].isdigit()}
    assert len(rows) == len(exercises.EXERCISES)
    assert "failing" in rows["matmul"] and "passing" in rows["tanh"]
    assert "not started" in rows["sigmoid"] and "not started" in rows["relu"]
    assert main(["hint", "relu", "--dir", d]) == 0 and "1 of 3" in capsys.readouterr().out
    assert main(["check", "nonsense"]) == 2
    assert "no exercise called" in capsys.readouterr().err


def test_cli_runs_as_a_module(tmp_path):
    out = subprocess.run([sys.executable, "-m", "minidl.exercises", "start", "relu", "--dir", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    assert "created" in out and (tmp_path / "05_relu.py").exists()
    out = subprocess.run([sys.executable, "-m", "minidl.exercises", "check", "relu", "--solution"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "PASSING" in out.stdout
