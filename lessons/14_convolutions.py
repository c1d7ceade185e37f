"""Convolutions from a hand-made edge detector to a CNN: im2col, stride, pooling, batch norm, dropout.

dataset: generated stroke digits shifted up to 4 px (embedded); --data: MNIST IDX folder, e.g. ../shared/data/mnist; --download: full MNIST

A convolution slides one small kernel over the image, so the same detector works wherever a
stroke is: a hand-made 3x3 kernel finds the top edges of a digit, and im2col turns the whole
sliding into one matrix product.  A small CNN (stride-2 convolutions, batch norm) then beats a
plain MLP on digits that are shifted around, and its learned first-layer kernels are edge
detectors like the hand-made one.

What this lesson shows
* a convolution by hand: a 3x3 "top edge" kernel slid over one digit lights up
  exactly the top edges of its strokes (the fastai opening);
* im2col: the same convolution as ONE matrix product, kernels x patches matrix,
  and the output size  (H + 2p - k) // s + 1;
* two ways to shrink the grid, stride-2 convolutions and max pooling, and the
  receptive field each layer sees;
* a small CNN against an MLP on the same digits, with and without batch norm,
  with dropout: learning curves and validation accuracy;
* what the CNN learned: its first-layer filters and the feature maps of one digit.
"""
# %% [markdown]
# ## 0. Setup

# %%
import pathlib
import time

import numpy as np

import minidl as md
from minidl import datasets, nn, optim
from minidl.data import DataLoader
from minidl.ops.conv import conv_output_size, im2col
from lessons import figures, support
from lessons.support import Lesson, plt

L = Lesson(__file__)
pyplot = plt()

# %% [markdown]
# ## 1. The digits
# By default: generated digits (strokes drawn with NumPy, randomly rotated, sheared, blurred), each then shifted
# by up to 4 pixels in each direction.  The shift is the planted structure: a digit means the same wherever it
# sits, which is exactly what a convolution (the same kernel at every position) assumes and an MLP (one weight
# per pixel) has to learn position by position.
# With `--data` the MNIST files: the 10,000 test digits split 80/20 with a fixed seed (or, when the folder also
# holds the 60,000 training digits, as after `--download`, train on those and validate on the 10,000).

# %%
def shift_randomly(images, max_shift, rng):
    """Move each (H, W) image by up to max_shift pixels in each direction (zeros come in)."""
    n, H, W = images.shape
    m = max_shift
    canvas = np.zeros((n, H + 2 * m, W + 2 * m), images.dtype)
    canvas[:, m:m + H, m:m + W] = images
    dy, dx = rng.integers(0, 2 * m + 1, n), rng.integers(0, 2 * m + 1, n)
    return np.stack([canvas[i, dy[i]:dy[i] + H, dx[i]:dx[i] + W] for i in range(n)])


def load_digits():
    """(train_images, train_labels, val_images, val_labels, description); images uint8 (N, 28, 28)."""
    rng = np.random.default_rng(L.seed)
    path = L.real_data("mnist")
    if path is None:
        d = datasets.make_digits(n=1500 if L.quick else 3000, seed=L.seed)
        images, labels, source = shift_randomly(d["images"], 4, rng), d["labels"], d["source"] + ", shifted +-4 px"
    else:
        folder = pathlib.Path(path)
        if any(folder.glob("train-images-idx3-ubyte*")):                 # the full MNIST
            train, test = datasets.load_mnist(folder, "train"), datasets.load_mnist(folder, "test")
            keep = rng.permutation(len(train["labels"]))[:4000 if L.quick else None]
            return (train["images"][keep], train["labels"][keep], test["images"], test["labels"],
                    f"MNIST: {len(keep)} training digits, validation on the 10,000 test digits")
        d = datasets.load_mnist(folder, "test")
        images, labels, source = d["images"], d["labels"], f"MNIST test set ({d['source']})"
        if L.quick:                                                      # a quick run reads 3,000 of them
            keep = rng.permutation(len(labels))[:3000]
            images, labels = images[keep], labels[keep]
    order, n_val = rng.permutation(len(labels)), len(labels) // 5
    val, train = order[:n_val], order[n_val:]
    return images[train], labels[train], images[val], labels[val], source


