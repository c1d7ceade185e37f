"""Entity embeddings for tabular data: categories as learned vectors, versus one-hot and a linear model.

dataset: generated shop-day table, weekdays on a planted circle, regions on a planted map (embedded); --data/--download: UCI Adult

A table's categorical columns (weekday, region, store type) can enter a network as one-hot
columns or through entity embeddings: a few learned coordinates per level, shared by every
row.  Embeddings match one-hot inputs with far fewer inputs, and their geometry means
something: the weekdays come out on a circle and the regions redraw the map they came from.

What this lesson shows
* the tabular preprocessing recipe, learned on the training split only:
  categorify (unseen levels -> "#na#" id 0, never an error), fill missing
  values with the median plus a "was missing" flag column, standardise;
* entity embeddings: one Embedding per categorical column (width
  min(600, round(1.6 n^0.56))), concatenated with the continuous columns,
  into an MLP with dropout -- against the same MLP on one-hot columns and
  against logistic regression;
* what the embeddings learned: a PCA of the weekday vectors closes into a
  circle Mon -> Tue -> ... -> Sun -> Mon, and the region vectors redraw the map
  (fastai's example: Rossmann's German states) -- nobody told the model either.
"""
# %% [markdown]
# ## 0. Setup

# %%
import numpy as np

import minidl as md
from minidl import optim
from minidl import datasets
from minidl.data import TabularProcessor, one_hot_columns
from lessons import figures
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. The table
# By default a generated table: one row per shop and day, "did the shop beat
# its sales target?" (`datasets.make_tabular`).  The weekday acts through its
# position on a *circle* and the region through its position on a *map*, each
# through two directions (one of them switched by the promotion), and the
# distance to the nearest competitor is missing exactly when there is none.
# With `--data PATH` (the file `adult.data` or its folder) or `--download`:
# UCI Adult, "does this person earn more than $50K?", 32,561 people with 8
# categorical and 6 numeric columns.  Validation: a seeded random 20%.

# %%
path = L.real_data("uci-adult")
if path:
    data = datasets.load_adult(path)
else:
    data = datasets.make_tabular(n=12000 if L.quick else 20000, seed=L.seed)
