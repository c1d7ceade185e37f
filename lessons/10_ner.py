"""Named-entity recognition with an LSTM tagger: masked accuracy, the always-O baseline and entity F1.

dataset: generated BIO-tagged sentences, some names held out (embedded); --data: WNUT-17 wnut17train.conll, any CoNLL file, GMB csv

A tagger gives every word a tag (B-per, I-geo, O, ...), and named-entity recognition is judged by
the entities it finds, not by its token accuracy, which answering "O" everywhere already makes
look good.  The generated test set holds names never seen in training, so the scores on it are
below the validation scores by design: only the context can reveal such a name, and a
bidirectional LSTM, which also reads what comes after a word, finds more of them.

What this lesson shows
* the course's tagger  Serial(Embedding(V, d), LSTM(d), Dense(n_tags), LogSoftmax()):
  one distribution over tags per word, trained with a cross-entropy that skips padding;
* the course's **masked accuracy**  sum_t m_t [argmax_c p_t(c) == y_t] / sum_t m_t
  (m_t = 0 on padding), next to two more honest numbers: the accuracy of always
  answering ``O``, and **entity-level** precision / recall / F1 (an entity counts
  only when its span and its type are both right, the CoNLL evaluation);
* a bidirectional LSTM beside it: words whose type depends on what comes NEXT
  ("Paris" in "Paris Hilton said" vs "in Paris .") need the right-hand context;
* names never seen in training (held out of the generated corpus; most of WNUT's):
  only the context can reveal them, and word dropout teaches the model to use it;
* tagging a sentence of your own:  --sentence "Peter Parker lives in New York".

Data sources: --download fetches WNUT-17's training file (verified checksum).  The course's GMB corpus
(Kaggle, ner_dataset.csv, needs a login) and CoNLL-2003 (Reuters licence) are read from --data.
"""
# %% [markdown]
# ## 0. Setup

# %%
import pathlib
import re
from collections import Counter

import numpy as np

import minidl as md
from minidl import datasets, optim
from minidl.data import UNK_ID, bucket_batches, pad_sequences
from lessons import figures
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. Data: one BIO tag per token
# `B-x` begins an entity of type x, `I-x` continues it, `O` is outside:
#     John/B-per Smith/I-per visited/O New/B-geo York/I-geo
# The embedded corpus fills sentence templates from small gazetteers; a few names are both a person and a place
# ("Paris", "Jordan", "Washington").  To make it a test of *generalisation*, two names of each type are kept out
# of training: every sentence holding one goes to the test set, so the tagger meets them only as unknown words
# and must recognise them from context -- the everyday situation of a real tagger (in the WNUT-17 tweets most
# entities are new).  A real file is split 80/20 with a seeded shuffle; a folder's own train/test files are used
# as they are.

# %%
def read(path):
    return datasets.load_gmb(path) if str(path).endswith(".csv") else datasets.load_conll(path)


def load(path):
    """((train, test) dicts of "sentences" and "tags", description of the source)."""
    if path is None:
        data = datasets.make_ner(n=1000 if L.quick else 3000, seed=L.seed)
        return split(data, held_out_words(datasets.synthetic_ner)), data["source"]
    p = pathlib.Path(path)
    if p.is_dir():
        train_file = next(iter(sorted(p.glob("*train*"))), None)
        test_file = next(iter(sorted(p.glob("*test*")) or sorted(p.glob("*dev*"))), None)
        if train_file is None or test_file is None:
            raise SystemExit(f"{p}: expected a *train* file and a *test* (or *dev*) file in the folder")
        return (read(train_file), read(test_file)), f"{train_file} + {test_file}"
    data = read(p)
    return split(data), data["source"]


def held_out_words(generator, per_type=2):
    """Words that occur only in the held-out names (2 per type, drawn with the seed)."""
    rng = np.random.default_rng(L.seed)
    gazetteer = generator.GAZETTEER
    held = [n for names in gazetteer.values() for n in rng.choice(names, per_type, replace=False)]
    kept = {w for names in gazetteer.values() for n in names if n not in held for w in n.split()}
    kept |= {w for t in generator.TEMPLATES for w in t.split()}          # "the", "of", ...
    return {w for n in held for w in n.split()} - kept