train_img, y_train, val_img, y_val, source = load_digits()
# Pixels to floats, centred and scaled with the *training* statistics; add the channel axis: NCHW.
mean, std = train_img.mean() / 255, train_img.std() / 255
x_train = ((train_img / 255 - mean) / std).astype(np.float32)[:, None]
x_val = ((val_img / 255 - mean) / std).astype(np.float32)[:, None]
print(f"{source}: {len(y_train)} training / {len(y_val)} validation digits, x_train {x_train.shape}")

# %% [markdown]
# ## 2. A convolution by hand: the top-edge detector
# A 3x3 kernel slides over the image; at each position the output is the sum of
# the 9 pixels under it, each times its kernel weight:
#
#     out[i, j] = sum_{u, v} image[i + u, j + v] * kernel[u, v]
#
# The top-edge kernel has -1 in its top row and +1 in its bottom row: it is large where the pixels BELOW are
# brighter than those ABOVE, i.e. on the top edge of every stroke, and negative on the bottom edges.

# %%
top_edge = np.array([[-1, -1, -1],
                     [0, 0, 0],
                     [1, 1, 1]], dtype=np.float64)
left_edge = top_edge.T                       # +1 on the right: brighter to the right = a left edge


def convolve_by_hand(image, kernel):
    """The definition, one output pixel at a time (no padding, stride 1)."""
    k = kernel.shape[0]
    out = np.zeros((image.shape[0] - k + 1, image.shape[1] - k + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + k, j:j + k] * kernel).sum()
    return out


digit = val_img[np.flatnonzero(y_val == 3)[0]] / 255.0        # one "3", ink in [0, 1]
top, left = convolve_by_hand(digit, top_edge), convolve_by_hand(digit, left_edge)
i, j = np.unravel_index(np.argmax(top), top.shape)            # where the top edge is strongest
patch = digit[i:i + 3, j:j + 3]
L.show("one output pixel of the top-edge convolution",
       f"the 3x3 patch at row {i}, column {j}:\n{np.array2string(patch, precision=2)}\n"
       f"times the kernel\n{top_edge.astype(int)}\n"
       f"summed: {(patch * top_edge).sum():.2f}  (dark above, ink below: a top edge)")
# The engine's conv2d computes exactly this (a cross-correlation: the kernel is not flipped).
same = md.ops.conv2d(md.tensor(digit[None, None]), md.tensor(top_edge[None, None])).numpy()[0, 0]
assert np.allclose(same, top, atol=1e-5)
fig, axes = pyplot.subplots(1, 4, figsize=(15, 3.6), gridspec_kw=dict(wspace=0.5))
edge_lim = max(np.abs(top).max(), np.abs(left).max())          # one colour scale for both edge maps
for ax, img, title, cmap, lim in ((axes[0], digit, "one digit", "gray_r", None),
                                  (axes[1], top_edge, "top-edge kernel", "coolwarm", 1.0),
                                  (axes[2], top, "image * top-edge kernel", "coolwarm", edge_lim),
                                  (axes[3], left, "image * left-edge kernel", "coolwarm", edge_lim)):
    im = ax.imshow(img, cmap=cmap, **(dict(vmin=0, vmax=1) if lim is None else dict(vmin=-lim, vmax=lim)))
    ax.set_title(title); ax.set_xticks([]); ax.set_yticks([])
    if ax is not axes[2]:                                      # the two edge maps share the last colour bar
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03,
                     label={"gray_r": "ink", "coolwarm": "weight" if ax is axes[1] else "response"}[cmap])
axes[1].set_title("top-edge kernel\n(-1 top row, +1 bottom row)")
for (u, v), w in np.ndenumerate(top_edge):
    axes[1].text(v, u, f"{w:+.0f}", ha="center", va="center", fontsize=12)
fig.suptitle("A convolution by hand: red = the kernel's pattern found, blue = its opposite")
L.figure(fig, "edge_kernels", "One digit, the top-edge kernel, and the two edge maps (26x26: no padding): red where "
         "the kernel's pattern is found (dark above, ink below), blue where its opposite is.")

