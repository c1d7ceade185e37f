"""The course's four Trax model families, trained by ``training.Loop``, agree with native minidl.

Each test writes the model the way the course's Trax notebook does, trains it a few
steps with ``training.Loop`` (SGD, so the native side can use ``minidl.optim.SGD``),
and replays the same batches through the equivalent ``minidl.nn`` model started from
the same weights: the losses of every step, the eval metrics and the final weights
agree.  The weight layouts are translated here, from Trax's documented cell
equations, independently of the facade's own translation.
"""
import functools

import numpy as np
import pytest

import minidl as md
from minidl import nn, optim
from minidl.trax import data, layers as tl, lr, optimizers
from minidl.trax.fastmath import numpy as fnp
from minidl.trax.supervised import training

RTOL = dict(rtol=2e-5, atol=1e-6)


def cycle(batches):
    while True:
        yield from batches


def loop_losses(model, batches, loss_layer, optimizer, eval_batch, metrics, tmp_path, **task_kw):
    """Train with Loop on ``batches`` (one step each), evaluating after every step; return
    (per-step train losses, per-step eval metric values, the loop)."""
    task = training.TrainTask(labeled_data=iter(batches), loss_layer=loss_layer, optimizer=optimizer,
                              sample_batch=batches[0], **task_kw)
    eval_task = training.EvalTask(labeled_data=cycle([eval_batch]), metrics=metrics)
    loop = training.Loop(model, task, eval_tasks=[eval_task], output_dir=str(tmp_path), eval_at=lambda step: True,
                         random_seed=0)
    loop.run(len(batches))
    train = [v for _, v in loop.history.get("train", f"metrics/{task.loss_name}")]
    evals = {m: [v for _, v in loop.history.get("eval", f"metrics/{m}")] for m in eval_task.metric_names}
    return train, evals, loop