def split(data, unseen=frozenset(), test_share=0.2):
    """Sentences with an ``unseen`` word go to the test set; the rest split at random."""
    rng = np.random.default_rng(L.seed)
    order = rng.permutation(len(data["sentences"]))
    forced = np.array([bool(unseen.intersection(data["sentences"][i])) for i in order], dtype=bool)
    to_test = forced | (rng.random(len(order)) < (0.1 if unseen else test_share))
    return tuple({k: [data[k][i] for i in part] for k in ("sentences", "tags")}
                 for part in (order[~to_test], order[to_test]))


(train, test), source = load(L.real_data("wnut17-train"))
if L.quick and L.data:
    train = {k: v[:1200] for k, v in train.items()}            # a quick run reads a slice
tag_id = datasets.tag_index(train["tags"] + test["tags"])      # "O" is id 0
tags = list(tag_id)
L.show("the data", f"{source}: {len(train['sentences'])} training / {len(test['sentences'])} test sentences, "
       f"{sum(map(len, train['tags'])):,} training tokens, {len(tags)} tags\n"
       + "  ".join(f"{w}/{t}" for w, t in zip(train["sentences"][0], train["tags"][0])))

# %% [markdown]
# ## 2. Words -> ids, tags -> ids, padding and the mask
# Case is kept (a capital letter is a strong hint of a name).  Id 0 is padding, 1 the unknown word: every test
# word never seen in training.  Tags are padded with 0 ("O"), but the mask m = (ids != 0) removes those
# positions from the loss and the accuracy.  Word dropout: while training, each word is replaced by the unknown
# word with probability 0.2, or the unknown word's vector would never be trained -- and unknown words are
# exactly what new names look like at test time.

# %%
n_val = len(train["sentences"]) // 10                          # held out for early stopping (section 4)
counts = Counter(w for s in train["sentences"][n_val:] for w in s)
word_id = {w: i + 2 for i, w in enumerate(sorted(counts, key=lambda w: (-counts[w], w)))}  # most frequent first
V = len(word_id) + 2


def encode(sentences):
    return [[word_id.get(w, UNK_ID) for w in s] for s in sentences]


x_train, x_test = encode(train["sentences"]), encode(test["sentences"])
y_train, y_test = ([[tag_id[t] for t in s] for s in part["tags"]] for part in (train, test))
X_test, Y_test = pad_sequences(x_test), pad_sequences(y_test)   # the whole test set as one rectangle
M_test = X_test != 0
unk_rate = np.mean([i == UNK_ID for s in x_test for i in s])
print(f"vocabulary: {V} ids; {unk_rate:.1%} of test tokens are unknown words")

drop_rng, WORD_DROPOUT = np.random.default_rng(L.seed + 1), 0.2     # word dropout's own random stream, its rate


def batches(seqs, labels, batch_size=32, shuffle=True, word_dropout=0.0):
    """Length-bucketed batches (x, y, mask): each padded only to its own longest sentence.  word_dropout: each
    real token becomes the unknown word with this probability, so the model learns what to make of a word it does
    not know (from its context)."""
    for x, rows in bucket_batches(seqs, np.arange(len(seqs)), batch_size, shuffle=shuffle, seed=None):
        mask = x != 0
        if word_dropout:
            x = np.where(mask & (drop_rng.random(x.shape) < word_dropout), UNK_ID, x)
        yield x, pad_sequences([labels[i] for i in rows], maxlen=x.shape[1]), mask


# %% [markdown]
# ## 3. Why token accuracy flatters a tagger
# Most tokens are outside every entity, so answering `O` everywhere already scores a high token accuracy --
# while finding no entity at all (entity F1 = 0).  And the gold tags themselves with every `I-` turned into `O`
# (each entity found where it STARTS, never continued) are right on almost every token, yet every multi-word
# entity they report is wrong.

# %%
always_o = float((Y_test[M_test] == tag_id["O"]).mean())
inside = np.isin(Y_test, [i for t, i in tag_id.items() if t.startswith("I-")])
sloppy = np.where(inside, tag_id["O"], Y_test)                        # B- tags only
sloppy_ents = md.metrics.entity_scores([[tags[i] for i in y] for y in y_test],
                                       [[tags[i] for i in row[:len(y)]] for row, y in zip(sloppy, y_test)])
