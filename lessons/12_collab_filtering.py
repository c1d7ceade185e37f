"""Collaborative filtering from scratch: latent factors, biases, weight decay, and a neural recommender.

dataset: generated ratings with planted factors, biases and genres (embedded); --data/--download: MovieLens 100k (ml-100k folder)

What this lesson shows
* the latent-factor idea on a 3 x 3 table you can read, and that an embedding
  is a matrix product with a one-hot vector (same value, same gradient) that
  nobody should compute as one;
* the dot-product model  r_hat = p_u . q_i, then with biases
  r_hat = p_u . q_i + b_u + b_i, then squashed into the rating range with
  sigmoid_range(x, 0, 5.5); trained with Adam and a one-cycle schedule;
* weight decay: the L2 term  loss + wd * sum(w^2)  is the gradient 2 wd w, the
  optimizer's ``weight_decay``, and the cure for overfitting curves;
* what the model learned: the movies with the lowest and highest bias, a PCA
  map of the movie factors, the nearest movies by cosine -- and, on the
  generated data, that the learned factors recover the planted ones;
* a neural recommender (CollabNN) with and without metadata, and what to
  predict for a brand-new user (cold start).
"""
# %% [markdown]
# ## 0. Setup

# %%
import time
from pathlib import Path

import numpy as np

import minidl as md
import minidl.functional as F
from minidl import optim
from minidl import datasets
from minidl.data import TabularProcessor, emb_sz_rule, one_hot_columns
from lessons.support import Lesson, plt

L = Lesson(__file__)
Y_RANGE = (0.0, 5.5)          # fastai's range: a sigmoid never reaches its end, so 5 stars needs room above 5

# %% [markdown]
# ## 1. Latent factors on a table you can read
# Say every movie is described by three numbers -- how much science fiction,
# how much action, how old -- and every user by how much they like each.  The
# predicted rating is the dot product  r_hat(u, i) = p_u . q_i = sum_f p_uf q_if:
# large when the user likes what the movie has.  Collaborative filtering
# *learns* both sets of numbers from the ratings alone; nobody labels them.

# %%
toy_movies = {"The Last Skywalker": [0.98, 0.9, -0.9], "Casablanca": [-0.99, -0.3, 0.8],
              "Galaxy Quest": [0.7, 0.4, -0.5]}
toy_users = {"sci-fi fan": [0.9, 0.8, -0.6], "film buff": [-0.8, -0.1, 0.9], "no opinion": [0.0, 0.1, 0.0]}
Q_toy, P_toy = np.array(list(toy_movies.values())), np.array(list(toy_users.values()))
table = P_toy @ Q_toy.T                                      # (3 users, 3 movies) = all dot products
header = " " * 12 + "".join(f"{m:>20}" for m in toy_movies)
rows = [f"{u:<12}" + "".join(f"{v:20.2f}" for v in row) for u, row in zip(toy_users, table)]
L.show("predicted 'ratings' p_u . q_i for hand-picked factors (sci-fi, action, old)",
       "\n".join([header] + rows))

# %% [markdown]
# ## 2. An embedding is a one-hot vector times a matrix
# To use the factors of user 3 we need row 3 of P.  Written as linear algebra:
# onehot(3) @ P.  So an `Embedding` is a `Dense` layer without bias whose input is
# one-hot -- same value, *same gradient* (only the rows that were looked up
# receive one, summed over repeats) -- but computing it as a product costs
# B x V x d multiply-adds and a (B, V) matrix of zeros, while the lookup copies B x d numbers.

# %%
V, d, B = 1700, 50, 64                                     # MovieLens 100k has 1682 movies
ids = np.random.default_rng(L.seed).integers(0, V, size=B)
ids[:3] = 7                                                # a repeated id: its gradients must add up
W = md.tensor(np.random.default_rng(1).normal(0, 0.1, (V, d)), requires_grad=True)
R = md.tensor(np.random.default_rng(2).normal(size=(B, d)))   # some upstream gradient dL/dy

y_lookup = F.embedding(ids, W)
(y_lookup * R).sum().backward()
g_lookup, W.grad = W.grad.copy(), None
y_onehot = md.tensor(F.one_hot(ids, V, np.float32)) @ W
(y_onehot * R).sum().backward()
g_onehot = W.grad.copy()
value_gap = float(np.abs(y_lookup.numpy() - y_onehot.numpy()).max())
grad_gap = float(np.abs(md.backend.asnumpy(g_lookup - g_onehot)).max())


