"""Maps of word vectors: what PCA and t-SNE show, and what each one hides.

dataset: word vectors learned here from generated topic documents (embedded); --vectors: GloVe text vectors (e.g. glove.6B.50d.txt)

Word vectors live in many dimensions; to look at them we squash them to two.  PCA keeps the two
directions of largest variance, so far stays far but groups can land on top of each other; t-SNE
keeps each word's neighbours and pulls the groups apart, at a price: on a t-SNE map the size of
a cluster and the gaps between clusters mean nothing.

What this lesson shows
* PCA projects onto the two directions of largest variance: straight lines stay
  straight and far stays far, but groups that differ along the *other* directions
  land on top of each other;
* t-SNE (written out in minidl/manifold.py) keeps each word's neighbourhood by
  minimising KL(P || Q) between neighbour distributions in the data and in the
  map: it pulls apart groups that PCA mixes;
* and what t-SNE gives up for that: the sizes of its clusters and the distances
  between them are not those of the data (two runs place them differently);
* the numbers: nearest-neighbour agreement with the true group, in the data and
  in each map, the final KL and the time t-SNE took.
"""
# %% [markdown]
# ## 0. Setup

# %%
import time

import numpy as np

import minidl as md
from minidl import datasets, optim
from minidl.data import DataLoader, TextVectorizer
from lessons import figures, support
from lessons.support import Lesson, plt

L = Lesson(__file__)

# %% [markdown]
# ## 1. The words, in groups we know
# Twelve groups of twenty everyday words.  The groups are our ground truth: a
# good map puts each word next to words of its own group.

# %%
GROUPS = {
    "numbers": "one two three four five six seven eight nine ten eleven twelve thirteen fifteen twenty thirty forty fifty hundred thousand",
    "months": "january february march april may june july august september october november december monday tuesday wednesday "
              "thursday friday saturday sunday weekend",
    "colours": "red green blue yellow purple orange pink brown black white grey violet scarlet crimson beige golden silver "
               "turquoise maroon navy",
    "animals": "dog cat horse cow sheep lion tiger wolf bear rabbit mouse eagle snake whale monkey goat duck deer fox frog",
    "countries": "france germany italy spain china japan india brazil canada mexico egypt russia kenya peru sweden norway "
                 "greece turkey chile poland",
    "family": "mother father sister brother aunt uncle cousin daughter son grandmother grandfather wife husband niece nephew "
              "parents children baby grandson granddaughter",
    "body": "head hand foot arm leg knee elbow shoulder finger toe ear nose mouth neck chin wrist ankle hip thumb forehead",
    "food": "bread cheese apple rice pasta soup butter carrot potato banana cake pizza salad onion egg tomato sugar honey "
            "chicken beef",
    "feelings": "happy sad angry afraid proud jealous calm nervous lonely cheerful anxious grateful bored excited ashamed "
                "upset glad scared furious delighted",
    "jobs": "doctor teacher farmer lawyer nurse pilot baker chef engineer soldier painter singer driver judge plumber "
            "dentist journalist banker carpenter architect",
    "sports": "football tennis golf cricket rugby hockey baseball basketball swimming boxing cycling skiing volleyball "
              "wrestling rowing sailing surfing archery fencing karate",
    "weather": "rain snow wind storm thunder lightning fog cloud sunshine hail frost drizzle breeze hurricane tornado "
               "blizzard humid drought flood heatwave",
}
GROUPS = {g: ws.split() for g, ws in GROUPS.items()}
names = list(GROUPS)

# %% [markdown]
# ## 2. Word vectors
# With `--vectors PATH`: GloVe's vectors for these words.  Without: we learn
# vectors here, in seconds, the way lesson 01 learned sentiment vectors -- a
# topic classifier  Embedding(V, 16) -> Mean -> Dense(12) -> LogSoftmax  trained
# on generated documents.  Each document is about one group: about half of its
# words come from that group, the rest are glue words ("the", "about", ...) and
# a few words of other groups.  To tell the topics apart the model must give
# the words of one group similar vectors: the clusters we want to map.

# %%
def make_topic_documents(n, seed):
    rng = np.random.default_rng(seed)
    glue = "the a and of to is in it with my about we talked saw like really this that some".split()
    every = [w for ws in GROUPS.values() for w in ws]
    texts, labels = [], []
    for _ in range(n):
        g = int(rng.integers(len(names)))
        words = []
        for _ in range(int(rng.integers(8, 15))):
            r = rng.random()
            pool = GROUPS[names[g]] if r < 0.45 else every if r < 0.55 else glue
            words.append(pool[int(rng.integers(len(pool)))])
        texts.append(" ".join(words))
        labels.append(g)
    return texts, np.array(labels)