L.show("token accuracy vs entity F1 of two made-up taggers",
       f"always O            : token accuracy {always_o:.4f}   entity F1 0.000\n"
       f"gold with I- -> O   : token accuracy {(sloppy == Y_test)[M_test].mean():.4f}   "
       f"entity F1 {sloppy_ents.f1:.3f}  (every one-word entity right, every longer one wrong)")
sloppy_acc = float((sloppy == Y_test)[M_test].mean())
L.claim("token_accuracy_flatters", "Token accuracy flatters a tagger: answering 'O' everywhere scores well on tokens and "
        "finds no entity, and tags that find each entity's start but never its continuation are right on most "
        "tokens yet wrong on every multi-word entity.", sloppy_acc - sloppy_ents.f1 > 0.3,
        {"always-O token accuracy": always_o, "always-O entity F1": 0.0, "starts-only token accuracy": sloppy_acc,
         "starts-only entity F1": sloppy_ents.f1})

# %% [markdown]
# ## 4. The model and its loss
#     Serial(Embedding(V, d), LSTM(d), Dense(n_tags), LogSoftmax())
# ids (B, T) -> (B, T, d) -> (B, T, d) -> (B, T, n_tags) log-probabilities.  The loss is
# the mean of -log p_t(y_t) over REAL tokens only:
#     L = - sum_{b,t} m_bt log p_bt(y_bt) / sum_{b,t} m_bt         (md.losses.nll_loss(..., mask=m))

# %%
d_model = 32 if L.quick else 64
epochs = 8                          # fewer epochs leave the BiLSTM behind: it has twice the weights to train
# Early stopping: 10% of the training sentences are held out, and each model keeps the
# weights of its epoch with the lowest loss on them (the test set stays unseen).
X_val, Y_val = pad_sequences(x_train[:n_val]), pad_sequences(y_train[:n_val])
fit_x, fit_y = x_train[n_val:], y_train[n_val:]


def predict(model, X):
    model.eval()
    with md.no_grad():
        out = model(md.tensor(X)).numpy()
    model.train()
    return out


def evaluate(model, X, Y):
    """(masked accuracy, predicted tag ids (N, T), EntityScores) on padded ids X and tags Y."""
    log_probs = predict(model, X)
    mask, pred = X != 0, log_probs.argmax(-1)
    gold = [[tags[i] for i in y[m]] for y, m in zip(Y, mask)]             # drop the padding
    guess = [[tags[i] for i in p[m]] for p, m in zip(pred, mask)]
    return md.metrics.masked_accuracy(log_probs, Y, mask), pred, md.metrics.entity_scores(gold, guess)


def train_tagger(bidirectional, label):
    # fused=True: the same LSTM numbers, 2-3x faster (see lesson 02, section 3b); real corpora need it
    model = md.models.NERTagger(V, d_model, len(tags), bidirectional=bidirectional, fused=True)
    print(model)

    def log(epoch, history):
        history.log("val_f1", evaluate(model, X_val, Y_val)[2].f1)
        history.log("test_accuracy", evaluate(model, X_test, Y_test)[0])     # for the figure only
        if not L.quick:
            print(f"{label} epoch {epoch}: train loss {history['loss'][-1]:.4f}   validation loss "
                  f"{history['val_loss'][-1]:.4f}, masked accuracy {history['val_accuracy'][-1]:.4f}, "
                  f"entity F1 {history['val_f1'][-1]:.3f}")

    # patience = epochs: never stop early, but end with the weights of the lowest validation loss
    keep = md.train.EarlyStopping("val_loss", patience=epochs, restore_best_weights=True)
    history = md.train.fit(model, md.losses.nll_loss, optim.Adam(model, lr=0.01),
                           lambda: batches(fit_x, fit_y, word_dropout=WORD_DROPOUT), epochs=epochs, metrics=["accuracy"],
                           val_batches=list(batches(x_train[:n_val], y_train[:n_val], shuffle=False)),
                           progress=False, clip=5.0, on_epoch_end=log, early_stopping=keep)
    print(f"{label}: {model.n_params():,} parameters; kept epoch {history.best_epoch} of {epochs} "
          f"(lowest validation loss, {keep.best:.4f})")
    return model, history


lstm, lstm_hist = train_tagger(False, "LSTM")

