"""The big softmax: one neural language model trained four ways (full, serial scoring, hierarchical, C&W ranking).

dataset: generated sentences over ~2,300 class-named words (person17, consume3, ...) (embedded); --data: word-level tiny Shakespeare

A language model's last layer scores every word of the vocabulary, so its cost grows with V.
Three ways around it are trained on the same data as the full softmax: serial scoring of
sampled candidates, a hierarchical softmax over a Huffman tree (cost log V), and Collobert &
Weston's ranking loss, which needs no probabilities at all and still learns useful word vectors.

What this lesson shows (Hinton's lecture on learning to predict the next word)
* the neural n-gram model: Embedding of the previous 3 words, concatenated, a tanh
  hidden layer h, then an output over V words;
* the full softmax  p(w | h) = e^{u_w . h} / sum_v e^{u_v . h}  costs O(V) per example;
* serial scoring: the candidate word is an input, the net gives one logit per
  (context, candidate); train on the true word + K sampled candidates, predict by
  scoring all V;
* the hierarchical softmax  p(w | h) = prod_{nodes on w's path} sigma(+-(v_node . h + b_node)),
  O(log V) per example, with a Huffman tree from the word counts;
* Collobert & Weston: no probabilities at all, a ranking loss
  max(0, 1 - s(true window) + s(window with a random middle word)), and the word
  vectors it learns (nearest neighbours);
* measured: time per training step of the full and the hierarchical softmax as V
  grows, against the O(V) and O(log V) slopes.
"""
# %% [markdown]
# ## 0. Setup

# %%
import math
import re
import time
from collections import Counter

import numpy as np

import minidl as md
from minidl import datasets, nn, optim
from minidl.models import NeuralLM, SerialScorer, WindowScorer, corrupt_middle, hinge_ranking_loss
from lessons import figures, support
from lessons.support import Lesson, plt

L = Lesson(__file__)
rng = np.random.default_rng(L.seed)

# %% [markdown]
# ## 1. Words -> ids; contexts of 3 words -> the next word
# Word-level tokens (lower-cased words and punctuation marks), one long stream.  Ids: 0 = padding (unused here),
# 1 = <unk> (words seen fewer than `min_count` times in training), then the words by frequency.  The last 10% of
# the tokens are validation.  A training example is (w_{t-3}, w_{t-2}, w_{t-1}) -> w_t.

# %%
if L.real_data("shakespeare"):
    raw = datasets.load_text(L.data)["text"]
    if L.quick:
        raw = raw[:150_000]                                     # a quick run reads a slice
    tokens = re.findall(r"\w+(?:'\w+)*|[^\w\s]", raw.lower())
    word_class, min_count = None, 3
else:
    corpus = datasets.make_class_corpus(n_sentences=2500 if L.quick else 10000,
                                        words_per_class=60 if L.quick else 500, seed=L.seed)
    tokens, word_class, min_count = corpus["text"].split(), corpus["word_class"], 2
cut = int(len(tokens) * 0.9)
counts_train = Counter(tokens[:cut])
vocab = ["", "<unk>"] + sorted((w for w, c in counts_train.items() if c >= min_count),
                               key=lambda w: (-counts_train[w], w))
index = {w: i for i, w in enumerate(vocab)}
V = len(vocab)
ids = np.array([index.get(t, 1) for t in tokens], dtype=np.int64)
N_CTX = 3
contexts = np.stack([ids[i:len(ids) - N_CTX + i] for i in range(N_CTX)], axis=1)   # (N, 3)
targets = ids[N_CTX:]                                                              # (N,)
train_rows, val_rows = np.arange(cut - N_CTX), np.arange(cut - N_CTX, len(targets))
counts = np.bincount(ids[:cut], minlength=V).astype(np.float64)
unigram = (counts + 1) / (counts + 1).sum()
unigram_ppl = float(np.exp(-np.log(unigram[targets[val_rows]]).mean()))
print(f"{len(tokens):,} tokens; vocabulary V = {V:,}; {len(train_rows):,} training / "
      f"{len(val_rows):,} validation examples; unigram perplexity {unigram_ppl:.1f}")
