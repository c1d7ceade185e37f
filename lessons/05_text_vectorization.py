"""From text to tensors, then Embedding -> Mean -> Dense: bags of words vs pretrained (frozen or fine-tuned) and from-scratch embeddings.

dataset: generated tweet/movie/product/news sentences (embedded); --data: VADER folder, four sources; --vectors: GloVe text

Before a model can read text, text must become numbers: ids in a sequence, or a bag of counts
over the vocabulary.  Bags of words into a small network are a strong baseline; an Embedding
layer can start from vectors pretrained on unlabelled text, frozen or fine-tuned, or learn from
scratch.  Which wins depends on how many labels there are and where the vectors came from.

What this lesson shows
* the encodings of ``TextVectorizer`` on the same three sentences: integer
  sequences (pad = 0, unknown = 1, ``max_tokens``, ``output_sequence_length``
  padding and truncating), multi-hot, counts, TF-IDF and bigrams;
* a bag-of-words Dense model on multi-hot and on TF-IDF input: the baseline;
* the sequence model  Serial(Embedding(V, d), Mean(axis=1, masked), Dense(8),
  ReLU(), Dense(C), LogSoftmax())  with its embeddings (a) pretrained and frozen,
  (b) pretrained and fine-tuned, (c) learned from scratch -- the course's table
  (lyrics genres, 49,000 songs: 63% frozen, 69% fine-tuned, 72% from scratch);
* when each wins: pretrained vectors carry words the few labelled texts never
  showed; with many labels, or vectors from another domain, learning from
  scratch catches up or wins.
"""
# %% [markdown]
# ## 0. Setup

# %%
import pathlib
import time

import numpy as np

import minidl as md
from minidl import datasets, nn, optim
from minidl.data import TextVectorizer
from minidl.datasets.synthetic_genres import make_genre_texts
from minidl.models import glove as G
from lessons import figures
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. Text -> tensors: five encodings of the same three sentences
# `adapt` builds the vocabulary: id 0 is padding (""), id 1 the unknown word
# ("[UNK]"), then the words by frequency.  The bag modes give one row of V
# numbers per text (word order is gone); "int" keeps the order as ids.
#     TF-IDF:  tf_idf[n, v] = count[n, v] * idf[v],   idf[v] = log(1 + N_docs / (1 + df[v]))
# with df[v] the number of adapted texts containing v (Keras's formula): words in
# every text are damped, rare ones boosted.

# %%
THREE = ["The movie was great, really great!", "The battery died after a week.",
         "Great news: the minister resigned after a week."]


def table(vec, rows, fmt="{:4.0f}"):
    vocab = vec.vocabulary()
    width = max(5, *(len(w) for w in vocab))
    head = " " * 6 + " ".join(f"{w or '<pad>':>{width}}" for w in vocab)
    body = [f"text{n + 1}:" + " ".join(f"{fmt.format(x):>{width}}" for x in row) for n, row in enumerate(rows)]
    return "\n".join([head] + body)


encodings = {}
for mode in ("multi_hot", "count", "tf_idf"):
    vec = TextVectorizer(output_mode=mode).adapt(THREE)
    encodings[mode] = vec(THREE)
    L.show(f'output_mode="{mode}"  (N, V) = {encodings[mode].shape}',
           table(vec, encodings[mode], "{:4.2f}" if mode == "tf_idf" else "{:4.0f}"))
L.show("the idf weights behind tf_idf (pad 0, unk = mean of the others)",
       ", ".join(f"{w or '<pad>'} {x:.2f}" for w, x in zip(vec.vocabulary(), vec.idf_weights())))
ints = TextVectorizer(max_tokens=8, output_sequence_length=7).adapt(THREE)
L.show('output_mode="int", max_tokens=8, output_sequence_length=7',
       f"vocabulary (8 entries, pad and unk included): {ints.vocabulary()}\n"
       + "\n".join(f"{t!r:52} -> {row.tolist()}" for t, row in zip(THREE, ints(THREE)))
       + "\n(0 = padding after a short text, 1 = a word outside the 8, a long text is cut at 7)")
