"""Duplicate questions with a Siamese LSTM: two towers sharing weights, triplet loss with hard negatives, a cosine threshold.

dataset: generated paraphrase question pairs with hard non-duplicates (embedded); --data/--download: Quora quora_duplicate_questions.tsv

A Siamese network reads two questions with the same tower (one set of weights) and compares
the two unit vectors by their cosine.  It is trained with the course's triplet loss, which
pushes each duplicate pair together and the hardest non-duplicates in the batch apart; a
threshold tau on the cosine, chosen on validation pairs, then decides "duplicate or not".

What this lesson shows
* a Siamese network: ONE tower  Serial(Embedding, LSTM, Mean(axis=1), Normalize)
  applied to both questions (``Parallel(tower, tower)``: the weights are shared and
  listed once), so cos(q1, q2) = v1 . v2 compares like with like;
* the course's triplet loss with hard negatives, the other questions of the batch
  being the negatives:  with s = v1 v2^T (B, B), per anchor i
      loss_i = max(0, margin - s_ii + mean_neg_i) + max(0, margin - s_ii + closest_neg_i)
  mean_neg = mean off-diagonal score, closest_neg = the largest off-diagonal score
  still below the positive's;
* trained on duplicate pairs only, then judged on both classes: duplicate if cos > tau,
  accuracy as a function of tau, and the distributions of cos for both classes;
* classifying a pair of your own:  --pair "How old are you?" "What is your age?".
"""
# %% [markdown]
# ## 0. Setup

# %%
import numpy as np

import minidl as md
from minidl import datasets, optim
from minidl.data import DataLoader, TextVectorizer
from lessons import figures
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. Question pairs
# By default: generated questions, each asking one *intent* ("how do i learn", "who
# invented", ...) about one *topic*.  Duplicates are two different wordings of the same
# (intent, topic); the non-duplicates are hard on purpose: they share the intent or the
# topic, so counting shared words is not enough.  With `--data`/`--download`: Quora's
# question pairs (the first 100,000 rows; 20,000 in a quick run).
# The pairs are split 80 / 10 / 10 (seeded): training, validation (to choose tau),
# test.  As in the course, only the training DUPLICATES are used to train.

# %%
path = L.real_data("quora-question-pairs")
if path:
    data = datasets.load_quora(path, limit=20_000 if L.quick else 100_000)
else:
    data = datasets.make_question_pairs(n=1500 if L.quick else 5000, seed=L.seed)
q1_text, q2_text = data["question1"], data["question2"]
is_dup = np.asarray(data["is_duplicate"])
order = np.random.default_rng(L.seed).permutation(len(is_dup))
n_train, n_val = int(0.8 * len(order)), int(0.1 * len(order))
train_idx, val_idx, test_idx = np.split(order, [n_train, n_train + n_val])
train_dups = train_idx[is_dup[train_idx] == 1]
L.show("the data", f"{len(is_dup):,} pairs from {data['source']}, {is_dup.mean():.0%} duplicates\n"
       f"training on the {len(train_dups):,} duplicate pairs of the training split; "
       f"{len(val_idx):,} validation and {len(test_idx):,} test pairs of both classes\n"
       + "\n".join(f"  {'duplicate' if is_dup[i] else 'different'}:  {q1_text[i]!r} / {q2_text[i]!r}"
                   for i in order[:4]))

# %% [markdown]
# ## 2. Text -> ids
# Lower-case, strip punctuation, split on spaces; a vocabulary of the training
# questions (0 = padding, 1 = unknown).  Every question is padded (or cut) to the same
# length T, so a question gets the same vector whichever batch it is in.

# %%
train_questions = [q1_text[i] for i in train_idx] + [q2_text[i] for i in train_idx]
T = min(30, max(len(q.split()) for q in train_questions))
vectorizer = TextVectorizer(max_tokens=20_000, output_sequence_length=T)
vectorizer.adapt(train_questions)
V = vectorizer.vocabulary_size()
Q1, Q2 = vectorizer(q1_text), vectorizer(q2_text)                 # (N, T) int64 each
print(f"vocabulary {V} words, questions padded to T = {T}")

