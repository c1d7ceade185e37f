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
    "genre_factors" (6, k)}, "source" and "description", and "users": the
    demographics of ``load_movielens_users`` ("age", "gender", "occupation",
    one per user index), drawn *from* the planted tastes so that they carry
    some of them (the cold-start story of the collaborative-filtering lesson).
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

    users = _user_metadata(user_factors, seed)

    titles = [f"Synthetic Movie {i + 1} ({'|'.join(g for g, f in zip(GENRES, genres[i]) if f)})"
              for i in range(n_items)]
    return {"user": user.astype(np.int64), "item": item.astype(np.int64), "rating": rating,
            "timestamp": timestamp.astype(np.int64),
            "user_ids": np.arange(1, n_users + 1, dtype=np.int64),
            "item_ids": np.arange(1, n_items + 1, dtype=np.int64),
            "titles": titles, "genres": genres, "genre_names": list(GENRES),
            "n_users": n_users, "n_items": n_items, "users": users,
            "planted": {"global_mean": mu, "user_bias": user_bias, "item_bias": item_bias,
                        "user_factors": user_factors, "item_factors": item_factors,
                        "genre_factors": genre_factors},
            "source": f"synthetic: make_ratings(n_users={n_users}, n_items={n_items}, "
                      f"n_factors={n_factors}, seed={seed})",
            "description": "Synthetic 1-5 star ratings from planted user/movie biases and genre-driven "
                           "latent factors plus noise."}


OCCUPATIONS = ["artist", "engineer", "student", "teacher", "doctor", "lawyer", "retired", "writer"]


def _user_metadata(user_factors, seed):
    """Age, gender and occupation that reveal part of each user's planted taste.

    Drawn from their own generator (after everything else), so adding them left
    every other output of ``make_ratings`` unchanged.  Occupation follows the
    taste direction closest to the user (plus Gumbel noise), age the first
    factor, gender the second: metadata alone predicts some, not all, of the taste.
    """
    rng = np.random.default_rng([seed, 1])
    n_users, k = user_factors.shape
    z = user_factors * np.sqrt(k)                                   # ~ N(0, 1) per factor
    directions = rng.normal(0.0, 1.0, size=(k, len(OCCUPATIONS)))
    occupation = np.argmax(2.0 * z @ directions + rng.gumbel(size=(n_users, len(OCCUPATIONS))), axis=1)
    age = np.clip(np.round(35 + 10 * z[:, 0] + rng.normal(0, 6, n_users)), 15, 75).astype(np.int64)
    female = rng.random(n_users) < 1 / (1 + np.exp(-1.5 * z[:, min(1, k - 1)]))
    return {"user_ids": np.arange(1, n_users + 1, dtype=np.int64), "age": age,
            "gender": np.where(female, "F", "M").tolist(),
            "occupation": [OCCUPATIONS[j] for j in occupation]}


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
STORE_TYPES = ["a", "b", "c", "d"]
ASSORTMENTS = ["basic", "extra", "extended"]


def make_tabular(n=20000, n_rows=5, n_cols=6, seed=0):
    """A shop-day table: did the shop beat its sales target that day?  Planted structure:

    * ``day`` (Mon..Sun) sits on a circle, angle t_d = 2 pi d / 7;
    * ``region`` ("A1".."E6": row letter north -> south, column number west -> east)
      sits on a map, coordinates (x_r, y_r) in [-1, 1]^2 (x east, y north).

    Both enter the log-odds through *two* directions each, one of them switched
    by the promotion, so a model must learn 2-D codes to predict well:

        logit = 1.2 cos t_d + 1.2 x_r + s (1.2 sin t_d + 1.2 y_r)       (s = +1 promo, -1 not)
              + store-type and assortment effects
              + 0.6 log-distance to the nearest competitor  (+1.0 when there is none: missing)
              - 0.5 temperature_z^2  + 0.4 customers_z   - 0.3
        beat_target ~ Bernoulli(sigmoid(logit))

    temperature depends on y_r (colder north) and is missing for 8% of rows at
    random; competition_distance is missing for 15%, exactly the rows without a
    competitor -- a missing value that *means* something.

    Returns {"table": {column: list (categorical) or float array with NaN},
    "target" (n,) int64, "cat_names", "cont_names", "target_name",
    "levels": {"day": DAYS, "region": [...], ...}, "planted": {"day_angle" (7,),
    "region_xy" (R, 2), "logit" (n,), "prob" (n,)}, "source", "description"}.
    """
    rng = np.random.default_rng(seed)
    regions = [f"{chr(ord('A') + r)}{c + 1}" for r in range(n_rows) for c in range(n_cols)]
    xy = np.array([(-1 + 2 * c / max(n_cols - 1, 1), 1 - 2 * r / max(n_rows - 1, 1))
                   for r in range(n_rows) for c in range(n_cols)])
    xy += rng.normal(0, 0.05, xy.shape)                       # a real map is not a perfect grid
    angle = 2 * np.pi * np.arange(7) / 7

    day = rng.integers(7, size=n)
    region = rng.integers(len(regions), size=n)
    store = rng.integers(len(STORE_TYPES), size=n)
    assort = rng.integers(len(ASSORTMENTS), size=n)
    promo = rng.random(n) < 0.45
    s = np.where(promo, 1.0, -1.0)

    temperature = 15 - 8 * xy[region, 1] + rng.normal(0, 5, n)              # colder in the north
    has_competitor = rng.random(n) > 0.15
    distance = np.exp(rng.normal(7.0, 1.0, n))                              # metres, log-normal
    customers = rng.normal(500, 120, n)

    temp_z = (temperature - 15) / 9
    logit = (1.2 * np.cos(angle[day]) + 1.2 * xy[region, 0]
             + s * (1.2 * np.sin(angle[day]) + 1.2 * xy[region, 1])
             + np.array([0.4, -0.3, 0.0, -0.6])[store] + np.array([-0.3, 0.1, 0.3])[assort]
             + np.where(has_competitor, 0.6 * (np.log(distance) - 7.0), 1.0)
             - 0.5 * temp_z ** 2 + 0.4 * (customers - 500) / 120 - 0.3)
    prob = 1 / (1 + np.exp(-logit))
    target = (rng.random(n) < prob).astype(np.int64)

    temperature[rng.random(n) < 0.08] = np.nan                              # missing at random
    distance = np.where(has_competitor, np.round(distance), np.nan)         # missing = no competitor
    table = {"day": [DAYS[d] for d in day], "region": [regions[r] for r in region],
             "store_type": [STORE_TYPES[t] for t in store], "assortment": [ASSORTMENTS[a] for a in assort],
             "promo": ["yes" if p else "no" for p in promo],
             "temperature": np.round(temperature, 1), "competition_distance": distance,
             "customers_last_week": np.round(customers)}
    return {"table": table, "target": target, "target_name": "beat_target",
            "cat_names": ["day", "region", "store_type", "assortment", "promo"],
            "cont_names": ["temperature", "competition_distance", "customers_last_week"],
            "levels": {"day": list(DAYS), "region": regions, "store_type": list(STORE_TYPES),
                       "assortment": list(ASSORTMENTS), "promo": ["no", "yes"]},
            "planted": {"day_angle": angle, "region_xy": xy, "logit": logit, "prob": prob},
            "source": f"synthetic: make_tabular(n={n}, n_rows={n_rows}, n_cols={n_cols}, seed={seed})",
            "description": "Synthetic shop-day table: weekday on a planted circle, region on a planted "
                           "map, an informative missing value; binary target from a known logit."}
