"""What the Trax facade costs: one Trax-style model trained by ``training.Loop`` vs the same model in native minidl.

    python -m benchmarks.trax_facade [--steps 20] [--repeats 7] [--models sentiment,ner]

Both sides train the same architecture from the same weights on the same batch for the
same number of steps with the same update rule (plain SGD, which Trax and minidl define
identically): the Trax side through ``training.Loop`` (the data stack, the loss layer,
Trax's optimizer writing new arrays), the native side through ``nn.Serial``,
``md.losses.nll_loss`` and ``optim.SGD``.  The two are timed in turn, ``--repeats`` times
(interleaved, so a busy machine slows both alike), and the median of the per-repeat ratios
is printed.  No evaluation and no checkpoint run inside the timed Loop steps.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import minidl as md
from minidl import nn, optim
from minidl.trax import layers as tl, optimizers
from minidl.trax.supervised import training

MODELS = {
    # name: the sizes (vocabulary, embedding width, batch, time steps, classes)
    "sentiment": dict(V=10_000, d=256, B=64, T=50, n_out=2),
    "ner": dict(V=20_000, d=50, B=64, T=50, n_out=17),
}


def build(name, s):
    if name == "sentiment":
        trax_model = tl.Serial(tl.Embedding(s["V"], s["d"]), tl.Mean(axis=1), tl.Dense(s["n_out"]), tl.LogSoftmax())
        native = nn.Serial(nn.Embedding(s["V"], s["d"]), nn.Mean(axis=1), nn.Dense(s["n_out"]), nn.LogSoftmax())
    else:
        trax_model = tl.Serial(tl.Embedding(s["V"], s["d"]), tl.LSTM(s["d"]), tl.Dense(s["n_out"]), tl.LogSoftmax())
        native = nn.Serial(nn.Embedding(s["V"], s["d"]), nn.LSTM(s["d"]), nn.Dense(s["n_out"]), nn.LogSoftmax())
    return trax_model, native


def batch_for(name, s, rng):
    x = rng.integers(1, s["V"], (s["B"], s["T"]))
    y = rng.integers(0, s["n_out"], s["B"] if name == "sentiment" else (s["B"], s["T"]))
    return x, y, np.ones(y.shape, np.float32)


def time_pair(name, steps, repeats, lr=0.1):
    s = MODELS[name]
    batch = batch_for(name, s, np.random.default_rng(0))
    trax_model, native = build(name, s)
    trax_model.init(batch[0])
    native(md.tensor(batch[0]))
    for p, q in zip(native.parameters(), trax_model.parameters()):   # the same weights (the facade's Parameters)
        p.data = q.data.copy()

    def forever():
        while True:
            yield batch
    loop = training.Loop(trax_model, training.TrainTask(forever(), tl.CrossEntropyLoss(), optimizers.SGD(lr)),
                         checkpoint_at=lambda step: False, random_seed=0)
    opt = optim.SGD(native, lr=lr)
    x, y, w = md.tensor(batch[0]), batch[1], batch[2]

    def native_steps():
        for _ in range(steps):
            loss = md.losses.nll_loss(native(x), y, mask=w)
            opt.zero_grad()
            loss.backward()
            opt.step()

    loop.run(2), native_steps()                                        # warm-up
    ratios, t_trax, t_native = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        loop.run(steps)
        t1 = time.perf_counter()
        native_steps()
        t2 = time.perf_counter()
        t_trax.append((t1 - t0) / steps)
        t_native.append((t2 - t1) / steps)
        ratios.append((t1 - t0) / (t2 - t1))
    return statistics.median(t_trax), statistics.median(t_native), statistics.median(ratios), ratios


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--models", default="sentiment,ner")
    args = ap.parse_args(argv)
    print(f"{'model':<10} {'sizes':<34} {'Loop ms/step':>13} {'native ms/step':>15} {'Loop / native':>14}   per-repeat ratios")
    for name in args.models.split(","):
        s = MODELS[name]
        tt, tn, ratio, ratios = time_pair(name, args.steps, args.repeats)
        sizes = " ".join(f"{k}={v}" for k, v in s.items())
        print(f"{name:<10} {sizes:<34} {tt * 1e3:>13.2f} {tn * 1e3:>15.2f} {ratio:>13.3f}x   "
              + " ".join(f"{r:.3f}" for r in ratios))


if __name__ == "__main__":
    main()
