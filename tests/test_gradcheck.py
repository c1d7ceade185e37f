"""The learner-facing checker: it must pass right answers and explain wrong ones."""
import numpy as np
import pytest

import minidl as md


class Sigmoid(md.Function):
    """The exercise: sigmoid with its backward written by a learner."""
    def forward(self, x):
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


class SigmoidForgotFactor(Sigmoid):
    def backward(self, gy):
        return gy * self.y                      # forgot (1 - y)


def x34():
    return np.random.default_rng(0).normal(size=(3, 4))


def test_correct_exercise_passes():
    report = md.gradcheck(lambda x: Sigmoid()(x), x34())
    assert report and report.passed
    assert "passed" in str(report)


def test_wrong_exercise_fails_with_a_helpful_report():
    report = md.gradcheck(lambda x: SigmoidForgotFactor()(x), x34())
    assert not report
    text = str(report)
    assert "FAIL" in text and "input 0" in text and "worst element at index" in text
    assert "analytic =" in text and "numeric =" in text and "relative error" in text
    assert "sigmoid'(x) = y(1 - y)" in text                     # the hint
    e = report.failures()[0]
    x = x34()
    y = 1 / (1 + np.exp(-x))
    # the reported numbers are the real ones at the reported index (up to the projection weight)
    assert abs(e.analytic / e.numeric - 1 / (1 - y[e.worst])) < 1e-4


def test_raise_exception_carries_the_report():
    with pytest.raises(md.GradcheckError) as info:
        md.gradcheck(lambda x: SigmoidForgotFactor()(x), x34(), raise_exception=True)
    assert not info.value.report.passed
    assert "worst element" in str(info.value)


def test_hint_transposed():
    class MatMulT(md.Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a @ b

        def backward(self, gy):
            return gy @ self.b.T, (self.a.T @ gy).T     # dB transposed

    r = md.gradcheck(lambda a, b: MatMulT()(a, b), np.ones((3, 4)) + x34(), np.eye(4) + 0.3 * x34()[:, :4].repeat(2, 0)[:4])
    assert "transposed" in str(r.failures()[0].hint)


def test_hint_constant_factor_and_sign():
    class Square(md.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, gy):
            return gy * self.x                      # forgot the 2

    class NegSquare(Square):
        def backward(self, gy):
            return -2 * gy * self.x

    r = md.gradcheck(lambda x: Square()(x), x34())
    assert "constant factor: analytic = 0.5 x numeric" in r.failures()[0].hint
    r = md.gradcheck(lambda x: NegSquare()(x), x34())
    assert "sign is flipped" in r.failures()[0].hint


def test_hint_missing_broadcast_sum():
    class AddBias(md.Function):
        def forward(self, x, b):
            return x + b

        def backward(self, gy):
            return gy, gy                           # should sum gy over the batch for b

    r = md.gradcheck(lambda x, b: AddBias()(x, b), x34(), np.zeros(4))
    bad = [e for e in r.entries if e.shape == (4,)][0]
    assert "missing sum over a broadcast axis" in bad.hint
    other = [e for e in r.entries if e.shape == (3, 4)][0]
    assert "not checked" in other.error


def test_hint_all_zeros():
    class Lazy(md.Function):
        def forward(self, x):
            return x * 3

        def backward(self, gy):
            return np.zeros_like(gy)

    r = md.gradcheck(lambda x: Lazy()(x), x34())
    assert "all zeros" in r.failures()[0].hint


def test_kinks_are_dodged_not_failed():
    x = np.array([[0.0, 1.0, -2.0], [3.0, 3.0, 0.0]])        # relu kinks at 0, a max tie
    assert md.gradcheck(lambda t: md.functional.relu(t).max(axis=1), x)


def test_checker_restores_parameter_dtype_and_values():
    W = md.tensor(np.ones((2, 2)), requires_grad=True)
    before = W.numpy().copy()
    r = md.gradcheck(lambda x: x @ W, np.ones((3, 2)), params=[W])
    assert r and W.dtype == np.float32 and W.grad is None
    np.testing.assert_array_equal(W.numpy(), before)
    assert "param 0" in str(r)


def test_numerical_grad_helper():
    x = md.tensor(np.array([1.0, 2.0]), dtype=md.float64)
    g, kinks = md.numerical_grad(lambda: (x.data ** 3).sum(), x)
    np.testing.assert_allclose(g, [3.0, 12.0], rtol=1e-6)
    assert kinks == []


# ----------------------------------------------------------------------------- the closer look
def test_hint_backward_ignores_gy():
    class NoChain(Sigmoid):
        def backward(self, gy):
            return self.y * (1 - self.y)            # the local derivative alone

    r = md.gradcheck(lambda x: NoChain()(x), x34())
    assert "ignores the incoming gradient" in r.failures()[0].hint


def test_hint_gradient_leaks_into_masked_positions():
    class MaskedSum(md.Function):
        def forward(self, x, mask):
            self.mask = mask
            return (x * mask).sum(axis=1)

        def backward(self, gy):
            return np.broadcast_to(gy[:, None], self.mask.shape).copy(), None   # forgot the mask

    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    r = md.gradcheck(lambda x, m: MaskedSum()(x, m), x34(), mask)
    assert "cannot change the output" in r.failures()[0].hint
    assert "padding or masked positions" in r.failures()[0].hint


def test_hint_wrong_shape_with_the_right_size():
    class Bias(md.Function):
        def forward(self, x, b):
            return x + b

        def backward(self, gy):
            return gy, gy.sum(axis=0)               # (4,) for a (1, 4) bias: keepdims forgotten

    r = md.gradcheck(lambda x, b: Bias()(x, b), x34(), np.zeros((1, 4)))
    bad = [e for e in r.entries if e.shape == (1, 4)][0]
    assert "keepdims=True" in bad.hint


def test_multi_output_function_is_checked_one_output_at_a_time():
    class SinCos(md.Function):
        def forward(self, x):
            self.x = x
            return np.sin(x), np.cos(x)

        def backward(self, g_sin, g_cos):
            return g_sin * np.cos(self.x)           # forgot the cos output's gradient

    r = md.gradcheck(lambda x: SinCos()(x), x34())
    assert not r and [ok for _, _, ok, _ in r.by_output] == [True, False]
    text = str(r)
    assert "checked one output at a time: output 0 ok;  output 1 FAIL" in text
    assert "output 1 (backward's argument 2) is ignored" in text

    class Right(SinCos):
        def backward(self, g_sin, g_cos):
            return g_sin * np.cos(self.x) - g_cos * np.sin(self.x)

    r = md.gradcheck(lambda x: Right()(x), x34())
    assert r and r.by_output == [] and "one output at a time" not in str(r)
