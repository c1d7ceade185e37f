"""Character-level language model with a GRU, a vanilla RNN beside it, and a bigram baseline.

dataset: generated sentences from a tiny grammar with long-range agreement (embedded); --data: any plain-text corpus, e.g. tiny Shakespeare

A character language model predicts the next character from all the previous ones; a recurrent
network does it by carrying a state along the text.  Its perplexity is compared with a bigram
model that sees one character back, and its memory is probed where grammar needs it: does the
verb agree with a subject 15 characters back, across a noun of the other number?

What this lesson shows
* ``scan``: an RNN layer is one cell applied along time, carrying its state;
* the language-model objective: predict character t+1 from characters 1..t,
  cross-entropy averaged over time, and its exponential, the perplexity
      log-perplexity = -(1/T) sum_t log p(c_{t+1} | c_1..c_t),   perplexity = e^(log-perplexity);
* that a GRU uses context far beyond the previous character (it beats the
  bigram model), and learns faster than a vanilla RNN of the same size;
* samples at three temperatures: p_T(c) ~ p(c)^(1/T).
"""
# %% [markdown]
# ## 0. Setup

# %%
import time

import numpy as np

import minidl as md
from minidl import nn, optim
from minidl.data import TextVectorizer, lm_random_windows, lm_stream_batches
from minidl import datasets
from lessons import figures, support
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. Text -> a stream of character ids
# A character vectorizer: no standardisation (case and punctuation are part of
# the text), split into characters, index 0 for padding and 1 for unknown.

# %%
if L.real_data("shakespeare"):
    corpus = datasets.load_text(L.data)
else:
    corpus = datasets.make_grammar_corpus(n_sentences=1500 if L.quick else 12000, seed=L.seed)
text = corpus["text"]
if L.quick and len(text) > 200_000:
    text = text[:200_000]                                   # a quick run reads a slice
chars = TextVectorizer(standardize=None, split="character")
cut = int(len(text) * 0.9)                                  # last 10% is validation text
chars.adapt([text[:cut]])
stream = chars(text)                                        # (N,) int64
train_ids, val_ids = stream[:cut], stream[cut:]
V = chars.vocabulary_size()
print(f"{len(text):,} characters from {corpus['source']}; vocabulary of {V} symbols; "
      f"{len(train_ids):,} train / {len(val_ids):,} validation")
L.show("the start of the text", text[:240])

# %% [markdown]
# ## 2. The baseline: a character bigram model
# p(c_{t+1} | c_t) = (count(c_t, c_{t+1}) + 1) / (count(c_t) + V)   (add-one smoothing).
# It sees exactly one character of context.  Any model that claims to use
# context must beat its validation perplexity.

# %%
counts = np.ones((V, V))
np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1)
bigram = np.log(counts / counts.sum(axis=1, keepdims=True))
bigram_ppl = float(np.exp(-bigram[val_ids[:-1], val_ids[1:]].mean()))
print(f"bigram validation perplexity: {bigram_ppl:.3f}  (a uniform guess would be {V})")

# %% [markdown]
# ## 3. `scan`: one cell, applied along time
#     ys, carry = md.scan(fn, xs, init, axis=1)
# calls fn(x_t, carry) -> (y_t, carry) for t = 1..T and stacks the y_t.  A GRU
# layer is exactly `scan(GRUCell, x, h0)`: `nn.GRU(n)` does that by default, so
# its backward pass is plain autograd through the slide equations in
# `minidl/nn/cells.py`.

# %%
cell = nn.GRUCell(8)
x_demo = md.tensor(np.random.default_rng(0).normal(size=(2, 5, 3)))     # (batch, time, features)
ys, h_last = md.scan(cell, x_demo, cell.initial_state(2))
L.show("scan over a GRUCell", f"xs {x_demo.shape} -> ys {ys.shape}, final carry {h_last.shape}; "
       f"ys[:, -1] is the final carry: {np.allclose(ys.numpy()[:, -1], h_last.numpy())}")