# %% [markdown]
# ## 3. The model: one tower, used twice
#     tower = Serial(Embedding(V, d), LSTM(d), Mean(axis=1), Normalize())
#     model = Parallel(tower, tower)
# q (B, T) -> (B, T, d) -> (B, T, d) -> mean over time (B, d) -> unit length (B, d).
# Both entries of Parallel are the same object, so there is one set of weights: the
# summary lists the second tower as "shared", and backward adds the gradients of both
# questions into the same parameters.

# %%
d_model = 32 if L.quick else 64
model = md.models.SiameseLSTM(V, d_model)
tower = model[0]
model(md.tensor(Q1[:2]), md.tensor(Q2[:2]))                      # builds the LSTM's weights
L.show("Parallel(tower, tower): one set of weights", model.summary())

# %% [markdown]
# ## 4. The triplet loss, on one small batch
# Row i of the batch is a duplicate pair (A_i, P_i); for anchor A_i every other P_j is
# a negative.  The similarity matrix s = v1 v2^T holds the positives on its diagonal.
#     mean_neg_i    = mean_{j != i} s_ij
#     closest_neg_i = max { s_ij : j != i, s_ij <= s_ii }   (the hardest negative still ranked below)
#     loss = mean_i [ max(0, margin - s_ii + mean_neg_i) + max(0, margin - s_ii + closest_neg_i) ]
# mean_neg pushes ALL negatives down a little; closest_neg concentrates on the one that
# is nearly confused with the positive.

# %%
margin = 0.25
demo = train_dups[:5]


def similarity_matrix(rows):
    with md.no_grad():
        v1, v2 = model(md.tensor(Q1[rows]), md.tensor(Q2[rows]))
    return v1.numpy() @ v2.numpy().T


def explain(S):
    pos = np.diag(S)
    off = ~np.eye(len(S), dtype=bool)
    mean_neg = (S * off).sum(1) / (len(S) - 1)
    exclude = ~off | (S > pos[:, None])                           # the diagonal and negatives above it
    closest = np.where(exclude, S - 2.0, S).max(1)                # the course's "subtract 2" trick
    none_below = exclude.all(1)
    lines = ["s = v1 v2^T:"] + ["  " + " ".join(f"{v:6.2f}" for v in row) for row in S]
    lines.append("positive s_ii : " + " ".join(f"{v:6.2f}" for v in pos))
    lines.append("mean_neg      : " + " ".join(f"{v:6.2f}" for v in mean_neg))
    lines.append("closest_neg   : " + " ".join(f"{v:6.2f}" + ("*" if n else "") for v, n in zip(closest, none_below)))
    if none_below.any():
        lines.append("  * every negative of this row beats the positive: nothing is left below it, so the\n"
                     "    row maximum after subtracting 2 is the best negative - 2 (its hinge is then 0)")
    return "\n".join(lines)


S_before = similarity_matrix(demo)
with md.no_grad():
    v1, v2 = model(md.tensor(Q1[demo]), md.tensor(Q2[demo]))
    loss_before = md.losses.triplet_loss(v1, v2, margin).item()
L.show("before training: a batch of 5 duplicate pairs",
       explain(S_before) + f"\ntriplet loss (margin {margin}): {loss_before:.4f}")

# %% [markdown]
# ## 5. Training on duplicate pairs
# Batches of B duplicate pairs; the loss sees B - 1 negatives per anchor for free.
# (A batch may hold two pairs that ask the same thing; their "negatives" are then
# duplicates too.  That noise is part of the method, in the course as here.)

# %%
B = 32 if not path else 64
epochs = 4 if L.quick else 6
loader = DataLoader(Q1[train_dups], Q2[train_dups], batch_size=B, seed=L.seed, drop_last=True)
opt = optim.Adam(model, lr=0.01)
curve = []
for epoch in range(1, epochs + 1):
    losses = []
    for q1, q2 in loader:
        v1, v2 = model(q1, q2)
        loss = md.losses.triplet_loss(v1, v2, margin)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    curve.append(float(np.mean(losses)))
    if not L.quick or epoch == epochs:
        print(f"epoch {epoch:2d}: mean triplet loss {curve[-1]:.4f}")

