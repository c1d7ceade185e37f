"""Collaborative filtering from scratch: latent factors, biases, weight decay, and a neural recommender.

dataset: generated ratings with planted factors, biases and genres (embedded); --data/--download: MovieLens 100k (ml-100k folder)

Collaborative filtering predicts a user's rating of a movie from everybody's ratings: each user
and each movie gets a vector of latent factors, and the rating is their dot product plus a bias
for each.  Nobody tells the model about genres, yet movies liked by the same people end up close
together.  With more parameters than ratings it overfits, and weight decay is the cure; a user
with no ratings at all needs another answer (the cold start).

What this lesson shows
* latent factors on a 3 x 3 table you can read; an embedding is a one-hot
  vector times a matrix (same value, same gradient) that nobody computes as one;
* r_hat = p_u . q_i (+ b_u + b_i) squashed by sigmoid_range(x, 0, 5.5), trained
  with Adam and one cycle; weight decay  loss + wd * sum(w^2)  written three ways;
* what it learned: movie biases, a PCA map and nearest movies by cosine, and
  (generated data) the planted factors recovered; a neural recommender
  (CollabNN) with and without metadata; the cold start of a brand-new user.
"""
# %% [markdown]
# ## 0. Setup

# %%
from pathlib import Path

import numpy as np

import minidl as md
import minidl.functional as F
from minidl import datasets, optim
from minidl.data import TabularProcessor, one_hot_columns
from minidl.models.collab import average_user, fit_ratings, rating_mse
from lessons import figures
from lessons.support import Lesson, plt

L = Lesson(__file__)
Y_RANGE = (0.0, 5.5)          # fastai's range: a sigmoid never reaches its end, so 5 stars needs room above 5

# %% [markdown]
# ## 1. Latent factors on a table you can read
# Say every movie is described by three numbers -- how much science fiction, how much action, how old -- and
# every user by how much they like each.  The predicted rating is the dot product
# r_hat(u, i) = p_u . q_i = sum_f p_uf q_if: large when the user likes what the movie has.  Collaborative
# filtering *learns* both sets of numbers from the ratings alone; nobody labels them.

# %%
toy_movies = {"The Last Skywalker": [0.98, 0.9, -0.9], "Casablanca": [-0.99, -0.3, 0.8], "Galaxy Quest": [0.7, 0.4, -0.5]}
toy_users = {"sci-fi fan": [0.9, 0.8, -0.6], "film buff": [-0.8, -0.1, 0.9], "no opinion": [0.0, 0.1, 0.0]}
Q_toy, P_toy = np.array(list(toy_movies.values())), np.array(list(toy_users.values()))
table = P_toy @ Q_toy.T                                      # (3 users, 3 movies) = all dot products
header = " " * 12 + "".join(f"{m:>20}" for m in toy_movies)
rows = [f"{u:<12}" + "".join(f"{v:20.2f}" for v in row) for u, row in zip(toy_users, table)]
L.show("predicted 'ratings' p_u . q_i for hand-picked factors (sci-fi, action, old)", "\n".join([header] + rows))

# %% [markdown]
# ## 2. An embedding is a one-hot vector times a matrix
# To use the factors of user 3 we need row 3 of P.  Written as linear algebra: onehot(3) @ P.  So an
# `Embedding` is a `Dense` layer without bias whose input is one-hot -- same value, *same gradient* (only the
# rows that were looked up receive one, summed over repeats) -- but computing it as a product costs B x V x d
# multiply-adds and a (B, V) matrix of zeros, while the lookup copies B x d numbers.

# %%
V, d, B = 1700, 50, 64                                     # MovieLens 100k has 1682 movies
ids = np.random.default_rng(L.seed).integers(0, V, size=B)
ids[:3] = 7                                                # a repeated id: its gradients must add up
W = md.tensor(np.random.default_rng(1).normal(0, 0.1, (V, d)), requires_grad=True)
R = md.tensor(np.random.default_rng(2).normal(size=(B, d)))   # some upstream gradient dL/dy

ways = {"lookup": lambda: F.embedding(ids, W), "one-hot": lambda: md.tensor(F.one_hot(ids, V, np.float32)) @ W}
ys, grads = {}, {}
for way, f in ways.items():
    W.grad = None
    ys[way] = f()
    (ys[way] * R).sum().backward()
    grads[way] = md.backend.asnumpy(W.grad)