# %% [markdown]
# ## 3b. The same numbers, faster: `fused=True`
# Scanning runs the cell's ~16 small ops at every time step, each one a node of
# the graph that backward walks.  `nn.GRU(n, fused=True)` switches on a speed
# trick from minidl's speed wing (`minidl/fast/`): the very same equations on the
# very same `cell.W`, `cell.b` as ONE Function for the whole sequence, with a
# hand-written backward through time (`minidl/fast/fused_rnn.py`;
# tests/test_fused_rnn.py proves the two equal in value and every gradient).  What
# it buys: the input projections of all 64 steps become one matrix product, and
# autograd walks one node instead of about a thousand.  We check it here once,
# then train with it.

# %%
readable, fused = nn.GRU(32), nn.GRU(32, fused=True)
x_demo = md.tensor(np.random.default_rng(1).normal(size=(16, 64, 16)))
y_readable = readable(x_demo)
fused.cell.build(16)
fused.cell.W, fused.cell.b = readable.cell.W, readable.cell.b       # share the weights
largest_gap = float(np.abs(y_readable.numpy() - fused(x_demo).numpy()).max())


def forward_backward(layer):
    return lambda: layer(md.tensor(x_demo.data, requires_grad=True)).sum().backward()


# Interleaved repeats, the best of each: a busy machine can only add time, never take it away.
timings = L.time({"readable (scan)": forward_backward(readable), "fused": forward_backward(fused)})
# Both do the same arithmetic: per example and step, [h, x] (32 + 16) times the gate weights (3 x 32),
# forward once and about twice that backward.
madds = 3 * 16 * 64 * (32 + 16) * 3 * 32
L.show("readable scan vs fused GRU, one forward + backward of (16, 64, 16)",
       f"largest difference of the outputs: {largest_gap:.2e}\n"
       + "\n".join(f"{k:>16}: {v['best'] * 1e3:6.1f} ms  (best of {v['repeats']} interleaved repeats)"
                    for k, v in timings.items())
       + f"\nboth: the same {support.count(madds, 'multiply-adds')}; the difference is autograd's bookkeeping "
         "(about a thousand graph nodes against one)")
L.claim("fused_same_numbers", "fused=True gives the same numbers as the readable scan, faster: one graph node "
        "for the whole sequence instead of one per operation and step.",
        largest_gap < 1e-4 and timings["fused"]["best"] < timings["readable (scan)"]["best"],
        {"largest difference": largest_gap, "scan ms": 1e3 * timings["readable (scan)"]["best"],
         "fused ms": 1e3 * timings["fused"]["best"]}, timing=True)

# %% [markdown]
# ## 4. The models
#     Serial(Embedding(V, d), GRU(n), GRU(n), Dense(V), LogSoftmax())
# ids (B, T) -> (B, T, d) -> (B, T, n) -> (B, T, n) -> (B, T, V) log-probabilities of
# the next character at every position.  The vanilla RNN model swaps GRU for RNN.

# %%
d, n = (16, 64) if L.quick else (32, 128)
B, T = (16, 32) if L.quick else (32, 64)
steps = 250 if L.quick else 1000
eval_every = 50 if L.quick else 100


def language_model(Recurrent, **options):
    return nn.Serial(nn.Embedding(V, d), Recurrent(n, **options), Recurrent(n, **options),
                     nn.Dense(V), nn.LogSoftmax())


def log_perplexity(model, ids, max_chars=5_000 if L.quick else 20_000):
    """Mean next-character cross-entropy over validation text (state restarts every T chars)."""
    total, count = 0.0, 0
    model.eval()
    with md.no_grad():
        for x, y in lm_stream_batches(ids[:max_chars], batch_size=16, seq_len=T, drop_last=True):
            total += md.losses.nll_loss(model(md.tensor(x)), y).item() * y.size
            count += y.size
    model.train()
    return total / count


