"""Tweet sentiment with Serial(Embedding, Mean, Dense, LogSoftmax): the course's first neural model.

dataset: generated sentiment tweets with negation (embedded); --data: VADER tweets_GroundTruth.txt or NLTK twitter_samples/

What this lesson shows
* ``grad``: the derivative of f(x) = 3x^2 + x is 6x + 1, computed by autograd;
* the training loop written out (forward, cross-entropy, backward, W -= alpha * dW),
  then the same with an optimizer;
* the model:  tweet -> ids -> embeddings (T, d) -> mean over T (d,) -> Dense -> log-probabilities;
* what it learns: a direction in embedding space that separates positive from
  negative words (the PCA word map), and what it cannot learn: word order, so
  "not happy" is read as "happy" plus a little "not".
"""
# %% [markdown]
# ## 0. Setup
# The runner (`python -m lessons run tweet_sentiment`) passes --quick/--data/--seed;
# opened as a notebook, the defaults apply.

# %%
import numpy as np

import minidl as md
from minidl import optim
from minidl.data import DataLoader, TextVectorizer
from minidl import datasets
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. `grad`: derivatives without pencil and paper
# Trax (and JAX) teach `grad(f)`: a function that returns df/dx.  For f(x) = 3x^2 + x
# the slide says df/dx = 6x + 1.  minidl's `md.grad` builds the graph of f, runs
# backward, and hands back the gradient.

# %%
f = lambda x: 3 * x ** 2 + x
xs = md.tensor([-2.0, 0.0, 1.0, 2.5])
grads = md.grad(f)(xs).numpy()
L.show("md.grad(f) for f(x) = 3x^2 + x",
       "\n".join(f"x = {x:5.1f}   grad = {g:6.2f}   6x + 1 = {6 * x + 1:6.2f}" for x, g in zip(xs.numpy(), grads)))
assert np.allclose(grads, 6 * xs.numpy() + 1)

# %% [markdown]
# ## 2. Data
# By default: generated tweets, each with one opinion word ("great", "awful", ...),
# sometimes negated ("not great"), plus neutral filler.  With `--data`, the VADER
# tweets (mean human valence; we keep |valence| >= 0.5 and label valence > 0 as
# positive) or NLTK's twitter_samples.

# %%
def load_tweets(path):
    if path is None:
        n = 1500 if L.quick else 6000
        return datasets.make_sentiment(n=n, seed=L.seed)
    import pathlib
    p = pathlib.Path(path)
    if p.is_dir() and (p / "positive_tweets.json").exists():
        return datasets.load_twitter_samples(p)
    return datasets.vader_binary(datasets.load_vader(p, which="tweets"))


data = load_tweets(L.real_data("vader-tweets"))
texts, labels = data["texts"], np.asarray(data["labels"])
order = np.random.default_rng(L.seed).permutation(len(texts))
n_val = len(texts) // 5                                   # hold out 20%
val_idx, train_idx = order[:n_val], order[n_val:]
print(f"{len(texts)} tweets ({data['source']}), {labels.mean():.0%} positive; "
      f"{len(train_idx)} train / {len(val_idx)} validation")

# %% [markdown]
# ## 3. Tokenise, build the vocabulary, pad
# Standardize (lower-case, strip punctuation) -> split on spaces -> index.  Index 0
# is padding and 1 the unknown word; the rest by frequency in the *training* tweets
# only (the validation tweets must not leak into the vocabulary).  Every tweet is
# padded with 0 to the longest one.

# %%
vectorizer = TextVectorizer()
vectorizer.adapt([texts[i] for i in train_idx])
ids = vectorizer(texts)                                   # (N, T_max) int64, 0 = padding
V = vectorizer.vocabulary_size()
example = texts[train_idx[0]]
L.show("one tweet as ids", f"{example!r}\n-> {ids[train_idx[0]].tolist()}\n"
       f"vocabulary: {V} words, first ones {vectorizer.vocabulary()[:8]}; padded length {ids.shape[1]}")

# %% [markdown]
# ## 4. The model
#     Serial(Embedding(V, d), Mean(axis=1), Dense(2), LogSoftmax())
# Shapes: ids (B, T) -> Embedding (B, T, d) -> Mean over time (B, d) -> Dense (B, 2)
# -> LogSoftmax (B, 2) log-probabilities.  (The course averages over the padding
# too; the padded positions all share embedding 0, which the model learns to make
# harmless.)