L.show("a few training examples (3 words of context -> next word)", "\n".join(
    f"{' '.join(vocab[i] for i in contexts[r]):>40}  ->  {vocab[targets[r]]}"
    for r in rng.choice(train_rows, 6, replace=False)))

# %% [markdown]
# ## 2. One model, four outputs
#     ctx (B, 3) --Embedding(V, d)--> (B, 3, d) --Flatten--> (B, 3d) --Dense(H), tanh--> h (B, H)
# The same embedding size d and hidden size H for every way of training.  All models see the same number of
# examples (`EPOCHS` passes over the training text, batches of `B`), with Adam.
#
# Evaluation: the validation perplexity exp(-mean log p(w_t | context)) on the
# first `N_EVAL` validation examples, the same examples for every model.

# %%
d, H, B = 32, 128, 128
EPOCHS = 1.0 if L.quick else 2.0
K = 64                                          # sampled candidates per step (serial scoring)
N_EVAL = min(len(val_rows), 2000)
eval_rows = val_rows[:N_EVAL]
steps = int(EPOCHS * len(train_rows) / B)
steps_per_epoch = len(train_rows) / B
batches = [rng.choice(train_rows, B) for _ in range(steps)]     # the same batches for every model


def train(model, loss_fn, label, lr=3e-3):
    opt = optim.Adam(model, lr=lr)
    started = time.perf_counter()
    for step, rows in enumerate(batches, 1):
        loss = loss_fn(rows)
        opt.zero_grad(); loss.backward(); opt.step()
        if step % max(1, steps // 4) == 0:
            print(f"{label}: step {step}/{steps}  loss {loss.item():.3f}  ({time.perf_counter() - started:.0f} s)")
    return (time.perf_counter() - started) / (steps / steps_per_epoch)      # seconds per epoch


def validation_perplexity(log_prob_of, chunk=250):
    """exp(-mean log p) over eval_rows; log_prob_of(ctx, targets) -> (n,) log-probabilities."""
    total = 0.0
    with md.no_grad():
        for i in range(0, N_EVAL, chunk):
            r = eval_rows[i:i + chunk]
            total += float(np.sum(log_prob_of(contexts[r], targets[r])))
    return math.exp(-total / N_EVAL)


results = {}

# %% [markdown]
# ## 3. Way 1: the full softmax (the baseline)
#     p(w | h) = e^{u_w . h + c_w} / sum_{v=1..V} e^{u_v . h + c_v}
# One Dense(V) and a LogSoftmax: every training example computes all V logits and normalises over all of them.
# Cost per example: O(V H) multiply-adds, forward and backward, plus an update of all V output vectors.

# %%
md.seed(L.seed); full = NeuralLM(V, N_CTX, d, H, output="full")
sec = train(full, lambda r: full.loss(contexts[r], targets[r]), "full softmax")
results["full softmax"] = {"ppl": validation_perplexity(lambda c, t: full.log_prob(c, t).numpy()), "sec": sec}

# %% [markdown]
# ## 4. Way 2: serial scoring
# The candidate next word c becomes an INPUT: its feature vector e(c) joins the
# context in the hidden layer, and the net outputs one score per (context, candidate):
#     s(ctx, c) = v . relu( W_ctx [e(w_1); e(w_2); e(w_3)] + W_cand e(c) + b ) + beta_c
# The context part is computed once and shared by all candidates.  Training: the true word and K = 64 candidates
# sampled from q(w) ~ count(w)^0.75, a softmax over those K + 1 logits (each corrected by -log(K q(c)), the
# sampled-softmax correction).  Prediction: score all V candidates, softmax over all of them: exact, but it runs
# the hidden layer V times per context.
#
# Context and candidate meet only inside the hidden layer's nonlinearity.  With tanh, small pre-activations make
# tanh(A + C) ~ A + C, a score that is nearly a sum of a context term and a candidate term; ReLU's gate lets the
# candidate's effect depend on the context from the start, and trained faster here.  Even so this net learns
# more slowly than the others: it gets a larger step (lr 0.01), and its candidates have feature vectors of their
# own (``SerialScorer(share=False)``; reusing the context table also works, more slowly).

# %%
q = counts ** 0.75                                      # padding has count 0: never sampled
# (<unk> is a real target and must be sampled too: a word with q = 0 would get
#  -log(K q) = +inf added to its true logit and never be trained)
q /= q.sum()
log_q = np.log(np.maximum(q, 1e-30))
sample_rng = np.random.default_rng(L.seed + 1)
md.seed(L.seed); serial = SerialScorer(V, N_CTX, d, H)


def serial_loss(r):
    samples = sample_rng.choice(V, K, p=q)
    logits = serial.sampled_logits(contexts[r], targets[r], samples, log_q)      # (B, 1 + K)
    return md.losses.cross_entropy(logits, np.zeros(len(r), dtype=np.int64))    # the true word is column 0


sec = train(serial, serial_loss, "serial scoring", lr=1e-2)
started = time.perf_counter()
ppl = validation_perplexity(lambda c, t: np.take_along_axis(serial.log_probs(c).numpy(), t[:, None], axis=1)[:, 0])
results["serial scoring"] = {"ppl": ppl, "sec": sec, "predict_sec": time.perf_counter() - started}

# %% [markdown]
# ## 5. Way 3: the hierarchical softmax
# The V words are the leaves of a binary tree; each of the V - 1 inner nodes is a
# logistic unit that sends the walk left (sigma(z)) or right (sigma(-z)):
#     p(w | h) = prod_{k on path(w)} sigma( s_k (v_k . h + b_k) ),   s_k = +1 left, -1 right
# A Huffman tree built from the word counts gives frequent words short paths, so
# the average path length is about the entropy of the unigram distribution in
# bits, less than log2 V.  Training touches only the nodes on the target's path.

# %%
md.seed(L.seed); hier = NeuralLM(V, N_CTX, d, H, output="hierarchical", counts=counts)
tree = hier.output
by_freq = np.argsort(-counts)
show_words = [w for w in by_freq if w >= 2 and counts[w] > 0]       # skip padding and <unk>
L.show("Huffman codes (0 = left, 1 = right): frequent words get short paths", "\n".join(
    f"{vocab[w]:>14} (count {int(counts[w]):>6}): depth {tree.depths[w]:>2}  {tree.code(w)}"
    for w in show_words[:4] + show_words[len(show_words) // 2:len(show_words) // 2 + 2] + show_words[-2:])
    + f"\naverage path, weighted by the counts: {tree.mean_depth(counts):.2f} logistic units "
      f"(log2 V = {math.log2(V):.2f}; unigram entropy {float(-(unigram * np.log2(unigram)).sum()):.2f} bits)")
sec = train(hier, lambda r: hier.loss(contexts[r], targets[r]), "hierarchical softmax")
results["hierarchical softmax"] = {"ppl": validation_perplexity(lambda c, t: hier.log_prob(c, t).numpy()), "sec": sec}

# %% [markdown]
# ## 6. Perplexity and time per epoch, side by side

# %%
MARGIN = 1.15          # serial and hierarchical must come within 15% of the full softmax's perplexity
# multiply-adds of the output part of one training example (forward, and backward's two products)
out_madds = {"full softmax": 3 * H * V, "serial scoring": 3 * (K + 1) * (d * H + H),
             "hierarchical softmax": 3 * H * tree.mean_depth(counts)}
rows = [f"{'model':<22} {'val perplexity':>15} {'seconds / epoch':>16} {'output multiply-adds / example':>31}"]
for name, r in results.items():
    rows.append(f"{name:<22} {r['ppl']:>15.2f} {r['sec']:>16.1f} {out_madds[name]:>31,.0f}")
rows.append(f"{'unigram (add-one)':<22} {unigram_ppl:>15.2f}")
rows.append(f"serial scoring, predicting {N_EVAL} validation words by scoring all {V} candidates: "
            f"{results['serial scoring']['predict_sec']:.1f} s")
L.show(f"V = {V}: validation perplexity ({N_EVAL} examples) and training time", "\n".join(rows))
for name in results:
    L.headline(f"{name}: validation perplexity", results[name]["ppl"], baseline=unigram_ppl, higher_is_better=False)
ratios = {name: results[name]["ppl"] / results["full softmax"]["ppl"] for name in ("serial scoring", "hierarchical softmax")}
for name, ratio in ratios.items():
    L.headline(f"{name} perplexity / full softmax perplexity", ratio, baseline=MARGIN, higher_is_better=False)
L.claim("same_perplexity", f"At V = {V:,} the cheaper outputs lose little: serial scoring and the hierarchical softmax come "
        "within 15% of the full softmax's perplexity.", max(ratios.values()) < MARGIN,
        {"full softmax": results["full softmax"]["ppl"], **{k.split()[0]: results[k]["ppl"] for k in ratios}, "unigram": unigram_ppl})

# %% [markdown]
# ## 7. Way 4: Collobert & Weston's ranking loss
# Forget probabilities.  Score a window of 5 words with a small net; make the true
# window beat the same window with its middle word replaced by a random word:
#     loss = mean( max(0, 1 - s(true window) + s(corrupted window)) )
# Pairs already separated by the margin give exactly zero gradient.  What we want from it are the word vectors:
# words that fit the same windows end up close.  The replacement word is drawn with probability ~ count^0.75
# (the same q as above), not uniformly: uniform draws are mostly rare words, and the net would learn to spot
# rare words instead of words that do not fit.

# %%
WINDOW = 5
win_rows = np.arange(len(ids) - WINDOW + 1)
win_train = win_rows[win_rows + WINDOW <= cut]
windows = np.stack([ids[i:len(ids) - WINDOW + 1 + i] for i in range(WINDOW)], axis=1)
md.seed(L.seed); cw = WindowScorer(V, WINDOW, d, H)
cw_opt = optim.Adam(cw, lr=1e-2)
cw_steps = 400 if L.quick else 4000           # cheap steps (a small net, no output over V)
started = time.perf_counter()
active = []
for step in range(1, cw_steps + 1):
    good = windows[rng.choice(win_train, B)]
    bad = corrupt_middle(good, V, rng, p=q)
    s_good, s_bad = cw(good), cw(bad)
    loss = hinge_ranking_loss(s_good, s_bad)
    active.append(float((1 - s_good.numpy() + s_bad.numpy() > 0).mean()))
    cw_opt.zero_grad(); loss.backward(); cw_opt.step()
cw_sec = time.perf_counter() - started
L.show("C&W: share of window pairs still inside the margin (the others give zero gradient)",
       "  ".join(f"step {s}: {np.mean(active[max(0, s - 50):s]):.0%}"
                 for s in np.linspace(50, cw_steps, 5).astype(int)))


def neighbours(E, word, k=5, pool=None):
    """The k words of `pool` with the highest cosine to `word`, after removing the mean
    vector (a direction every word shares carries no meaning, but inflates every cosine)."""
    E = E - E[pool].mean(axis=0)
    E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-9)
    sims = E[pool] @ E[index[word]]
    order = np.argsort(-sims)
    return [(vocab[pool[i]], float(sims[i])) for i in order if pool[i] != index[word]][:k]


# candidate neighbours: words (not punctuation) seen at least 5 times
pool = np.array([w for w in range(2, V) if counts[w] >= 5 and vocab[w][0].isalpha()])
cw_E, lm_E = cw.embedding.W.numpy(), full.embedding.W.numpy()
if word_class is not None:
    probes = [c + "0" for c in ("person", "animal", "food", "drink", "place", "tool", "consume", "visit",
                                "colour", "day")] + ["animal7", "consume5"]
else:
    probes = ["king", "love", "thou", "good", "night", "lord", "death", "come", "heaven", "brother"]
probes = [w for w in probes if w in index and counts[index[w]] >= 5]
for title, E in (("C&W nearest neighbours (cosine of the word vectors)", cw_E),
                 ("for comparison: nearest neighbours in the full-softmax LM's input vectors", lm_E)):
    L.show(title, "\n".join(f"{w:>10}: " + ", ".join(f"{n} {s:.2f}" for n, s in neighbours(E, w, pool=pool))
                            for w in probes))

if word_class is not None:
    def class_agreement(E, queries):
        hits = [np.mean([word_class[n] == word_class[w] for n, _ in neighbours(E, w, pool=pool)])
                for w in queries]
        return float(np.mean(hits))

    content = [vocab[w] for w in by_freq if vocab[w] in word_class and word_class[vocab[w]] != "function"
               and counts[w] >= 5][:100]
    pool_classes = Counter(word_class.get(vocab[w], "?") for w in pool)
    chance = float(np.mean([(pool_classes[word_class[w]] - 1) / (len(pool) - 1) for w in content]))
    cw_agree, lm_agree = class_agreement(cw_E, content), class_agreement(lm_E, content)
    L.show("do the 5 nearest neighbours share the word's class? (100 most frequent content words)",
           f"C&W ranking vectors: {cw_agree:.0%}   full-softmax LM's input vectors: {lm_agree:.0%}   "
           f"chance: {chance:.0%}")
    L.headline("C&W: nearest neighbours in the same class", cw_agree, baseline=chance)
    L.claim("cw_vectors", "Collobert & Weston's ranking loss, with no probabilities at all, learns word vectors whose "
            "nearest neighbours share the planted word class, more often than the language model's input vectors.",
            cw_agree > max(lm_agree, 3 * chance), {"C&W": cw_agree, "LM input vectors": lm_agree, "chance": chance})
L.headline("C&W: seconds per training epoch (window pairs)", cw_sec / (cw_steps / steps_per_epoch))

# %% [markdown]
# ## 8. What V does to the cost of a training step
# The real reason for all of this.  A synthetic benchmark, so V can grow past the vocabulary above: a batch of
# hidden vectors h (B, H) and target words drawn from a Zipf distribution over V words.  One training step of
# the output layer = forward, backward, SGD update:
# * full softmax: h @ W (H, V) + c, LogSoftmax, NLL; every column of W is updated;
# * hierarchical softmax (Huffman tree from the same Zipf counts): only the nodes
#   on the targets' paths get a gradient, and only those rows are updated (as
#   word2vec does: a dense update of all V - 1 node vectors would itself be O(V)).
# Timed with `L.time` (`benchmarks/timing.py`): warm-up, the two steps' repeats interleaved, the BEST
# repeat of each (a busy machine only adds time), beside the multiply-adds, which no machine changes.

# %%
SIZES = [1_000, 4_000, 16_000] if L.quick else [1_000, 4_000, 16_000, 64_000]
B_BENCH, H_BENCH, LR = 128, 64, 0.1
bench = []
for size in SIZES:
    zipf = 1.0 / np.arange(1, size + 1)
    y = rng.choice(size, B_BENCH, p=zipf / zipf.sum())
    h_data = rng.normal(size=(B_BENCH, H_BENCH))
    W = nn.parameter(rng.normal(0, 0.1, size=(H_BENCH, size)))
    c = nn.parameter(np.zeros(size))

    def full_step():
        h = md.tensor(h_data, requires_grad=True)
        loss = md.losses.nll_loss(md.functional.log_softmax(h @ W + c), y)
        loss.backward()
        with md.no_grad():
            for p in (W, c):
                p.data -= LR * p.grad
                p.grad = None
        return loss.item()                  # a scalar to the host: waits for a GPU to finish

    hs = nn.HierarchicalSoftmax(size, counts=zipf, n_in=H_BENCH)
    touched = md.backend.to_backend(np.unique(hs.paths[y][hs.signs[y] != 0]),     # the nodes on
                                    md.get_backend())                              # the batch's paths

    def tree_step():
        h = md.tensor(h_data, requires_grad=True)
        loss = -hs.log_prob(h, y).mean()
        loss.backward()
        with md.no_grad():
            for p in (hs.W, hs.b):
                p.data[touched] -= LR * p.grad[touched]
                p.grad = None
        return loss.item()

    repeats = 7 if L.quick else 9
    t = L.time({"full": full_step, "tree": tree_step}, warmup=3, repeats=repeats)
    depth = hs.mean_depth(zipf)
    bench.append({"V": size, "full": t["full"]["best"], "tree": t["tree"]["best"], "depth": depth,   # h @ W, h^T g, g W^T:
                  "full_madds": 3 * B_BENCH * H_BENCH * size, "tree_madds": 3 * B_BENCH * H_BENCH * depth})  # 3 products

table = [f"{'V':>8} {'full softmax ms':>16} {'multiply-adds':>14} {'hierarchical ms':>16} {'multiply-adds':>14} "
         f"{'full / hier':>12} {'mean path':>10}"]
table += [f"{b['V']:>8,} {1e3 * b['full']:>16.2f} {support.count(b['full_madds'], ''):>14} {1e3 * b['tree']:>16.2f} "
          f"{support.count(b['tree_madds'], ''):>14} {b['full'] / b['tree']:>12.1f} {b['depth']:>10.2f}" for b in bench]
L.show(f"time per training step of the output layer (B = {B_BENCH}, H = {H_BENCH}; best of {repeats} interleaved repeats)",
       "\n".join(table))
L.headline(f"full / hierarchical step time at V = {SIZES[-1]:,}", bench[-1]["full"] / bench[-1]["tree"], baseline=1.0)
grow = SIZES[-1] / SIZES[0]
full_growth, tree_growth = bench[-1]["full"] / bench[0]["full"], bench[-1]["tree"] / bench[0]["tree"]
if L.backend == "numpy":        # on a GPU the full softmax's products are nearly free at these sizes (section 9)
    L.claim("cost_slopes", f"The full softmax's step grows like V (its multiply-adds grow {grow:.0f}x from V = {SIZES[0]:,} to "
            f"{SIZES[-1]:,}); the hierarchical softmax's barely moves (log V).",
            full_growth > 0.4 * grow and tree_growth < 0.25 * full_growth,
            {"full softmax time x": full_growth, "hierarchical time x": tree_growth, "V x": grow,
             "path length x": bench[-1]["depth"] / bench[0]["depth"]}, timing=True)

pyplot = plt()
fig, ax = pyplot.subplots(figsize=(7.5, 5))
Vs = np.array([b["V"] for b in bench], dtype=float)
t_full = np.array([b["full"] for b in bench]) * 1e3
t_tree = np.array([b["tree"] for b in bench]) * 1e3
ax.loglog(Vs, t_full, "o-", color="tab:red", lw=2, label="full softmax (measured)")
ax.loglog(Vs, t_tree, "s--", color="tab:blue", lw=2, label="hierarchical softmax (measured)")
# the multiply-adds, scaled to meet the measured time at the largest V: the slope each should follow
madds_full, madds_tree = (np.array([b[k] for b in bench]) for k in ("full_madds", "tree_madds"))
ax.loglog(Vs, t_full[-1] * madds_full / madds_full[-1], ":", color="tab:red", label="full: its multiply-adds (3BHV)")
ax.loglog(Vs, t_tree[-1] * madds_tree / madds_tree[-1], "-.", color="tab:blue", label="tree: its multiply-adds (3BH x path)")
ax.set_xlabel("vocabulary size V"); ax.set_ylabel("ms per training step (output layer, best of repeats)")
ax.set_title(f"Output-layer cost per step as V grows (B = {B_BENCH}, H = {H_BENCH})")
ax.grid(True, which="both", alpha=0.3)
figures.legend(ax, fontsize=8)
L.figure(fig, "cost_vs_vocabulary", "Time per training step of the output layer against V, log-log, the best of "
         "interleaved repeats: the full softmax follows its multiply-adds (proportional to V), the hierarchical "
         "softmax its path length (about log V).")

# %% [markdown]
# ## 9. What to take away
# * At a vocabulary of a few thousand words the three probabilistic outputs reach about the same
#   perplexity; what differs is the bill.  The full softmax pays for every word at every step, the
#   hierarchical softmax for a path of ~log V nodes, serial scoring for K + 1 runs of the hidden layer
#   while training and V of them to predict (the slowest to evaluate by far).
# * The measured steps follow the multiply-adds: the full softmax's time grows ~linearly in V, the
#   tree's barely moves, so the gap widens with V.  (word2vec also updates the path's rows in place.)
# * On a GPU (`--backend cupy`) the constants change places: the full softmax's product is nearly free
#   up to tens of thousands of words (an H100 measured ~2-2.6 ms per step up to V = 16,000) while the
#   tree pays a kernel launch per small gather (3-4 ms); the crossover moves to far larger V.
# * Collobert & Weston never normalise anything, and the word vectors organise themselves by what can
#   replace what (on tiny Shakespeare: king near duke and lord, thou near she, we, you).  The corrupted
#   words must be drawn like real ones (count^0.75), or the net learns word frequency.