def train(model, label):
    opt = optim.Adam(model, lr=1e-2 if L.quick else 3e-3)     # a short run needs bigger steps
    curve = {"step": [], "train": [], "val": []}
    running, started = [], time.perf_counter()
    batches = lm_random_windows(train_ids, B, T, steps, seed=L.seed)
    for step, (x, y) in enumerate(batches, 1):
        loss = md.losses.nll_loss(model(md.tensor(x)), y)          # averaged over B*T positions
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm(model, 5.0)                         # BPTT can explode; clip the norm
        opt.step()
        running.append(loss.item())
        if step % eval_every == 0 or step == steps:
            curve["step"].append(step)
            curve["train"].append(float(np.exp(np.mean(running))))
            curve["val"].append(float(np.exp(log_perplexity(model, val_ids))))
            running = []
            print(f"{label}: step {step:5d}  train ppl {curve['train'][-1]:7.3f}  "
                  f"val ppl {curve['val'][-1]:7.3f}  ({time.perf_counter() - started:.0f} s)")
    return curve


gru_model, rnn_model = language_model(nn.GRU, fused=True), language_model(nn.RNN)   # RNN: always a scan
gru_curve = train(gru_model, "GRU")
rnn_curve = train(rnn_model, "RNN")

# %% [markdown]
# ## 5. Results: log-perplexity and perplexity on held-out text

# %%
gru_lp = log_perplexity(gru_model, val_ids)
rnn_lp = log_perplexity(rnn_model, val_ids)
L.headline("GRU validation perplexity", np.exp(gru_lp), baseline=bigram_ppl, higher_is_better=False)
L.headline("RNN validation perplexity", np.exp(rnn_lp), baseline=bigram_ppl, higher_is_better=False)
L.show("validation log-perplexity (nats per character)",
       f"bigram {np.log(bigram_ppl):.4f}   RNN {rnn_lp:.4f}   GRU {gru_lp:.4f}")
L.claim("context", "Both recurrent models use context beyond the previous character: their validation "
        "perplexity is well below the bigram model's.", max(np.exp(gru_lp), np.exp(rnn_lp)) < 0.8 * bigram_ppl,
        {"GRU": np.exp(gru_lp), "RNN": np.exp(rnn_lp), "bigram": bigram_ppl})

# %% [markdown]
# ## 5b. Does the model remember the subject?  (generated grammar only)
# In "the dog near the cats run_" the next character decides agreement: "runs"
# for a singular subject.  The nearest noun ("cats") has the *other* number, so
# only a model that remembers the subject, ~15 characters back, gets it right.
# We score both endings, log p("runs .") vs log p("run ."), and count how often the
# grammatical one wins.  A bigram model cannot see the subject at all.

# %%
def continuation_logprob(model, prefix, ending):
    ids = chars(prefix + ending)
    with md.no_grad():
        logp = model(md.tensor(ids[None, :-1])).numpy()[0]          # (L-1, V)
    picked = logp[np.arange(len(ids) - 1), ids[1:]]
    return float(picked[len(prefix) - 1:].sum())                   # only the ending's characters


def bigram_logprob(prefix, ending):
    ids = chars(prefix + ending)
    return float(bigram[ids[len(prefix) - 1:-1], ids[len(prefix):]].sum())