# %% [markdown]
# ## 5. A bidirectional LSTM
# A left-to-right LSTM tags word t having read words 1..t only.  `Bidirectional(LSTM)`
# runs a second LSTM from the end of the sentence back, and each position sees
# [forward h_t, backward h_t]:  "Paris" followed by "Hilton" is a person.

# %%
bilstm, bilstm_hist = train_tagger(True, "BiLSTM")
results = {label: evaluate(m, X_test, Y_test) for label, m in (("LSTM", lstm), ("BiLSTM", bilstm))}  # (acc, pred, ents)

# %% [markdown]
# ## 6. Three numbers per model
# Masked accuracy (the course's metric), the always-O accuracy it must beat, and the entity-level F1 (entities
# found exactly).  Generated corpus: names seen in training are tagged almost perfectly; the held-out names are
# the hard part (section 7), hence test below validation.  On WNUT-17 tweets (novel, rare entities) the masked
# accuracy lands a fraction of a point above always-O; only the F1 shows what was found.

# %%
for label, (acc, pred, ents) in results.items():
    L.headline(f"{label} masked accuracy", acc, baseline=always_o)
    L.headline(f"{label} entity F1", ents.f1, baseline=0.0, main=label == "BiLSTM")
L.headline("always-O accuracy", always_o)
L.show("token accuracy vs entity F1", "\n".join(
    f"{label:<7} masked accuracy {acc:.4f}  (always-O {always_o:.4f})   entity P {e.precision:.3f}  "
    f"R {e.recall:.3f}  F1 {e.f1:.3f}" for label, (acc, _, e) in results.items()))
best = max(results, key=lambda k: results[k][2].f1)
L.show(f"entity scores by type ({best}, conlleval rules)", results[best][2].table())

# %% [markdown]
# ## 7. Names the model has never seen
# A gold entity is "unseen" when one of its words never occurred in training, so the model reads it as the
# unknown word and only the context can tell it is a name, and of which type.  That is what word dropout trained
# for (section 2).  The context that decides is often on the right ("___ said", "___ works for"), which only the
# BiLSTM reads.  Share of gold entities found exactly (recall):

# %%
gold_entities = [(i, span) for i, t in enumerate(test["tags"]) for span in md.metrics.entity_spans(t)]
unseen = [any(w not in word_id for w in test["sentences"][i][a:b]) for i, (_, a, b) in gold_entities]
lines = [f"{len(gold_entities)} gold entities in the test set, {sum(unseen)} of them with an unseen word"]
recall = {}
for label, (_, pred, _) in results.items():
    found = {(i, span) for i, row in enumerate(pred)
             for span in md.metrics.entity_spans([tags[k] for k in row[:len(test["tags"][i])]])}
    hit, new = np.array([e in found for e in gold_entities]), np.array(unseen, dtype=bool)
    recall[label] = (float(hit[~new].mean()), float(hit[new].mean()) if new.any() else float("nan"))
    lines.append(f"{label:<7} recall on seen names {recall[label][0]:.3f}   on unseen names {recall[label][1]:.3f}")
L.show("seen vs unseen entities", "\n".join(lines))
if any(unseen):
    val_acc = {label: evaluate(m, X_val, Y_val)[0] for label, m in (("LSTM", lstm), ("BiLSTM", bilstm))}
    L.claim("unseen_names", "Names never seen in training are found far less often than seen ones; the test set holds "
            "them by design, which is why test scores are below validation scores.",
            recall["BiLSTM"][0] - recall["BiLSTM"][1] > 0.1 and val_acc["BiLSTM"] > results["BiLSTM"][0],
            {"recall, seen names": recall["BiLSTM"][0], "recall, unseen names": recall["BiLSTM"][1],
             "validation accuracy": val_acc["BiLSTM"], "test accuracy": results["BiLSTM"][0]})
    L.claim("bilstm_context", "The BiLSTM, which also reads the words after a name ('___ said', '___ works for'), "
            "finds more of the unseen names than the left-to-right LSTM, and scores a higher entity F1.",
            recall["BiLSTM"][1] > recall["LSTM"][1] + 0.03 and results["BiLSTM"][2].f1 >= results["LSTM"][2].f1,
            {"BiLSTM, unseen names": recall["BiLSTM"][1], "LSTM, unseen names": recall["LSTM"][1],
             "BiLSTM F1": results["BiLSTM"][2].f1, "LSTM F1": results["LSTM"][2].f1})