start = time.perf_counter()
if L.vectors:
    wv = datasets.load_word_vectors(L.vectors, vocab=[w for ws in GROUPS.values() for w in ws])
    words = list(wv.found)
    vectors = np.array([wv[w] for w in words], dtype=np.float64)
    source = f"{wv.source} ({wv.dim}-d, {wv.coverage:.0%} of the words found)"
else:
    texts, labels = make_topic_documents(1200 if L.quick else 4000, L.seed)
    vectorizer = TextVectorizer()
    vectorizer.adapt(texts)
    ids = vectorizer(texts)
    cut = len(texts) * 4 // 5
    model = md.models.SentimentModel(vectorizer.vocabulary_size(), 16, n_classes=len(names))
    md.train.fit(model, md.losses.nll_loss, optim.Adam(model, lr=0.02),
                 DataLoader(ids[:cut], labels[:cut], batch_size=64, seed=L.seed), epochs=6 if L.quick else 10,
                 progress=False)
    model.eval()
    with md.no_grad():
        acc = float((model(md.tensor(ids[cut:])).numpy().argmax(axis=1) == labels[cut:]).mean())
    L.headline("topic classifier (the vectors' teacher): validation accuracy", acc, baseline=1 / len(names))
    E = model[0].W.numpy().astype(np.float64)
    words = [w for ws in GROUPS.values() for w in ws if vectorizer.token_to_id(w) != md.data.UNK_ID]
    vectors = np.array([E[vectorizer.token_to_id(w)] for w in words])
    source = f"learned here: Embedding(V={vectorizer.vocabulary_size()}, 16) of a topic classifier"
group_of = {w: g for g, ws in GROUPS.items() for w in ws}
truth = np.array([names.index(group_of[w]) for w in words])
L.show("the word vectors", f"{len(words)} words in {len(names)} groups, vectors {vectors.shape} from {source} "
       f"({time.perf_counter() - start:.1f} s)")

# %% [markdown]
# ## 3. Two maps of the same vectors
# PCA:    Z = (X - mean) V_2,  V_2 the top two right singular vectors.
# t-SNE:  p_ij from Gaussian neighbourhoods sized to a perplexity of 30 (about 30
#         effective neighbours per word), q_ij from a Student-t kernel in the map,
#         and gradient descent on  KL(P || Q) = sum p_ij log(p_ij / q_ij).
# In the PCA map, look for groups that share a spot: they differ along
# directions that the two kept axes do not show.

# %%
Z_pca, _, var_ratio = md.manifold.pca(vectors, 2)
n_iter = 300 if L.quick else 1000
start = time.perf_counter()
Z_tsne, kl = md.manifold.tsne(vectors, perplexity=30.0, n_iter=n_iter, seed=L.seed)
seconds = time.perf_counter() - start
L.headline("t-SNE final KL(P || Q)", kl, fmt=".3f")
L.headline("t-SNE seconds", seconds, fmt=".2f")
print(f"t-SNE of {len(words)} points, {n_iter} iterations: {seconds:.2f} s (exact O(n^2) per step: "
      f"{support.count(len(words) ** 2 * n_iter, 'pair terms')} in all)")


def agreement(Z, k=5, cosine=False):
    """Fraction of each word's k nearest neighbours (in Z) that share its group."""
    if cosine:
        Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    D = md.manifold.squared_distances(Z)
    np.fill_diagonal(D, np.inf)
    return float((truth[np.argsort(D, axis=1)[:, :k]] == truth[:, None]).mean())


in_data, in_pca, in_tsne = agreement(vectors, cosine=True), agreement(Z_pca), agreement(Z_tsne)
L.show("5 nearest neighbours in the same group",
       f"in the {vectors.shape[1]}-d vectors (cosine): {in_data:.3f}\n"
       f"in the PCA map:  {in_pca:.3f}   (its 2 axes hold {var_ratio.sum():.0%} of the variance)\n"
       f"in the t-SNE map: {in_tsne:.3f}\n"
       f"chance: {1 / len(names):.3f}")
L.headline("t-SNE map: neighbours in the same group", in_tsne, baseline=in_pca, main=True)
L.headline("PCA map: neighbours in the same group", in_pca, baseline=1 / len(names))
L.claim("tsne_neighbours", "t-SNE keeps each word's neighbours: more of a word's 5 nearest neighbours share its "
        "group on the t-SNE map than on the PCA map.", in_tsne > in_pca + 0.05,
        {"t-SNE": in_tsne, "PCA": in_pca, "in the vectors": in_data, "chance": 1 / len(names)})