def native_sgd(model, batches, loss_fn, lr_at):
    opt, losses = optim.SGD(model, lr=1.0), []
    for step, batch in enumerate(batches, start=1):
        loss = loss_fn(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.lr = lr_at(step)
        opt.step()
        losses.append(float(loss))
    return losses


def lstm_to_minidl(w, b, H):
    """Trax LSTMCell: rows [x; h], columns [i | j | f | o]  ->  nn.LSTMCell: rows [h; x], columns [f | i | g | o]."""
    D = w.shape[0] - H
    i, j, f, o = np.split(w, 4, axis=1)
    bi, bj, bf, bo = np.split(b, 4)
    W = np.concatenate([f, i, j, o], axis=1)
    return np.concatenate([W[D:], W[:D]]), np.concatenate([bf, bi, bj, bo])


def gru_to_minidl(w1, b1, w2, b2, H):
    """Trax GRUCell: h' = u h + (1 - u) tanh(c)  ->  nn.GRUCell: h' = (1 - Γu) h + Γu h', so Γu = 1 - u: negate."""
    D = w1.shape[0] - H
    u, r = np.split(w1, 2, axis=1)
    bu, br = np.split(b1, 2)
    W = np.concatenate([-u, r, w2], axis=1)
    return np.concatenate([W[D:], W[:D]]), np.concatenate([-bu, br, b2])


def set_data(p, array):
    p.data = md.tensor(array).data


# ----------------------------------------------------------------------------- 1. sentiment classifier
def test_sentiment_classifier_matches_native(tmp_path):
    rng = np.random.default_rng(0)
    V, d = 30, 6
    batches = [(rng.integers(1, V, (8, 7)), rng.integers(0, 2, 8), np.ones(8, np.float32)) for _ in range(4)]
    model = tl.Serial(tl.Embedding(vocab_size=V, d_feature=d), tl.Mean(axis=1), tl.Dense(n_units=2), tl.LogSoftmax())
    model.init(batches[0][0])
    native = md.models.SentimentModel(V, d)
    set_data(native[0].W, model.weights[0])
    set_data(native[2].W, model.weights[2][0]), set_data(native[2].b, model.weights[2][1])

    train, evals, loop = loop_losses(model, batches, tl.CrossEntropyLoss(), optimizers.SGD(0.5), batches[0],
                                     [tl.CrossEntropyLoss(), tl.Accuracy()], tmp_path, n_steps_per_checkpoint=2)
    ref = native_sgd(native, batches, lambda m, b: md.losses.nll_loss(m(md.tensor(b[0])), b[1]), lambda s: 0.5)
    np.testing.assert_allclose(train, ref, **RTOL)
    logp = native(md.tensor(batches[0][0]))
    np.testing.assert_allclose(evals["CrossEntropyLoss"][-1], float(md.losses.nll_loss(logp, batches[0][1])), **RTOL)
    np.testing.assert_allclose(evals["Accuracy"][-1], md.metrics.accuracy(logp, batches[0][1]))
    np.testing.assert_allclose(model.weights[0], native[0].W.numpy(), **RTOL)
    # the checkpoint Loop wrote at its last step (4) reloads into a fresh model and predicts the same
    fresh = tl.Serial(tl.Embedding(vocab_size=V, d_feature=d), tl.Mean(axis=1), tl.Dense(n_units=2), tl.LogSoftmax())
    fresh.init_from_file(str(tmp_path / "model.pkl.gz"))
    np.testing.assert_array_equal(fresh(batches[1][0]), loop.eval_model(batches[1][0]))


# ----------------------------------------------------------------------------- 2. GRU language model
def test_gru_language_model_with_shift_right_matches_native(tmp_path):
    rng = np.random.default_rng(1)
    V, d, B, T = 20, 8, 4, 6
    batches = []
    for _ in range(3):
        x = rng.integers(1, V, (B, T))
        x[:, -2:] *= rng.integers(0, 2, (B, 1))                 # some rows end in padding
        batches.append((x, x, (x != 0).astype(np.float32)))      # the course's (input, target, mask)
    model = tl.Serial(tl.ShiftRight(mode="train"), tl.Embedding(V, d), [tl.GRU(d) for _ in range(2)],
                      tl.Dense(V), tl.LogSoftmax())
    model.init(batches[0][0])
    native = nn.Serial(nn.Embedding(V, d), nn.GRU(d), nn.GRU(d), nn.Dense(V), nn.LogSoftmax())
    native(md.tensor(batches[0][0]))                             # build the lazy layers
    set_data(native[0].W, model.weights[1])
    for k in (1, 2):
        W, b = gru_to_minidl(*model.weights[1 + k][1][0], d)
        set_data(native[k].cell.W, W), set_data(native[k].cell.b, b)
    set_data(native[3].W, model.weights[4][0]), set_data(native[3].b, model.weights[4][1])

    def shifted(x):
        return np.pad(x, [(0, 0), (1, 0)])[:, :-1]

    train, evals, _ = loop_losses(model, batches, tl.CrossEntropyLoss(), optimizers.SGD(1.0), batches[0],
                                  [tl.CrossEntropyLoss()], tmp_path)
    ref = native_sgd(native, batches, lambda m, b: md.losses.nll_loss(m(md.tensor(shifted(b[0]))), b[1], mask=b[2]),
                     lambda s: 1.0)
    np.testing.assert_allclose(train, ref, **RTOL)
    W, b = gru_to_minidl(*model.weights[3][1][0], d)
    np.testing.assert_allclose(W, native[2].cell.W.numpy(), **RTOL)
    np.testing.assert_allclose(b, native[2].cell.b.numpy(), **RTOL)


# ----------------------------------------------------------------------------- 3. LSTM NER
def test_lstm_ner_with_add_loss_weights_matches_native(tmp_path):
    rng = np.random.default_rng(2)
    V, d, n_tags, PAD = 25, 6, 5, 24                  # the course pads words AND tags with vocab['<PAD>']
    raw = []
    for _ in range(4):
        x, y = rng.integers(1, V - 1, (4, 7)), rng.integers(0, n_tags, (4, 7))
        lengths = rng.integers(3, 8, 4)
        pad = np.arange(7)[None, :] >= lengths[:, None]
        raw.append((np.where(pad, PAD, x), np.where(pad, PAD, y)))
    batches = list(data.inputs.add_loss_weights(iter(raw), id_to_mask=PAD))
    assert all(np.array_equal(w, (y != PAD).astype(np.float32)) for _, y, w in batches)
    model = tl.Serial(tl.Embedding(V, d), tl.LSTM(d), tl.Dense(n_units=n_tags), tl.LogSoftmax())
    model.init(batches[0][0])
    native = md.models.NERTagger(V, d, n_tags)
    native(md.tensor(batches[0][0]))
    set_data(native[0].W, model.weights[0])
    W, b = lstm_to_minidl(*model.weights[1][1][0], d)
    set_data(native[1].cell.W, W), set_data(native[1].cell.b, b)
    set_data(native[2].W, model.weights[2][0]), set_data(native[2].b, model.weights[2][1])

    def native_loss(m, batch):
        x, y, w = batch
        return md.losses.nll_loss(m(md.tensor(x)), np.where(w > 0, y, 0), mask=w)

    train, evals, _ = loop_losses(model, batches, tl.CrossEntropyLoss(), optimizers.SGD(0.8), batches[0],
                                  [tl.CrossEntropyLoss(), tl.WeightedCategoryAccuracy()], tmp_path)
    ref = native_sgd(native, batches, native_loss, lambda s: 0.8)
    np.testing.assert_allclose(train, ref, **RTOL)
    x, y, w = batches[0]
    logp = native(md.tensor(x))
    np.testing.assert_allclose(evals["CrossEntropyLoss"][-1], float(native_loss(native, batches[0])), **RTOL)
    np.testing.assert_allclose(evals["WeightedCategoryAccuracy"][-1], md.metrics.masked_accuracy(logp, y, w > 0), **RTOL)


# ----------------------------------------------------------------------------- 4. Siamese + triplet loss
def triplet_loss_fn(v1, v2, margin=0.25):
    """The course's TripletLossFn in trax.fastmath.numpy (closest negative: the hardest one below the positive)."""
    scores = fnp.dot(v1, v2.T)
    batch_size = len(scores)
    positive = fnp.diagonal(scores)
    mean_negative = fnp.sum(scores * (1.0 - fnp.eye(batch_size)), axis=1) / (batch_size - 1)
    exclude = (fnp.eye(batch_size) == 1) | (scores > positive.reshape(batch_size, 1))
    closest_negative = fnp.where(exclude, scores - 2.0, scores).max(axis=[1])
    return fnp.mean(fnp.maximum(0.0, margin - positive + closest_negative) + fnp.maximum(0.0, margin - positive + mean_negative))


def test_siamese_parallel_model_with_fastmath_triplet_loss_matches_native(tmp_path):
    rng = np.random.default_rng(3)
    V, d, B, T = 30, 6, 5, 6
    batches = [(rng.integers(1, V, (B, T)), rng.integers(1, V, (B, T))) for _ in range(4)]   # (q1, q2) only

    def normalize(x):
        return x / fnp.sqrt(fnp.sum(x * x, axis=-1, keepdims=True))
    q_processor = tl.Serial(tl.Embedding(V, d), tl.LSTM(d), tl.Mean(axis=1), tl.Fn("Normalize", lambda x: normalize(x)))
    model = tl.Parallel(q_processor, q_processor)
    model.init(batches[0])
    assert model.weights[1] is tl.GET_WEIGHTS_FROM_CACHE and len(model.parameters()) == 3
    native = md.models.SiameseLSTM(V, d)
    native(md.tensor(batches[0][0]), md.tensor(batches[0][1]))
    tower = model.weights[0]
    set_data(native[0][0].W, tower[0])
    W, b = lstm_to_minidl(*tower[1][1][0], d)
    set_data(native[0][1].cell.W, W), set_data(native[0][1].cell.b, b)

    schedule = lr.warmup_and_rsqrt_decay(2, 0.5)
    TripletLoss = tl.Fn("TripletLoss", functools.partial(triplet_loss_fn, margin=0.25))     # as the course binds it
    train, evals, _ = loop_losses(model, batches, TripletLoss, optimizers.SGD(0.5), batches[0], [TripletLoss],
                                  tmp_path, lr_schedule=schedule)
    ref = native_sgd(native, batches, lambda m, b: md.losses.triplet_loss(*m(md.tensor(b[0]), md.tensor(b[1])), 0.25),
                     schedule)
    np.testing.assert_allclose(train, ref, **RTOL)
    v1, v2 = native(md.tensor(batches[0][0]), md.tensor(batches[0][1]))
    np.testing.assert_allclose(evals["TripletLoss"][-1], float(md.losses.triplet_loss(v1, v2, 0.25)), **RTOL)
    np.testing.assert_allclose(model((batches[1][0], batches[1][1]))[0], native[0](md.tensor(batches[1][0])).numpy(), **RTOL)


# ----------------------------------------------------------------------------- the loop itself
def tiny_batches(n, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.integers(1, 12, (6, 5)), rng.integers(0, 2, 6), np.ones(6, np.float32)) for _ in range(n)]


