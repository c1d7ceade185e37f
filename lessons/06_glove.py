"""GloVe from scratch: co-occurrence counts, a weighted least-squares fit of their logs, and word analogies.

dataset: generated text with planted analogies (embedded); --data: any text, e.g. tiny Shakespeare; --download: Google's analogy questions

GloVe learns word vectors by fitting their dot products to the logarithm of how often two words
occur together.  The counting is sparse and the fit is a weighted least-squares problem that
autograd differentiates for us.  What comes out has geometry: king - man + woman lands near queen,
because the offsets of one relation run parallel.

What this lesson shows
* two ways of counting context: "same sentence" (every pair of words in a
  sentence counts 1) and the paper's window of 10 with weight 1/distance --
  sparse matrices, never V x V;
* the GloVe objective, written with two Embedding tables and two bias tables so
  that autograd does the gradients:
      J = sum_{X_ij > 0} f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,
      f(x) = min(1, (x / 100)^(3/4));
* AdaGrad (the paper's optimizer) against plain SGD, and the course's simpler
  variant (target log(1 + X) over every pair, no weighting, plain SGD);
* analogies by vector arithmetic, b - a + c (man : king :: woman : queen),
  nearest neighbours, and analogy accuracy far above chance;
* a PCA map of analogy pairs in which the offsets x -> y run parallel.
"""
# %% [markdown]
# ## 0. Setup

# %%
import re
import time

import numpy as np

import minidl as md
from minidl import datasets
from minidl.data import TextVectorizer
from minidl.datasets.analogies import load_analogies
from minidl.datasets.synthetic_analogies import COMMON_PAIRS, analogy_questions, make_analogy_corpus
from minidl.models import glove as G
from lessons import figures
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. A corpus, cut into sentences
# By default: generated sentences in which each word of a pair (france/paris,
# king/queen, dog/dogs) meets *topic words* shared by its pair and *role words*
# shared by its side of the relation (country words vs city words, he vs she,
# one/is vs two/are).  With `--data`, any text file (`--download` fetches tiny
# Shakespeare and Google's analogy questions): it is cut into sentences at
# . ! ? ; : and blank lines (lines that end in ":" -- speaker names in a play --
# are dropped).  Words outside the vocabulary become "[UNK]" and are left out of
# the counts, as the GloVe reference code does.

# %%
def sentences_of(text):
    text = "\n".join(line for line in text.split("\n") if not line.rstrip().endswith(":"))
    return [s for s in re.split(r"[.!?;:]+|\n\s*\n", text) if s.strip()]


if L.real_data("shakespeare"):                               # --data, or --download: tiny Shakespeare
    text = datasets.load_text(L.data)["text"]
    if L.quick:
        text = text[:300_000]                                   # a quick run reads a slice
    sentences, source = sentences_of(text), L.data
    max_tokens = 2500 if L.quick else 3000
else:
    corpus = make_analogy_corpus(n_sentences=20000, seed=L.seed)     # counting and fitting take seconds
    sentences, source = corpus["sentences"], corpus["source"]
    max_tokens = None
vectorizer = TextVectorizer(max_tokens=max_tokens).adapt(sentences)
ids = [vectorizer(s) for s in sentences]
V = vectorizer.vocabulary_size()
vocab = vectorizer.vocabulary()
n_tokens = sum(len(s) for s in ids)
print(f"{len(sentences):,} sentences, {n_tokens:,} words, vocabulary {V:,} ({source})")
L.show("three sentences", "\n".join(sentences[:3]))

# %% [markdown]
# ## 2. Counting co-occurrences, two ways
# *Same sentence* (the lecture): every ordered pair of positions (p, q), p != q,
# of a sentence adds 1 to X[w_p, w_q].  *Window* (the paper): positions at
# distance d <= 10 add 1/d, so neighbours count most.  Both X are symmetric and
# sparse: `cooccurrence` adds up (i * V + j) keys with NumPy and keeps only the
# nonzeros -- for a 400k-word vocabulary the dense matrix would not fit in memory.