bigrams = TextVectorizer(output_mode="count", ngrams=2).adapt(THREE)
L.show("ngrams=2: the unigrams, then the bigrams, each an entry of the vocabulary",
       f"{bigrams.tokenize(THREE[0])}\nV = {bigrams.vocabulary_size()} (was "
       f"{TextVectorizer().adapt(THREE).vocabulary_size()} without bigrams)")

pyplot = plt()
fig, axes = pyplot.subplots(3, 1, figsize=(11, 5.5), sharex=True)
top = max(float(M.max()) for M in encodings.values())
for ax, (mode, M) in zip(axes, encodings.items()):
    im = ax.imshow(M, cmap="Blues", aspect="auto", vmin=0, vmax=top)      # one colour scale for all three
    for (r, c), x in np.ndenumerate(M):
        if x:
            ax.text(c, r, f"{x:.2g}", ha="center", va="center", fontsize=7,
                    color="white" if x > 0.55 * top else "black")          # readable on dark cells
    ax.set_yticks(range(3), [f"text {n + 1}" for n in range(3)])
    ax.set_title(mode, fontsize=10, loc="left")
axes[-1].set_xticks(range(len(vec.vocabulary())), [w or "<pad>" for w in vec.vocabulary()], rotation=60)
fig.suptitle("Three sentences as bags of words: multi-hot, counts, TF-IDF")
fig.tight_layout()
fig.colorbar(im, ax=axes, label="value in the bag", shrink=0.9)
L.figure(fig, "encodings", "The three sentences in the three bag modes (columns: the vocabulary). Multi-hot marks "
         "presence, counts add repeats ('great' twice), TF-IDF shrinks words found in every text ('the').")

# %% [markdown]
# ## 2. The task: which source did this text come from?
# Default: generated sentences from four genres.  With `--data` the VADER folder: 23,700 real sentences from
# four sources (tweets, movie-review snippets, Amazon product reviews, New York Times editorials) -- the same
# kind of question as the course's lyrics-genre task.

# %%
def load_task():
    if L.data:
        folder = pathlib.Path(L.data)
        texts, labels = [], []
        names = ["tweets", "movies", "amazon", "nyt"]
        for label, which in enumerate(names):
            part = datasets.load_vader(folder, which=which)["texts"]
            texts += part
            labels += [label] * len(part)
        return texts, np.array(labels), names, f"VADER four sources ({folder})"
    d = make_genre_texts(n=1600 if L.quick else 4000, seed=L.seed)
    return d["texts"], d["labels"], d["label_names"], d["source"]


texts, labels, class_names, source = load_task()
C = len(class_names)
order = np.random.default_rng(L.seed).permutation(len(texts))
if L.quick and L.data:
    order = order[:6000]                                  # a quick run on real data uses a sample
n_val = len(order) // 5
val_idx, train_idx = order[:n_val], order[n_val:]
y_train, y_val = labels[train_idx], labels[val_idx]
majority = np.bincount(y_val, minlength=C).max() / len(y_val)
print(f"{len(order)} texts from {source}: {len(train_idx)} train / {len(val_idx)} validation; classes "
      + ", ".join(f"{n} {np.mean(labels[order] == k):.0%}" for k, n in enumerate(class_names))
      + f"; majority baseline {majority:.3f}")
L.show("one text of each class", "\n".join(
    f"{class_names[k]:>8}: {texts[train_idx[np.flatnonzero(y_train == k)[0]]][:110]}" for k in range(C)))

# %% [markdown]
# ## 3. The baseline: a bag of words into a small Dense network
#     Serial(Dense(8), ReLU(), Dense(C), LogSoftmax())    on multi-hot or TF-IDF rows (B, V)
# The vocabulary (10,000 entries at most) comes from the training texts only.  A bag is mostly zeros: 19,000
# texts x 10,000 columns would be 760 MB of float32, so the rows are built one batch at a time (the vectorizer
# is fast; the (N, V) matrix never exists).

