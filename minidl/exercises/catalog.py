"""The exercise list: what each one is, the cases the grader checks it on, and its hints.

Each case is drawn from a seeded RNG (``check --seed N`` draws other sizes) but
always has the structure its exercise is about: a broadcast axis of size 1, a
square matrix where a transposed answer would have the right shape, ids that
repeat next to ids used once, H == D in a recurrent step, rows of a triplet
batch whose hinges are inactive, overlapping convolution windows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Case:
    label: str
    inputs: tuple                  # arrays: float (checked), int or bool (passed through)
    kwargs: dict = field(default_factory=dict)     # constructor arguments


@dataclass
class Exercise:
    number: int
    name: str
    title: str
    level: str                     # easy, medium, hard
    cls: str                       # the Function subclass in the template
    args: tuple                    # names of forward's inputs, for the report
    outputs: tuple                 # names of forward's outputs
    make_cases: Callable           # rng -> [Case]
    hints: tuple

    @property
    def filename(self) -> str:
        return f"{self.number:02d}_{self.name}.py"

    def cases(self, seed: int = 0):
        return self.make_cases(np.random.default_rng(seed))


# ----------------------------------------------------------------------------- cases
def _n(rng, *shape, scale=1.0):
    return rng.standard_normal(shape) * scale


def _ids(rng, V, singles, repeats):
    """Shuffled ids: ``singles`` ids used once, then one id per entry of ``repeats`` used that
    many times; the rest of range(V) unused."""
    perm = rng.permutation(V)
    ids = list(perm[:singles])
    for k, r in enumerate(repeats):
        ids += [perm[singles + k]] * r
    return rng.permutation(np.array(ids, dtype=np.int64))


def _add_mul(rng):
    N, D, T, M = (int(v) for v in rng.permutation([2, 3, 4, 5]))
    return [Case(f"a, b, c all ({N}, {D}): no broadcasting", (_n(rng, N, D), _n(rng, N, D), _n(rng, N, D))),
            Case(f"a ({N}, {D}), b ({D},), c (1, {D}): a row broadcast down the batch",
                 (_n(rng, N, D), _n(rng, D), _n(rng, 1, D))),
            Case(f"a (2, {T}, {D}), b ({T}, 1), c (): size-1 axes and a scalar",
                 (_n(rng, 2, T, D), _n(rng, T, 1), _n(rng))),
            Case(f"a ({N}, 1), b (1, {M}), c ({M},): both stretched (an outer product)",
                 (_n(rng, N, 1), _n(rng, 1, M), _n(rng, M)))]


def _matmul(rng):
    N, K, M = (int(v) for v in rng.permutation([2, 3, 4, 5])[:3])
    return [Case(f"A ({N}, {K}) @ B ({K}, {M})", (_n(rng, N, K), _n(rng, K, M))),
            Case("A (3, 3) @ B (3, 3): square, where a transposed answer has the right shape",
                 (_n(rng, 3, 3), _n(rng, 3, 3)))]


def _elementwise(scale):
    def cases(rng):
        N, D = (int(v) for v in rng.permutation([2, 3, 4])[:2])
        return [Case(f"x ({N}, {D})", (_n(rng, N, D, scale=scale),)),
                Case("x (2, 3, 2)", (_n(rng, 2, 3, 2, scale=scale),))]
    return cases


def _relu(rng):
    x = _n(rng, 3, 4)
    x[0, 1] = x[2, 2] = 0.0                          # on the kink: the checker nudges them
    return [Case("x (3, 4) with two exact zeros (the kink)", (x,)),
            Case("x (2, 3, 2)", (_n(rng, 2, 3, 2),))]


def _softmax_ce(rng):
    out = []
    for N, C in ((4, 3), (6, 5)):
        y = rng.integers(0, C, size=N)
        y[1] = y[0]                                  # a repeated class
        out.append(Case(f"z ({N}, {C}), y ({N},) = {y.tolist()}", (_n(rng, N, C, scale=1.5), y)))
    return out


def _masked_mean(rng):
    B, T, D = 3, 5, int(rng.integers(2, 4))
    lengths = np.array([T, int(rng.integers(1, 3)), int(rng.integers(3, T))])
    mask1 = np.arange(T)[None, :] < lengths[:, None]     # padding at the end
    mask2 = rng.random((B, T)) < 0.6
    mask2[:, 0] = True                                   # every row keeps a real token
    mask2[0] = True
    return [Case(f"x ({B}, {T}, {D}), lengths {lengths.tolist()} (padding at the end)",
                 (_n(rng, B, T, D), mask1)),
            Case(f"x ({B}, {T}, {D}), a scattered mask with {mask2.sum(1).tolist()} real tokens",
                 (_n(rng, B, T, D), mask2))]


def _embedding(rng):
    ids1 = _ids(rng, 7, 3, (2, 3)).reshape(2, 4)
    ids2 = _ids(rng, 5, 2, (2, 2))
    return [Case(f"W (7, 3), ids (2, 4) = {ids1.tolist()}", (_n(rng, 7, 3), ids1)),
            Case(f"W (5, 2), ids (6,) = {ids2.tolist()}", (_n(rng, 5, 2), ids2))]


def _glove(rng):
    V, d, K = 6, 3, 10
    i, j = _ids(rng, V, 2, (3, 3, 2)), _ids(rng, V, 2, (2, 2, 4))
    counts = np.round(rng.uniform(1, 300, size=K))   # some above x_max = 100: weight 1
    return [Case(f"V {V}, d {d}, {K} pairs: i = {i.tolist()}, j = {j.tolist()}",
                 (_n(rng, V, d, scale=0.5), _n(rng, V, d, scale=0.5), _n(rng, V, scale=0.5),
                  _n(rng, V, scale=0.5), i, j), {"counts": counts})]


def _rnn(rng):
    return [Case(f"B {B}, D {D}, H {H}" + (": H == D, a swapped split has the right shapes" if H == D else ""),
                 (_n(rng, B, D), _n(rng, B, H), _n(rng, H + D, H, scale=0.5), _n(rng, H, scale=0.5)))
            for B, D, H in ((3, 2, 4), (2, 3, 3))]


def _lstm(rng):
    return [Case(f"B {B}, D {D}, H {H}" + (": H == D" if H == D else ""),
                 (_n(rng, B, D), _n(rng, B, H), _n(rng, B, H), _n(rng, H + D, 4 * H, scale=0.5),
                  _n(rng, 4 * H, scale=0.5)))
            for B, D, H in ((2, 3, 2), (3, 2, 2))]


def _triplet_batch(rng, B, d, margin):
    """Normalised duplicates v2 ~ v1, redrawn until some rows have both hinges active, some
    none, and nothing sits within 0.02 of a kink (a hinge at 0, a negative level with the
    positive, a tie for the closest negative)."""
    for _ in range(10000):
        v1 = _n(rng, B, d)
        v1 /= np.linalg.norm(v1, axis=1, keepdims=True)
        v2 = v1 + _n(rng, B, d) * rng.choice([0.1, 1.5], size=(B, 1))
        v2 /= np.linalg.norm(v2, axis=1, keepdims=True)
        S = v1 @ v2.T
        eye = np.eye(B, dtype=bool)
        pos = np.diag(S)
        masked = S - 2.0 * (eye | (S > pos[:, None]))
        top2 = np.sort(masked, axis=1)[:, -2:]
        h_mean = margin - pos + np.where(eye, 0, S).sum(1) / (B - 1)
        h_close = margin - pos + top2[:, 1]
        gaps = np.abs(S - pos[:, None])[~eye]
        if min(np.abs(h_mean).min(), np.abs(h_close).min(), gaps.min(),
               (top2[:, 1] - top2[:, 0]).min()) < 0.02:
            continue
        if ((h_mean > 0) & (h_close > 0)).any() and ((h_mean < 0) & (h_close < 0)).any():
            return v1, v2
    raise RuntimeError("no triplet batch found")       # pragma: no cover


def _triplet(rng):
    out = []
    for B, d in ((4, 3), (5, 4)):
        v1, v2 = _triplet_batch(rng, B, d, 0.25)
        out.append(Case(f"v1, v2 ({B}, {d}), margin 0.25, rows with active and inactive hinges",
                        (v1, v2), {"margin": 0.25}))
    return out


def _conv(rng):
    return [Case(f"x ({N}, {C}, {H}, {W}), w ({F}, {C}, {kh}, {kw}): overlapping windows",
                 (_n(rng, N, C, H, W), _n(rng, F, C, kh, kw, scale=0.5), _n(rng, F)))
            for N, C, H, W, F, kh, kw in ((2, 2, 5, 5, 3, 3, 3), (1, 3, 4, 6, 2, 2, 3))]


# ----------------------------------------------------------------------------- the list
EXERCISES = [
    Exercise(1, "add_mul", "broadcasting: y = a * b + c (the sum_to trap)", "easy", "MulAdd",
             ("a", "b", "c"), ("y",), _add_mul, (
                 "Forget broadcasting for a moment: with a, b, c all of y's shape the chain rule gives "
                 "dL/da = gy * b, dL/db = gy * a, dL/dc = gy. That already passes case 1.",
                 "With broadcasting one element of b was used for many elements of y. The chain rule "
                 "adds up every use: dL/db_k is a SUM over all the y elements that used b_k.",
                 "Two kinds of broadcast axes: leading axes the input does not have at all (b (D,) under "
                 "y (N, D)) and axes where the input has size 1 (b (T, 1) under y (B, T, D)). Sum over "
                 "both kinds; keep the size-1 axes with keepdims=True.",
                 "Do not hard-code axis=0: one backward must serve every case. Compute the axes from "
                 "gy.ndim, len(shape) and where shape has 1s -- c may even be a scalar of shape ().")),
    Exercise(2, "matmul", "matrix product Y = A @ B", "easy", "MatMul", ("A", "B"), ("Y",), _matmul, (
        "Write one element: Y_nm = sum_k A_nk B_km, so dY_nm/dA_nk = B_km. Now apply the chain rule "
        "and sum over m.",
        "dL/dA_nk = sum_m gy_nm B_km is a matrix product of gy with B -- one of them transposed.",
        "Check with shapes: dA must be (N, K) from gy (N, M) and B (K, M); dB must be (K, M) from "
        "A (N, K) and gy (N, M). Only one product fits each.",
        "The square case is there on purpose: a transposed answer has the right shape there, and only "
        "the values give it away.")),
    Exercise(3, "sigmoid", "sigmoid y = 1 / (1 + e^-x)", "easy", "Sigmoid", ("x",), ("y",),
             _elementwise(1.5), (
                 "Write sigma(x) = (1 + e^-x)^-1 and use the chain rule on the power -1.",
                 "You should get e^-x / (1 + e^-x)^2. Split it into 1/(1 + e^-x) times e^-x/(1 + e^-x).",
                 "Both factors can be written with y alone: the first is y, the second is 1 - y.",
                 "Last, the chain rule: backward returns gy times the local derivative, elementwise.")),
    Exercise(4, "tanh", "hyperbolic tangent y = tanh(x)", "easy", "Tanh", ("x",), ("y",),
             _elementwise(1.0), (
                 "tanh = sinh / cosh: use the quotient rule and cosh^2 - sinh^2 = 1.",
                 "The derivative is 1 / cosh^2(x). Rewrite it with tanh only.",
                 "Use y, which forward saved, and multiply by gy.")),
    Exercise(5, "relu", "ReLU y = max(x, 0) and its kink", "easy", "ReLU", ("x",), ("y",), _relu, (
        "On each side of 0 ReLU is a straight line: slope 1 for x > 0, slope 0 for x < 0.",
        "The gradient passes through unchanged where the INPUT was positive and is blocked elsewhere. "
        "Decide by x (forward saved it), never by the sign of gy.",
        "A boolean mask times gy does it. The checker moves x == 0 off the kink itself, so you need no "
        "special case.")),
    Exercise(6, "softmax_cross_entropy", "softmax + cross-entropy, fused (softmax - onehot)", "medium",
             "SoftmaxCrossEntropy", ("z", "y"), ("L",), _softmax_ce, (
                 "Per row, -log p[y] = logsumexp(z) - z[y]. Differentiate each part with respect to z_c.",
                 "d logsumexp(z) / dz_c = e^{z_c} / sum_k e^{z_k}: a quantity forward saved.",
                 "d z[y] / dz_c is 1 when c == y, else 0: a one-hot row. So each row's gradient is one "
                 "vector minus another.",
                 "The loss is a mean over N rows: each row carries 1/N. Multiply by gy and return "
                 "(dz, None): the class ids get no gradient.")),
    Exercise(7, "masked_mean", "mean over the real tokens of a padded batch", "medium", "MaskedMean",
             ("x", "mask"), ("y",), _masked_mean, (
                 "y_bd depends only on the x_btd with the same b and d, each with weight m_bt / count_b.",
                 "So the gradient at x_btd is gy_bd times that weight. Padding positions (m = 0) get "
                 "exactly 0: the output does not depend on them.",
                 "Line up the shapes: gy (B, D) needs a T axis inserted; self.m is (B, T, 1); "
                 "self.count (B, 1) needs a T axis too.",
                 "Divide by the number of real tokens of THAT row, not by T: rows of different lengths "
                 "have different weights.")),
    Exercise(8, "embedding", "embedding lookup with repeated ids (scatter-add)", "medium", "Embedding",
             ("W", "ids"), ("out",), _embedding, (
                 "Think of W[ids] as onehot(ids) @ W. Its gradient with respect to W is onehot^T @ gy "
                 "(exercise 02) -- but you never need to build the one-hot.",
                 "Without the one-hot: start from zeros of W's shape and, for every position (b, t), ADD "
                 "gy[b, t] into row ids[b, t].",
                 "In NumPy, dW[ids] += gy does NOT add twice when an id repeats: a fancy-index update "
                 "writes each row once. np.add.at(dW, ids, gy) accumulates.")),
    Exercise(9, "glove_loss", "the GloVe loss", "medium", "GloVeLoss",
             ("W", "W_ctx", "b", "b_ctx", "i", "j"), ("J",), _glove, (
                 "Let e_k be the error of pair k. J = sum_k f_k e_k^2, so dJ/de_k = 2 f_k e_k (times gy).",
                 "de_k/dw_i = w~_j, de_k/dw~_j = w_i, and de_k/db_i = de_k/db~_j = 1.",
                 "Pair k adds dJ/de_k * w~_j to row i_k of dW, and likewise for the other tables. A word "
                 "in several pairs collects all of them: accumulate as in exercise 08.",
                 "Return six values: the four gradients, then None, None for the ids.")),
    Exercise(10, "rnn_step", "one vanilla RNN step", "medium", "RNNStep", ("x", "h", "W", "b"), ("h_t",),
             _rnn, (
                 "Name the pre-activation z = [h, x] @ W + b. First go back through tanh: dL/dz from gy "
                 "and the saved output (exercise 04).",
                 "Then z = hx @ W + b is exercise 02 plus a bias broadcast over the batch (exercise 01): "
                 "that gives d(hx), dW and db.",
                 "Finally undo the concatenation: d(hx) (B, H + D) splits into the part for h (the first "
                 "H columns) and the part for x.",
                 "Return in forward's argument order: (dx, dh, dW, db). With H == D a swapped split has "
                 "the right shapes, so only the values catch it.")),
    Exercise(11, "lstm_step", "one LSTM step (two outputs)", "hard", "LSTMStep",
             ("x", "h", "c", "W", "b"), ("h_t", "c_t"), _lstm, (
                 "Start at c_t. It receives gc directly and, through h_t = o * tanh(c_t), "
                 "gh * o * tanh'(c_t). Add the two.",
                 "From dL/dc_t: c_t = f * c_{t-1} + i * g gives df, di, dg and dL/dc_{t-1}. From h_t: "
                 "do = gh * tanh(c_t).",
                 "Through the gate non-linearities (sigmoid for f, i, o; tanh for g: exercises 03-04) to "
                 "dz for each gate; concatenate them in the order f, i, g, o into dz (B, 4H).",
                 "Then exactly as in exercise 10: dW, db (summed over the batch), d(hx) split into h and x. "
                 "Return (dx, dh, dc, dW, db).")),
    Exercise(12, "triplet_loss", "the Siamese triplet loss (mean_neg and closest_neg)", "hard",
             "TripletLoss", ("v1", "v2"), ("L",), _triplet, (
                 "Find dL/dS (B, B) first; at the end dL/dv1 = dS @ v2 and dL/dv2 = dS^T @ v1 "
                 "(exercise 02 with S = v1 @ v2^T).",
                 "max(0, a) passes gradient only where a > 0 (forward saved both hinge arguments). Each "
                 "active hinge of row n contributes -1 to S_nn.",
                 "mean_neg_n spreads 1/(B - 1) over every off-diagonal entry of row n; closest_neg_n puts "
                 "1 on the single entry it picked (forward saved its column).",
                 "Do not forget the 1/B of the mean over the batch, nor the incoming gy.")),
    Exercise(13, "conv_im2col", "a 2-D convolution via im2col (col2im)", "hard", "Conv2d",
             ("x", "w", "b"), ("y",), _conv, (
                 "Forward is one matmul: Y = cols @ Wm^T + b with cols (N*OH*OW, C*kh*kw), "
                 "Wm = w.reshape(F, -1) and Y (N*OH*OW, F). Apply exercises 02 and 01 to it.",
                 "Bring gy to the matmul's layout first: transpose to (N, OH, OW, F), then reshape to 2-D. "
                 "Reshape dWm to w's shape only when it is (F, C*kh*kw) -- reshape keeps memory order.",
                 "db sums gy over every axis except F: the bias was broadcast over N, OH and OW.",
                 "col2im: for each kernel offset (i, j), the slice dx[:, :, i:i+OH, j:j+OW] receives that "
                 "offset's part of dcols. Windows overlap, so ADD into dx; never assign.")),
]


def find(name: str) -> Exercise:
    """An exercise by name (``lstm_step``), number (``11``), file stem (``11_lstm_step``) or prefix."""
    key = name.strip().lower().removesuffix(".py")
    for ex in EXERCISES:
        if key in (ex.name, ex.filename[:-3]) or (key.isdigit() and int(key) == ex.number):
            return ex
    matches = [ex for ex in EXERCISES if ex.name.startswith(key)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(ex.name for ex in EXERCISES)
    raise KeyError(f"no exercise called {name!r}; the exercises are: {known}")