# %%
t0 = time.perf_counter()
X_sent = G.cooccurrence(ids, V, window=None, ignore_ids=(0, 1))
X_win = G.cooccurrence(ids, V, window=10, ignore_ids=(0, 1))
print(f"same sentence: {X_sent}\nwindow 10:     {X_win}   ({time.perf_counter() - t0:.1f} s for both)")
probe = next((w for w in (("king", "love") if L.data else ("paris",)) if vectorizer.token_to_id(w) > 1), vocab[2])
p = vectorizer.token_to_id(probe)


def top_contexts(X, i, k=8):
    row = X.row_block([i])[0]
    best = np.argsort(-row)[:k]
    return ", ".join(f"{vocab[j]} {row[j]:.3g}" for j in best if row[j] > 0)


L.show(f"the strongest contexts of {probe!r}",
       f"same sentence: {top_contexts(X_sent, p)}\nwindow, 1/d:   {top_contexts(X_win, p)}")

# %% [markdown]
# ## 3. The objective, and what autograd computes
#     J = sum_{X_ij > 0} f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2
#     f(x) = min(1, (x / x_max)^alpha),  x_max = 100, alpha = 3/4
# f keeps rare, noisy counts from steering the fit and caps frequent ones.  Two
# Embedding tables (w, w~) and two bias tables (b, b~): a batch of pairs (i, j) is
# four lookups.  The hand-derived gradient (`minidl/models/glove.py`) is
#     dJ/dw_i = sum_j 2 f(X_ij) e_ij w~_j,   e_ij = w_i . w~_j + b_i + b~_j - log X_ij
# and here autograd and the formula agree on a batch:

# %%
# On the generated corpus a quick run is the full run (8 s): with fewer sentences or epochs the
# analogies are mostly wrong, and a quick run must show what the lesson is about.
dim = 30 if not L.data else (20 if L.quick else 40)
epochs = 30 if not L.data else 12
batch = (1024 if L.quick else 2048) if L.data else 256
check = G.GloVe(V, dim)
take = np.arange(min(64, X_sent.nnz))
loss = check.loss(X_sent.rows[take], X_sent.cols[take], X_sent.values[take])
loss.backward()
hand = G.hand_gradients(check, X_sent.rows[take], X_sent.cols[take], X_sent.values[take])
worst = max(float(np.abs(md.backend.asnumpy(p_.grad) - h).max()) for p_, h in zip(   # hand: NumPy
    (check.w.W, check.w_tilde.W, check.b.W, check.b_tilde.W), hand))
L.show("autograd vs the hand-derived gradient", f"largest difference over w, w~, b, b~: {worst:.2e} (float32)")
L.claim("autograd_gradient", "Autograd through two Embedding tables and two bias tables gives the hand-derived GloVe "
        "gradient (up to float32 rounding).", worst < 1e-3, {"largest difference": worst})

# %% [markdown]
# ## 4. Training: AdaGrad (the paper) and plain SGD
# AdaGrad divides each coordinate's step by the root of the sum of its squared
# gradients so far, so rare words (few, small gradients) keep taking big steps.
# The paper uses lr 0.05 with one update per pair; we update on batches of pairs
# (J summed over the batch), far fewer updates, so we take larger steps (lr 0.2).  J is
# summed over each epoch's batches as it goes (the reference code's report);
# `objective` gives the exact J on the final parameters.

# %%
lr_adagrad = 0.2
runs = {}
for name, X, kwargs in (("GloVe, same sentence, AdaGrad", X_sent, dict(optimizer="adagrad", lr=lr_adagrad)),
                        ("GloVe, same sentence, SGD", X_sent, dict(optimizer="sgd", lr=0.02 if not L.data else 0.005)),
                        ("GloVe, window 10, AdaGrad", X_win, dict(optimizer="adagrad", lr=lr_adagrad))):
    md.seed(L.seed)
    model = G.GloVe(V, dim)
    t0 = time.perf_counter()
    model.fit(X, epochs=epochs, batch_size=batch, seed=L.seed, **kwargs)
    runs[name] = dict(model=model, X=X, seconds=time.perf_counter() - t0, J=model.objective(X))
    print(f"{name:32s} J = {runs[name]['J']:10.1f} on the final parameters   ({runs[name]['seconds']:.1f} s)")