# %%
epochs = 6 if L.quick else 12
max_tokens = 10000
train_texts = [texts[i] for i in train_idx]
val_texts = [texts[i] for i in val_idx]


def batches_of(encode, xs, ys, batch_size, shuffle):
    """A function giving one epoch of (encode(xs[batch]), ys[batch]) -- what md.train.fit accepts."""
    rng = np.random.default_rng(L.seed)

    def epoch():
        order = rng.permutation(len(ys)) if shuffle else np.arange(len(ys))
        for s in range(0, len(order), batch_size):
            take = order[s:s + batch_size]
            yield encode([xs[i] for i in take]), ys[take]
    return epoch


def train_eval(model, encode, xs, ys, n_epochs=epochs, lr=0.01, batch_size=64):
    """Adam on (encode(xs), ys); returns the accuracy on the validation texts."""
    md.train.fit(model, md.losses.nll_loss, optim.Adam(model, lr=lr),
                 batches_of(encode, xs, ys, batch_size, shuffle=True), epochs=n_epochs, progress=False)
    model.eval()
    with md.no_grad():
        pred = np.concatenate([model(md.tensor(x)).numpy().argmax(1)
                               for x, _ in batches_of(encode, val_texts, y_val, 1024, shuffle=False)()])
    return float(np.mean(pred == y_val))


def mlp():
    return nn.Serial(nn.Dense(8), nn.ReLU(), nn.Dense(C), nn.LogSoftmax())


results = {}
for label, kwargs in (("bag of words, multi-hot", dict(output_mode="multi_hot")),
                      ("bag of words, TF-IDF", dict(output_mode="tf_idf")),
                      ("bag of words, TF-IDF + bigrams", dict(output_mode="tf_idf", ngrams=2))):
    t0 = time.perf_counter()
    bag = TextVectorizer(max_tokens=max_tokens, **kwargs).adapt(train_texts)
    md.seed(L.seed)
    results[label] = train_eval(mlp(), bag, train_texts, y_train, batch_size=128)
    print(f"{label:32s} validation accuracy {results[label]:.3f}   ({time.perf_counter() - t0:.1f} s)")

# %% [markdown]
# ## 4. The sequence model, and where its embeddings come from
#     ids (B, T) -> Embedding (B, T, d) -> Mean over the real tokens (B, d)
#                -> Dense(8) -> ReLU -> Dense(C) -> LogSoftmax (B, C)
# `Mean` averages only the real words: `Branch(Embedding, PaddingMask())` hands it (vectors, mask) and it
# computes  sum_t m_t x_t / sum_t m_t  (padding does not dilute a short text).  The embedding table can be
#   (a) pretrained and frozen:   Embedding(V, d, weights=matrix, trainable=False)
#   (b) pretrained, fine-tuned:  Embedding(V, d, weights=matrix)
#   (c) learned from scratch:    Embedding(V, d)
# A frozen table has requires_grad=False: backward computes no gradient for it,
# so the optimizer leaves it exactly as it was.

# %%
def sequence_model(embedding):
    return nn.Serial(nn.Branch(embedding, nn.PaddingMask()), nn.Mean(axis=1),
                     nn.Dense(8), nn.ReLU(), nn.Dense(C), nn.LogSoftmax())


lengths = np.array([len(t.split()) for t in train_texts])
T = int(np.percentile(lengths, 95))                        # longer texts are cut, shorter padded
ints = TextVectorizer(max_tokens=max_tokens, output_sequence_length=T).adapt(train_texts)
x_train = ints(train_texts)                             # (N, T) ids, for the statistics below
V = ints.vocabulary_size()
print(f"vocabulary {V}, sequences padded/truncated to T = {T}; x_train {x_train.shape}")

# %% [markdown]
# ## 5. Pretrained vectors
# With `--vectors PATH` (a GloVe text file, e.g. glove.6B.50d.txt) those are used.  Otherwise we pretrain GloVe
# (lesson 06's code) on a *larger unlabelled* corpus -- more generated text of the same genres, or on real data
# every training text without its label -- save it with `md.save`, and load it back as a later job would.  Words
# of our vocabulary without a pretrained vector get random rows (the coverage says how many), pad gets zeros and
# unk the mean.