# %% [markdown]
# ## 3. The same as ONE matrix product: im2col
# Sliding a kernel is slow in Python; a matrix product is fast in BLAS.  im2col
# ("image to columns") copies every 3x3 patch into one column of a matrix; then
# every kernel (one row each) meets every patch in a single product:
#
#     cols: (C kh kw, Ho Wo N)     W: (O, C kh kw)     Y = W @ cols: (O, Ho Wo N)
#
# The output size, with padding p (zeros around the border) and stride s (the
# step between windows), per axis:  Ho = (H + 2p - k) // s + 1.

# %%
tiny = np.random.default_rng(1).integers(0, 10, (1, 1, 4, 4)).astype(np.float64)  # one 4x4 image
cols = im2col(tiny, 3, 3)                                     # (9, 4): four 3x3 patches
y_mat = top_edge.reshape(1, 9) @ cols                         # (1, 4): all outputs at once
y_conv = md.ops.conv2d(md.tensor(tiny), md.tensor(top_edge[None, None])).numpy()
assert np.allclose(y_mat.reshape(2, 2), y_conv[0, 0])
L.claim("im2col", "A convolution is one matrix product: the kernel as a row times im2col's matrix of patches gives "
        "conv2d's output, and conv2d gives the sliding definition's.",
        np.allclose(y_mat.reshape(2, 2), y_conv[0, 0]) and np.allclose(same, top, atol=1e-5),
        {"largest difference, im2col vs conv2d": float(np.abs(y_mat.reshape(2, 2) - y_conv[0, 0]).max()),
         "largest difference, conv2d vs by hand": float(np.abs(same - top).max())})
L.show("im2col of a 4x4 image with a 3x3 kernel", f"the image:\n{tiny[0, 0].astype(int)}\n\n"
       f"cols = im2col(image): one column per output pixel (its 3x3 patch, read row by row)\n{cols.astype(int)}\n\n"
       f"kernel as a row  {top_edge.reshape(-1).astype(int)}\n"
       f"row @ cols       {y_mat.ravel()}  -> reshaped to 2x2, equal to conv2d: {y_conv[0, 0].ravel()}")
rows = ["  H   k   s   p   (H + 2p - k) // s + 1   conv2d output"]
probe = md.tensor(np.zeros((1, 1, 28, 28)))
for H, k, s, p in ((28, 3, 1, 0), (28, 3, 1, 1), (28, 3, 2, 1), (14, 3, 2, 1), (7, 3, 2, 1), (28, 5, 1, 0)):
    out = md.ops.conv2d(probe[:, :, :H, :H], md.tensor(np.zeros((1, 1, k, k))), stride=s, padding=p)
    rows.append(f"{H:>3} {k:>3} {s:>3} {p:>3}   {conv_output_size(H, k, s, p):>21}   {tuple(out.shape[2:])}")
L.show("the output-size formula, checked against conv2d", "\n".join(rows) + "\n"
       "p = (k - 1) / 2 at stride 1 keeps the size ('same' padding); stride 2 halves it, rounding up.")

# %% [markdown]
# ## 4. Shrinking the grid: stride 2 or max pooling
# A CNN trades resolution for channels as it goes deeper.  Two ways to halve the grid:
# * a stride-2 convolution: compute only every other output (4x fewer products);
# * a stride-1 convolution, then 2x2 max pooling: keep the largest of each 2x2 block.
#
# Each output of layer l "sees" a patch of the input, its receptive field r_l.
# With jump j (input pixels between neighbouring outputs):
#
#     r_l = r_{l-1} + (k_l - 1) * j_{l-1},      j_l = j_{l-1} * s_l,      r_0 = j_0 = 1

# %%
strided = md.ops.conv2d(md.tensor(digit[None, None]), md.tensor(top_edge[None, None]), stride=2, padding=1)
full = md.ops.conv2d(md.tensor(digit[None, None]), md.tensor(top_edge[None, None]), padding=1)
pooled = md.ops.max_pool2d(full, 2)
fig, axes = pyplot.subplots(1, 3, figsize=(11, 3.6))
lim = max(float(np.abs(t.numpy()).max()) for t in (full, strided, pooled))     # one colour scale for all three
for ax, t, title in ((axes[0], full, "stride 1, padding 1"), (axes[1], strided, "stride 2, padding 1"),
                     (axes[2], pooled, "stride 1, then 2x2 max pool")):
    img = t.numpy()[0, 0]
    im = ax.imshow(img, cmap="coolwarm", vmin=-lim, vmax=lim)
    ax.set_title(f"{title}\n{img.shape[0]}x{img.shape[1]}"); ax.set_xticks([]); ax.set_yticks([])