synthetic = "planted" in data
table, y = data["table"], data["target"]
cat_names, cont_names = data["cat_names"], data["cont_names"]
N = len(y)
order = np.random.default_rng(L.seed).permutation(N)
val_idx, train_idx = order[: N // 5], order[N // 5:]


def rows_of(tab, idx):
    """The rows idx of a dict-of-columns table."""
    return {k: (v[idx] if isinstance(v, np.ndarray) else [v[i] for i in idx]) for k, v in tab.items()}


train_table, val_table = rows_of(table, train_idx), rows_of(table, val_idx)
columns = cat_names + cont_names
show = [" | ".join(f"{table[c][i]}" for c in columns) + f"  ->  {y[i]}" for i in range(5)]
L.show(f"{N:,} rows from {data['source']}",
       " | ".join(columns) + f"  ->  {data['target_name']}\n" + "\n".join(show)
       + f"\n{len(train_idx):,} train / {len(val_idx):,} validation; {y.mean():.0%} positive")

# %% [markdown]
# ## 2. Preprocessing, learned on the training split
# * **categorify**: each categorical column gets a vocabulary of its training
#   levels after "#na#" (id 0), which also takes missing values and levels never
#   seen in training;
# * **fill missing**: a missing number becomes the training median, and a new
#   categorical column `<name>_na` says where that happened;
# * **normalise**: (x - mean) / std with the training mean and std.
# The recipe is saved as JSON and reloaded: at prediction time exactly the
# same vocabularies and statistics must be used.

# %%
proc = TabularProcessor(cat_names, cont_names).fit(train_table)
proc.save(L.out / "tabular_processor.json")
proc = TabularProcessor.load(L.out / "tabular_processor.json")
cats_tr, conts_tr = proc.transform(train_table)
cats_va, conts_va = proc.transform(val_table)
y_tr, y_va = y[train_idx], y[val_idx]

first = cat_names[0]
probe = {c: [train_table[c][0]] for c in columns}
probe[first] = ["a level never seen before"]
probe_ids = proc.transform(probe)[0][0]
lines = [f"{c:<24} {len(proc.vocab[c]):>3} levels: {', '.join(proc.vocab[c][:6])}"
         + (", ..." if len(proc.vocab[c]) > 6 else "") for c in proc.cat_columns]
lines += [f"{c:<24} median {proc.fill[c]:.4g} fills {np.isnan(np.asarray(train_table[c], float)).mean():.0%}"
          f" missing; mean {proc.stats[c][0]:.4g}, std {proc.stats[c][1]:.4g}" for c in cont_names]
lines += [f"\nan unseen {first!r} ({probe[first][0]!r}) -> id {probe_ids[0]} = {proc.vocab[first][probe_ids[0]]!r}"]
L.show("the learned recipe (categorical columns incl. the '_na' flags, then continuous)", "\n".join(lines))
assert probe_ids[0] == 0

# %% [markdown]
# ## 3. Three models
# * **logistic regression**: one-hot categories + continuous columns -> Dense(2);
# * **one-hot MLP**: the same inputs -> Dense(200) -> ReLU -> Dropout -> Dense(100)
#   -> ReLU -> Dropout -> Dense(2);
# * **entity embeddings**: each categorical column through its own Embedding
#   (width min(600, round(1.6 n^0.56)), n = its number of levels), the vectors
#   concatenated with the continuous columns, into the same MLP.
#
# One-hot gives every level its own input weight per hidden unit; an embedding
# forces the levels through a few shared coordinates, so levels that behave
# alike must sit close together -- which is what makes the vectors worth
# looking at afterwards, and what helps with many rare levels.

# %%
sizes = proc.embedding_sizes()
L.show("embedding widths", "\n".join(f"{c:<24} {n:>3} levels -> {d} dimensions"
                                     for c, (n, d) in zip(proc.cat_columns, sizes)))
onehot_tr = np.hstack([one_hot_columns(cats_tr, proc.cardinalities()), conts_tr])
onehot_va = np.hstack([one_hot_columns(cats_va, proc.cardinalities()), conts_va])
EPOCHS, BATCH, WD = (6, 128, 0.01) if L.quick else (8, 128, 0.01)


def train(model, inputs_tr, inputs_va):
    """AdamW + one-cycle on cross-entropy; returns per-epoch validation accuracy."""
    opt = optim.AdamW(model, lr=MAX_LR, weight_decay=WD)
    steps = EPOCHS * -(-len(y_tr) // BATCH)
    sched = optim.OneCycle(opt, max_lr=MAX_LR, total_steps=steps)
    rng = np.random.default_rng(L.seed)
    accs = []
    for _ in range(EPOCHS):
        perm = rng.permutation(len(y_tr))
        for s in range(0, len(perm), BATCH):
            b = perm[s:s + BATCH]
            loss = md.losses.cross_entropy(model(*[x[b] for x in inputs_tr]), y_tr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        accs.append(accuracy(model, inputs_va))
    return accs


# %% [markdown]
# ### The peak rate of the cycle, from the learning-rate finder
# As in lesson 12: fastai's `lr_find` on a fresh entity-embedding network (100
# mini-batches, the rate growing from 1e-7 to 10, every weight put back after), and
# a tenth of the rate at the lowest smoothed loss, rounded.  The same rate serves
# all three models, so the comparison stays fair.

# %%
md.seed(L.seed)
probe = md.models.TabularModel(sizes, len(cont_names), 2, layers=(200, 100), dropout=0.1, emb_dropout=0.05)
chunks = np.array_split(np.random.default_rng(L.seed).permutation(len(y_tr)), len(y_tr) // BATCH)
found = md.train.lr_find(probe, md.losses.cross_entropy, optim.AdamW(probe, lr=1e-3, weight_decay=WD),
                         [((cats_tr[r], conts_tr[r]), y_tr[r]) for r in chunks])
MAX_LR = float(f"{found.suggestion:.1g}")                  # used by train() from here on
L.figure(found.plot(), "lr_find", f"the learning-rate finder on a fresh entity-embedding MLP: max_lr = {MAX_LR:g}")

# %%
def probabilities(model, inputs):
    model.eval()
    with md.no_grad():
        logits = model(*inputs).numpy()
    model.train()
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e[:, 1] / e.sum(axis=1)


def accuracy(model, inputs):
    return float(((probabilities(model, inputs) > 0.5) == y_va).mean())


n_onehot = onehot_tr.shape[1]
runs = {}
md.seed(L.seed)
logistic = md.models.TabularModel([], n_onehot, 2, layers=())
runs["logistic regression"] = (logistic, train(logistic, [onehot_tr], [onehot_va]), [onehot_va])
md.seed(L.seed)
mlp_onehot = md.models.TabularModel([], n_onehot, 2, layers=(200, 100), dropout=0.1)
runs["one-hot MLP"] = (mlp_onehot, train(mlp_onehot, [onehot_tr], [onehot_va]), [onehot_va])
md.seed(L.seed)
mlp_emb = md.models.TabularModel(sizes, len(cont_names), 2, layers=(200, 100), dropout=0.1,
                                 emb_dropout=0.05, names=proc.cat_columns)
runs["entity embeddings"] = (mlp_emb, train(mlp_emb, [cats_tr, conts_tr], [cats_va, conts_va]),
                             [cats_va, conts_va])

majority = max(y_va.mean(), 1 - y_va.mean())
lines = [f"{'model':<22} {'inputs':>7} {'parameters':>11} {'val. accuracy':>14} {'val. log-loss':>14}"]
for name, (model, accs, inputs) in runs.items():
    p = np.clip(probabilities(model, inputs), 1e-7, 1 - 1e-7)
    logloss = -np.mean(y_va * np.log(p) + (1 - y_va) * np.log(1 - p))
    width = n_onehot if model.embeds is None else model.embeds.d_out + len(cont_names)
    lines.append(f"{name:<22} {width:>7} {model.n_params():>11,} {accs[-1]:>14.4f} {logloss:>14.4f}")
lines.append(f"{'majority class':<22} {'':>7} {'':>11} {majority:>14.4f}")
if synthetic:
    bayes = float(((data["planted"]["prob"][val_idx] > 0.5) == y_va).mean())
    lines.append(f"{'the true probabilities':<22} {'':>7} {'':>11} {bayes:>14.4f}   <- the best any model can do")
L.show("validation results", "\n".join(lines))
for name, (_, accs, _) in runs.items():
    L.headline(f"validation accuracy: {name}", accs[-1], baseline=majority, main=name == "entity embeddings")
acc = {name: accs[-1] for name, (_, accs, _) in runs.items()}
L.claim("embeddings_vs_onehot", "Entity embeddings do as well as one-hot inputs with fewer inputs, and both MLPs beat "
        "logistic regression, which cannot combine a column with the promotion.",
        acc["entity embeddings"] >= acc["one-hot MLP"] - 0.015 and acc["entity embeddings"] > acc["logistic regression"] + 0.03,
        {"entity embeddings": acc["entity embeddings"], "one-hot MLP": acc["one-hot MLP"],
         "logistic regression": acc["logistic regression"], "majority class": majority}
        | ({"the true probabilities": bayes} if synthetic else {}))

# %% [markdown]
# ## 4. What the embeddings learned
# Each level of a categorical column is now a point in a few dimensions.  A PCA
# of those points shows whether the geometry means something.  On the
# generated data the truth is known: the weekdays were planted on a circle and
# the regions on a map.  The learned region vectors, projected on their top
# two principal axes and aligned to the planted map by least squares (a 2 x 2
# matrix and a shift), are compared with the true coordinates; the same
# alignment of the *untrained* vectors is the chance level.

# %%
pyplot = plt()


def table_of(column):
    j = proc.cat_columns.index(column)
    return mlp_emb.embeds.tables[j].W.numpy(), proc.vocab[column]


def aligned(Z, truth):
    A = np.c_[Z, np.ones(len(Z))]
    return A @ np.linalg.lstsq(A, truth, rcond=None)[0]


def map_corr(E, truth):
    fitted = aligned(md.manifold.pca(E, 2)[0], truth)
    return float(np.mean([np.corrcoef(fitted[:, k], truth[:, k])[0, 1] for k in range(truth.shape[1])]))


if synthetic:
    E_day, days = table_of("day")
    day_ids = [days.index(d) for d in data["levels"]["day"]]              # Mon..Sun, skipping "#na#"
    Zd, _, rd = md.manifold.pca(E_day[day_ids], 2)
    ang = np.arctan2(Zd[:, 1] - Zd[:, 1].mean(), Zd[:, 0] - Zd[:, 0].mean())
    around = [data["levels"]["day"][k] for k in np.argsort(ang)]
    start = around.index("Mon")
    around = around[start:] + around[:start]
    E_reg, regs = table_of("region")
    reg_ids = [regs.index(r) for r in data["levels"]["region"]]
    truth = data["planted"]["region_xy"]
    corr_map = map_corr(E_reg[reg_ids], truth)
    untrained = np.random.default_rng(L.seed + 1).normal(size=E_reg[reg_ids].shape)
    corr_chance = map_corr(untrained, truth)
    L.show("the geometry of the learned embeddings",
           f"weekdays in angular order around the PCA plane, from Mon: {' -> '.join(around)}\n"
           f"(the week in order, or exactly reversed, means the circle was recovered)\n"
           f"regions: correlation of the aligned PCA map with the planted map = {corr_map:.2f} "
           f"(untrained vectors: {corr_chance:.2f})")
    L.headline("region embeddings redraw the map (correlation after alignment)", corr_map,
               baseline=corr_chance)
    week = list(data["levels"]["day"])
    in_order = around in (week, [week[0]] + week[1:][::-1])
    L.claim("week_circle", "The weekday embeddings, projected on their top two principal axes, go round the week in "
            "order: the planted circle is recovered.", in_order, {"weekdays in circular order": float(in_order)})
    L.claim("region_map", "The region embeddings redraw the planted map: aligned to it, their PCA correlates with the "
            "true coordinates far above untrained vectors.", corr_map > 0.8,
            {"correlation": corr_map, "untrained vectors": corr_chance})

    fig, axes = pyplot.subplots(1, 3, figsize=(16, 5))
    ax = axes[0]
    loop = list(range(7)) + [0]
    ax.plot(Zd[loop, 0], Zd[loop, 1], "-", color="lightgrey", zorder=1)
    ax.scatter(Zd[:, 0], Zd[:, 1], c=np.arange(7), cmap="viridis", s=60, zorder=2)
    ax.set_title("Weekday embeddings (PCA), joined in week order")
    ax.set_xlabel(f"PC 1 ({rd[0]:.0%})"); ax.set_ylabel(f"PC 2 ({rd[1]:.0%})"); ax.set_aspect("equal", "datalim")
    fitted = aligned(md.manifold.pca(E_reg[reg_ids], 2)[0], truth)
    for ax, pts, title in ((axes[1], truth, "Planted map of the regions"),
                           (axes[2], fitted, f"Learned region embeddings, PCA aligned to the map (r = {corr_map:.2f})")):
        rows_letter = np.array([ord(r[0]) - ord("A") for r in data["levels"]["region"]])
        sc = ax.scatter(pts[:, 0], pts[:, 1], c=rows_letter, cmap="coolwarm", s=50)
        ax.set_title(title, fontsize=10); ax.set_xlabel("west -> east"); ax.set_ylabel("south -> north")
        ax.set_aspect("equal", "datalim")
        ax.margins(0.1)
    fig.subplots_adjust(wspace=0.35)
    bar = fig.colorbar(sc, ax=axes[1:], shrink=0.8, ticks=range(5), label="map row (north to south)")
    bar.ax.set_yticklabels(list("ABCDE"))
    verdict = "recover" if corr_map > 0.8 and in_order else "partly recover"
    fig.suptitle(f"Entity embeddings {verdict} the planted circle and map (colours: week order; map rows A..E)")
    figures.place_labels(axes[0], Zd[:, 0], Zd[:, 1], list(data["levels"]["day"]), fontsize=10)
    for ax, pts in ((axes[1], truth), (axes[2], fitted)):
        figures.place_labels(ax, pts[:, 0], pts[:, 1], list(data["levels"]["region"]), fontsize=8)
    L.figure(fig, "embedding_maps", "PCA of the learned weekday embeddings (joined in week order: a circle) and of the "
             f"region embeddings aligned to the planted map (r = {corr_map:.2f}), beside the map itself; rows A..E "
             "run north to south.")
else:
    fig, axes = pyplot.subplots(1, 2, figsize=(14, 6))
    for ax, column in zip(axes, ("education", "occupation")):
        E, levels = table_of(column)
        counts = np.bincount(cats_tr[:, proc.cat_columns.index(column)], minlength=len(levels))
        keep = np.flatnonzero(counts >= 20)
        Z, _, r = md.manifold.pca(E[keep], 2)
        ax.scatter(Z[:, 0], Z[:, 1], s=30)
        ax.set_title(f"{column!r} embeddings (PCA; levels with >= 20 rows)")
        ax.margins(0.15)                                      # room for the labels at the edges
        ax.set_xlabel(f"PC 1 ({r[0]:.0%})"); ax.set_ylabel(f"PC 2 ({r[1]:.0%})")
        figures.place_labels(ax, Z[:, 0], Z[:, 1], [levels[k] for k in keep], fontsize=8)
    L.figure(fig, "embedding_maps", "PCA of the learned education and occupation embeddings")

# %% [markdown]
# ## 5. Learning curves

# %%
fig, ax = pyplot.subplots(figsize=(7, 4))
ep = np.arange(1, EPOCHS + 1)
for k, (name, (_, accs, _)) in enumerate(runs.items()):
    ax.plot(ep, accs, label=name, **figures.style(k))
ax.axhline(majority, color="grey", ls=(0, (1, 3)), label="majority class")
if synthetic:
    ax.axhline(bayes, color="k", ls=(0, (5, 1)), label="true probabilities (ceiling)")
ax.set_xlabel("epoch"); ax.set_ylabel("validation accuracy"); ax.set_xticks(ep)
ax.set_title("Validation accuracy per epoch"); figures.legend(ax, fontsize=8)
L.figure(fig, "curves", "Validation accuracy per epoch of the three models, against the majority class and (generated "
         "data) the accuracy of the true probabilities, the best any model can do.")