# %% [markdown]
# ## 8. Tag a sentence of your own
# `--sentence "..."` (default: a few examples).  Words the model never saw become the
# unknown word; capitalised unknown words are what most names look like.

# %%
mine = [L.sentence] if L.sentence else ["Peter Parker lives in New York", "Paris Hilton visited Paris on Monday .",
                                        "Maria Garcia works for the United Nations in Jordan ."]
for text in mine:
    toks = re.findall(r"\w+(?:[-']\w+)*|[^\w\s]", text)
    ids = pad_sequences(encode([toks]))
    by_model = {k: [tags[i] for i in predict(m, ids)[0].argmax(-1)] for k, m in (("LSTM", lstm), ("BiLSTM", bilstm))}
    width = max(map(len, toks)) + 2
    L.show(f"tags for {text!r}", f"{'word':<{width}}{'LSTM':<16}BiLSTM\n" + "\n".join(
        f"{w:<{width}}{a:<16}{b}" for w, a, b in zip(toks, by_model["LSTM"], by_model["BiLSTM"])))

# %% [markdown]
# ## 9. Figures: the confusion matrix over tags and F1 by entity type
# Row-normalised: row y shows where the tokens whose true tag is y went.  The big `O`
# row hides in a token accuracy; the entity rows are what the F1 measures.

# %%
pyplot = plt()
pred = results[best][1]
conf = np.zeros((len(tags), len(tags)))
np.add.at(conf, (Y_test[M_test], pred[M_test]), 1)
rows = conf.sum(1, keepdims=True)
norm = np.divide(conf, rows, out=np.zeros_like(conf), where=rows > 0)
fig, ax = pyplot.subplots(figsize=(1.0 + 0.55 * len(tags), 0.6 + 0.5 * len(tags)))
im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
for i, j in np.argwhere(norm >= 0.01):                         # row by row: every cell worth a label
    ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
            color="white" if norm[i, j] > 0.6 else "black")
ax.set_xticks(range(len(tags)), tags, rotation=60, ha="right", fontsize=8)
ax.set_yticks(range(len(tags)), [f"{t} ({int(n)})" for t, n in zip(tags, rows[:, 0])], fontsize=8)
ax.set(xlabel="predicted tag", ylabel="true tag (test tokens)", title=f"{best}: confusion matrix, each row sums to 1")
fig.colorbar(im, ax=ax, fraction=0.04)
L.figure(fig, "confusion", "Row-normalised confusion matrix over tags on the test tokens: row y shows where the "
         "tokens whose true tag is y went; entity tags lost to O are names the tagger missed.")

kinds = sorted({k for _, _, e in results.values() for k in e.per_type})
fig, ax = pyplot.subplots(figsize=(max(6, 1.2 * len(kinds)), 4))
for k, (label, (_, _, e)) in enumerate(results.items()):
    f1 = [e.per_type[t].f1 if t in e.per_type else 0.0 for t in kinds]
    ax.bar(np.arange(len(kinds)) + (k - 0.5) * 0.38, f1, width=0.38, label=f"{label} (overall {e.f1:.2f})")
gold_n = [results[best][2].per_type[t].n_true if t in results[best][2].per_type else 0 for t in kinds]
ax.set_xticks(range(len(kinds)), [f"{t}\n({n} in test)" for t, n in zip(kinds, gold_n)], fontsize=8)
ax.set_ylim(0, 1.05); ax.set_ylabel("entity F1 (span and type exact)")
ax.set_title("Entity-level F1 by type"); figures.legend(ax, fontsize=8)
L.figure(fig, "f1_by_type", "Entity-level F1 per entity type (span and type exact), LSTM against BiLSTM.")