# %%
def pretrain_glove(corpus_texts, dim, name, epochs_glove):
    vec = TextVectorizer(max_tokens=max_tokens).adapt(corpus_texts)
    X = G.cooccurrence([vec(t) for t in corpus_texts], vec.vocabulary_size(), window=None, ignore_ids=(0, 1))
    md.seed(L.seed)
    model = G.GloVe(vec.vocabulary_size(), dim)
    model.fit(X, epochs=epochs_glove, lr=0.1 if L.data else 0.2, batch_size=4096 if L.data else 512, seed=L.seed)
    md.save(model, L.out / f"{name}.npz")                  # the pretraining job's output ...
    vec.save(L.out / f"{name}_vocab.json")
    again = TextVectorizer.load(L.out / f"{name}_vocab.json")      # ... and a later job reading it
    loaded = G.GloVe(again.vocabulary_size(), dim)
    md.load(loaded, L.out / f"{name}.npz")
    print(f"GloVe on {len(corpus_texts)} texts: {X}; J = {loaded.objective(X):.1f}; saved {L.out / name}.npz")
    return G.align_vectors(loaded.vectors(), again.vocabulary(), ints, seed=L.seed,
                           source=f"GloVe trained here on {len(corpus_texts)} unlabelled texts, {name}.npz")


t0 = time.perf_counter()
if L.vectors:
    pretrained = datasets.load_word_vectors(L.vectors, vocab=ints, seed=L.seed)
    unlabelled = None
else:
    unlabelled = train_texts if L.data else make_genre_texts(n=6000 if L.quick else 20000, seed=L.seed + 1)["texts"]
    pretrained = pretrain_glove(unlabelled, 16 if L.quick else 32, "glove_pretrained", 10 if L.quick else 20)
d = pretrained.dim
L.show("pretrained vectors", f"{pretrained}\ncoverage of our vocabulary: {pretrained.coverage:.1%} "
       f"({len(pretrained.found)} words found, {len(pretrained.missing)} given random rows); "
       f"{time.perf_counter() - t0:.1f} s")

# %% [markdown]
# ## 6. Frozen, fine-tuned, from scratch -- with few labels and with all of them
# The same model and the same training; only the embedding's start and whether
# it may move differ.  "Few labels" trains on 40 texts (5% of them on real data).

# %%
def three_ways(sub, vectors):
    out = {}
    for regime in ("frozen", "fine-tuned", "from scratch"):
        md.seed(L.seed)
        emb = nn.Embedding(V, d) if regime == "from scratch" else \
            nn.Embedding(V, d, weights=vectors.matrix, trainable=(regime == "fine-tuned"))
        model = sequence_model(emb)
        out[regime] = train_eval(model, ints, [train_texts[i] for i in sub], y_train[sub],
                                 n_epochs=epochs if len(sub) > 1000 else 3 * epochs,
                                 batch_size=64 if len(sub) > 1000 else 16)
        out[regime + " model"] = model
    return out