fig.colorbar(im, ax=axes, fraction=0.03, label="top-edge response")
fig.suptitle("Top-edge map of the digit: full size, subsampled by stride, and max-pooled", y=1.04)
L.figure(fig, "stride_vs_pool", "The top-edge map at 28x28, at stride 2 (14x14: every other output) and after 2x2 "
         "max pooling (14x14: the strongest of each block, so the red edges survive).")


def receptive_fields(layers):
    """[(name, output size, jump, receptive field)] for (name, k, s, p) layers on a 28x28 input."""
    size, jump, field, out = 28, 1, 1, [("input", 28, 1, 1)]
    for name, k, s, p in layers:
        size, field, jump = conv_output_size(size, k, s, p), field + (k - 1) * jump, jump * s
        out.append((name, size, jump, field))
    return out


plans = {"our CNN: three stride-2 convolutions": [("Conv2d 3x3, stride 2", 3, 2, 1)] * 3,
         "with pooling: conv, pool, conv, pool": [("Conv2d 3x3", 3, 1, 1), ("MaxPool2d 2x2", 2, 2, 0)] * 2}
text = []
for title, plan in plans.items():
    text += [title] + [f"  {n:<22} {s:>2}x{s:<2}  jump {j:>2}   receptive field {r:>2}x{r:<2}"
                       for n, s, j, r in receptive_fields(plan)]
L.show("receptive field of each layer (28x28 input)", "\n".join(text) + "\n"
       "Stride multiplies the jump, so each later 3x3 kernel spans more of the digit: after three\n"
       "stride-2 layers one output sees 15x15 pixels, half the digit, at a quarter of the cost of\n"
       "stride 1 + pooling per layer.")

# %% [markdown]
# ## 5. A CNN against an MLP
#     MLP:  Flatten -> Dense(128) -> ReLU -> Dense(10)
#     CNN:  [Conv2d(c, 3x3, stride 2, padding 1) -> (BatchNorm) -> ReLU] x 3 -> Flatten -> (Dropout) -> Dense(10)
# with c = 16, 32, 64: (N, 1, 28, 28) -> (N, 16, 14, 14) -> (N, 32, 7, 7) -> (N, 64, 4, 4) -> (N, 1024) -> (N, 10).
#
# Batch norm (per channel c, over the batch and the grid; running averages at evaluation):
#
#     x_hat = (x - mu_B) / sqrt(sigma2_B + eps),      y = gamma * x_hat + beta
#
# Every model: cross-entropy on the logits, Adam, batches of 32, the same epochs, and a learning rate that decays
# along a half cosine from its peak to zero at the end (big steps first, then settling):
# lr_e = lr_max (1 + cos(pi e / E)) / 2.  The peaks come from a small search on the generated digits: the CNNs
# train best at 1e-2, the MLP at 3e-3 (at 1e-2 it ends several points lower), so each gets its own and the
# comparison is not rigged against the MLP.
# `fit` switches to `model.eval()` for each validation pass, which turns dropout off and makes batch norm use
# its running statistics.

# %%
widths = (16, 32, 64)


def cnn(batch_norm=False, dropout=0.0):
    layers = []
    for c in widths:
        layers.append(nn.Conv2d(c, 3, stride=2, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm())
        layers.append(nn.ReLU())
    layers.append(nn.Flatten())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Dense(10))
    return nn.Serial(*layers)


models = {"MLP": (lambda: nn.Serial(nn.Flatten(), nn.Dense(128), nn.ReLU(), nn.Dense(10)), 3e-3),
          "CNN": (lambda: cnn(), 1e-2),
          "CNN + batch norm": (lambda: cnn(batch_norm=True), 1e-2),
          "CNN + batch norm + dropout 0.3": (lambda: cnn(batch_norm=True, dropout=0.3), 1e-2)}
epochs = 3 if L.quick else (2 if len(y_train) > 20_000 else 8)
histories, models_built, speed = {}, {}, {}