# %% [markdown]
# ## 5. The course's simpler variant
#     J_simple = sum over ALL i, j of (w_i . w~_j + b_i + b~_j - log(1 + X_ij))^2
# log(1 + X) is defined for X = 0, so every pair counts, zeros included; no
# weighting; plain SGD.  Zeros carry information too: "france" never meets
# "pizza".  The sum is taken a block of rows at a time.  On a real corpus most
# of X is zero (96% of tiny Shakespeare's 3000 x 3000) and plain SGD, whose
# step must be about 1/V, spends its epochs fitting those zeros, mostly with the
# biases: compare its accuracy there with GloVe's, which skips the zeros.

# %%
md.seed(L.seed)
simple = G.GloVe(V, dim, variant="simple")
t0 = time.perf_counter()
# each row's gradient sums over all V columns, so plain SGD needs a step of about 1/V
simple.fit(X_sent, epochs=epochs, optimizer="sgd", lr=0.5 / V if L.data else 0.003, batch_size=batch, seed=L.seed)
runs["simple variant (log(1+X), all pairs, SGD)"] = dict(model=simple, X=X_sent, seconds=time.perf_counter() - t0,
                                                         J=simple.objective(X_sent))
print(f"simple variant: J_simple = {runs['simple variant (log(1+X), all pairs, SGD)']['J']:.1f}")

# %% [markdown]
# ## 6. Analogies: b - a + c
# "a : b :: c : ?" is the word whose vector (w + w~, unit length) is nearest by
# cosine to b - a + c, leaving out a, b and c themselves.

# %%
main = runs["GloVe, same sentence, AdaGrad"]["model"]
E = main.vectors()
examples = [("man", "king", "woman"), ("france", "paris", "italy"), ("dog", "dogs", "cat"),
            ("brother", "sister", "father"), ("he", "his", "she"), ("lord", "lords", "friend")]
lines = []
for a, b, c in examples:
    if all(vectorizer.token_to_id(w) > 1 for w in (a, b, c)):
        top = G.analogy(E, vocab, a, b, c, k=3)
        lines.append(f"{a} : {b} :: {c} : {top[0][0]:<10}  (then {', '.join(w for w, _ in top[1:])})")
L.show("analogies (GloVe, AdaGrad)", "\n".join(lines) or "(none of the example words is in this vocabulary)")
probes = [w for w in ("paris", "queen", "dogs", "king", "love", "night", "sword") if vectorizer.token_to_id(w) > 1][:4]
L.show("nearest neighbours (cosine)",
       "\n".join(f"{w:>8}: " + ", ".join(f"{n} {s:.2f}" for n, s in G.nearest(E, vocab, w, k=6)) for w in probes))

# %% [markdown]
# ## 7. Analogy accuracy
# On the generated corpus: every ordered pair of pairs of a relation (582
# questions).  On real text: Google's analogy file when it is at hand
# (`--download`, or in the data folder), else our small list of family words and
# plurals; questions with a word outside the vocabulary are skipped, and the
# coverage says how many were left.  Chance: 1 / (V - 3).

# %%
if L.data:
    qfile = None
    if L.download:
        try:
            qfile = datasets.download("google-analogies")
        except (datasets.DownloadError, OSError) as exc:
            print(f"[data] could not download the Google analogy file; using our own word pairs.\n{exc}")
    qfile = qfile or datasets.find_file("analogies/questions-words.txt")
    if qfile:
        qs = load_analogies(qfile)
        questions, sections, qsource = qs["questions"], qs["sections"], f"Google analogy file ({qfile})"
    else:
        questions, sections = analogy_questions(COMMON_PAIRS)
        qsource = "our family/plural word pairs (COMMON_PAIRS)"
else:
    questions, sections, qsource = corpus["questions"], corpus["sections"], "the planted relations"
chance = 1.0 / (V - 3)
in_vocab = set(vocab)
answered = np.array([s for q, s in zip(questions, sections) if all(w in in_vocab for w in q)])
table, results = [], {}
for name, run in runs.items():
    r = results[name] = G.analogy_accuracy(run["model"].vectors(), vocab, questions)
    right = np.array([ans == q[3] for q, ans in r["predictions"]])
    per = "  ".join(f"{s} {right[answered == s].mean():.0%}" for s in dict.fromkeys(answered))
    table.append(f"{name:42s} {r['accuracy']:6.1%}   {per}")