pyplot = plt()
colours = pyplot.get_cmap("tab20")(np.arange(len(names)) % 20)
fig, axes = pyplot.subplots(1, 2, figsize=(16, 7.5))
for ax, Z, title in ((axes[0], Z_pca, f"PCA (PC 1 + PC 2 = {var_ratio.sum():.0%} of the variance)"),
                     (axes[1], Z_tsne, f"t-SNE (perplexity 30, KL {kl:.2f})")):
    for g, name in enumerate(names):
        pts = Z[truth == g]
        ax.scatter(pts[:, 0], pts[:, 1], color=colours[g], s=16, label=name)
    ax.set_title(title)
    ax.set_xticks([]); ax.set_yticks([])
    ax.margins(x=0.22, y=0.08)                                # room for the labels beside the groups
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=len(names) // 2, fontsize=9)
fig.subplots_adjust(bottom=0.12)
fig.suptitle(f"{len(words)} word vectors ({vectors.shape[1]}-d), coloured by their true group")
for ax, Z in ((axes[0], Z_pca), (axes[1], Z_tsne)):
    # two of its words beside each group's centre (one label per point would bury the map)
    centres_2d = np.array([Z[truth == g].mean(axis=0) for g in range(len(names))])
    figures.place_labels(ax, centres_2d[:, 0], centres_2d[:, 1],
                         [", ".join(np.array(words)[truth == g][:2]) for g in range(len(names))], fontsize=8,
                         colors=[0.6 * np.asarray(colours[g][:3]) for g in range(len(names))])   # darker: readable
L.figure(fig, "pca_vs_tsne", "The same word vectors mapped by PCA (left) and t-SNE (right), coloured by their true "
         "group: PCA lets groups that differ along the dropped directions overlap; t-SNE pulls every group apart.")

# %% [markdown]
# ## 4. What t-SNE distances do not mean
# A planted example where we know the truth: four groups of 50 points in 10-D.
# A and B are close neighbours (centres 6 apart), C is far away (60 from A), and
# D is *wide* (spread 4 where the others have 0.5).
# * PCA keeps the big picture -- C far away, D wide -- but A and B differ along a
#   direction of little variance, which PCA drops: they land on top of each other.
# * t-SNE separates all four, but it sizes every neighbourhood to the same
#   perplexity, so D comes out as tight as the others, and it spaces the groups
#   however the optimisation settled: C may end up nearer to A than B is, and
#   another seed gives another layout.

# %%
rng = np.random.default_rng(L.seed)
centres = np.zeros((4, 10))
centres[1, 0] = 6.0                                  # B: next to A
centres[2, 1] = 60.0                                 # C: far away
centres[3, 2] = 25.0                                 # D: in between, and wide
spread = np.array([0.5, 0.5, 0.5, 4.0])
group = np.repeat(np.arange(4), 50)
X = centres[group] + rng.normal(size=(200, 10)) * spread[group, None]


def geometry(Z):
    """(distance A-C / distance A-B, spread of D / spread of A), from the group means."""
    m = np.array([Z[group == g].mean(axis=0) for g in range(4)])
    size = [np.sqrt(((Z[group == g] - m[g]) ** 2).sum(axis=1).mean()) for g in (0, 3)]
    return np.linalg.norm(m[2] - m[0]) / np.linalg.norm(m[1] - m[0]), size[1] / size[0]


maps = {"the 10-d data": X, "PCA": md.manifold.pca(X, 2)[0]}
for s in (0, 1):
    maps[f"t-SNE, seed {s}"] = md.manifold.tsne(X, perplexity=30.0, n_iter=n_iter, seed=L.seed + s)[0]
rows = [f"{'':<16} {'far/near distance (A-C / A-B)':>30} {'size of D / size of A':>22}"]
for name, Z in maps.items():
    far_near, wide = geometry(Z)
    rows.append(f"{name:<16} {far_near:>30.1f} {wide:>22.1f}")