if not L.data:
    nouns = datasets.synthetic_text.NOUNS
    verbs = datasets.synthetic_text.INTRANSITIVE
    probe_sets = {
        # the lecture's test: the subject ~15 characters back, a noun of the other number between
        "across a distractor": [(f"the {subj[plural]} near the {other[1 - plural]} ", verb, plural)
                                for subj in nouns[:4] for other in nouns[4:6] for verb in verbs[:3]
                                for plural in (0, 1)],
        # the easy version: the subject right before the verb (still 2+ characters back)
        "adjacent subject": [(f"the {subj[plural]} ", verb, plural)
                             for subj in nouns[:6] for verb in verbs[:4] for plural in (0, 1)],
    }
    gru_model.eval(); rnn_model.eval()
    scorers = (("GRU", lambda p, e: continuation_logprob(gru_model, p, e)),
               ("RNN", lambda p, e: continuation_logprob(rnn_model, p, e)),
               ("bigram", bigram_logprob))
    agreement = {}
    for kind, probes in probe_sets.items():
        for name, logprob in scorers:
            right = [logprob(pre, verb[plural] + " .") > logprob(pre, verb[1 - plural] + " .")
                     for pre, verb, plural in probes]
            agreement[kind, name] = float(np.mean(right))
        L.show(f"subject-verb agreement, {kind} ({len(probes)} probes)",
               "\n".join(f"{name:>6}: {agreement[kind, name]:.0%} grammatical" for name, _ in scorers)
               + "\n(e.g. " + repr(probes[0][0] + probes[0][1][0] + " .") + ")")
    # The bigram model sees one character, so it cannot know the subject: its score is
    # the baseline.  250 quick steps learn the adjacent case; the distractor case needs
    # the full run, so quick mode judges the adjacent one and the full run both.
    L.headline("GRU agreement accuracy (adjacent subject)", agreement["adjacent subject", "GRU"],
               baseline=agreement["adjacent subject", "bigram"])
    L.headline("GRU agreement accuracy", agreement["across a distractor", "GRU"],
               baseline=None if L.quick else agreement["across a distractor", "bigram"])
    # Across a distractor the quick run's 250 steps are not enough (a short run even follows the
    # NEARER noun, below chance); the full run's 1000 steps of a wider GRU learn it.
    L.claim("agreement", "The GRU keeps subject-verb agreement across a distractor noun of the other "
            "number ('the dog near the cats runs'); the bigram model cannot see the subject.",
            agreement["across a distractor", "GRU"] >= 0.8 and agreement["across a distractor", "bigram"] <= 0.6,
            {"GRU": agreement["across a distractor", "GRU"], "bigram": agreement["across a distractor", "bigram"]},
            full_run_only=True)

# %% [markdown]
# ## 6. Sampling
# Generating steps the *cells* by hand: the layer is the cell scanned over time, so
# to produce one character at a time we keep each layer's hidden state ourselves.
# Temperature T rescales the log-probabilities: T < 1 sharpens (safer, repetitive),
# T > 1 flattens (more surprising, more mistakes).

# %%
def sample(model, prompt, n_chars, temperature, seed=0):
    rng = np.random.default_rng(seed)
    embed, rnn1, rnn2, dense = model[0], model[1], model[2], model[3]
    h1, h2 = rnn1.cell.initial_state(1), rnn2.cell.initial_state(1)
    out, ids = [], list(chars(prompt))
    with md.no_grad():
        for step in range(len(ids) + n_chars - 1):
            x = embed(md.tensor([ids[step] if step < len(ids) else out[-1]]))      # (1, d)
            y1, h1 = rnn1.cell(x, h1)
            y2, h2 = rnn2.cell(y1, h2)
            if step >= len(ids) - 1:
                logits = dense(y2).numpy()[0] / temperature
                logits[:2] = -np.inf                       # never emit padding or unknown
                p = np.exp(logits - logits.max())
                out.append(int(rng.choice(V, p=p / p.sum())))
    return prompt + "".join(chars.id_to_token(i) for i in out)


gru_model.eval()
prompt = "the " if not L.data else text[cut:cut + 20]
L.show("GRU samples", "\n".join(f"T={t}: {sample(gru_model, prompt, 80 if L.quick else 240, t)!r}"
                                 for t in (0.5, 1.0, 1.5)))

# %% [markdown]
# ## 7. Perplexity through training, GRU vs RNN

# %%
pyplot = plt()
fig, ax = pyplot.subplots(figsize=(7.5, 4.5))
for curve, name, colour, (train_ls, val_ls, marker) in ((gru_curve, "GRU", "tab:blue", (":", "-", "o")),
                                                        (rnn_curve, "vanilla RNN", "tab:orange", ("-.", "--", "s"))):
    ax.plot(curve["step"], curve["train"], ls=train_ls, color=colour, label=f"{name} train")
    ax.plot(curve["step"], curve["val"], ls=val_ls, marker=marker, color=colour, label=f"{name} validation")