S_after = similarity_matrix(demo)
L.show("after training: the same batch", explain(S_after))

# %% [markdown]
# ## 6. Duplicate or not: cos(v1, v2) > tau
# Each question is embedded on its own by the tower; the cosine of a pair is the dot
# product of its two unit vectors.  tau is chosen on the validation pairs and then
# judged on the test pairs; the baseline is the majority class.

# %%
def embed(ids, batch=512):
    tower.eval()
    with md.no_grad():
        out = np.concatenate([tower(md.tensor(ids[i:i + batch])).numpy() for i in range(0, len(ids), batch)])
    tower.train()
    return out


E1, E2 = embed(Q1), embed(Q2)
cos = (E1 * E2).sum(1)                                            # (N,) cosine of each pair
taus = np.round(np.arange(0.0, 1.0, 0.05), 2)


def accuracy(rows, tau):
    return float(((cos[rows] > tau) == (is_dup[rows] == 1)).mean())


val_acc = np.array([accuracy(val_idx, t) for t in taus])
test_acc = np.array([accuracy(test_idx, t) for t in taus])
tau = float(taus[val_acc.argmax()])
majority = max(is_dup[test_idx].mean(), 1 - is_dup[test_idx].mean())
L.show("accuracy vs tau", "  tau   validation   test\n" + "\n".join(
    f"  {t:4.2f}   {va:10.3f}   {ta:6.3f}" + ("   <- chosen" if t == tau else "")
    for t, va, ta in zip(taus, val_acc, test_acc)))
L.headline("chosen tau (on validation)", tau)
L.headline("test accuracy at the chosen tau", accuracy(test_idx, tau), baseline=majority, main=True)
L.claim("duplicates", "Trained on duplicate pairs only, the towers put duplicates at a high cosine and other "
        "questions at a low one: one threshold tau, chosen on validation pairs, classifies the test pairs.",
        accuracy(test_idx, tau) > majority + 0.2, {"test accuracy": accuracy(test_idx, tau), "tau": tau,
                                                   "majority class": majority})
L.headline("test accuracy at tau = 0.7 (the course's)", accuracy(test_idx, 0.7))

# %% [markdown]
# ## 7. What the towers learned
# On the generated pairs we know why two questions differ.  A model that only counted
# shared words would give "same intent, other topic" pairs a high cosine; the Siamese
# network must learn that the topic word changes the meaning.

# %%
if "intent1" in data:
    same_i = np.array([a == b for a, b in zip(data["intent1"], data["intent2"])])
    same_t = np.array([a == b for a, b in zip(data["topic1"], data["topic2"])])
    kinds = {"duplicates": is_dup == 1, "same intent, other topic": (is_dup == 0) & same_i,
             "same topic, other intent": (is_dup == 0) & same_t}
    rows = np.zeros(len(is_dup), dtype=bool)
    rows[test_idx] = True
    L.show("test pairs by kind", "\n".join(
        f"{k:<26} mean cos {cos[m & rows].mean():6.3f}   classified right at tau={tau:.2f}: "
        f"{((cos[m & rows] > tau) == (k == 'duplicates')).mean():.3f}" for k, m in kinds.items()))
    hard = kinds["same intent, other topic"] & rows
    L.claim("not_word_overlap", "It does not count shared words: questions with the same intent about another topic "
            "share most of their words, yet get a low cosine and are classified as different.",
            cos[hard].mean() < tau - 0.15 and float((cos[hard] <= tau).mean()) > 0.85,
            {"mean cosine, same intent other topic": cos[hard].mean(),
             "mean cosine, duplicates": cos[kinds["duplicates"] & rows].mean(),
             "classified as different": float((cos[hard] <= tau).mean())})

# %% [markdown]
# ## 8. Your own pair
# `--pair "..." "..."` (default: a few examples).

# %%
pairs = [tuple(L.pair)] if L.pair else [
    ("how do i learn chess ?", "what is the best way to learn chess ?"),
    ("how do i learn chess ?", "how do i learn guitar ?"),
    ("who invented the piano ?", "who was the inventor of the piano ?"),
    ("How old are you?", "What is your age?")]