L.show("planted groups: distances and sizes, in the data and in the maps", "\n".join(rows))
L.headline("planted: far/near distance ratio in the data", geometry(X)[0], fmt=".1f")
L.headline("planted: far/near distance ratio in the t-SNE map", geometry(maps["t-SNE, seed 0"])[0], fmt=".1f")
tsne_far = [geometry(maps[f"t-SNE, seed {s}"])[0] for s in (0, 1)]
tsne_wide = [geometry(maps[f"t-SNE, seed {s}"])[1] for s in (0, 1)]
far_data, wide_data = geometry(X)
far_pca, wide_pca = geometry(maps["PCA"])
L.claim("tsne_gaps", "Gaps between t-SNE clusters mean nothing: a group 10 times farther away than another "
        "comes out at about the same distance, differently for each seed.", max(tsne_far) < 0.3 * far_data,
        {"far/near in the data": far_data, "t-SNE seed 0": tsne_far[0], "t-SNE seed 1": tsne_far[1]})
L.claim("tsne_sizes", "Sizes of t-SNE clusters mean nothing: a group 8 times as wide as another comes out the "
        "same size (each point gets the same number of neighbours).", max(tsne_wide) < 2 and wide_data > 5,
        {"D/A width in the data": wide_data, "t-SNE seed 0": tsne_wide[0], "t-SNE seed 1": tsne_wide[1]})
L.claim("pca_keeps_far", "PCA keeps the big picture (far stays far, wide stays wide) but lets groups that differ "
        "along a dropped direction fall on top of each other.", far_pca > 0.5 * far_data and wide_pca > 0.5 * wide_data,
        {"far/near in PCA": far_pca, "D/A width in PCA": wide_pca})

fig, axes = pyplot.subplots(1, 3, figsize=(16, 5))
for ax, name in zip(axes, list(maps)[1:]):
    Z = maps[name]
    for g, lab in enumerate("ABCD"):
        ax.scatter(Z[group == g, 0], Z[group == g, 1], s=10, color=colours[2 * g], label=f"{lab}")
    ax.set_title(f"{name}:\nA-C / A-B = {geometry(Z)[0]:.1f}, D/A size = {geometry(Z)[1]:.1f}", fontsize=10)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.15)
    ax.set_xticks([]); ax.set_yticks([])
fig.suptitle("In the data: A-C / A-B = {:.1f}, D is {:.1f}x as wide as A".format(*geometry(X)))
fig.tight_layout()
for ax, name in zip(axes, list(maps)[1:]):
    Z = maps[name]
    m = np.array([Z[group == g].mean(axis=0) for g in range(4)])
    figures.place_labels(ax, m[:, 0], m[:, 1], list("ABCD"), fontsize=13, weight="bold",
                         offsets=[(12, 8), (-12, -20), (12, -20), (-12, 8), (0, 24), (0, -34), (24, 0), (-24, 0)])
L.figure(fig, "distances", "Four planted groups in 10-D (A and B near, C 10 times farther, D 8 times wider). PCA keeps "
         "far/near and wide/tight but puts A on B; t-SNE separates all four, with distances and sizes that the "
         "data does not have, and another seed draws another layout.")

# %% [markdown]
# The same question for the word vectors: do the distances between the group
# centres in a map follow those in the data?  (Correlation over the 66 pairs of
# groups; 1 would mean the map keeps the layout of the groups.)  Groups that are
# all about equally far apart leave t-SNE little to get wrong, so here it may do
# as well as PCA and two seeds may agree; the planted example shows that this is
# luck of the data, not a promise of the method.

# %%
def centre_distances(Z):
    m = np.array([Z[truth == g].mean(axis=0) for g in range(len(names))])
    iu = np.triu_indices(len(names), 1)
    return np.sqrt(md.manifold.squared_distances(m))[iu]


ref = centre_distances(vectors)
second, _ = md.manifold.tsne(vectors, perplexity=30.0, n_iter=n_iter, seed=L.seed + 1)
L.show("word groups: correlation of centre distances, map vs data",
       f"PCA:                {np.corrcoef(ref, centre_distances(Z_pca))[0, 1]:+.2f}\n"
       f"t-SNE, seed {L.seed}:      {np.corrcoef(ref, centre_distances(Z_tsne))[0, 1]:+.2f}\n"
       f"t-SNE, seed {L.seed + 1}:      {np.corrcoef(ref, centre_distances(second))[0, 1]:+.2f}\n"
       f"t-SNE seed {L.seed} vs seed {L.seed + 1}: "
       f"{np.corrcoef(centre_distances(Z_tsne), centre_distances(second))[0, 1]:+.2f}")

# %% [markdown]
# ## Closing note
# Read a t-SNE map for *who is next to whom*; read neither the size of a
# cluster nor the gaps between clusters.  Read a PCA map for the big directions
# of the data, knowing that what it hides lies along the directions it dropped.
# The exact t-SNE here costs O(n^2) per step: fine for a few thousand words,
# beyond that Barnes-Hut t-SNE (O(n log n)) is the tool.