ax.axhline(bigram_ppl, color="grey", ls=(0, (1, 3)), label="bigram baseline (validation)")
ax.set_xlabel("training step")
ax.set_ylabel("perplexity per character (log scale)")
ax.set_yscale("log")
ax.set_title(f"Character language models, {n} hidden units x 2 layers")
figures.legend(ax, fontsize=8)
L.figure(fig, "perplexity", "Training and validation perplexity of the GRU and the vanilla RNN against training "
         "steps; both fall far below the bigram model's, which sees one character back.")


# %% [markdown]
# ## The course's Trax code, run by minidl
# The course builds this language model in Trax as `GRULM`: `ShiftRight` moves the characters one step
# right so position t predicts character t from the ones before it, and the loss is a masked
# cross-entropy layer.  After `minidl.trax.register()` that code runs as written on minidl.  Trax
# stores a GRU's weights its own way (`[x, h]` rows, and its update gate u *keeps* the old state where
# the slides' Γu takes the new one: Γu = 1 - u), so `minidl_gru` below translates them; the native
# `nn.GRU` model then gives the same log-probabilities.

# %%
import shutil

import numpy as np

import minidl as md
import minidl.trax

minidl.trax.register()
import trax
from trax import layers as tl
from trax.supervised import training

course_lines = minidl.datasets.make_grammar_corpus(n_sentences=300, seed=L.seed)["sentences"]


def trax_batches(batch_size=16, max_length=32, seed=0):      # (inputs, targets, mask), as the course's
    rng = np.random.default_rng(seed)
    while True:
        batch = np.zeros((batch_size, max_length), np.int64)
        for row, i in enumerate(rng.choice(len(course_lines), batch_size)):
            ids = ([ord(c) for c in course_lines[i]] + [1])[:max_length]     # characters as code points, then EOS
            batch[row, :len(ids)] = ids
        yield batch, batch, (batch != 0).astype(np.float32)


def GRULM(vocab_size=256, d_model=32, n_layers=2, mode="train"):
    return tl.Serial(tl.ShiftRight(mode=mode), tl.Embedding(vocab_size, d_model),
                     [tl.GRU(d_model) for _ in range(n_layers)], tl.Dense(vocab_size), tl.LogSoftmax())


def minidl_gru(trax_gru):
    """Trax's (w1, b1, w2, b2) on [x, h] -> nn.GRUCell's W, b on [h, x], the update gate negated."""
    w1, b1, w2, b2 = trax_gru.weights[1][0]
    H = len(b2)
    W = np.concatenate([-w1[:, :H], w1[:, H:], w2], axis=1)
    return np.concatenate([W[-H:], W[:-H]]), np.concatenate([-b1[:H], b1[H:], b2])


output_dir = L.out / "trax_model"
shutil.rmtree(output_dir, ignore_errors=True)
model = GRULM()
training_loop = training.Loop(model, training.TrainTask(trax_batches(), tl.CrossEntropyLoss(), trax.optimizers.Adam(0.01)),
                              eval_tasks=[training.EvalTask(trax_batches(seed=1), [tl.CrossEntropyLoss(), tl.Accuracy()])],
                              output_dir=str(output_dir), random_seed=L.seed)        # seeded: the page reruns the same
training_loop.run(n_steps=5 if L.quick else 30)       # a demonstration: the lesson trained above

x = next(trax_batches(seed=2))[0]
native = minidl.nn.Serial(minidl.nn.Embedding(256, 32), minidl.nn.GRU(32), minidl.nn.GRU(32), minidl.nn.Dense(256),
                          minidl.nn.LogSoftmax())
native(md.tensor(x))                                           # builds the lazily-sized layers
native[0].W.data = model.weights[1].copy()
for k in (1, 2):
    native[k].cell.W.data, native[k].cell.b.data = minidl_gru(model.sublayers[k + 1])
native[3].W.data, native[3].b.data = (w.copy() for w in model.weights[4])
shifted = np.pad(x, [(0, 0), (1, 0)])[:, :-1]                  # what ShiftRight does
gap = np.abs(model(x) - native(md.tensor(shifted)).numpy()).max()
L.show("the course's Trax GRULM, run by minidl.trax",
       f"{model}\nlargest difference from the native nn.GRU model's log-probabilities: {gap:.1e}")
assert gap < 1e-5
