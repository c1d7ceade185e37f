"""Synthetic movie ratings from planted user/movie factors, biases and genres.

The model collaborative filtering assumes, run forwards.  With k latent
factors::

    rating(u, i) = round(clip(mu + b_u + b_i + p_u . q_i + noise, 1, 5))

    mu     global mean (3.5)
    b_u    user bias   ~ N(0, 0.3^2)   (some users rate everything higher)
    b_i    movie bias  ~ N(0, 0.5^2)   (some movies are just better)
    p_u    (k,) user taste             ~ N(0, 1/k)
    q_i    (k,) movie factors = mean of its genres' factors + small noise, so
           movies of the same genre sit together in factor space (the PCA
           picture of the lesson)
    noise  ~ N(0, noise^2)

Each user rates a random ``density`` fraction of the movies.  The result has
the keys of ``load_movielens`` (user/item indices, ratings, titles, multi-hot
genres, ...) plus ``"planted"``: the true mu, biases and factors, so a lesson
or a test can check what a model recovered.
"""
from __future__ import annotations

import numpy as np

GENRES = ["action", "comedy", "drama", "horror", "romance", "scifi"]


def make_ratings(n_users=300, n_items=200, n_factors=3, density=0.1, noise=0.5, seed=0):
    """Planted-structure ratings.

    Returns the ``load_movielens`` dict -- "user", "item" (N,) int64, "rating"
    (N,) float32 in {1..5}, "timestamp", "user_ids", "item_ids", "titles",
    "genres" (n_items, 6) uint8, "genre_names", "n_users", "n_items" -- plus
    "planted" = {"global_mean", "user_bias" (n_users,), "item_bias"
    (n_items,), "user_factors" (n_users, k), "item_factors" (n_items, k),
    "genre_factors" (6, k)}, "source" and "description".
    """
    rng = np.random.default_rng(seed)
    n_genres = len(GENRES)
    # One or two genres per movie.
    genres = np.zeros((n_items, n_genres), dtype=np.uint8)
    genres[np.arange(n_items), rng.integers(n_genres, size=n_items)] = 1
    second = rng.random(n_items) < 0.4
    genres[np.flatnonzero(second), rng.integers(n_genres, size=second.sum())] = 1

    genre_factors = rng.normal(0.0, 1.0, size=(n_genres, n_factors))
    item_factors = genres @ genre_factors / genres.sum(axis=1, keepdims=True)
    item_factors += rng.normal(0.0, 0.3, size=item_factors.shape)
    user_factors = rng.normal(0.0, 1.0 / np.sqrt(n_factors), size=(n_users, n_factors))
    user_bias = rng.normal(0.0, 0.3, size=n_users)
    item_bias = rng.normal(0.0, 0.5, size=n_items)
    mu = 3.5

    observed = rng.random((n_users, n_items)) < density
    user, item = np.nonzero(observed)
    raw = (mu + user_bias[user] + item_bias[item]
           + np.sum(user_factors[user] * item_factors[item], axis=1)
           + rng.normal(0.0, noise, size=len(user)))
    rating = np.clip(np.round(raw), 1, 5).astype(np.float32)
    # A year of timestamps from 2000-01-01, in random order like real logs.
    timestamp = 946_684_800 + rng.integers(0, 365 * 24 * 3600, size=len(user))

    titles = [f"Synthetic Movie {i + 1} ({'|'.join(g for g, f in zip(GENRES, genres[i]) if f)})"
              for i in range(n_items)]
    return {"user": user.astype(np.int64), "item": item.astype(np.int64), "rating": rating,
            "timestamp": timestamp.astype(np.int64),
            "user_ids": np.arange(1, n_users + 1, dtype=np.int64),
            "item_ids": np.arange(1, n_items + 1, dtype=np.int64),
            "titles": titles, "genres": genres, "genre_names": list(GENRES),
            "n_users": n_users, "n_items": n_items,
            "planted": {"global_mean": mu, "user_bias": user_bias, "item_bias": item_bias,
                        "user_factors": user_factors, "item_factors": item_factors,
                        "genre_factors": genre_factors},
            "source": f"synthetic: make_ratings(n_users={n_users}, n_items={n_items}, "
                      f"n_factors={n_factors}, seed={seed})",
            "description": "Synthetic 1-5 star ratings from planted user/movie biases and genre-driven "
                           "latent factors plus noise."}