r = results["GloVe, same sentence, AdaGrad"]
L.show(f"analogy accuracy on {qsource}: {r['answered']} of {r['total']} questions in the vocabulary "
       f"(coverage {r['coverage']:.0%}); chance {chance:.2%}", "\n".join(table))
L.headline("analogy accuracy (GloVe, AdaGrad)", results["GloVe, same sentence, AdaGrad"]["accuracy"],
           baseline=chance)
L.headline("analogy accuracy (simple variant)", results["simple variant (log(1+X), all pairs, SGD)"]["accuracy"],
           baseline=chance)
L.headline("analogy accuracy (GloVe, SGD)", results["GloVe, same sentence, SGD"]["accuracy"])
L.headline("analogy accuracy (GloVe, window 10)", results["GloVe, window 10, AdaGrad"]["accuracy"])
L.headline("GloVe J on the final parameters (AdaGrad)", runs["GloVe, same sentence, AdaGrad"]["J"],
           baseline=runs["GloVe, same sentence, SGD"]["J"], higher_is_better=False)
acc_main = results["GloVe, same sentence, AdaGrad"]["accuracy"]
acc_sgd = results["GloVe, same sentence, SGD"]["accuracy"]
L.claim("analogies", "Vector arithmetic b - a + c answers analogy questions far above chance "
        "(man : king :: woman : queen).", acc_main > max(0.5 if not L.data else 0.01, 20 * chance),
        {"accuracy": acc_main, "chance": chance})
L.claim("adagrad", "AdaGrad, with a step per coordinate, fits the objective far better than plain SGD in the same "
        "epochs, and its vectors answer more analogies.",
        runs["GloVe, same sentence, AdaGrad"]["J"] < 0.5 * runs["GloVe, same sentence, SGD"]["J"] and acc_main > acc_sgd,
        {"J AdaGrad": runs["GloVe, same sentence, AdaGrad"]["J"], "J SGD": runs["GloVe, same sentence, SGD"]["J"],
         "accuracy AdaGrad": acc_main, "accuracy SGD": acc_sgd})

# %% [markdown]
# What to read in the table.  AdaGrad reaches a much lower J than SGD in the same
# number of epochs, and better analogies: one learning rate cannot suit both the
# frequent words (large, many gradients) and the rare ones.  The window count
# weights the words right next to a word ("of", "the", "is") far above words
# further along the sentence; compare its per-relation columns with the
# same-sentence ones (the paper found small windows better for syntactic and
# large ones for semantic questions).  The simpler variant also fits the zeros of
# X -- that "france" never meets "pizza" is information too, and on a small
# corpus a lot of it -- while GloVe's J ignores every pair that never occurred.

# %% [markdown]
# ## 8. Figures: the loss curves, and parallel offsets

# %%
pyplot = plt()
fig, ax = pyplot.subplots(figsize=(7, 4))
for k, name in enumerate(("GloVe, same sentence, AdaGrad", "GloVe, same sentence, SGD", "GloVe, window 10, AdaGrad")):
    h = runs[name]["model"].history
    ax.plot(np.arange(1, len(h) + 1), h, ms=3, label=name, **figures.style(k))
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("J summed over the epoch's batches (log scale)")
ax.set_title("GloVe objective during training\n(the window run fits a different X: compare its shape, not its level)",
             fontsize=10)
figures.legend(ax, fontsize=8)
L.figure(fig, "loss_curves", "The GloVe objective J per epoch: AdaGrad keeps falling where plain SGD stalls; the "
         "window count fits a different matrix X, so compare its shape, not its level.")

if L.data:
    relations = {s: [(x, y) for x, y in COMMON_PAIRS[s] if vectorizer.token_to_id(x) > 1
                     and vectorizer.token_to_id(y) > 1][:8] for s in COMMON_PAIRS}
else:
    relations = {s: pairs[:8] for s, pairs in corpus["relations"].items() if s != "gram8-plural"}
relations = {s: p for s, p in relations.items() if len(p) >= 2}


def draw_pairs(ax, Z, pairs, xlabel, ylabel, title):
    for k, (x, y) in enumerate(pairs):
        zx, zy = Z[2 * k], Z[2 * k + 1]
        ax.annotate("", xy=zy, xytext=zx, arrowprops=dict(arrowstyle="->", color="tab:grey", lw=1.2))
        ax.scatter(*zx, c="tab:blue", s=25)
        ax.scatter(*zy, c="tab:red", s=25)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.margins(0.12)