def cosine_decay(optimizer, lr_max, epochs):
    """``fit``'s on_epoch_end: after epoch e, lr = lr_max (1 + cos(pi e / epochs)) / 2."""
    def on_epoch_end(epoch, history):
        optimizer.lr = lr_max * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
    return on_epoch_end


for name, (make, lr) in models.items():
    md.seed(L.seed)                                          # same initial randomness for every model
    model = make()
    train_loader = DataLoader(x_train, y_train, batch_size=32, seed=L.seed)
    val_loader = DataLoader(x_val, y_val, batch_size=500, shuffle=False)
    started = time.perf_counter()
    adam = optim.Adam(model, lr=lr)
    histories[name] = md.train.fit(model, md.losses.cross_entropy, adam, train_loader, epochs=epochs,
                                   val_batches=val_loader, metrics=["accuracy"], progress=not L.quick,
                                   on_epoch_end=cosine_decay(adam, lr, epochs))
    models_built[name] = model
    print(f"{name:<32} validation accuracy {histories[name]['val_accuracy'][-1]:.4f}   "
          f"({time.perf_counter() - started:.1f} s of training)")
print(models_built["CNN + batch norm"].summary())


def image_madds(name):
    """Multiply-adds per image of one training step: forward, and the backward's two products (x3)."""
    if name == "MLP":
        return 3 * (28 * 28 * 128 + 128 * 10)
    side, c_in, total = 28, 1, 0
    for c in widths:
        side = (side + 2 - 3) // 2 + 1
        total += side * side * c * c_in * 9
        c_in = c
    return 3 * (total + side * side * c_in * 10)


# One training step on a batch of 32, timed by interleaved repeats (the best of each: the machine's
# load can only add time), beside what the step must compute.
xb, yb = x_train[:32], y_train[:32]


def step_of(name):
    model = models[name][0]()                                # a fresh copy: the trained ones stay as they are
    opt = optim.SGD(model, lr=1e-3)

    def step():
        loss = md.losses.cross_entropy(model(md.tensor(xb)), yb)
        opt.zero_grad(); loss.backward(); opt.step()
    return step


timed = L.time({name: step_of(name) for name in ("MLP", "CNN", "CNN + batch norm")})
speed = {name: 32 / t["best"] for name, t in timed.items()}
L.show("one training step on 32 images (best of interleaved repeats)", "\n".join(
    f"{name:<18} {1e3 * t['best']:7.2f} ms   {speed[name]:>9,.0f} images/s   "
    f"{support.count(32 * image_madds(name), 'multiply-adds')} per step" for name, t in timed.items()))

# %%
majority = np.bincount(y_val).max() / len(y_val)
mlp_acc = histories["MLP"]["val_accuracy"][-1]
L.headline("MLP validation accuracy", mlp_acc, baseline=majority)
for name in ("CNN", "CNN + batch norm"):
    L.headline(f"{name} validation accuracy", histories[name]["val_accuracy"][-1], baseline=mlp_acc, main=name == "CNN + batch norm")
# No baseline for dropout: it regularises, which pays off only once a model starts to
# overfit; in a few epochs it mostly slows the fit (compare the training losses below).
L.headline("CNN + batch norm + dropout 0.3 validation accuracy", histories["CNN + batch norm + dropout 0.3"]["val_accuracy"][-1])
L.headline("CNN training images/second", speed["CNN"], fmt=",.0f")
cnn_acc = max(histories[n]["val_accuracy"][-1] for n in ("CNN", "CNN + batch norm"))
L.claim("cnn_beats_mlp", "On digits shifted around the image a small CNN makes far fewer mistakes than an MLP: one kernel "
        "slid everywhere finds a stroke wherever it is, while the MLP must learn every position anew.",
        1 - cnn_acc < 0.5 * (1 - mlp_acc), {"error rate, best CNN": 1 - cnn_acc, "error rate, MLP": 1 - mlp_acc})
fig, (a1, a2) = pyplot.subplots(1, 2, figsize=(12, 4.4))
ep = np.arange(1, epochs + 1)
for k, (name, h) in enumerate(histories.items()):
    a1.plot(ep, h["loss"], label=name, **figures.style(k))
    a2.plot(ep, h["val_accuracy"], label=name, **figures.style(k))