a, b = embed(vectorizer([p[0] for p in pairs])), embed(vectorizer([p[1] for p in pairs]))
L.show(f"your pairs (duplicate if cos > {tau:.2f})", "\n".join(
    f"cos {c:6.3f}  {'duplicate' if c > tau else 'different'}:  {p[0]!r} / {p[1]!r}"
    for c, p in zip((a * b).sum(1), pairs)))

# %% [markdown]
# ## 9. Figures

# %%
pyplot = plt()
fig, axes = pyplot.subplots(1, 2, figsize=(9, 4))
for ax, S, title in ((axes[0], S_before, "before training"), (axes[1], S_after, "after training")):
    im = ax.imshow(S, cmap="RdBu_r", vmin=-1, vmax=1)
    for i in range(len(S)):
        for j in range(len(S)):
            ax.text(j, i, f"{S[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(S[i, j]) > 0.7 else "black")
    ax.set_xticks(range(len(S)), [f"P{j + 1}" for j in range(len(S))])
    ax.set_yticks(range(len(S)), [f"A{i + 1}" for i in range(len(S))])
    ax.set_title(f"s = v1 v2^T, {title}")
fig.colorbar(im, ax=axes, fraction=0.03, label="cosine similarity")
L.figure(fig, "similarity_matrix", "The similarity matrix s = v1 v2^T of one batch of duplicate pairs before and "
         "after training: the positives (the diagonal) go to 1, the negatives (off the diagonal) down.")

fig, ax = pyplot.subplots(figsize=(7, 4))
ax.plot(taus, val_acc, "o-", label="validation")
ax.plot(taus, test_acc, "s--", label="test")
ax.axhline(majority, color="grey", ls=":", label=f"majority class ({majority:.2f})")
ax.axvline(tau, color="k", ls="--", lw=1, label=f"chosen tau = {tau:.2f}")
ax.set_xlabel("threshold tau (duplicate if cos > tau)"); ax.set_ylabel("accuracy")
ax.set_title("Accuracy as a function of the threshold"); figures.legend(ax, fontsize=8)
L.figure(fig, "accuracy_vs_tau", "Accuracy of 'duplicate if cos > tau' on validation and test pairs: tau is chosen "
         "on validation, the test curve says how well that choice carries over.")

fig, ax = pyplot.subplots(figsize=(7, 4))
bins = np.linspace(-1, 1, 41)
for label, value, colour, hatch in (("duplicates", 1, "tab:green", ""), ("non-duplicates", 0, "tab:red", "///")):
    ax.hist(cos[test_idx][is_dup[test_idx] == value], bins=bins, alpha=0.6, color=colour, hatch=hatch,
            edgecolor="0.3", label=label)
ax.axvline(tau, color="k", ls="--", label=f"tau = {tau:.2f}")
ax.set_xlabel("cos(v1, v2)"); ax.set_ylabel("test pairs")
ax.set_title("Cosine similarity of test pairs"); figures.legend(ax, fontsize=8)
L.figure(fig, "cosine_histogram", "Cosine similarity of duplicate (plain) and non-duplicate (hatched) test pairs, "
         "with the chosen threshold tau: the two piles barely overlap.")


# %% [markdown]
# ## The course's Trax code, run by minidl
# The course's Siamese model is `tl.Parallel(q_processor, q_processor)` -- one tower object twice, so
# both questions share its weights -- and its `TripletLoss` is a `tl.Fn` around a function written with
# `trax.fastmath.numpy`.  After `minidl.trax.register()` that code runs as written: on a Tensor,
# `fastnp.dot`, `fastnp.diagonal`, `.max(axis=[1])` and `fastnp.maximum` are minidl's ops, so the loss
# has gradients.  Given the trained weights (Trax keeps the LSTM's gates as i, j, f, o over `[x, h]`,
# minidl's cell f, i, g, o over `[h, x]`), `md.models.SiameseLSTM` gives the same vectors, and the
# course's loss is `md.losses.triplet_loss`.

# %%
import functools

import numpy as np

import minidl as md
import minidl.trax

minidl.trax.register()
import trax
import trax.fastmath.numpy as fastnp
from trax import layers as tl
from trax.supervised import training

qpairs = minidl.datasets.make_question_pairs(n=400, seed=L.seed)
dups = [k for k, d in enumerate(qpairs["is_duplicate"]) if d]
qvec = minidl.data.TextVectorizer(output_sequence_length=10)
qvec.adapt(qpairs["question1"] + qpairs["question2"])
Q1, Q2 = qvec([qpairs["question1"][k] for k in dups]), qvec([qpairs["question2"][k] for k in dups])


def trax_pair_batches(batch_size=16, seed=0):             # (q1, q2): row i of both asks the same thing
    rng = np.random.default_rng(seed)
    while True:
        rows = rng.choice(len(Q1), batch_size, replace=False)
        yield Q1[rows], Q2[rows]


def Siamese(vocab_size, d_model=32):
    def normalize(x):
        return x / fastnp.sqrt(fastnp.sum(x * x, axis=-1, keepdims=True))
    q_processor = tl.Serial(tl.Embedding(vocab_size, d_model), tl.LSTM(d_model), tl.Mean(axis=1),
                            tl.Fn("Normalize", lambda x: normalize(x)))
    return tl.Parallel(q_processor, q_processor)


def TripletLossFn(v1, v2, margin=0.25):
    scores = fastnp.dot(v1, v2.T)
    batch_size = len(scores)
    positive = fastnp.diagonal(scores)
    mean_negative = fastnp.sum(scores * (1.0 - fastnp.eye(batch_size)), axis=1) / (batch_size - 1)
    exclude = (fastnp.eye(batch_size) == 1) | (scores > positive.reshape(batch_size, 1))
    closest_negative = fastnp.where(exclude, scores - 2.0, scores).max(axis=[1])
    return fastnp.mean(fastnp.maximum(0.0, margin - positive + closest_negative)
                       + fastnp.maximum(0.0, margin - positive + mean_negative))


def TripletLoss(margin=0.25):
    return tl.Fn("TripletLoss", functools.partial(TripletLossFn, margin=margin))


model = Siamese(qvec.vocabulary_size())
train_task = training.TrainTask(labeled_data=trax_pair_batches(), loss_layer=TripletLoss(),
                                optimizer=trax.optimizers.Adam(0.01), lr_schedule=trax.lr.warmup_and_rsqrt_decay(400, 0.01))
training_loop = training.Loop(model, train_task, eval_tasks=[training.EvalTask(trax_pair_batches(seed=1), [TripletLoss()])],
                              random_seed=L.seed)                       # Trax's own argument: a page you can rerun
training_loop.run(n_steps=10 if L.quick else 100)

q1, q2 = next(trax_pair_batches(seed=2))
native = md.models.SiameseLSTM(qvec.vocabulary_size(), 32)
native(md.tensor(q1), md.tensor(q2))                       # builds the lazily-sized layers
w, b = model.weights[0][1][1][0]                           # the tower's LSTM, Trax's layout
W = np.concatenate([np.split(w, 4, axis=1)[k] for k in (2, 0, 1, 3)], axis=1)          # -> f, i, g (= j), o
native[0][0].W.data = model.weights[0][0].copy()
native[0][1].cell.W.data = np.concatenate([W[-32:], W[:-32]])                          # rows -> [h; x]
native[0][1].cell.b.data = np.concatenate([np.split(b, 4)[k] for k in (2, 0, 1, 3)])
(v1, v2), (n1, n2) = model((q1, q2)), native(md.tensor(q1), md.tensor(q2))
gap = max(np.abs(v1 - n1.numpy()).max(), np.abs(v2 - n2.numpy()).max())
course_loss = float(TripletLossFn(md.tensor(v1), md.tensor(v2)))    # on Tensors (NumPy's max takes no axis=[1])
L.show("the course's Trax Siamese model, run by minidl.trax",
       f"{model}\nlargest difference from md.models.SiameseLSTM's vectors: {gap:.1e}\n"
       f"the course's TripletLossFn {course_loss:.6f}, md.losses.triplet_loss {float(md.losses.triplet_loss(n1, n2)):.6f}")
assert gap < 1e-5 and abs(course_loss - float(md.losses.triplet_loss(n1, n2))) < 1e-5