def tiny_model():
    return tl.Serial(tl.Embedding(12, 4), tl.Mean(axis=1), tl.Dense(2), tl.LogSoftmax())


def test_log_lines_and_checkpoint_files_are_traxs(tmp_path, capsys):
    batches = tiny_batches(3)
    task = training.TrainTask(cycle(batches), tl.CrossEntropyLoss(), optimizers.Adam(0.01), n_steps_per_checkpoint=2,
                              n_steps_per_permanent_checkpoint=2)
    eval_task = training.EvalTask(cycle(batches), [tl.CrossEntropyLoss(), tl.Accuracy()])
    training.Loop(tiny_model(), task, eval_tasks=[eval_task], output_dir=str(tmp_path), random_seed=1).run(2)
    lines = capsys.readouterr().out.splitlines()
    assert "Step      1: Total number of trainable weights: 58" in lines
    assert any(ln.startswith("Step      1: Ran 1 train steps in ") and ln.endswith(" secs") for ln in lines)
    for line in ("Step      1: train CrossEntropyLoss |  0.", "Step      1: eval  CrossEntropyLoss |  0.",
                 "Step      1: eval          Accuracy |  0.", "Step      2: Ran 1 train steps in "):
        assert any(ln.startswith(line) for ln in lines), (line, lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pkl.gz", "model_1.pkl.gz", "model_2.pkl.gz"]
    assert (tmp_path / "model.pkl.gz").read_bytes()[:2] == b"PK"         # minidl's zip, not a pickle


def test_a_new_loop_resumes_weights_slots_and_step(tmp_path):
    batches = tiny_batches(4, seed=5)

    def run(n_steps, start, folder):
        task = training.TrainTask(iter(batches[start:]), tl.CrossEntropyLoss(), optimizers.Adam(0.05),
                                  sample_batch=batches[0], n_steps_per_checkpoint=1)
        model = tiny_model()
        loop = training.Loop(model, task, output_dir=str(folder), random_seed=3)
        loop.run(n_steps)
        return loop

    straight = run(4, 0, tmp_path / "a")
    run(2, 0, tmp_path / "b")
    resumed = run(2, 2, tmp_path / "b")                           # a new model, the same output_dir
    assert resumed.step == 4
    for x, y in zip(tl.flatten_weights_and_state(straight.model.weights, ())[0],
                    tl.flatten_weights_and_state(resumed.model.weights, ())[0]):
        np.testing.assert_allclose(x, y, rtol=1e-6)
    with pytest.raises(md.CheckpointError, match="holds 3 weight arrays but Serial has 1"):
        other = tl.Serial(tl.Embedding(12, 4), tl.Mean(axis=1))
        training.Loop(other, training.TrainTask(iter(batches), tl.CrossEntropyLoss(), optimizers.SGD(0.1)),
                      output_dir=str(tmp_path / "b"))


def test_traxs_adam_rule_step_plus_one_and_decoupled_decay():
    """Two Loop steps of Trax's Adam on y = x w + b with L2Loss, against the rule computed by hand."""
    rng = np.random.default_rng(7)
    X, t = rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=(8, 1)).astype(np.float32)
    batch = (X, t, np.ones_like(t))
    model = tl.Dense(1)
    model.init(X)
    w, b = (np.asarray(a, np.float64) for a in model.weights)
    opt = optimizers.Adam(0.1, weight_decay_rate=0.01)
    loop = training.Loop(model, training.TrainTask(cycle([batch]), tl.L2Loss(), opt), random_seed=0)
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    for step in (1, 2):
        r = X @ w + b - t
        grads = [2 * X.T @ r / r.size, 2 * r.sum(0) / r.size]
        new = []
        for k, (p, g) in enumerate(zip((w, b), grads)):
            m[k] = 0.1 * g + 0.9 * m[k]
            v[k] = 0.001 * g * g + 0.999 * v[k]
            m_hat, v_hat = m[k] / (1 - 0.9 ** (step + 1)), v[k] / (1 - 0.999 ** (step + 1))
            new.append((1 - 0.01) * p - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-5))
        w, b = new
        loop.run(1)
        np.testing.assert_allclose(model.weights[0], w, rtol=1e-4)
        np.testing.assert_allclose(model.weights[1], b, rtol=1e-4, atol=1e-7)