# %%
d_feature = 16 if L.quick else 64
model = md.models.SentimentModel(V, d_feature, n_classes=2)
print(model)
model(md.tensor(ids[:2]))                                 # build lazily-shaped layers
print(model.summary())

# %% [markdown]
# ### The graph behind one loss
# Calling the model records every operation it runs; `md.viz.draw_graph` draws that record:
# a box per tensor (its shape; after backward, the size of dL/d tensor), a blue rounded box per
# Function.  `backward` walks it from the loss on the right to the weights on the left.

# %%
loss = md.losses.nll_loss(model(md.tensor(ids[train_idx[:2]])), labels[train_idx[:2]])
loss.backward(retain_graph=True)                          # keep the graph to draw it with its gradients
L.figure(md.viz.draw_graph(loss, model=model), "graph", "the computation graph of one loss, with |dL/dx| at every tensor")
model.zero_grad()

# %% [markdown]
# ## 5. The training loop, written out
# For a few full-batch steps we do by hand what an optimizer does:
#     loss = nll_loss(model(x), y);   loss.backward();   W -= alpha * dW
# (the model ends in LogSoftmax, so its outputs already are log-probabilities and
# the loss only picks -log p(y); `cross_entropy` is the same loss taken from raw logits.)

# %%
x_train, y_train = md.tensor(ids[train_idx]), labels[train_idx]
alpha = 1.0
manual = []
for step in range(20):
    loss = md.losses.nll_loss(model(x_train), y_train)
    model.zero_grad()
    loss.backward()
    with md.no_grad():
        for W in model.parameters():
            W.data -= alpha * W.grad
    manual.append(loss.item())
print("hand-written gradient descent, loss every 5 steps:", " ".join(f"{v:.4f}" for v in manual[::5]))
# It falls, but slowly: averaging over T words divides each embedding's gradient
# by T, so plain gradient descent crawls.  Adam rescales each parameter's step
# by its own gradient history, which is why the course switches to it.

# %% [markdown]
# ## 6. The same with an optimizer and `fit`
# Adam, mini-batches of 64, a validation pass each epoch.

# %%
epochs = 10 if L.quick else 15
train_loader = DataLoader(ids[train_idx], labels[train_idx], batch_size=64, seed=L.seed)
val_loader = DataLoader(ids[val_idx], labels[val_idx], batch_size=256, shuffle=False)
history = md.train.fit(model, md.losses.nll_loss, optim.Adam(model, lr=0.01), train_loader,
                       epochs=epochs, val_batches=val_loader, metrics=["accuracy"], progress=not L.quick)

# %% [markdown]
# ## 7. How good is it?
# The baseline is the majority class: always answering the commoner label.

# %%
model.eval()
with md.no_grad():
    val_pred = model(md.tensor(ids[val_idx])).numpy().argmax(axis=1)
val_acc = float((val_pred == labels[val_idx]).mean())
majority = max(labels[val_idx].mean(), 1 - labels[val_idx].mean())
L.headline("validation accuracy", val_acc, baseline=majority)
best = int(np.argmax(history["val_loss"]))
L.show("when to stop",
       f"validation loss was lowest after epoch {best + 1} of {epochs} "
       f"({history['val_loss'][best]:.3f}; train accuracy then {history['accuracy'][best]:.3f}, "
       f"at the end {history['accuracy'][-1]:.3f}).\n"
       + ("A validation loss that rises while the training loss keeps falling is overfitting: the "
          "model is memorising its training tweets (and growing over-confident on the ones it gets wrong)."
          if best < epochs - 1 else "It was still falling: more epochs would help."))
if "negated" in data:                                     # generated data marks its negations
    neg = np.asarray(data["negated"])[val_idx]
    L.show("accuracy by kind of tweet",
           f"plain opinions : {np.mean(val_pred[~neg] == labels[val_idx][~neg]):.3f}\n"
           f"negated ones   : {np.mean(val_pred[neg] == labels[val_idx][neg]):.3f}   "
           "<- a mean of word vectors cannot see which word 'not' belongs to")

# %% [markdown]
# ## 8. Hand-written tweets, negations included