secs = {way: t["best"] for way, t in L.time(ways, repeats=15).items()}    # interleaved; the least disturbed repeat
value_gap = float(np.abs(ys["lookup"].numpy() - ys["one-hot"].numpy()).max())
grad_gap = float(np.abs(grads["lookup"] - grads["one-hot"]).max())
L.show("one_hot(ids) @ W versus the lookup W[ids]", f"ids: {B} ids into a table of V = {V} rows of d = {d} (id 7 three times)\n"
       f"max |value difference|    = {value_gap:.2e}\n"
       f"max |gradient difference| = {grad_gap:.2e}   (row 7's gradient is the sum of its 3 uses)\n"
       f"time: lookup {secs['lookup'] * 1e6:.0f} us, one-hot product {secs['one-hot'] * 1e6:.0f} us "
       f"({secs['one-hot'] / secs['lookup']:.0f}x slower; {B * V * d / 1e6:.1f}M multiply-adds vs {B * d} copies)")
L.claim("one_hot_is_lookup", "An Embedding is a one-hot matrix times W, computed as a lookup: the same values and "
        "gradients (a repeated id's gradients add up) without the B x V x d multiply-adds.", value_gap < 1e-6 and grad_gap < 1e-6,
        {"value difference": value_gap, "gradient difference": grad_gap, "one-hot multiply-adds": B * V * d, "lookup copies": B * d})

# %% [markdown]
# ## 3. The data
# By default: ratings generated from *planted* user and movie factors, biases and genres
# (`datasets.make_ratings`), so we can check what the model recovers.  With `--data PATH/ml-100k` (or
# `--download`): MovieLens 100k, 100,000 ratings of 1,682 movies by 943 users.  Validation: a seeded random
# 20% of the ratings.  10% of the users are held out *entirely* for the cold start (section 10).

# %%
path = L.real_data("movielens-100k")
if path:
    data = datasets.load_movielens(path)
    try:
        users_meta = datasets.load_movielens_users(Path(data["source"]), user_ids=data["user_ids"])
    except datasets.DataNotFoundError:
        users_meta = None                                    # a csv-layout folder has no user table
else:
    n_u, n_i, dens = (300, 200, 0.15) if L.quick else (1000, 600, 0.08)
    data = datasets.make_ratings(n_users=n_u, n_items=n_i, density=dens, noise=0.5, seed=L.seed)
    users_meta = data["users"]