fig, (a1, a2) = pyplot.subplots(1, 2, figsize=(11, 4))
ep = np.arange(1, epochs + 1)
for (label, hist), colour, (m1, m2) in zip((("LSTM", lstm_hist), ("BiLSTM", bilstm_hist)), ("tab:blue", "tab:orange"),
                                          (("o", "s"), ("^", "v"))):
    a1.plot(ep, hist["loss"], marker=m1, ls="-", color=colour, label=f"{label} train")
    a1.plot(ep, hist["val_loss"], marker=m2, ls="--", color=colour, label=f"{label} validation")
    a2.plot(ep, hist["val_accuracy"], marker=m1, ls="-", color=colour, label=f"{label} validation")
    a2.plot(ep, hist["test_accuracy"], marker=m2, ls="--", color=colour, alpha=0.6, label=f"{label} test")
    for ax in (a1, a2):
        ax.axvline(hist.best_epoch, color=colour, ls=":", lw=1)
a2.axhline(always_o, color="grey", ls="-.", label="always O (test)")
for ax, ylabel, title in ((a1, "masked cross-entropy", "Loss (dotted line: the epoch kept, lowest validation loss)"),
                          (a2, "masked accuracy", "Masked accuracy vs always-O")):
    ax.set_xlabel("epoch"); ax.set_ylabel(ylabel); ax.set_title(title, fontsize=10)
figures.legend(a1, fontsize=8); figures.legend(a2, fontsize=8)
L.figure(fig, "curves", "Loss and masked accuracy per epoch, with the epoch each model kept (lowest validation "
         "loss). Validation sentences hold only seen names, the test sentences the held-out ones: hence the gap.")

# %% [markdown]
# ## The course's Trax code, run by minidl
# After `minidl.trax.register()` the course's Trax tagger runs as written on minidl's layers, with batches from
# `add_loss_weights` (weight 0 on the course's `<PAD>` id).  Trax keeps the LSTM's gates as i, j, f, o over
# `[x, h]`, minidl's cell f, i, g, o over `[h, x]`: translated, the numbers agree.

# %%
import minidl.trax
minidl.trax.register()
import trax
from trax import layers as tl
from trax.supervised import training

ner, tag_map = train, tag_id                                  # the lesson's sentences and tags, the course's names
vocab = {w: i for i, w in enumerate(sorted({w for s in ner["sentences"] for w in s}))}
vocab["<PAD>"] = len(vocab)                                   # the course's: <PAD> is the last id


def trax_batches(seed, batch_size=16, pad=vocab["<PAD>"]):    # the course's data_generator + add_loss_weights
    def data_generator(rng=np.random.default_rng(seed)):
        while True:
            rows = rng.choice(len(ner["tags"]), batch_size)
            yield tuple(md.data.pad_sequences([[ids[t] for t in seqs[i]] for i in rows], value=pad)
                        for ids, seqs in ((vocab, ner["sentences"]), (tag_map, ner["tags"])))
    return trax.data.inputs.add_loss_weights(data_generator(), id_to_mask=pad)


model = tl.Serial(tl.Embedding(len(vocab), 32), tl.LSTM(32), tl.Dense(n_units=len(tag_map)), tl.LogSoftmax())
training.Loop(model, training.TrainTask(trax_batches(0), tl.CrossEntropyLoss(), trax.optimizers.Adam(0.01)),
              eval_tasks=[training.EvalTask(trax_batches(1), [tl.CrossEntropyLoss(), tl.Accuracy()])],
              random_seed=L.seed).run(n_steps=10 if L.quick else 100)
x, host = next(trax_batches(2))[0], md.backend.asnumpy     # host: Trax's weights live on the lesson's backend
native = md.models.NERTagger(len(vocab), 32, len(tag_map))
native(md.tensor(x))                                          # builds the lazily-sized layers
W, b = (np.concatenate([np.split(host(a), 4, axis=-1)[k] for k in (2, 0, 1, 3)], axis=-1)
        for a in model.weights[1][1][0])                      # Trax's LSTM: rows [x; h], gates i, j, f, o -> f, i, g, o
native[1].cell.W.data, native[1].cell.b.data = np.concatenate([W[-32:], W[:-32]]), b        # rows -> [h; x]
native[0].W.data, native[2].W.data, native[2].b.data = host(model.weights[0]), *map(host, model.weights[2])
gap = np.abs(host(model(x)) - native.to(md.backend.get_backend())(md.tensor(x)).numpy()).max()
L.show("the course's Trax NER tagger, run by minidl.trax", f"{model}\nlargest difference from md.models.NERTagger: {gap:.1e}")
assert gap < 1e-5