def label_pairs(ax, Z, pairs):
    """Word labels once the layout is final: blue x, red y, none on top of another."""
    words = [w for pair in pairs for w in pair]
    figures.place_labels(ax, Z[:, 0], Z[:, 1], words, fontsize=9, colors=["tab:blue", "tab:red"] * len(pairs))


# Top row: plain PCA of the pair words.  Bottom row: the same words on two other axes --
# x = the mean offset direction u (unit length), y = the main direction along which the
# pairs' midpoints differ (u removed) -- where parallel offsets show up as parallel arrows.
n_rel = max(len(relations), 1)
fig, axes = pyplot.subplots(2, n_rel, figsize=(6.5 * n_rel, 10), squeeze=False)
stats, drawn, parallel = [], [], {}
for col, (section, pairs) in enumerate(relations.items()):
    words = [w for pair in pairs for w in pair]
    P = E[[vectorizer.token_to_id(w) for w in words]].astype(np.float64)
    Z, _, ratio = md.manifold.pca(P, 2)
    draw_pairs(axes[0, col], Z, pairs, f"PC 1 ({ratio[0]:.0%} of variance)", f"PC 2 ({ratio[1]:.0%} of variance)",
               f"{section}: PCA, x (blue) -> y (red)")
    offsets = P[1::2] - P[0::2]
    u = offsets.mean(0) / np.linalg.norm(offsets.mean(0))
    cos = offsets @ u / np.linalg.norm(offsets, axis=1)
    mid = (P[0::2] + P[1::2]) / 2                        # where each pair sits: its topic
    mid = mid - np.outer(mid @ u, u)
    _, comps, _ = md.manifold.pca(mid, 1)
    Z2 = np.c_[P @ u, (P - P.mean(0)) @ comps[0]]
    draw_pairs(axes[1, col], Z2, pairs, "along the mean offset  u = mean(y - x) / |mean(y - x)|",
               "first principal axis of the pair midpoints (u removed)",
               f"{section}: projected on the offset direction")
    drawn += [(axes[0, col], Z, pairs), (axes[1, col], Z2, pairs)]
    stats.append(f"{section:26s} cosine(y - x, mean offset): mean {cos.mean():.2f}, min {cos.min():.2f} "
                 f"over {len(pairs)} pairs")
    parallel[section] = float(cos.mean())
L.show("how parallel are the offsets?", "\n".join(stats))
if parallel:
    L.claim("parallel_offsets", "The offsets of one relation (france -> paris, italy -> rome, ...) run nearly "
            "parallel: that is why b - a + c lands near the answer.", min(parallel.values()) > 0.5,
            {f"mean cosine, {k}": v for k, v in parallel.items()})
fig.suptitle("Analogy pairs in GloVe space (w + w~).  Top: PCA -- the largest differences are between pairs (topics).\n"
             "Bottom: projected on the mean offset direction, the arrows x -> y point the same way, as b - a + c "
             "needs\n(how closely: the cosines printed beside this figure)")
fig.tight_layout()
for ax, Z_, pairs in drawn:
    label_pairs(ax, Z_, pairs)
L.figure(fig, "analogy_pca", "Analogy pairs x -> y: a 2-D PCA (top), where differences between topics dominate, and "
         "the same words projected on the mean offset direction (bottom), where the arrows point the same way.")

# %% [markdown]
# ## 9. Keeping the vectors
# `md.save` stores the four tables (a plain .npz, no pickles) and the vectorizer
# its vocabulary; `write_vectors_text` writes the GloVe text format that
# `md.datasets.load_word_vectors` -- and lesson 05's `--vectors PATH` -- read.

# %%
md.save(main, L.out / "glove.npz")
vectorizer.save(L.out / "glove_vocab.json")
G.write_vectors_text(L.out / "vectors.txt", E, vocab)
again = G.GloVe(V, dim)
md.load(again, L.out / "glove.npz")
assert np.array_equal(again.vectors(), E)
print(f"saved {L.out / 'glove.npz'}, {L.out / 'glove_vocab.json'} and {L.out / 'vectors.txt'}")