planted = data.get("planted")                                # the generator's truth; None on real data
synthetic = planted is not None
user, item, rating = data["user"], data["item"], data["rating"].astype(np.float32)
n_users, n_items, titles = data["n_users"], data["n_items"], data["titles"]
rng = np.random.default_rng(L.seed)
cold_users = rng.permutation(n_users)[: n_users // 10]
is_cold = np.isin(user, cold_users)
warm = rng.permutation(np.flatnonzero(~is_cold))
val_idx, train_idx, cold_idx = warm[:len(warm) // 5], warm[len(warm) // 5:], np.flatnonzero(is_cold)
mu = float(rating[train_idx].mean())
mse_mean = float(np.mean((rating[val_idx] - mu) ** 2))
print(f"{len(rating):,} ratings of {n_items} movies by {n_users} users ({data['source']}); "
      f"{len(train_idx):,} train / {len(val_idx):,} validation / {len(cold_idx):,} from {len(cold_users)} held-out users.  "
      f"Mean rating {mu:.2f}: predicting it everywhere gives validation MSE {mse_mean:.3f}")

# %% [markdown]
# ## 4. Training: MSE, Adam and a one-cycle schedule
# loss = mean over the batch of (r_hat(u, i) - r)^2.  The learning rate follows one cycle (warm up to
# `max_lr` over the first quarter, then anneal to almost 0, with Adam's beta1 moving the other way), as
# fastai's `fit_one_cycle`, with fastai's Adam (beta2 = 0.99, eps = 1e-5).  A rating model takes two id arrays
# (and metadata), so `md.models.collab.fit_ratings` writes the loop out; its core, then each epoch's MSEs:
#
#     opt = optim.AdamW(model, lr=max_lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=wd)
#     sched = optim.OneCycle(opt, max_lr=max_lr, total_steps=epochs * steps_per_epoch)
#     for each epoch, for each batch `rows` of 64 from a shuffled train_idx:
#         loss = md.losses.mse(model(user[rows], item[rows]), md.tensor(rating[rows]))
#         opt.zero_grad(); loss.backward(); opt.step(); sched.step()

# %%
EPOCHS, BATCH = 5, 64
results, histories, models = {}, {}, {}
mse_on = lambda model, rows, **meta: rating_mse(model, user, item, rating, rows, **meta)


def train(label, make, wd=0.0, **meta):
    """Build models[label] = make() from seed L.seed, fit it, keep its history and final validation MSE."""
    md.seed(L.seed); models[label] = make()
    histories[label] = fit_ratings(models[label], user, item, rating, train_idx, val_idx, epochs=EPOCHS,
                                   max_lr=MAX_LR, wd=wd, batch_size=BATCH, seed=L.seed, **meta)
    results[label] = histories[label]["val"][-1]
    return models[label]


# %% [markdown]
# ### Choosing max_lr with the learning-rate finder
# fastai's `lr_find`: a fresh model trains while the rate grows exponentially from 1e-7 to 10; the smoothed
# loss is flat, falls, then blows up (the test stops), and every weight is put back.  Rule: a tenth of the rate
# at the lowest loss, rounded.  The test lasts one epoch, not fastai's 100 batches: Adam moves a weight by about
# the rate per step and these factors start near 0, so a shorter test sees the loss fall only at too large rates.

# %%
probe = md.models.DotProduct(n_users, n_items, 50, y_range=Y_RANGE)
chunks = np.array_split(np.random.default_rng(L.seed).permutation(train_idx), len(train_idx) // BATCH)
found = md.train.lr_find(probe, md.losses.mse, optim.AdamW(probe, lr=1e-3, betas=(0.9, 0.99), eps=1e-5),
                         [((user[r], item[r]), rating[r]) for r in chunks], num_it=len(chunks))
MAX_LR = float(f"{found.suggestion:.1g}")                  # used by train() from here on
L.figure(found.plot(), "lr_find", f"the learning-rate finder on a fresh DotProduct: max_lr = {MAX_LR:g}")

# %% [markdown]
# ## 5. Dot product, then biases, then sigmoid_range
# * dot:            r_hat = sigmoid_range(p_u . q_i, 0, 5.5)
# * dot + bias:     r_hat = sigmoid_range(p_u . q_i + b_u + b_i, 0, 5.5)
#
# sigmoid_range(x, lo, hi) = lo + (hi - lo) * sigmoid(x) keeps every prediction inside the range ratings can
# take, so the factors need not learn the scale.  The bias b_i is what a movie gets whatever the taste: some
# films are liked by almost everybody, some by almost nobody.  50 factors each, as fastai.

# %%
N_FACTORS = 50
for label, bias in (("dot", False), ("dot + bias", True)):
    train(label, lambda: md.models.DotProduct(n_users, n_items, N_FACTORS, y_range=Y_RANGE, bias=bias))
    print(f"{label:<24} train MSE {histories[label]['train'][-1]:.3f}   validation MSE {results[label]:.3f}")

# %% [markdown]
# ## 6. Weight decay
# The validation MSE above stalls while the training MSE keeps falling: overfitting.  With more
# parameters than ratings, the factors can memorise.  Weight decay adds the size of every weight to the loss,
#
#     loss_wd = loss + wd * sum(w^2),    so    d loss_wd / dw = d loss / dw + 2 wd w:
#
# each step pulls every weight towards 0, and only weights that *earn* their size on the data stay
# large.  Three ways to write it:
# 1. by hand, in the loss (checked below: the gradient gains exactly 2 wd w);
# 2. as the optimizer's `weight_decay` (PyTorch's convention: it adds weight_decay * w to the gradient,
#    so the same penalty is weight_decay = 2 wd);
# 3. *decoupled* (AdamW, what fastai's wd=0.1 means): w <- w (1 - lr wd) at each step, outside Adam's
#    per-weight rescaling, which would shrink the decay of weights with large gradients.  We train with this.

# %%
# fastai's wd = 0.1 suits the full run's 38,000 ratings; the quick run's 6,500 let 50 factors per
# movie memorise faster, and need a stronger pull to show the effect.
wd, rows = (0.3 if L.quick and synthetic else 0.1), train_idx[:BATCH]
probe = md.models.DotProduct(n_users, n_items, N_FACTORS, y_range=Y_RANGE)
md.losses.mse(probe(user[rows], item[rows]), md.tensor(rating[rows])).backward()
g_plain = [p.grad.copy() for p in probe.parameters()]; probe.zero_grad()
penalty = sum((p * p).sum() for p in probe.parameters())
(md.losses.mse(probe(user[rows], item[rows]), md.tensor(rating[rows])) + wd * penalty).backward()
gap_2wd = max(float(np.abs(md.backend.asnumpy(p.grad - (g + 2 * wd * p.data))).max()) for p, g in zip(probe.parameters(), g_plain))
# one Adam step on the penalised loss == one Adam step with weight_decay = 2 wd on the plain loss
before = [p.data.copy() for p in probe.parameters()]
optim.Adam(probe, lr=1e-2).step()                            # grads of the penalised loss
after_penalty = [p.data.copy() for p in probe.parameters()]
for p, b0, g in zip(probe.parameters(), before, g_plain):
    p.data[...], p.grad = b0, g                              # back to the start, with the plain gradient
optim.Adam(probe, lr=1e-2, weight_decay=2 * wd).step()
gap_opt = max(float(np.abs(md.backend.asnumpy(p.data - a)).max()) for p, a in zip(probe.parameters(), after_penalty))
L.show("weight decay written three ways",
       f"grad of (mse + wd * sum w^2)  -  (grad of mse + 2 wd w):  max |difference| = {gap_2wd:.1e}\n"
       f"Adam step on the penalised loss  vs  Adam(weight_decay=2 wd):  max |difference| = {gap_opt:.1e}\n"
       f"AdamW(weight_decay={wd}) instead shrinks every weight by the factor (1 - lr * {wd}) per step.")
assert gap_2wd < 1e-5 and gap_opt < 1e-5
best = train("dot + bias + wd", lambda: md.models.DotProduct(n_users, n_items, N_FACTORS, y_range=Y_RANGE), wd=wd)

pyplot = plt()
fig, (a1, a2, a3) = pyplot.subplots(1, 3, figsize=(15, 4), gridspec_kw=dict(width_ratios=[1.2, 1.2, 0.8]))
ep = np.arange(1, EPOCHS + 1)
for label, colour, (m1, m2) in (("dot + bias", "tab:red", ("o", "s")), ("dot + bias + wd", "tab:blue", ("^", "v"))):
    a1.plot(ep, histories[label]["train"], marker=m1, ls="--", color=colour, label=f"{label}: train")
    a1.plot(ep, histories[label]["val"], marker=m2, ls="-", color=colour, label=f"{label}: validation")
    a2.plot(ep, histories[label]["val"], marker=m2, ls="-" if label == "dot + bias" else "-.", color=colour, label=label)
a1.axhline(mse_mean, color="grey", ls=":", label="predict the mean rating")
a1.set(xlabel="epoch", ylabel="MSE", title="Train and validation MSE")
a2.set(xlabel="epoch", ylabel="validation MSE", title=f"Validation MSE, zoomed: weight decay (AdamW, wd = {wd})")
low = min(min(histories[k]["val"]) for k in ("dot + bias", "dot + bias + wd")); a2.set_ylim(low - 0.03, low + 0.25)
a3.plot(histories["dot + bias + wd"]["lrs"])
a3.set(xlabel="step", ylabel="learning rate", title="The one-cycle learning rate")
figures.legend(a1, fontsize=8); figures.legend(a2, fontsize=8); fig.tight_layout()
L.figure(fig, "weight_decay", "Without weight decay the training MSE keeps falling while the validation MSE stalls; weight decay "
         "keeps the training MSE higher and ends lower on validation (middle, zoomed). Right: the one-cycle schedule.")
(tr0, va0), (tr1, va1) = ((histories[k]["train"][-1], histories[k]["val"][-1]) for k in ("dot + bias", "dot + bias + wd"))
# How much validation gains depends on how hard the plain model overfits, and so on the rate lr_find picked:
# seeds 0, 1, 2 gave max_lr 0.004 / 0.007 / 0.005 and gains of 0.003 / 0.039 / 0.019.  The memorising always shrinks.
L.claim("weight_decay", "Weight decay makes the factors memorise less: the training MSE rises, the gap between training and "
        "validation MSE narrows, and validation is no worse (better, the more the plain model overfits).",
        tr1 > tr0 + 0.01 and va1 - tr1 < va0 - tr0 - 0.01 and va1 <= va0,
        {"validation, no wd": va0, "validation, wd": va1, "train, no wd": tr0, "train, wd": tr1})

# %% [markdown]
# ## 7. What the model learned
# **Biases.**  b_i is the part of a movie's rating that taste does not explain.  The lowest: movies that
# even people who like this kind of movie rate low; the highest: liked even by people of another taste.

# %%
counts = np.bincount(item[train_idx], minlength=n_items)
mean_rating = np.bincount(item[train_idx], weights=rating[train_idx], minlength=n_items) / np.maximum(counts, 1)
b_item, Q = best.item_bias.W.numpy()[:, 0], best.item_factors.W.numpy()
seen = np.flatnonzero(counts >= (3 if L.quick else 5))
for which, key in (("LOWEST", b_item[seen]), ("HIGHEST", -b_item[seen])):
    L.show(f"movies with the {which} learned bias",
           "\n".join(f"{b_item[i]:+.2f}  {titles[i]}  ({counts[i]} ratings, mean {mean_rating[i]:.2f})"
                     for i in seen[np.argsort(key)[:8]]))

# %% [markdown]
# **A map of the movie factors.**  The 50 factors of each movie, projected on their first two principal
# axes (PCA fitted on the movies with enough ratings), for the most-rated movies.  Nobody told the model
# about genres; movies that the same people like end up close together.

# %%
popular = np.argsort(-counts)[:40 if L.quick else 50]
fit_rows = seen if len(seen) >= 3 else np.arange(n_items)
_, comps, ratio = md.manifold.pca(Q[fit_rows], 2)
Z = (Q - Q[fit_rows].mean(axis=0)) @ comps.T
genre_of = data["genres"].argmax(axis=1)
fig, ax = pyplot.subplots(figsize=(10, 8))
cmap = pyplot.get_cmap("tab10" if len(data["genre_names"]) <= 10 else "tab20")
for g in np.unique(genre_of[popular]):
    rows_g = popular[genre_of[popular] == g]
    ax.scatter(Z[rows_g, 0], Z[rows_g, 1], color=cmap(g % cmap.N), label=data["genre_names"][g], s=25)
ax.set(xlabel=f"PC 1 ({ratio[0]:.0%} of the factors' variance)", ylabel=f"PC 2 ({ratio[1]:.0%})",
       title=f"Movie factors, PCA: the {len(popular)} most-rated movies (colour: first listed genre)")
ax.margins(0.12); figures.legend(ax, fontsize=7, title="genre")   # margins: room for the titles at the edges
short = [titles[i].replace("Synthetic Movie ", "#") for i in popular]
dropped = figures.place_labels(ax, Z[popular, 0], Z[popular, 1], [t if len(t) < 26 else t[:24] + "..." for t in short], fontsize=7)
L.figure(fig, "movie_map", "PCA of the learned movie factors of the most-rated movies, coloured by genre: the model "
         "never saw a genre, yet movies liked by the same people sit together."
         + (f" ({dropped} labels left out where they would overlap.)" if dropped else ""))

# %% [markdown]
# **Nearest movies.**  Cosine similarity of factor vectors, cos(q_i, q_j) = q_i . q_j / (|q_i| |q_j|):
# the movies whose *taste profile* is closest, whatever their average rating.

# %%
anchor, rare = int(popular[0]), np.setdiff1d(np.arange(n_items), seen)
near = md.manifold.cosine_neighbours(Q, [anchor], k=8, exclude_ids=rare)[0]
if synthetic:                       # the generator's own factors say whether the neighbours are real
    Qp = planted["item_factors"] / np.linalg.norm(planted["item_factors"], axis=1, keepdims=True)
    L.show(f"movies nearest to {titles[anchor]!r} (cosine of the learned factors; of the planted ones)",
           "\n".join(f"{s:.2f}  ({Qp[j] @ Qp[anchor]:+.2f})  {titles[j]}" for j, s in near)
           + "\n(genre factors are drawn at random, so two different genres can share a taste profile)")
else:
    L.show(f"movies nearest to {titles[anchor]!r} (cosine of the learned factors)", "\n".join(f"{s:.2f}  {titles[j]}" for j, s in near))

# %% [markdown]
# **On the generated data we know the truth.**  The learned factors are only defined up to a rotation
# (p_u . q_i does not change if P and Q turn together), so we align them first: the top 3 principal axes
# of the learned movie factors, mapped onto the 3 planted ones by least squares, and then correlated with
# them (`md.manifold.aligned_correlation`).  The same alignment on *untrained* factors is the chance level.

# %%
if synthetic:
    corr_items = md.manifold.aligned_correlation(Q[seen], planted["item_factors"][seen])
    random_q = np.random.default_rng(L.seed + 1).normal(0, 0.01, Q.shape)
    corr_chance = md.manifold.aligned_correlation(random_q[seen], planted["item_factors"][seen])
    corr_bias = np.corrcoef(b_item[seen], planted["item_bias"][seen])[0, 1]
    L.show("planted structure recovered (movies with enough ratings)",
           f"movie factors, correlation after alignment, per planted factor: {', '.join(f'{c:.2f}' for c in corr_items)}"
           f"  (random factors: {', '.join(f'{c:.2f}' for c in corr_chance)})\n"
           f"movie bias: correlation with the planted bias {corr_bias:.2f}")
    L.headline("movie factors recovered (mean correlation after alignment)", corr_items.mean(), baseline=corr_chance.mean())
    L.claim("planted_factors", "Nobody told the model about tastes or genres, yet its movie factors recover the planted ones "
            "(after aligning the axes, which the model is free to rotate).", corr_items.mean() > max(0.7, corr_chance.mean() + 0.5),
            {"correlation, learned": corr_items.mean(), "random factors": corr_chance.mean(), "movie bias": corr_bias})

# %% [markdown]
# ## 8. A neural recommender, then metadata
# fastai's CollabNN: concatenate the user and movie embeddings (widths by a rule of thumb, printed below) and
# let an MLP decide how they combine -- it has to learn the multiplication the dot model gets for free:
#
#     r_hat = sigmoid_range( Dense_1( ReLU( Dense_100( [ P[u] | Q[i] ] ))), 0, 5.5 )
#
# Since the inputs are simply concatenated, anything else we know can join them: the users' age, gender and
# occupation (made columns by the tabular preprocessor) and the movies' genre flags.

# %%
train("neural", lambda: md.models.CollabNN(n_users, n_items, n_hidden=100, y_range=Y_RANGE), wd=wd)
item_meta = data["genres"].astype(np.float32)                       # (n_items, G) multi-hot
if users_meta is not None:
    columns = {k: list(users_meta[k]) for k in ("gender", "occupation", "age")}   # one row per user
    train_users = np.unique(user[train_idx])
    proc = TabularProcessor(cat_names=["gender", "occupation"], cont_names=["age"])
    proc.fit({k: [v[u] for u in train_users] for k, v in columns.items()})     # statistics: training users
    cats, conts = proc.transform(columns)
    user_meta = np.hstack([one_hot_columns(cats, proc.cardinalities()), conts]).astype(np.float32)
else:
    user_meta = np.zeros((n_users, 1), np.float32)
meta = dict(user_meta=user_meta, item_meta=item_meta)
widths = dict(n_user_meta=user_meta.shape[1], n_item_meta=item_meta.shape[1])
train("neural + metadata", lambda: md.models.CollabNN(n_users, n_items, n_hidden=100, y_range=Y_RANGE, **widths), wd=wd, **meta)
L.show("neural collaborative filtering", f"embedding widths by the rule min(600, round(1.6 n^0.56)): users {n_users} "
       f"-> {models['neural'].user_sz}, movies {n_items} -> {models['neural'].item_sz}\nmetadata: {user_meta.shape[1]} "
       f"user columns (gender, occupation one-hot; age standardised), {item_meta.shape[1]} genre flags")

# %% [markdown]
# ## 9. The scoreboard
# Validation MSE (lower is better) against predicting the mean rating.  fastai reports about 0.82 for
# dot + bias + wd on MovieLens 100k, and 0.87 for its neural model (it trains on every user; here 10% of
# them are held out for section 10, so expect slightly different numbers).

# %%
lines = [f"{results[k]:.3f}  {k}" for k in results] + [f"{mse_mean:.3f}  predicting the mean rating"]   # training order
if synthetic:
    # the planted model itself: E[rating] = mean over the noise of clip(round(mu + b_u + b_i + p_u . q_i + noise))
    raw = (planted["global_mean"] + planted["user_bias"][user[val_idx]] + planted["item_bias"][item[val_idx]]
           + (planted["user_factors"][user[val_idx]] * planted["item_factors"][item[val_idx]]).sum(axis=1))
    noise = np.random.default_rng(L.seed).normal(0, 0.5, size=(200, 1))
    truth = np.clip(np.round(raw + noise), 1, 5).mean(axis=0)
    lines.append(f"{np.mean((truth - rating[val_idx]) ** 2):.3f}  the planted model itself "
                 "(the noise and the rounding to whole stars: no model can do better)")
L.show("validation MSE", "\n".join(lines))
for label in results:
    L.headline(f"validation MSE: {label}", results[label], baseline=mse_mean, higher_is_better=False, main=label == "dot + bias + wd")
L.claim("biases", "Biases help: a movie liked by almost everybody (or nobody) needs no taste to explain it.",
        results["dot + bias"] < results["dot"], {"dot": results["dot"], "dot + bias": results["dot + bias"]})

# %% [markdown]
# ## 10. Cold start: a user with no ratings
# A new user has an embedding row that training never touched: factors near 0 (the tiny initial values, shrunk
# further by weight decay) and bias 0.  So the model predicts sigmoid_range(b_i): the movie bias around the
# *middle of the range* (2.75), not the typical rating -- worse than knowing nothing.  The standard answers:
# * give the newcomer the **average user**, P[new] = mean(P[trained]) and the same for the bias
#   (`with average_user(...)`): "how the typical user rates this movie";
# * use what we know about them anyway: the **metadata** model with the average embedding still
#   reads their age, gender and occupation.
# The held-out users (never seen in training) tell us how well each works.

# %%
trained_users, neural_meta = np.unique(user[train_idx]), models["neural + metadata"]
cold = {"global mean rating": float(np.mean((rating[cold_idx] - mu) ** 2)), "dot + bias + wd, untouched row": mse_on(best, cold_idx)}
with average_user(best, cold_users, trained_users), average_user(neural_meta, cold_users, trained_users):
    cold["dot + bias + wd, average user"] = mse_on(best, cold_idx)
    cold["neural + metadata, average user"] = mse_on(neural_meta, cold_idx, **meta)
L.show(f"cold start: MSE on the {len(cold_idx)} ratings of {len(cold_users)} held-out users",
       "\n".join(f"{v:.3f}  {k}" for k, v in cold.items())
       + f"\n(for comparison, known users: {results['dot + bias + wd']:.3f} with dot + bias + wd)")
fig, ax = pyplot.subplots(figsize=(8, 3.5))
ax.barh(list(cold), list(cold.values()), color=["grey", "tab:orange", "tab:blue", "tab:green"])
ax.axvline(results["dot + bias + wd"], color="k", ls="--", label="known users (dot + bias + wd)"); ax.invert_yaxis()
ax.set(xlabel="MSE on held-out users' ratings (lower is better)", title="Cold start: predicting for users with no ratings")
figures.legend(ax, fontsize=8)
L.figure(fig, "cold_start", "MSE on the ratings of users never seen in training, by cold-start strategy: an untouched embedding "
         "row is worse than the global mean; the average user, and metadata, do better.")
c = list(cold.values())                        # global mean, untouched row, average user, neural + metadata
L.claim("cold_start", "A user with no ratings is served worse by their untouched embedding row than by the global mean; the "
        "average user helps, and metadata (age, gender, occupation) helps most.", c[1] > c[0] > c[2] > c[3], cold)