def test_lr_schedules_and_add_loss_weights():
    s = lr.warmup_and_rsqrt_decay(3, 1.0)
    assert [s(k) for k in (1, 2, 3, 4, 16)] == [0.25, 0.5, 0.75, 1.0, 0.5]
    assert lr.constant(0.1)(0) == 0.0 and lr.constant(0.1)(5) == 0.1
    pairs = list(data.add_loss_weights(iter([(np.array([1]), np.array([[3, 0]]))])))
    np.testing.assert_array_equal(pairs[0][2], [[1.0, 1.0]])
    masked = list(data.add_loss_weights(iter([(1, np.array([3, 0, 0]), np.array([1.0, 1.0, 0.5]))]), id_to_mask=0))
    np.testing.assert_array_equal(masked[0][2], [1.0, 0.0, 0.0])


def test_the_loss_must_stay_differentiable():
    """A loss written with NumPy (not fastmath.numpy) cuts the graph: the Loop says so instead of not learning."""
    batches = tiny_batches(2)
    numpy_loss = tl.Fn("NumpyLoss", lambda y, t, w: np.float32(np.asarray(y).mean()))
    loop = training.Loop(tiny_model(), training.TrainTask(cycle(batches), numpy_loss, optimizers.SGD(0.1)))
    with pytest.raises(TypeError, match="trax.fastmath.numpy"):
        loop.run(1)


