"""Tweet sentiment with Serial(Embedding, Mean, Dense, LogSoftmax): the course's first neural model.

dataset: generated sentiment tweets with negation (embedded); --data: VADER tweets_GroundTruth.txt or NLTK twitter_samples/

The course's first neural model reads a tweet as the average of its word vectors and learns
from labelled tweets which direction in that space means "positive".  It works well, and its
blind spot is as instructive: an average has no word order, so it cannot tell which word a
"not" belongs to, and it learns what company a word keeps rather than what the word means.

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
best = int(np.argmin(history["val_loss"]))                 # the epoch with the LOWEST validation loss
L.claim("beats_majority", "An average of learned word vectors reads sentiment: validation accuracy well above "
        "always answering the commoner label.", val_acc > majority + 0.1,
        {"accuracy": val_acc, "majority class": majority})
L.show("when to stop",
       f"validation loss was lowest after epoch {best + 1} of {epochs} "
       f"({history['val_loss'][best]:.3f}; train accuracy then {history['accuracy'][best]:.3f}, "
       f"at the end {history['accuracy'][-1]:.3f}).\n"
       + ("A validation loss that rises while the training loss keeps falling is overfitting: the "
          "model is memorising its training tweets (and growing over-confident on the ones it gets wrong)."
          if best < epochs - 1 else "It was still falling: more epochs would help."))
if "negated" in data:                                     # generated data marks its negations
    neg = np.asarray(data["negated"])[val_idx]
    acc_plain = float(np.mean(val_pred[~neg] == labels[val_idx][~neg]))
    acc_negated = float(np.mean(val_pred[neg] == labels[val_idx][neg]))
    L.show("accuracy by kind of tweet",
           f"plain opinions : {acc_plain:.3f}\n"
           f"negated ones   : {acc_negated:.3f}   "
           "<- a mean of word vectors cannot see which word 'not' belongs to")
    L.claim("negation", "It cannot read negation: an average has no word order, so negated tweets "
            "('was not great') are read mostly wrong while plain ones are read right.",
            acc_plain - acc_negated > 0.2, {"plain tweets": acc_plain, "negated tweets": acc_negated})

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
# only ever follows "did not" ("i did not hate the film" is a positive tweet), so a
# model that cannot see order learns that "hate" predicts a positive tweet, while
# "hated" (never negated) stays negative.  The model learns the company a word
# keeps, not its meaning: the map colours each word by its meaning, so the words
# that land on the "wrong" side stand out.

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
# What each word MEANS, where we know it (the generator's lexicon), and which words the
# generated tweets only ever show after "did not" (the verbs' base forms).
S = datasets.synthetic_text
meaning, negated_only = {}, set()
if "negated" in data:
    for w in S.POSITIVE_ADJ + [w for pair in S.POSITIVE_VERB for w in pair]:
        meaning[w] = +1
    for w in S.NEGATIVE_ADJ + [w for pair in S.NEGATIVE_VERB for w in pair]:
        meaning[w] = -1
    negated_only = {base for _, base in S.POSITIVE_VERB + S.NEGATIVE_VERB}
star = lambda i: vocab[i] + ("*" if vocab[i] in negated_only else "")
note = "\n* seen only after 'did not': its vector says 'positive tweet' or 'negative tweet', not what the word means" \
    if negated_only else ""
L.show("most positive / most negative words (by learned score)",
       "positive: " + ", ".join(star(i) for i in top_pos) + "\n"
       "negative: " + ", ".join(star(i) for i in top_neg) + note)
for word in ("good", "excellent", "great", "bad"):
    if vectorizer.token_to_id(word) != md.data.UNK_ID:           # the word is in the vocabulary
        rare = np.setdiff1d(np.arange(V), frequent)
        near = md.manifold.cosine_neighbours(E, [vectorizer.token_to_id(word)], k=5, exclude_ids=rare)[0]
        L.show(f"nearest words to {word!r}", ", ".join(f"{star(i)} ({s:.2f})" for i, s in near) + note)
        break
if meaning:
    known = [i for i in frequent if vocab[i] in meaning]
    plain_words = [i for i in known if vocab[i] not in negated_only]
    flipped_words = [i for i in known if vocab[i] in negated_only]
    plain_right = float(np.mean([np.sign(score[i]) == meaning[vocab[i]] for i in plain_words]))
    flipped = float(np.mean([np.sign(score[i]) == -meaning[vocab[i]] for i in flipped_words]))
    L.claim("company_not_meaning", "It learns the company a word keeps, not its meaning: opinion words seen "
            "plain get the sign of their meaning, while words seen only after 'did not' (hate, loathe, ...) "
            "get the opposite sign.", plain_right >= 0.9 and flipped >= 0.75,
            {"plain words with their meaning's sign": plain_right, "negated-only words with the opposite sign": flipped})

pyplot = plt()
from lessons import figures

chosen = np.concatenate([top_pos, top_neg])
Z, _, ratio = md.manifold.pca(E[chosen], 2)
if np.corrcoef(Z[:, 0], score[chosen])[0, 1] < 0:
    Z[:, 0] *= -1                                          # a PCA axis has no sign: put "positive" on the right
fig, ax = pyplot.subplots(figsize=(8, 6))
colour_of = {+1: "tab:green", -1: "tab:red", 0: "0.45"}
name_of = {+1: "means positive", -1: "means negative", 0: "no opinion (filler)"}
for m in (+1, -1, 0):
    for only_negated, marker in ((False, "o"), (True, "^")):
        rows = [j for j, i in enumerate(chosen) if meaning.get(vocab[i], 0) == m and (vocab[i] in negated_only) == only_negated]
        if rows:
            label = name_of[m] + (", seen only after 'did not'" if only_negated else "")
            ax.scatter(Z[rows, 0], Z[rows, 1], c=colour_of[m], marker=marker, s=60 if only_negated else 40,
                       edgecolors="black" if only_negated else "none", label=label)
ax.axvline(0, color="0.8", lw=0.8, zorder=0)
ax.set_xlabel(f"PC 1 ({ratio[0]:.0%} of variance): the learned sentiment direction, positive to the right")
ax.set_ylabel(f"PC 2 ({ratio[1]:.0%} of variance)")
ax.set_title("What the embeddings learned: the 12 most positive and 12 most negative words\n"
             "(place: what the word predicts; colour: what it means)", fontsize=10)
ax.margins(0.15)
lg = figures.legend(ax, fontsize=8)
figures.place_labels(ax, Z[:, 0], Z[:, 1], [vocab[i] for i in chosen], fontsize=8)
L.figure(fig, "word_map", "PCA of the embeddings of the 12 most positive and 12 most negative words (by learned "
         "score). Position is what a word predicts; colour is what it means. On the generated tweets the "
         "triangles (hate, loathe, ... seen only after 'did not') sit on the side opposite their meaning: an "
         "average of word vectors learns a word's company, not its meaning.")

fig, (a1, a2) = pyplot.subplots(1, 2, figsize=(10, 4))
ep = np.arange(1, epochs + 1)
a1.plot(ep, history["loss"], label="train", **figures.style(0))
a1.plot(ep, history["val_loss"], label="validation", **figures.style(1))
a1.axvline(best + 1, color="grey", ls=":", lw=1, label=f"lowest validation loss (epoch {best + 1})")
a1.set_xlabel("epoch"); a1.set_ylabel("cross-entropy"); a1.set_title("Loss")
a2.plot(ep, history["accuracy"], label="train", **figures.style(0))
a2.plot(ep, history["val_accuracy"], label="validation", **figures.style(1))
a2.axhline(majority, color="grey", ls=":", label="majority class")
a2.set_xlabel("epoch"); a2.set_ylabel("accuracy"); a2.set_title("Accuracy")
for a in (a1, a2):
    figures.legend(a, fontsize=8)
fig.suptitle("Embedding -> Mean -> Dense -> LogSoftmax")
L.figure(fig, "curves", "Training and validation loss and accuracy per epoch; the dotted line marks the epoch "
         "with the lowest validation loss, where a validation-based early stop would keep the weights.")


# %% [markdown]
# ## The course's Trax code, run by minidl
# The course writes this classifier in Trax.  One line, `minidl.trax.register()`, makes `import trax`
# give minidl's Trax facade (`minidl/trax/`): Trax's layers with Trax's stack semantics, `training.Loop`
# and `fastmath`, built on minidl's own layers (step into `classifier(x)` and you land in `nn.Embedding`).
# The cell below is the course's code; trained by the Loop and handed to this lesson's native model,
# its weights give the very same log-probabilities.

# %%
import shutil

import numpy as np

import minidl as md
import minidl.trax

minidl.trax.register()                                    # from here on, `import trax` is minidl's facade
import trax
from trax import layers as tl
from trax.supervised import training

tweets = minidl.datasets.make_sentiment(n=400, seed=L.seed)
vec = minidl.data.TextVectorizer(output_sequence_length=12)
vec.adapt(tweets["texts"])
x_all, y_all = vec(tweets["texts"]), np.asarray(tweets["labels"])


def trax_batches(batch_size=32, seed=0):                 # (tweets, labels, example weights), as the course's
    rng = np.random.default_rng(seed)
    while True:
        i = rng.choice(len(y_all), batch_size, replace=False)
        yield x_all[i], y_all[i], np.ones(batch_size, np.float32)


output_dir = L.out / "trax_model"
shutil.rmtree(output_dir, ignore_errors=True)             # the course's `rm -f model.pkl.gz`: start afresh
classifier = tl.Serial(tl.Embedding(vocab_size=vec.vocabulary_size(), d_feature=16), tl.Mean(axis=1),
                       tl.Dense(n_units=2), tl.LogSoftmax())
train_task = training.TrainTask(labeled_data=trax_batches(), loss_layer=tl.CrossEntropyLoss(),
                                optimizer=trax.optimizers.Adam(0.01), n_steps_per_checkpoint=10)
eval_task = training.EvalTask(labeled_data=trax_batches(seed=1), metrics=[tl.CrossEntropyLoss(), tl.Accuracy()])
training_loop = training.Loop(classifier, train_task, eval_tasks=[eval_task], output_dir=str(output_dir),
                              random_seed=L.seed)                       # Trax's own argument: a page you can rerun
training_loop.run(n_steps=20 if L.quick else 100)

native = md.models.SentimentModel(vec.vocabulary_size(), 16)          # the same model in minidl.nn
native[0].W.data = classifier.weights[0].copy()
native[2].W.data, native[2].b.data = (w.copy() for w in classifier.weights[2])
same = np.array_equal(classifier(x_all[:64]), native(md.tensor(x_all[:64])).numpy())
L.show("the course's Trax classifier, run by minidl.trax",
       f"{classifier}\nthe same log-probabilities as the native minidl model with its weights: {same}")
assert same