few = np.arange(len(train_idx) // 20 if L.data else 40)      # "few": 40 texts, 10 per class
t0 = time.perf_counter()
table_rows = {"few labels": three_ways(few, pretrained), "all labels": three_ways(np.arange(len(train_idx)), pretrained)}
print(f"six models trained in {time.perf_counter() - t0:.1f} s")

# On the generated data we can also fake what the course's lyrics task suffers
# from: vectors pretrained on another domain, where words are used differently.
# Before pretraining, half of the words (chosen at random) trade places with
# each other, so their co-occurrences in the "other domain" say little about
# their use in ours.
if not L.data and not L.vectors:
    rng = np.random.default_rng(L.seed)
    words = sorted({w for t in unlabelled for w in t.split()})
    moving = list(rng.choice(words, size=len(words) // 2, replace=False))
    swap = dict(zip(moving, rng.permutation(moving)))
    shifted = [" ".join(swap.get(w, w) for w in t.split()) for t in unlabelled]
    other = pretrain_glove(shifted, d, "glove_other_domain", 10 if L.quick else 20)
    table_rows["all labels, vectors from another domain"] = three_ways(np.arange(len(train_idx)), other)

lines = [f"{'':54s} {'frozen':>8} {'fine-tuned':>11} {'from scratch':>13}"]
for row, res in table_rows.items():
    n = len(few) if row == "few labels" else len(train_idx)
    lines.append(f"{row + f' ({n} texts)':54s} {res['frozen']:8.3f} {res['fine-tuned']:11.3f} {res['from scratch']:13.3f}")
lines.append("")
lines += [f"{k:54s} {v:8.3f}" for k, v in results.items()]
lines.append(f"{'majority class':54s} {majority:8.3f}")
L.show("validation accuracy", "\n".join(lines))
allr = table_rows["all labels"]
for k, v in results.items():
    L.headline(f"{k} accuracy", v, baseline=majority)
for regime in ("frozen", "fine-tuned", "from scratch"):
    L.headline(f"embeddings {regime} accuracy", allr[regime], baseline=majority)
for regime in ("frozen", "fine-tuned", "from scratch"):
    L.headline(f"embeddings {regime} accuracy, few labels", table_rows["few labels"][regime])
fewr = table_rows["few labels"]
L.claim("few_labels_pretrained", f"With few labels ({len(few)} texts), starting from pretrained vectors beats "
        "learning the embeddings from scratch: they already place words the labelled texts never showed.",
        max(fewr["frozen"], fewr["fine-tuned"]) > fewr["from scratch"] + 0.03,
        {"frozen": fewr["frozen"], "fine-tuned": fewr["fine-tuned"], "from scratch": fewr["from scratch"]})
L.claim("bag_baseline", "A bag of words into a small Dense network is a strong baseline: the best embedding model "
        "with all labels gains at most a few points over it.",
        max(allr["frozen"], allr["fine-tuned"], allr["from scratch"]) < max(results.values()) + 0.05,
        {"best bag of words": max(results.values()),
         "best embedding model": max(allr["frozen"], allr["fine-tuned"], allr["from scratch"])})
if "all labels, vectors from another domain" in table_rows:
    other_r = table_rows["all labels, vectors from another domain"]
    L.claim("other_domain", "Vectors from another domain (half the words used differently) hurt when frozen; fine-tuning "
            "must undo them, and learning from scratch does as well or better: the course's lyrics table in small.",
            other_r["frozen"] < other_r["from scratch"] - 0.05 and other_r["from scratch"] >= other_r["fine-tuned"] - 0.01,
            {"frozen": other_r["frozen"], "fine-tuned": other_r["fine-tuned"], "from scratch": other_r["from scratch"]})

# %% [markdown]
# ## 7. When each wins
# * **Few labels**: the labelled texts show only some of the words.  A from-scratch table learns those and
#   nothing else; pretrained vectors already put unseen words near their relatives, so frozen (or gently
#   fine-tuned) vectors carry the labels to words the classifier never saw.
# * **Many labels, same domain**: from scratch sees every word often enough to
#   learn vectors tuned to *this* task; fine-tuning gets there too from a good start.
# * **Vectors from another domain** (the course's GloVe-from-Wikipedia on song lyrics): the pretrained
#   neighbourhoods are wrong for the task; frozen vectors are stuck with them, fine-tuning must first undo them,
#   and from scratch wins -- the order of the course's 63% / 69% / 72%.
#
# Fine-tuning moves only the rows of words in the training texts (the others get no gradient):

# %%
few_models = table_rows["few labels"]
E0 = pretrained.matrix
E_ft = few_models["fine-tuned model"][0][0].W.numpy()
E_frozen = few_models["frozen model"][0][0].W.numpy()
seen = np.zeros(V, dtype=bool)
seen[np.unique(x_train[few])] = True
seen[:2] = False
moved = np.linalg.norm(E_ft - E0, axis=1)
L.show("how far fine-tuning (few labels) moved each word's vector",
       f"words in the {len(few)} training texts: mean |change| {moved[seen].mean():.3f} ({seen.sum()} words)\n"
       f"words not in them:              mean |change| {moved[~seen][2:].mean():.3f} ({(~seen).sum() - 2} words)\n"
       f"frozen table unchanged, bit for bit: {np.array_equal(E_frozen, E0)}")
L.claim("only_seen_rows_move", "A frozen table stays exactly as loaded; fine-tuning moves only the vectors of words "
        "that occur in the training texts (the others get no gradient).",
        np.array_equal(E_frozen, E0) and moved[~seen][2:].max() == 0 and moved[seen].mean() > 0,
        {"mean change, words in the training texts": moved[seen].mean(),
         "largest change, words not in them": moved[~seen][2:].max()})

# Words that tell the classes apart (the highest share of their training uses in one class):
counts = np.zeros((C, V))
for k in range(C):
    counts[k] = np.bincount(x_train[y_train == k].ravel(), minlength=V)
total = counts.sum(0)
share = counts / np.maximum(total, 1)
common = total >= (30 if L.data else 5)                  # rare words have noisy vectors
top = {k: [i for i in np.argsort(-(share[k] * common)) if i > 1][:7] for k in range(C)}
E_scratch = allr["from scratch model"][0][0].W.numpy()
probe = top[0][0]
L.show(f"nearest words to {ints.id_to_token(probe)!r}",
       "pretrained:   " + ", ".join(w for w, _ in G.nearest(E0, ints, ints.id_to_token(probe), 6)) + "\n"
       "from scratch: " + ", ".join(w for w, _ in G.nearest(E_scratch, ints, ints.id_to_token(probe), 6)))

chosen = [i for k in range(C) for i in top[k]]
unit = E0[chosen] / np.linalg.norm(E0[chosen], axis=1, keepdims=True)    # directions: what cosine sees
Z, _, ratio = md.manifold.pca(unit, 2)
fig, ax = pyplot.subplots(figsize=(7.5, 6))
colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
for k in range(C):
    rows = slice(k * 7, (k + 1) * 7)
    ax.scatter(Z[rows, 0], Z[rows, 1], c=colours[k % 4], label=f"words of '{class_names[k]}'")
ax.set_xlabel(f"PC 1 ({ratio[0]:.0%} of variance)"); ax.set_ylabel(f"PC 2 ({ratio[1]:.0%} of variance)")
ax.set_title(f"Pretrained vectors (unit length) of the words most typical of each class\n({pretrained.source})",
             fontsize=10)
ax.margins(0.15)
figures.legend(ax, fontsize=8)
figures.place_labels(ax, Z[:, 0], Z[:, 1], [ints.id_to_token(i) for i in chosen], fontsize=8)
L.figure(fig, "pretrained_pca", "PCA of the pretrained vectors of the words most typical of each class: GloVe, "
         "trained without a single label, already puts each class's words together.")

fig, ax = pyplot.subplots(figsize=(8.5, 4.2))
regimes = ("frozen", "fine-tuned", "from scratch")
width = 0.8 / len(table_rows)
for n, (row, res) in enumerate(table_rows.items()):
    xs = np.arange(3) + (n - (len(table_rows) - 1) / 2) * width
    bars = ax.bar(xs, [res[r] for r in regimes], width, label=row)
    ax.bar_label(bars, fmt="%.2f", fontsize=7)
best_bag = max(results.values())
ax.axhline(best_bag, color="k", ls="--", lw=1, label=f"best bag of words ({best_bag:.2f})")
ax.axhline(majority, color="grey", ls=":", lw=1, label=f"majority class ({majority:.2f})")
ax.set_xticks(range(3), regimes); ax.set_ylabel("validation accuracy"); ax.set_ylim(0, 1.05)
ax.set_title("Embedding -> Mean -> Dense(8) -> ReLU -> Dense: where the embeddings come from")
ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
L.figure(fig, "accuracy_table", "Validation accuracy of the three embedding regimes with few labels, all labels, "
         "and all labels with vectors from another domain; the dashed line is the best bag of words.")