# %%
mine = ["I am happy", "I am not happy", "this movie was great", "this movie was not great",
        "what an awful boring day", "not bad at all", "I loved it", "I hated it"]
with md.no_grad():
    p_pos = np.exp(model(md.tensor(vectorizer(mine))).numpy()[:, 1])
L.show("predictions on hand-written tweets",
       "\n".join(f"{p:5.2f}  {'positive' if p > 0.5 else 'negative'}  {t!r}" for t, p in zip(mine, p_pos)))

# %% [markdown]
# ## 9. What the embeddings learned
# The model is linear after the mean, so each word w pushes the logit difference by
# its own score  s(w) = E[w] . (W[:, 1] - W[:, 0]).  The words with the largest and
# smallest scores are the model's sentiment lexicon; a PCA of their embeddings
# shows positive and negative words on opposite sides of the map.
# On the generated data, look for "hate" among the *positive* words: there it
# almost always follows "did not", so a model that cannot see order learns that
# "hate" predicts a positive tweet, while "hated" (never negated) stays negative.

# %%
E = model[0].W.numpy()                                    # (V, d)
Wd = model[2].W.numpy()                                   # (d, 2)
score = E @ (Wd[:, 1] - Wd[:, 0])
counts = np.bincount(ids[train_idx].ravel(), minlength=V)
frequent = np.flatnonzero(counts >= (5 if L.quick else 20))   # rare words have noisy scores
frequent = frequent[frequent > 1]                         # not padding / unknown
k = 12
top_pos = frequent[np.argsort(-score[frequent])[:k]]
top_neg = frequent[np.argsort(score[frequent])[:k]]
vocab = vectorizer.vocabulary()
L.show("most positive / most negative words (by learned score)",
       "positive: " + ", ".join(vocab[i] for i in top_pos) + "\n"
       "negative: " + ", ".join(vocab[i] for i in top_neg))
for word in ("good", "excellent", "great", "bad"):
    if vectorizer.token_to_id(word) != md.data.UNK_ID:           # the word is in the vocabulary
        rare = np.setdiff1d(np.arange(V), frequent)
        near = md.manifold.cosine_neighbours(E, [vectorizer.token_to_id(word)], k=5, exclude_ids=rare)[0]
        L.show(f"nearest words to {word!r}", ", ".join(f"{vocab[i]} ({s:.2f})" for i, s in near))
        break

pyplot = plt()
chosen = np.concatenate([top_pos, top_neg])
Z, _, ratio = md.manifold.pca(E[chosen], 2)
fig, ax = pyplot.subplots(figsize=(7, 5.5))
for rows, colour, lab in ((slice(0, k), "tab:green", "most positive words"), (slice(k, 2 * k), "tab:red", "most negative words")):
    ax.scatter(Z[rows, 0], Z[rows, 1], c=colour, label=lab)
    for (zx, zy), i in zip(Z[rows], chosen[rows]):
        ax.annotate(vocab[i], (zx, zy), fontsize=8, xytext=(3, 3), textcoords="offset points")
ax.set_xlabel(f"PC 1 ({ratio[0]:.0%} of variance)")
ax.set_ylabel(f"PC 2 ({ratio[1]:.0%} of variance)")
ax.set_title("Learned word embeddings: PCA of the most positive and negative words")
ax.legend()
L.figure(fig, "word_map", "PCA of the embeddings of the 12 most positive and 12 most negative words")

fig, (a1, a2) = pyplot.subplots(1, 2, figsize=(10, 4))
ep = np.arange(1, epochs + 1)
a1.plot(ep, history["loss"], "o-", label="train")
a1.plot(ep, history["val_loss"], "s-", label="validation")
a1.set_xlabel("epoch"); a1.set_ylabel("cross-entropy"); a1.set_title("Loss"); a1.legend()
a2.plot(ep, history["accuracy"], "o-", label="train")
a2.plot(ep, history["val_accuracy"], "s-", label="validation")
a2.axhline(majority, color="grey", ls=":", label="majority class")
a2.set_xlabel("epoch"); a2.set_ylabel("accuracy"); a2.set_title("Accuracy"); a2.legend()
fig.suptitle("Embedding -> Mean -> Dense -> LogSoftmax")
L.figure(fig, "curves", "training and validation loss and accuracy per epoch")