def best_time(f, reps=30):
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


t_lookup = best_time(lambda: F.embedding(ids, W))
t_onehot = best_time(lambda: md.tensor(F.one_hot(ids, V, np.float32)) @ W)
L.show("one_hot(ids) @ W versus the lookup W[ids]",
       f"ids: {B} ids into a table of V = {V} rows of d = {d} (id 7 three times)\n"
       f"max |value difference|    = {value_gap:.2e}\n"
       f"max |gradient difference| = {grad_gap:.2e}   (row 7's gradient is the sum of its 3 uses)\n"
       f"time: lookup {t_lookup * 1e6:.0f} us, one-hot product {t_onehot * 1e6:.0f} us "
       f"({t_onehot / t_lookup:.0f}x slower; {B * V * d / 1e6:.1f}M multiply-adds vs {B * d} copies)")
assert value_gap < 1e-6 and grad_gap < 1e-6

# %% [markdown]
# ## 3. The data
# By default: ratings generated from *planted* user and movie factors, biases
# and genres (`datasets.make_ratings`), so we can check what the model recovers.
# With `--data PATH/ml-100k` (or `--download`): MovieLens 100k, 100,000 ratings
# of 1,682 movies by 943 users.  Validation: a seeded random 20% of the
# ratings.  Besides, 10% of the users are held out *entirely* for the cold-start
# question at the end: the models never see a single rating of theirs.

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
synthetic = "planted" in data
user, item, rating = data["user"], data["item"], data["rating"].astype(np.float32)
n_users, n_items, titles = data["n_users"], data["n_items"], data["titles"]
rng = np.random.default_rng(L.seed)
cold_users = rng.permutation(n_users)[: n_users // 10]
is_cold = np.isin(user, cold_users)
warm = rng.permutation(np.flatnonzero(~is_cold))
n_val = len(warm) // 5
val_idx, train_idx, cold_idx = warm[:n_val], warm[n_val:], np.flatnonzero(is_cold)
mu = float(rating[train_idx].mean())
mse_mean = float(np.mean((rating[val_idx] - mu) ** 2))
print(f"{len(rating):,} ratings of {n_items} movies by {n_users} users ({data['source']}); "
      f"{len(train_idx):,} train / {len(val_idx):,} validation / {len(cold_idx):,} from "
      f"{len(cold_users)} held-out users.  Mean rating {mu:.2f}: predicting it everywhere gives "
      f"validation MSE {mse_mean:.3f}")

# %% [markdown]
# ## 4. Training: MSE, Adam and a one-cycle schedule
# loss = mean over the batch of (r_hat(u, i) - r)^2.  The learning rate follows
# one cycle (warm up to `max_lr` over the first quarter, then anneal to almost 0,
# with Adam's beta1 moving the other way), as fastai's `fit_one_cycle`;
# the optimizer is fastai's Adam (beta2 = 0.99, eps = 1e-5).  The loop is written out:
# a rating model takes two id arrays (and metadata), not one input.

# %%
EPOCHS = 4 if L.quick else 5
BATCH = 64
MAX_LR = 1e-2 if L.quick else 5e-3                          # fastai's 5e-3; a quick run has few steps
user_meta = item_meta = None                                # filled in section 8


def batch_inputs(rows, meta=False):
    args = [user[rows], item[rows]]
    if meta:
        args += [user_meta[user[rows]], item_meta[item[rows]]]
    return args


def predict(model, rows, meta=False):
    model.eval()
    with md.no_grad():
        out = np.concatenate([model(*batch_inputs(rows[s:s + 4096], meta)).numpy()
                              for s in range(0, len(rows), 4096)])
    model.train()
    return out


def mse_on(model, rows, meta=False):
    return float(np.mean((predict(model, rows, meta) - rating[rows]) ** 2))


def fit(model, epochs=EPOCHS, max_lr=MAX_LR, wd=0.0, meta=False, seed=L.seed):
    """AdamW (decoupled weight decay wd; wd=0 is plain Adam) + one cycle; per-epoch train/val MSE."""
    opt = optim.AdamW(model, lr=max_lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=wd)
    steps_per_epoch = -(-len(train_idx) // BATCH)
    sched = optim.OneCycle(opt, max_lr=max_lr, total_steps=epochs * steps_per_epoch)
    order_rng = np.random.default_rng(seed)
    history = {"train": [], "val": []}
    for _ in range(epochs):
        perm = order_rng.permutation(train_idx)
        for s in range(0, len(perm), BATCH):
            rows = perm[s:s + BATCH]
            loss = md.losses.mse(model(*batch_inputs(rows, meta)), md.tensor(rating[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        history["train"].append(mse_on(model, train_idx, meta))
        history["val"].append(mse_on(model, val_idx, meta))
    history["lrs"] = sched.lrs
    return history


# %% [markdown]
# ## 5. Dot product, then biases, then sigmoid_range
# * dot:            r_hat = sigmoid_range(p_u . q_i, 0, 5.5)
# * dot + bias:     r_hat = sigmoid_range(p_u . q_i + b_u + b_i, 0, 5.5)
#
# sigmoid_range(x, lo, hi) = lo + (hi - lo) * sigmoid(x) keeps every prediction
# inside the range ratings can take, so the factors need not learn the scale.
# The bias b_i is what a movie gets whatever the taste: some films are liked by
# almost everybody, some by almost nobody.  50 factors each, as fastai.

# %%
N_FACTORS = 50
results, histories, models = {}, {}, {}
for label, bias in (("dot", False), ("dot + bias", True)):
    md.seed(L.seed)
    models[label] = md.models.DotProduct(n_users, n_items, N_FACTORS, y_range=Y_RANGE, bias=bias)
    histories[label] = fit(models[label])
    results[label] = histories[label]["val"][-1]
    print(f"{label:<24} train MSE {histories[label]['train'][-1]:.3f}   validation MSE {results[label]:.3f}")

# %% [markdown]
# ## 6. Weight decay
# The validation MSE above stalls while the training MSE keeps falling:
# overfitting.  With more parameters than ratings, the factors can memorise.
# Weight decay adds the size of every weight to the loss,
#
#     loss_wd = loss + wd * sum(w^2),    so    d loss_wd / dw = d loss / dw + 2 wd w:
#
# each step pulls every weight towards 0, and only weights that *earn* their
# size on the data stay large.  Three ways to write it:
# 1. by hand, in the loss (checked below: the gradient gains exactly 2 wd w);
# 2. as the optimizer's `weight_decay` (PyTorch's convention: it adds
#    weight_decay * w to the gradient, so the same penalty is weight_decay = 2 wd);
# 3. *decoupled* (AdamW, what fastai's wd=0.1 means): w <- w (1 - lr wd) at each
#    step, outside Adam's per-weight rescaling, which would otherwise shrink the
#    decay of weights with large gradients.  This is the one we train with.

# %%
wd = 0.1
probe = md.models.DotProduct(n_users, n_items, N_FACTORS, y_range=Y_RANGE)
rows = train_idx[:BATCH]
plain = md.losses.mse(probe(*batch_inputs(rows)), md.tensor(rating[rows]))
plain.backward()
g_plain = [p.grad.copy() for p in probe.parameters()]
probe.zero_grad()
penalty = sum((p * p).sum() for p in probe.parameters())
(md.losses.mse(probe(*batch_inputs(rows)), md.tensor(rating[rows])) + wd * penalty).backward()
gap_2wd = max(float(np.abs(md.backend.asnumpy(p.grad - (g + 2 * wd * p.data))).max())
              for p, g in zip(probe.parameters(), g_plain))

# one Adam step on the penalised loss == one Adam step with weight_decay = 2 wd on the plain loss
before = [p.data.copy() for p in probe.parameters()]
optim.Adam(probe, lr=1e-2).step()                            # grads of the penalised loss
after_penalty = [p.data.copy() for p in probe.parameters()]
for p, b0, g in zip(probe.parameters(), before, g_plain):
    p.data[...], p.grad = b0, g
optim.Adam(probe, lr=1e-2, weight_decay=2 * wd).step()
gap_opt = max(float(np.abs(md.backend.asnumpy(p.data - a)).max())
              for p, a in zip(probe.parameters(), after_penalty))
L.show("weight decay written three ways",
       f"grad of (mse + wd * sum w^2)  -  (grad of mse + 2 wd w):  max |difference| = {gap_2wd:.1e}\n"
       f"Adam step on the penalised loss  vs  Adam(weight_decay=2 wd):  max |difference| = {gap_opt:.1e}\n"
       f"AdamW(weight_decay={wd}) instead shrinks every weight by the factor (1 - lr * {wd}) per step.")
assert gap_2wd < 1e-5 and gap_opt < 1e-5

md.seed(L.seed)
models["dot + bias + wd"] = md.models.DotProduct(n_users, n_items, N_FACTORS, y_range=Y_RANGE)
histories["dot + bias + wd"] = fit(models["dot + bias + wd"], wd=wd)
results["dot + bias + wd"] = histories["dot + bias + wd"]["val"][-1]
best = models["dot + bias + wd"]

pyplot = plt()
fig, (a1, a2) = pyplot.subplots(1, 2, figsize=(11, 4))
ep = np.arange(1, EPOCHS + 1)
for label, colour in (("dot + bias", "tab:red"), ("dot + bias + wd", "tab:blue")):
    a1.plot(ep, histories[label]["train"], "o--", color=colour, label=f"{label}: train")
    a1.plot(ep, histories[label]["val"], "s-", color=colour, label=f"{label}: validation")
a1.axhline(mse_mean, color="grey", ls=":", label="predict the mean rating")
a1.set_xlabel("epoch"); a1.set_ylabel("MSE"); a1.set_xticks(ep)
a1.set_title(f"Train vs validation, without and with weight decay (AdamW, wd = {wd})", fontsize=10)
a1.legend(fontsize=8, loc="center right")
a2.plot(histories["dot + bias + wd"]["lrs"])
a2.set_xlabel("step"); a2.set_ylabel("learning rate"); a2.set_title("The one-cycle learning rate")
L.figure(fig, "weight_decay", "train and validation MSE per epoch with and without weight decay; "
                              "the one-cycle learning-rate schedule")

# %% [markdown]
# ## 7. What the model learned
# **Biases.**  b_i is the part of a movie's rating that taste does not explain.
# The lowest: movies that even people who like this kind of movie rate low.
# The highest: movies liked even by people whose taste does not match them.

# %%
counts = np.bincount(item[train_idx], minlength=n_items)
mean_rating = np.bincount(item[train_idx], weights=rating[train_idx], minlength=n_items) / np.maximum(counts, 1)
b_item = best.item_bias.W.numpy()[:, 0]
Q = best.item_factors.W.numpy()
seen = np.flatnonzero(counts >= (3 if L.quick else 5))


def short_title(i):
    t = titles[i].replace("Synthetic Movie ", "#")
    return t if len(t) < 26 else t[:24] + "..."


def describe(i):
    return f"{b_item[i]:+.2f}  {titles[i]}  ({counts[i]} ratings, mean {mean_rating[i]:.2f})"


low, high = seen[np.argsort(b_item[seen])[:8]], seen[np.argsort(-b_item[seen])[:8]]
L.show("movies with the LOWEST learned bias", "\n".join(describe(i) for i in low))
L.show("movies with the HIGHEST learned bias", "\n".join(describe(i) for i in high))

# %% [markdown]
# **A map of the movie factors.**  The 50 factors of each movie, projected on
# their first two principal axes (PCA fitted on the movies with enough
# ratings), for the most-rated movies.  Nobody told the model about genres;
# movies that the same people like end up close together.

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
for i in popular:
    ax.annotate(short_title(i), (Z[i, 0], Z[i, 1]), fontsize=7, xytext=(3, 2), textcoords="offset points")
ax.set_xlabel(f"PC 1 ({ratio[0]:.0%} of the factors' variance)")
ax.set_ylabel(f"PC 2 ({ratio[1]:.0%})")
ax.set_title(f"Movie factors, PCA: the {len(popular)} most-rated movies (colour: first listed genre)")
ax.legend(fontsize=7, title="genre", loc="best")
ax.margins(0.08)                                              # room for the titles at the edges
L.figure(fig, "movie_map", "PCA of the learned movie factors, most-rated movies labelled by title")

# %% [markdown]
# **Nearest movies.**  Cosine similarity of factor vectors,
# cos(q_i, q_j) = q_i . q_j / (|q_i| |q_j|): the movies whose *taste profile*
# is closest, whatever their average rating.

# %%
anchor = int(popular[0])
rare = np.setdiff1d(np.arange(n_items), seen)
near = md.manifold.cosine_neighbours(Q, [anchor], k=8, exclude_ids=rare)[0]
if synthetic:                       # the generator's own factors say whether the neighbours are real
    Qp = data["planted"]["item_factors"]
    Qp = Qp / np.linalg.norm(Qp, axis=1, keepdims=True)
    L.show(f"movies nearest to {titles[anchor]!r} (cosine of the learned factors; of the planted ones)",
           "\n".join(f"{s:.2f}  ({Qp[j] @ Qp[anchor]:+.2f})  {titles[j]}" for j, s in near)
           + "\n(genre factors are drawn at random, so two different genres can share a taste profile)")
else:
    L.show(f"movies nearest to {titles[anchor]!r} (cosine of the learned factors)",
           "\n".join(f"{s:.2f}  {titles[j]}" for j, s in near))

# %% [markdown]
# **On the generated data we know the truth.**  The learned factors are only
# defined up to a rotation (p_u . q_i does not change if P and Q turn
# together), so we align them first: the top 3 principal axes of the learned
# movie factors, mapped onto the 3 planted ones by least squares, and then
# correlated with them.  The same alignment applied to the *untrained*
# (random) factors is the chance level.

# %%
if synthetic:
    planted = data["planted"]

    def aligned_corr(learned, truth, rows):
        z = md.manifold.pca(learned[rows], truth.shape[1])[0]
        A = np.c_[z, np.ones(len(rows))]
        fitted = A @ np.linalg.lstsq(A, truth[rows], rcond=None)[0]
        return np.array([np.corrcoef(fitted[:, f], truth[rows, f])[0, 1] for f in range(truth.shape[1])])

    corr_items = aligned_corr(Q, planted["item_factors"], seen)
    random_q = np.random.default_rng(L.seed + 1).normal(0, 0.01, Q.shape)
    corr_chance = aligned_corr(random_q, planted["item_factors"], seen)
    corr_bias = np.corrcoef(b_item[seen], planted["item_bias"][seen])[0, 1]
    L.show("planted structure recovered (movies with enough ratings)",
           f"movie factors, correlation after alignment, per planted factor: "
           f"{', '.join(f'{c:.2f}' for c in corr_items)}  (random factors: "
           f"{', '.join(f'{c:.2f}' for c in corr_chance)})\n"
           f"movie bias: correlation with the planted bias {corr_bias:.2f}")
    L.headline("movie factors recovered (mean correlation after alignment)", corr_items.mean(),
               baseline=corr_chance.mean())

# %% [markdown]
# ## 8. A neural recommender, then metadata
# fastai's CollabNN: instead of a dot product, concatenate the user and movie
# embeddings and let an MLP decide how they combine:
#
#     r_hat = sigmoid_range( Dense_1( ReLU( Dense_100( [ P[u] | Q[i] ] ))), 0, 5.5 )
#
# with embedding widths from the rule of thumb min(600, round(1.6 n^0.56)).
# Since the inputs are simply concatenated, anything else we know can join
# them: the users' age, gender and occupation (turned into columns by the
# tabular preprocessor: categories one-hot, age standardised) and the movies'
# genre flags.  The MLP has to learn the multiplication that the dot model
# gets for free.

# %%
sizes = (emb_sz_rule(n_users), emb_sz_rule(n_items))
md.seed(L.seed)
models["neural"] = md.models.CollabNN(n_users, n_items, n_hidden=100, y_range=Y_RANGE)
histories["neural"] = fit(models["neural"], wd=wd)
results["neural"] = histories["neural"]["val"][-1]

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
md.seed(L.seed)
models["neural + metadata"] = md.models.CollabNN(n_users, n_items, n_hidden=100, y_range=Y_RANGE,
                                                 n_user_meta=user_meta.shape[1], n_item_meta=item_meta.shape[1])
histories["neural + metadata"] = fit(models["neural + metadata"], wd=wd, meta=True)
results["neural + metadata"] = histories["neural + metadata"]["val"][-1]
L.show("neural collaborative filtering",
       f"embedding widths by the rule min(600, round(1.6 n^0.56)): users {n_users} -> {sizes[0]}, "
       f"movies {n_items} -> {sizes[1]}\nmetadata: {user_meta.shape[1]} user columns "
       f"(gender, occupation one-hot; age standardised), {item_meta.shape[1]} genre flags")

# %% [markdown]
# ## 9. The scoreboard
# Validation MSE (lower is better) against predicting the mean rating.  fastai
# reports about 0.82 for dot + bias + wd on MovieLens 100k, and 0.87 for its
# neural model (it trains on every user; here 10% of them are held out for
# section 10, so expect slightly different numbers).

# %%
lines = [f"{results[k]:.3f}  {k}" for k in ("dot", "dot + bias", "dot + bias + wd", "neural", "neural + metadata")]
lines.append(f"{mse_mean:.3f}  predicting the mean rating")
if synthetic:
    # the planted model itself: E[rating] = mean over the noise of clip(round(mu + b_u + b_i + p_u . q_i + noise))
    pl = data["planted"]
    raw = (pl["global_mean"] + pl["user_bias"][user[val_idx]] + pl["item_bias"][item[val_idx]]
           + (pl["user_factors"][user[val_idx]] * pl["item_factors"][item[val_idx]]).sum(axis=1))
    noise = np.random.default_rng(L.seed).normal(0, 0.5, size=(200, 1))
    truth = np.clip(np.round(raw + noise), 1, 5).mean(axis=0)
    lines.append(f"{np.mean((truth - rating[val_idx]) ** 2):.3f}  the planted model itself "
                 "(the noise and the rounding to whole stars: no model can do better)")
L.show("validation MSE", "\n".join(lines))
for label in ("dot", "dot + bias", "dot + bias + wd", "neural", "neural + metadata"):
    L.headline(f"validation MSE: {label}", results[label], baseline=mse_mean, higher_is_better=False)

# %% [markdown]
# ## 10. Cold start: a user with no ratings
# A new user has an embedding row that training never touched: factors near 0
# (the tiny initial values, shrunk further by weight decay) and bias 0.  So the
# model predicts sigmoid_range(b_i): the movie bias around the *middle of the
# range* (2.75), not around the typical rating -- worse than knowing nothing.
# The standard answers:
# * give the newcomer the **average user** (mean embedding and mean bias): the
#   prediction becomes "how the typical user rates this movie";
# * use what we know about them anyway: the **metadata** model with the average
#   embedding still reads their age, gender and occupation.
# The held-out users (never seen in training) tell us how well each works.

# %%
trained_users = np.unique(user[train_idx])


def with_average_user(model, fn):
    """Run fn() with every held-out user's rows replaced by the trained users' average."""
    tables = [model.user_factors.W] + ([model.user_bias.W] if getattr(model, "bias", False) else [])
    saved = [t.data.copy() for t in tables]
    for t in tables:
        t.data[cold_users] = t.data[trained_users].mean(axis=0)
    try:
        return fn()
    finally:
        for t, s in zip(tables, saved):
            t.data[...] = s


cold = {"global mean rating": float(np.mean((rating[cold_idx] - mu) ** 2)),
        "dot + bias + wd, untouched row": mse_on(best, cold_idx),
        "dot + bias + wd, average user": with_average_user(best, lambda: mse_on(best, cold_idx)),
        "neural + metadata, average user": with_average_user(
            models["neural + metadata"], lambda: mse_on(models["neural + metadata"], cold_idx, meta=True))}
L.show(f"cold start: MSE on the {len(cold_idx)} ratings of {len(cold_users)} held-out users",
       "\n".join(f"{v:.3f}  {k}" for k, v in cold.items())
       + f"\n(for comparison, known users: {results['dot + bias + wd']:.3f} with dot + bias + wd)")
L.headline("cold-start MSE (held-out users): average user", cold["dot + bias + wd, average user"],
           baseline=cold["global mean rating"], higher_is_better=False)
L.headline("cold-start MSE (held-out users): metadata + average embedding",
           cold["neural + metadata, average user"], baseline=cold["global mean rating"], higher_is_better=False)

fig, ax = pyplot.subplots(figsize=(8, 3.5))
names = list(cold)
ax.barh(names, [cold[k] for k in names], color=["grey", "tab:orange", "tab:blue", "tab:green"])
ax.axvline(results["dot + bias + wd"], color="k", ls="--", label="known users (dot + bias + wd)")
ax.invert_yaxis()
ax.set_xlabel("MSE on held-out users' ratings (lower is better)")
ax.set_title("Cold start: predicting for users with no ratings")
ax.legend(fontsize=8, loc="lower right")
L.figure(fig, "cold_start", "MSE on the ratings of held-out users, by cold-start strategy")