a1.set_xlabel("epoch"); a1.set_ylabel("training cross-entropy"); a1.set_yscale("log"); a1.set_title("Training loss")
a2.set_xlabel("epoch"); a2.set_ylabel("validation accuracy"); a2.set_title("Validation accuracy")
a1.set_xticks(ep); a2.set_xticks(ep)
fig.suptitle(f"MLP vs CNN on {len(y_train):,} digits"); fig.tight_layout()
figures.legend(a1, fontsize=8); figures.legend(a2, fontsize=8)
L.figure(fig, "learning_curves", "Training loss and validation accuracy per epoch of the four models: the CNNs end "
         "above the MLP; dropout slows the fit in a few epochs (it pays off once a model overfits).")

# %% [markdown]
# ## 6. What the CNN learned
# The first layer's 16 kernels (3x3 each, on the raw pixels) are small edge and blob detectors like the
# hand-made one of section 2 -- learned, not designed.  Its feature maps for one digit show each of them
# lighting up where its pattern occurs; the second layer combines them into larger parts at half the resolution.

# %%
model = models_built["CNN + batch norm"]
W1 = model[0].W.numpy()[:, 0]                                   # (16, 3, 3)
fig, axes = pyplot.subplots(2, 8, figsize=(11, 3.2))
lim = np.abs(W1).max()                                          # one colour scale: kernels comparable
for k, ax in enumerate(axes.ravel()):
    im = ax.imshow(W1[k], cmap="coolwarm", vmin=-lim, vmax=lim)
    ax.set_title(f"filter {k}", fontsize=8); ax.set_xticks([]); ax.set_yticks([])
fig.colorbar(im, ax=axes, fraction=0.02, label="kernel weight")
fig.suptitle("First-layer filters of the CNN + batch norm (red +, blue -)")
L.figure(fig, "filters", "The 16 learned 3x3 kernels of the first convolution on one colour scale: edge and blob "
         "detectors, like the hand-made top-edge kernel, learned rather than designed.")
model.eval()
with md.no_grad():
    x_one = md.tensor(x_val[np.flatnonzero(y_val == 3)[:1]])
    maps1 = model[2](model[1](model[0](x_one))).numpy()[0]      # after conv, BN, ReLU: (16, 14, 14)
    maps2 = model[5](model[4](model[3](md.tensor(maps1[None])))).numpy()[0]      # (32, 7, 7)
fig, axes = pyplot.subplots(3, 8, figsize=(12, 4.6))
im0 = axes[0, 0].imshow(x_one.numpy()[0, 0], cmap="gray_r"); axes[0, 0].set_title("input 28x28", fontsize=8)
top1, top2 = float(maps1.max()), float(maps2.max())             # one colour scale per layer (ReLU: from 0)
for k in range(7):
    im1 = axes[0, k + 1].imshow(maps1[k], cmap="viridis", vmin=0, vmax=top1)
    axes[0, k + 1].set_title(f"layer 1, map {k}", fontsize=8)
for k in range(8):
    axes[1, k].imshow(maps1[7 + k], cmap="viridis", vmin=0, vmax=top1)
    axes[1, k].set_title(f"layer 1, map {7 + k}", fontsize=8)
    im2 = axes[2, k].imshow(maps2[k], cmap="viridis", vmin=0, vmax=top2)
    axes[2, k].set_title(f"layer 2, map {k}", fontsize=8)
for ax in axes.ravel():
    ax.set_xticks([]); ax.set_yticks([])
fig.colorbar(im0, ax=axes[0, 0], fraction=0.046, pad=0.04, location="left", label="pixel (standardised)")
fig.colorbar(im1, ax=axes[:2, :], fraction=0.015, label="layer 1 activation")
fig.colorbar(im2, ax=axes[2, :], fraction=0.015, label="layer 2 activation")
fig.suptitle("One digit through the CNN: 14x14 feature maps of layer 1 (rows 1-2), 7x7 of layer 2 (row 3)")
L.figure(fig, "activations", "Feature maps of one validation digit after the first and second conv blocks (one colour "
         "scale per layer): each map lights up where its kernel's pattern occurs; layer 2 sees larger parts.")