def test_the_same_training_on_every_backend(backend_name, tmp_path):
    """A Trax-style LSTM tagger trained by Loop (Adam), checkpointed and reloaded, on the backend under
    test and on NumPy: the same losses and predictions (values only cross to the host explicitly)."""
    batches = [(x, x % 3, (x > 0).astype(np.float32)) for x in (np.random.default_rng(k).integers(0, 9, (4, 5))
                                                                for k in range(3))]

    def train(name, folder):
        with md.using(name):
            model = tl.Serial(tl.Embedding(9, 4), tl.LSTM(4), tl.Dense(3), tl.LogSoftmax())
            task = training.TrainTask(iter(batches), tl.CrossEntropyLoss(), optimizers.Adam(0.05),
                                      sample_batch=batches[0], n_steps_per_checkpoint=3)
            eval_task = training.EvalTask(cycle(batches), [tl.CrossEntropyLoss(), tl.WeightedCategoryAccuracy()])
            loop = training.Loop(model, task, eval_tasks=eval_task, output_dir=str(folder), random_seed=0)
            loop.run(3)
            fresh = tl.Serial(tl.Embedding(9, 4), tl.LSTM(4), tl.Dense(3), tl.LogSoftmax())
            fresh.init_from_file(str(folder / "model.pkl.gz"))
            return loop.history.get("eval", "metrics/CrossEntropyLoss"), md.backend.asnumpy(fresh(batches[1][0]))

    (here, pred), (ref, ref_pred) = train(backend_name, tmp_path / "here"), train("numpy", tmp_path / "numpy")
    np.testing.assert_allclose([v for _, v in here], [v for _, v in ref], rtol=1e-4)
    np.testing.assert_allclose(pred, ref_pred, rtol=1e-4, atol=1e-5)
