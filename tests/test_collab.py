"""Collaborative filtering: sigmoid_range, one-hot == lookup, the rating models, MovieLens loading.

The real-data test (``test_dot_bias_wd_on_movielens_100k``) needs an ``ml-100k``
folder under the data directory and skips without one; with it, it trains the
fastai recipe (50 factors, y_range (0, 5.5), AdamW wd 0.1, one cycle at 5e-3,
batch 64, 5 epochs) and takes about 20-40 s on 2 cores.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minidl as md
import minidl.datasets as S
import minidl.functional as F
from minidl import nn, optim
from minidl.models.collab import fit_ratings, rating_mse
from lessons.__main__ import find, run_lesson

SETTINGS = settings(max_examples=15, deadline=None)


def check(f, *inputs, **kw):
    with md.default_dtype("float64"):
        report = md.gradcheck(f, *inputs, **kw)
    assert report, str(report)


# ----------------------------------------------------------------------------- sigmoid_range
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 10**6),
       low=st.floats(-3, 2), width=st.floats(0.5, 6))
def test_sigmoid_range_gradient(backend_name, shape, seed, low, width):
    x = np.random.default_rng(seed).uniform(-4, 4, size=shape)
    check(lambda t: F.sigmoid_range(t, low, low + width), x)
    check(nn.SigmoidRange(low, low + width), x)


def test_sigmoid_range_values_and_limits(backend_name):
    y = F.sigmoid_range(md.tensor([0.0, 1.0, -1e4, 1e4]), 0.0, 5.5).numpy()
    np.testing.assert_allclose(y, [2.75, 5.5 / (1 + np.exp(-1.0)), 0.0, 5.5], rtol=1e-6)
    x = md.tensor([0.3], requires_grad=True)
    F.sigmoid_range(x, 1.0, 5.0).backward()
    s = 1 / (1 + np.exp(-0.3))
    np.testing.assert_allclose(md.backend.asnumpy(x.grad), [4.0 * s * (1 - s)], rtol=1e-6)
    with pytest.raises(ValueError, match="low < high"):
        F.sigmoid_range(x, 5.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        nn.SigmoidRange(2, 2)


# ----------------------------------------------------------------------------- embedding == one-hot product
def test_one_hot_product_equals_embedding_in_value_and_gradient(backend_name):
    V, d = 9, 4
    ids = np.array([3, 3, 0, 8, 3, 5])                                 # id 3 three times
    W0 = np.random.default_rng(0).normal(size=(V, d))
    R = np.random.default_rng(1).normal(size=(len(ids), d))
    with md.default_dtype("float64"):
        grads, values = [], []
        for way in ("lookup", "one-hot"):
            W = md.tensor(W0, requires_grad=True)
            y = F.embedding(ids, W) if way == "lookup" else md.tensor(F.one_hot(ids, V, np.float64)) @ W
            (y * md.tensor(R)).sum().backward()
            values.append(y.numpy())
            grads.append(md.backend.asnumpy(W.grad))
    np.testing.assert_allclose(values[0], values[1], atol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-12)
    np.testing.assert_allclose(grads[0][3], R[[0, 1, 4]].sum(axis=0))  # repeats add up
    np.testing.assert_array_equal(grads[0][[1, 2, 4, 6, 7]], 0)         # rows never looked up: no gradient


# ----------------------------------------------------------------------------- the models
@pytest.mark.parametrize("bias, y_range", [(False, None), (True, None), (True, (0.0, 5.5))])
def test_dot_product_gradient_and_formula(backend_name, bias, y_range):
    with md.default_dtype("float64"):
        model = md.models.DotProduct(6, 5, 3, y_range=y_range, bias=bias)
        for p in model.parameters():                           # move off the tiny init so the check bites
            p.data[...] = md.backend.xp_of(p.data).asarray(np.random.default_rng(p.size).normal(0, 0.7, p.shape))
    users, items = np.array([0, 5, 5, 2]), np.array([4, 4, 0, 1])
    check(model, md.tensor(users), md.tensor(items))
    P, Q = model.user_factors.W.numpy(), model.item_factors.W.numpy()
    raw = (P[users] * Q[items]).sum(axis=1)
    if bias:
        raw += model.user_bias.W.numpy()[users, 0] + model.item_bias.W.numpy()[items, 0]
    want = raw if y_range is None else 5.5 / (1 + np.exp(-raw))
    np.testing.assert_allclose(model(users, items).numpy(), want, rtol=1e-5)


def test_dot_product_starts_in_the_middle_of_the_range(backend_name):
    model = md.models.DotProduct(50, 40, 50)
    pred = model(np.arange(40), np.arange(40)).numpy()
    assert np.all(np.abs(pred - 2.75) < 0.01)                 # factors ~N(0, 0.01^2), biases 0
    with pytest.raises(ValueError, match="same length"):
        model(np.arange(3), np.arange(4))


def test_collab_nn_gradient_with_metadata(backend_name):
    with md.default_dtype("float64"):
        model = md.models.CollabNN(7, 6, user_sz=3, item_sz=2, n_hidden=5, n_user_meta=2, n_item_meta=3)
    rng = np.random.default_rng(0)
    users, items = np.array([0, 6, 6, 3]), np.array([5, 0, 5, 2])
    check(model, md.tensor(users), md.tensor(items), rng.normal(size=(4, 2)), rng.normal(size=(4, 3)))
    assert model.hidden.W.shape == (3 + 2 + 2 + 3, 5)
    with pytest.raises(ValueError, match=r"item_meta must have shape \(4, 3\)"):
        model(users, items, rng.normal(size=(4, 2)), rng.normal(size=(4, 2)))


def test_collab_nn_embedding_sizes_follow_the_rule():
    model = md.models.CollabNN(943, 1682)
    # fastai shows (944, 74) and (1665, 102) for MovieLens 100k
    assert (model.user_sz, model.item_sz) == (md.data.emb_sz_rule(943), md.data.emb_sz_rule(1682)) == (74, 102)


def test_dot_bias_model_learns_planted_ratings():
    """A few hundred AdamW + one-cycle steps fit generated ratings far better than the mean."""
    d = S.make_ratings(n_users=150, n_items=100, density=0.3, seed=1)
    perm = np.random.default_rng(0).permutation(len(d["rating"]))
    tr, va = perm[: len(perm) * 4 // 5], perm[len(perm) * 4 // 5:]
    u, i, r = d["user"], d["item"], d["rating"]
    model = md.models.DotProduct(150, 100, 8)
    opt = optim.AdamW(model, lr=1e-2, weight_decay=0.1)
    epochs, bs = 6, 64
    sched = optim.OneCycle(opt, 1e-2, epochs * -(-len(tr) // bs))
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        p = rng.permutation(tr)
        for s in range(0, len(p), bs):
            b = p[s:s + bs]
            loss = md.losses.mse(model(u[b], i[b]), md.tensor(r[b]))
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    with md.no_grad():
        mse = float(np.mean((model(u[va], i[va]).numpy() - r[va]) ** 2))
    baseline = float(np.mean((r[va] - r[tr].mean()) ** 2))
    assert mse < 0.7 * baseline, (mse, baseline)


# ----------------------------------------------------------------------------- training helpers
def _tiny_ratings(seed=1):
    d = S.make_ratings(n_users=40, n_items=30, density=0.3, seed=seed)
    perm = np.random.default_rng(0).permutation(len(d["rating"]))
    return d, perm[: len(perm) * 4 // 5], perm[len(perm) * 4 // 5:]


def test_fit_ratings_is_the_loop_written_out():
    """fit_ratings == AdamW(0.9, 0.99, 1e-5) + OneCycle + mse over shuffled batches, step for step."""
    d, tr, va = _tiny_ratings()
    u, i, r = d["user"], d["item"], d["rating"].astype(np.float32)
    epochs, bs, lr, wd = 3, 16, 1e-2, 0.1
    md.seed(3)
    model = md.models.DotProduct(40, 30, 4)
    hist = fit_ratings(model, u, i, r, tr, va, epochs=epochs, max_lr=lr, wd=wd, batch_size=bs, seed=7)
    md.seed(3)
    twin = md.models.DotProduct(40, 30, 4)
    opt = optim.AdamW(twin, lr=lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=wd)
    sched = optim.OneCycle(opt, max_lr=lr, total_steps=epochs * -(-len(tr) // bs))
    rng, val = np.random.default_rng(7), []
    for _ in range(epochs):
        p = rng.permutation(tr)
        for s in range(0, len(p), bs):
            b = p[s:s + bs]
            loss = md.losses.mse(twin(u[b], i[b]), md.tensor(r[b]))
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        with md.no_grad():
            val.append(float(np.mean((twin(u[va], i[va]).numpy() - r[va]) ** 2)))
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hist["val"], val, rtol=1e-6)
    assert len(hist["train"]) == epochs and hist["lrs"] == sched.lrs
    assert hist["train"][-1] == pytest.approx(rating_mse(model, u, i, r, tr))
    assert hist["val"][-1] < hist["val"][0]                             # it learned something
    with pytest.raises(ValueError, match="no training ratings"):
        fit_ratings(model, u, i, r, np.array([], int))


def test_predict_ratings_chunks_metadata_and_mode():
    from minidl.models.collab import predict_ratings
    rng = np.random.default_rng(0)
    model = md.models.CollabNN(7, 6, user_sz=3, item_sz=2, n_hidden=5, n_user_meta=2, n_item_meta=3, dropout=0.5)
    users, items = rng.integers(0, 7, 11), rng.integers(0, 6, 11)
    um, im = rng.normal(size=(7, 2)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)
    rows = np.array([10, 0, 3, 3, 7, 1, 9])
    model.eval()
    with md.no_grad():
        want = model(users[rows], items[rows], um[users[rows]], im[items[rows]]).numpy()   # meta looked up by id
    model.train()
    got = predict_ratings(model, users, items, rows, user_meta=um, item_meta=im, chunk=3)
    np.testing.assert_allclose(got, want, rtol=1e-6)                   # no dropout, chunks glued in order
    assert got.shape == (7,) and model.training                        # back in training mode
    model.eval()
    predict_ratings(model, users, items, rows, user_meta=um, item_meta=im)
    assert not model.training                                          # ... and left in eval mode
    with pytest.raises(ValueError, match="both user_meta and item_meta"):
        predict_ratings(model, users, items, rows, user_meta=um)


@pytest.mark.parametrize("kind", ["dot", "neural"])
def test_average_user_fills_and_restores_rows(kind):
    from minidl.models.collab import average_user
    model = (md.models.DotProduct(8, 5, 3) if kind == "dot" else md.models.CollabNN(8, 5, user_sz=3, item_sz=2))
    if kind == "dot":
        model.user_bias.W.data[...] = np.arange(8, dtype=np.float32)[:, None]
    tables = [model.user_factors.W] + ([model.user_bias.W] if kind == "dot" else [])
    before = [t.numpy().copy() for t in tables]
    new, known = np.array([1, 6]), np.array([0, 2, 3, 7])
    with average_user(model, new, known):
        for t, b in zip(tables, before):
            np.testing.assert_allclose(t.numpy()[new], np.repeat(b[known].mean(axis=0, keepdims=True), 2, 0), rtol=1e-6)
            np.testing.assert_array_equal(t.numpy()[known], b[known])     # the others untouched
    for t, b in zip(tables, before):
        np.testing.assert_array_equal(t.numpy(), b)
    with pytest.raises(RuntimeError, match="boom"):
        with average_user(model, new, known):
            raise RuntimeError("boom")
    np.testing.assert_array_equal(tables[0].numpy(), before[0])          # restored after an error too


def test_aligned_correlation_sees_through_a_rotation():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(300, 3))
    mix = rng.normal(size=(3, 8))                                        # an arbitrary linear map into 8 dims
    learned = truth @ mix + 0.05 * rng.normal(size=(300, 8)) + 4.0       # plus noise and an offset
    corr = md.manifold.aligned_correlation(learned, truth)
    assert corr.shape == (3,) and np.all(corr > 0.97), corr
    naive = [abs(np.corrcoef(learned[:, f], truth[:, f])[0, 1]) for f in range(3)]
    assert min(naive) < 0.9                                              # column f alone is not factor f
    chance = md.manifold.aligned_correlation(rng.normal(size=(300, 8)), truth)
    assert np.all(np.abs(chance) < 0.3), chance
    drop = md.manifold.aligned_correlation(np.c_[truth[:, :2] @ mix[:2], rng.normal(size=(300, 1))], truth)
    assert drop[2] < 0.3 < 0.97 < drop[:2].min()                          # a factor never learned is not found
    with pytest.raises(ValueError, match=r"\(300, 2\) and \(300, 3\)"):
        md.manifold.aligned_correlation(learned[:, :2], truth)


# ----------------------------------------------------------------------------- MovieLens files
def write_tiny_ml100k(folder, n_users=30, n_items=24, seed=0):
    """An ml-100k-format folder (u.data, u.item, u.user) of generated ratings: no real data."""
    folder.mkdir(parents=True, exist_ok=True)
    d = S.make_ratings(n_users=n_users, n_items=n_items, density=0.5, seed=seed)
    user_ids, item_ids = 10 + 3 * np.arange(n_users), 100 + np.arange(n_items)   # raw ids are not indices
    with open(folder / "u.data", "w") as f:
        for u, i, r, t in zip(d["user"], d["item"], d["rating"], d["timestamp"]):
            f.write(f"{user_ids[u]}\t{item_ids[i]}\t{int(r)}\t{t}\n")
    with open(folder / "u.item", "w", encoding="latin-1") as f:
        for i in range(n_items):
            flags = ["0"] * 19
            flags[1 + i % 18] = "1"
            f.write(f"{item_ids[i]}|Film {i} (199{i % 10})|01-Jan-1995||http://x|" + "|".join(flags) + "\n")
    users = d["users"]
    with open(folder / "u.user", "w") as f:
        for k in reversed(range(n_users)):                                  # file order != index order
            f.write(f"{user_ids[k]}|{users['age'][k]}|{users['gender'][k]}|{users['occupation'][k]}|0{k:04d}\n")
    return d, user_ids


def test_movielens_users_are_aligned_with_the_ratings(tmp_path):
    folder = tmp_path / "ml-100k"
    d, user_ids = write_tiny_ml100k(folder)
    ratings = S.load_movielens(folder)
    np.testing.assert_array_equal(ratings["user_ids"], user_ids)
    users = S.load_movielens_users(folder, user_ids=ratings["user_ids"])
    np.testing.assert_array_equal(users["user_ids"], user_ids)
    np.testing.assert_array_equal(users["age"], d["users"]["age"])
    assert users["occupation"] == d["users"]["occupation"] and users["zip"][0] == "00000"
    in_file_order = S.load_movielens_users(folder)
    assert in_file_order["user_ids"][0] == user_ids[-1]
    with pytest.raises(S.DataFormatError, match="user id 5 "):
        S.load_movielens_users(folder, user_ids=[5])
    (folder / "u.user").write_text("1|24|M|technician\n")
    with pytest.raises(S.DataFormatError, match="line 1.*5 '\\|'-separated"):
        S.load_movielens_users(folder)


def test_lesson_reads_an_ml100k_folder(tmp_path):
    """The lesson's --data path end to end, on a tiny generated folder in the ml-100k format."""
    write_tiny_ml100k(tmp_path / "ml-100k", n_users=40, n_items=30)
    r = run_lesson(find("collab_filtering"), data=str(tmp_path / "ml-100k"), quick=True,
                   out=str(tmp_path / "out"), seed=0, backend="numpy")
    labels = [h["label"] for h in r["headlines"]]
    assert "validation MSE: dot + bias + wd" in labels and "validation MSE: neural + metadata" in labels
    assert not any("recovered" in label for label in labels)        # no planted truth in real data
    assert r["data"].endswith("ml-100k") and any("Film" in t["text"] for t in r["texts"])


def test_dot_bias_wd_on_movielens_100k(shared_data):
    folder = shared_data / "ml-100k"
    if not (folder / "u.data").exists():
        pytest.skip(f"no ml-100k folder under {shared_data}")
    d = S.load_movielens(folder)
    perm = np.random.default_rng(0).permutation(len(d["rating"]))
    n_val = len(perm) // 5
    va, tr = perm[:n_val], perm[n_val:]
    u, i, r = d["user"], d["item"], d["rating"]
    md.seed(0)
    model = md.models.DotProduct(d["n_users"], d["n_items"], 50, y_range=(0.0, 5.5))
    # fastai's recipe: AdamW(0.9, 0.99, eps 1e-5, wd 0.1), one cycle at 5e-3, 5 epochs of 64
    history = fit_ratings(model, u, i, r, tr, va, epochs=5, max_lr=5e-3, wd=0.1, batch_size=64, seed=0)
    mse = history["val"][-1]
    assert mse <= 0.90, f"dot + bias + wd validation MSE {mse:.3f} (fastai reports ~0.82)"
