"""Vanishing and exploding gradients, measured, and what fixes them: gates, the IRNN, clipping, skip connections; bidirectional RNNs.

dataset: generated sequences (embedded): the adding problem at lengths 10, 50, 150 and a "does a marker come later?" tagging task

Backpropagation through time multiplies one Jacobian per step, so the gradient that reaches an
early step shrinks or grows geometrically with the distance.  The lesson measures it, shows
gradients exploding and clipping rescuing training, and then the test that decides: a plain tanh
RNN cannot carry a number across a long sequence, a GRU learns to open a path and can.

(No real-data option: the variable that matters, sequence length, is set by the generator.)
"""
# %% [markdown]
# ## 0. Setup  (a full run takes about 2-3 minutes on 2 CPU cores; `--quick` shrinks every length and budget)

# %%
import math
import time

import numpy as np

import minidl as md
from minidl import datasets, nn, optim
from minidl.nn import diagnostics
from lessons import figures
from lessons.support import Lesson, plt

L = Lesson(__file__)
if L.data:
    print(f"[data] this lesson runs on generated sequences only; ignoring --data {L.data}")

H, BATCH, LR = 32, 32, 1e-2                          # every recurrent layer: 32 units; Adam's step
LENGTHS = (5, 20) if L.quick else (10, 50, 150)     # the adding problem's sequence lengths
STEPS = dict(zip(LENGTHS, (150, 150) if L.quick else (800, 800, 1000)))  # Adam steps per cell at each T
T_LONG = LENGTHS[-1]
DEPTH, T_DEEP = (4 if L.quick else 8), 20                                # section 5: stacked layers, length
T_TAG, VOCAB, TAG_STEPS = (12, 10, 40) if L.quick else (20, 10, 300)     # section 7: length, symbols, Adam steps
CELLS = ("tanh RNN", "IRNN", "GRU", "LSTM")
# The four layers, many-to-one.  fused=True (GRU, LSTM): the same maths on the same weights, faster.
RECURRENT = {"tanh RNN": lambda: nn.RNN(H, return_sequences=False),
             "IRNN": lambda: nn.RNN(H, activation="relu", init="identity", return_sequences=False),  # section 4
             "GRU": lambda: nn.GRU(H, return_sequences=False, fused=True),
             "LSTM": lambda: nn.LSTM(H, return_sequences=False, fused=True)}
COLOURS = {"tanh RNN": "tab:red", "IRNN": "tab:purple", "GRU": "tab:blue", "LSTM": "tab:green"}
LINES = {"tanh RNN": "-", "IRNN": "--", "GRU": "-.", "LSTM": ":"}          # apart in grey-scale too
MARKERS = {"tanh RNN": "o", "IRNN": "v", "GRU": "s", "LSTM": "^"}
TRIVIAL_MSE = datasets.synthetic_sequences.TRIVIAL_ADDING_MSE
pyplot = plt()

# %% [markdown]
# ## 1. The adding problem
# Each step is a pair (value, marker): values uniform in [0, 1], exactly two steps marked,
# one in each half.  The target is the sum of the two marked values.  Answering 1.0 scores
# MSE = Var(u1 + u2) = 2/12 ≈ 0.167; better means carrying a number across up to T steps.

# %%
def batch(rng, n, T):
    data = datasets.make_adding_problem(n, T, seed=rng)           # x (n, T, 2), y (n, 1)
    return data["x"], data["y"]


def adding_model(kind, T):
    """Serial(recurrent, Dense(1)), seeded by (cell, length): section 2 measures the models section 6 trains."""
    md.seed(L.seed * 1000 + 10 * CELLS.index(kind) + LENGTHS.index(T))
    model = nn.Serial(RECURRENT[kind](), nn.Dense(1))
    model(md.tensor(np.zeros((1, T, 2), np.float32)))                       # build the lazy weights
    return model


def gradient_profile(model, x, y):
    """||dL/dh_t|| / ||dL/dh_T|| against the distance d = T - t (index d); L = MSE of Dense(h_T)."""
    loss = lambda ys: md.losses.mse(model[1](ys[:, -1]), md.tensor(y))
    norms = nn.grad_norms_through_time(model[0], md.tensor(x), loss_fn=loss)
    with np.errstate(all="ignore"):                            # a diverged model gives NaN, not an error
        return norms[::-1] / norms[-1]


def plot_profiles(ax, profiles, when):
    for kind in CELLS:
        ax.semilogy(np.arange(T_LONG), profiles[kind], color=COLOURS[kind], ls=LINES[kind], label=kind)
    ax.set(xlabel="distance from the loss, T - t (steps)", ylabel="||dL/dh_t|| / ||dL/dh_T||  (log)",
           title=f"Gradient reaching h_t, {when} (T = {T_LONG})")


# %% [markdown]
# ## 2. Watch gradients vanish
# Put the loss on the last step and ask how much of it reaches each earlier state:
#
#     dL/dh_t = dL/dh_T · J_T · J_{T-1} ··· J_{t+1},        J_k = ∂h_k/∂h_{k-1}
#
# For the tanh RNN,  h_k = tanh(W_hh h_{k-1} + W_xh x_k + b),  each factor is
#
#     J_k = diag(tanh'(z_k)) · W_hh^T,        0 < tanh'(z) = 1 - h_k^2 <= 1
#
# so  ||J_T ··· J_{t+1}|| <= sigma_max(W_hh)^(T-t):  below 1 the gradient MUST vanish geometrically;
# above 1 it may explode.  The bound is loose: the typical per-step factor is nearer rho(W_hh) x
# (mean tanh'), rho the spectral radius.  `nn.grad_norms_through_time` measures ||dL/dh_t||;
# `diagnostics.state_jacobians` every J_k along one sequence (the LSTM's state is [h, c], so J_k holds
# the additive path ∂c_k/∂c_{k-1} = diag(f_k)); `diagnostics.jacobian_product_norms` their products.

# %%
x_probe, y_probe = batch(np.random.default_rng(L.seed + 1), 64, T_LONG)    # 64 sequences to measure on
at_init = {kind: adding_model(kind, T_LONG) for kind in CELLS}
init_profiles = {kind: gradient_profile(m, x_probe, y_probe) for kind, m in at_init.items()}
products = {kind: diagnostics.jacobian_product_norms(diagnostics.state_jacobians(m[0], x_probe[0])) for kind, m in at_init.items()}
rnn_cell = at_init["tanh RNN"][0].cell
W_hh = rnn_cell.W.numpy()[:H]                                  # the recurrent block of W_h
sigma_max, rho = float(np.linalg.norm(W_hh, 2)), float(np.abs(np.linalg.eigvals(W_hh)).max())
with md.no_grad():
    h_seq = md.scan(rnn_cell, md.tensor(x_probe[:1]), rnn_cell.initial_state(1))[0].numpy()
slope = float((1 - h_seq ** 2).mean())                         # mean tanh'(z) along the sequence
ds, d_axis = [d for d in (1, 10, 50, 100, T_LONG) if d <= T_LONG], np.arange(1, T_LONG + 1)  # for the table, the plot
rows = [f"{'':<9}" + "".join(f"{'d=' + str(d):>10}" for d in ds)]
rows += [f"{kind:<9}" + "".join(f"{products[kind][d - 1]:10.2e}" for d in ds) for kind in CELLS]
rows.append(f"{'bound':<9}" + "".join(f"{sigma_max ** d:10.2e}" for d in ds) + "   sigma_max(W_hh)^d")
L.show(f"sigma_max(J_T ... J_(T-d+1)) on one sequence of T = {T_LONG}, at initialisation",
       "\n".join(rows) + f"\n\ntanh RNN: sigma_max(W_hh) = {sigma_max:.2f}, rho(W_hh) = {rho:.2f}, "
       f"mean tanh' = {slope:.2f}: typical factor per step {rho * slope:.2f}\n"
       f"relative gradient reaching d = {T_LONG - 1}: " + ", ".join(f"{k} {init_profiles[k][-1]:.1e}" for k in CELLS))
fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(12, 4.5))
plot_profiles(ax1, init_profiles, "at initialisation")
for kind in CELLS:
    ax2.semilogy(d_axis, products[kind], color=COLOURS[kind], ls=LINES[kind], label=kind)
for base, ls, marker, label in ((sigma_max, (0, (5, 1)), "x", f"slide bound sigma_max(W_hh)^d = {sigma_max:.2f}^d"),
                                (rho * slope, (0, (1, 1)), "+", f"(rho(W_hh) x mean tanh')^d = {rho * slope:.2f}^d")):
    ax2.semilogy(d_axis, base ** d_axis, color="0.4", ls=ls, marker=marker, markevery=max(1, T_LONG // 10), label=label)
ax2.set(xlabel="d (steps back)", ylabel="sigma_max( J_T ... J_(T-d+1) )  (log)", title="Largest singular value of the Jacobian product",
        ylim=(max(1e-30, min(p[p > 0].min() for p in products.values()) / 10), 1e6))
fig.tight_layout(w_pad=3); figures.legend(ax1, fontsize=8); figures.legend(ax2, fontsize=8)
L.figure(fig, "gradient_vs_distance_at_init", "At initialisation: the gradient reaching h_t by distance (left), the Jacobian "
         f"product (right). The tanh RNN follows rho(W_hh) x mean tanh' = {rho * slope:.2f} per step, far below the slide's "
         "bound; the GRU, its update gate at 1/2, loses the most at the start.")
end_product, typical = products["tanh RNN"][T_LONG - 1], (rho * slope) ** T_LONG
L.claim("typical_factor", f"The tanh RNN's Jacobian product over {T_LONG} steps follows its typical factor per step, rho(W_hh) "
        "x mean tanh', not the slide's bound sigma_max(W_hh)^d, which is far too loose.",
        typical / 10 < end_product < typical * 10 and end_product < 1e-3 * sigma_max ** T_LONG,
        {"sigma_max of the product": end_product, "typical factor ^ T": typical, "bound": sigma_max ** T_LONG})

# %% [markdown]
# Read it off: the tanh RNN's product follows its typical factor per step, far below the loose
# bound.  That factor is 0.92 in the full run (T = 150: the gradient falls to 1e-5) and 1.1 in the
# quick run (T = 20, where tanh' is still near 1: the plain RNN sits at the edge).  The GRU
# loses the most at first: its update gate starts at σ(0) = 1/2, so h_t = ½ h_{t-1} + ½ h' keeps
# half the state each step (the LSTM's forget gate starts at σ(1) ≈ 0.73).  Gates can LEARN to
# open (Γu → 0, f → 1): section 6 measures the trained models.  The IRNN's product stays at 1.

# %% [markdown]
# ## 3. Watch them explode -- and clip
# Scale the tanh RNN's recurrent weights by 2 and train with plain SGD (Adam would hide it).  Large
# Jacobians make a large gradient, a large step makes the weights larger still, and a few dozen steps
# later the gradient overflows: NaN.  Clipping by global norm,  g <- g · max_norm / ||g||  if ||g|| >
# max_norm,  keeps the direction and bounds the step: the same model, data and learning rate train through.

# %%
def train(model, opt, rng, T, steps, clip=None, test=None, eval_every=None, solved=0.0):
    """Train on adding-problem batches; log the gradient norm (before clipping) and loss per step, the test MSE
    every ``eval_every`` steps (stop once below ``solved``), and the step of the first non-finite one (``diverged``)."""
    log = {"norm": [], "loss": [], "test": [], "diverged": None}
    for step in range(1, steps + 1):
        x, y = batch(rng, BATCH, T)
        loss = md.losses.mse(model(md.tensor(x)), md.tensor(y))
        opt.zero_grad(); loss.backward()
        log["norm"].append(math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in model.parameters())))
        log["loss"].append(loss.item())
        if not (math.isfinite(log["norm"][-1]) and math.isfinite(log["loss"][-1])):
            log["diverged"] = step
            break
        if clip:
            optim.clip_grad_norm(model, clip)
        opt.step()
        if test and step % eval_every == 0:
            with md.no_grad():
                log["test"].append((step, float(np.mean((model(md.tensor(test[0])).numpy() - test[1]) ** 2))))
            if log["test"][-1][1] < solved:
                break
    return log


def exploding_run(clip, steps):
    md.seed(L.seed)
    model = nn.Serial(nn.RNN(H, return_sequences=False), nn.Dense(1))
    model(md.tensor(np.zeros((1, 10, 2), np.float32)))
    model[0].cell.W.data[:H] *= 2.0                                # the recurrent block W_hh only
    with np.errstate(over="ignore", invalid="ignore"):
        return train(model, optim.SGD(model, lr=0.05), np.random.default_rng(L.seed), 10, steps, clip)


explode_steps, MAX_NORM = (120 if L.quick else 800), 1.0
raw, clipped = exploding_run(None, explode_steps), exploding_run(MAX_NORM, explode_steps)
diverged, clipped_final = raw["diverged"], float(np.mean(clipped["loss"][-50:]))
L.show("recurrent weights x 2, SGD lr 0.05, adding problem T = 10", f"without clipping: gradient norm "
       f"{raw['norm'][0]:.3g} at step 1, " + (f"{raw['norm'][-2]:.3g} at step {diverged - 1}, NaN at step {diverged}"
                                              if diverged else f"no NaN in {explode_steps} steps")
       + f"\nwith clip_grad_norm(max_norm={MAX_NORM}): {'NaN' if clipped['diverged'] else 'no NaN'}; training loss "
       f"{np.mean(clipped['loss'][:20]):.3f} (first 20 steps) -> {clipped_final:.3f} (last 50)")
fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(12, 4.2))
for log, colour, ls, label in ((clipped, "tab:blue", "-", "with clipping (norm before clipping)"),
                               (raw, "tab:red", "--", "without clipping")):
    norm, loss = np.array(log["norm"]), np.array(log["loss"])
    ok = np.isfinite(norm) & np.isfinite(loss)
    ax1.semilogy(np.arange(1, len(norm) + 1)[ok], norm[ok], color=colour, ls=ls, lw=1, label=label)
    if ok.sum() >= 10:                                         # a 10-step running mean of the loss
        ax2.plot(np.arange(10, ok.sum() + 1), np.convolve(loss[ok], np.ones(10) / 10, "valid"), color=colour, ls=ls, label=label)
ax1.axhline(MAX_NORM, color="grey", ls="-.", label=f"max_norm = {MAX_NORM}")
ax2.axhline(TRIVIAL_MSE, color="grey", ls="-.", label="trivial predictor (0.167)")
ax1.set(ylabel="global gradient norm (log)", title="Gradient norm per step")
ax2.set(ylabel="training MSE (10-step mean, log)", yscale="log", ylim=(0.05, 100),
        title="Loss (the unclipped run leaves the chart, then NaN)")
for ax in (ax1, ax2):
    if diverged:
        ax.axvline(diverged, color="tab:red", ls=":", label=f"NaN at step {diverged}")
    ax.set_xlabel("SGD step"); figures.legend(ax, fontsize=8)
L.figure(fig, "clipping", "Recurrent weights x 2, plain SGD: without clipping the gradient norm grows until it overflows (NaN); "
         "clip_grad_norm bounds every step and the same model trains through.")
if diverged:
    L.claim("clipping", "Large recurrent weights make gradients explode (the loss turns NaN); clipping the gradient norm lets "
            "the same model, data and learning rate train through.", not clipped["diverged"],
            {"unclipped NaN at step": diverged, "clipped steps without NaN": len(clipped["loss"])})

# %% [markdown]
# ## 4. The identity-ReLU RNN (IRNN)
# Le, Jaitly & Hinton (2015): ReLU units, recurrent matrix initialised to the identity, zero bias,
#     h_t = relu(I h_{t-1} + W_xh x_t),        J_t = diag(relu'(z_t)) · I
# While a unit is active its Jacobian entry is exactly 1: the state is copied forward and the gradient
# back, unchanged (the flat purple curves above).  In minidl it is an option of the cell,
# `nn.RNN(n, activation="relu", init="identity")`.  The price: an unbounded ReLU state, touchy about the step size.

# %%
irnn = at_init["IRNN"][0].cell
L.show("IRNN at initialisation: the top-left 4x4 of W_hh, and the bias", np.array2string(irnn.W.numpy()[:4, :4]) + f"\nb == 0: "
       f"{not irnn.b.numpy().any()};  sigma_max of the Jacobian product at d = {T_LONG}: {products['IRNN'][-1]:.3g}")

# %% [markdown]
# ## 5. Skip connections: the gradient that reaches layer 1 of a deep RNN
# In a stack `Serial(RNN(n), RNN(n), ...)` the gradient also travels through depth, one more Jacobian
# per layer.  A residual connection  y_l = F_l(y_{l-1}) + y_{l-1}  (`nn.Residual(nn.RNN(n))`) adds the
# identity to each:  dL/dy_{l-1} = dL/dy_l (∂F_l/∂y + I).  `diagnostics.grad_norms_through_layers` measures
# ||dL/dy_l|| for both stacks, as initialised (Glorot) and with every weight halved (like saturation).

# %%
def reaching_each_layer(residual, weight_scale):
    md.seed(L.seed)
    blocks = [nn.Residual(nn.RNN(H)) if residual else nn.RNN(H) for _ in range(DEPTH)]
    layers, head = [nn.Dense(H)] + blocks, nn.Dense(1)        # Dense: 2 input features -> H
    y = md.tensor(x_deep)
    for layer in layers:
        y = layer(y)
    head(y[:, -1])                                             # build every lazy weight
    for p in (p for block in blocks for p in block.parameters()):
        p.data *= weight_scale
    loss = lambda ys: md.losses.mse(head(ys[:, -1]), md.tensor(y_deep))
    return diagnostics.grad_norms_through_layers(layers, md.tensor(x_deep), loss)[1:]


x_deep, y_deep = batch(np.random.default_rng(L.seed + 2), BATCH, T_DEEP)
deep = {(res, s): reaching_each_layer(res, s) for res in (False, True) for s in (1.0, 0.5)}
L.show(f"||dL/dy_l|| for each of {DEPTH} stacked tanh RNN layers (T = {T_DEEP}), layer 1 first",
       "\n".join(f"{('residual' if res else 'plain'):>8}, weights x {s}: " + " ".join(f"{v:8.2e}" for v in norms)
                 for (res, s), norms in deep.items())
       + "".join(f"\nweights x {s}: the residual stack delivers {deep[True, s][0] / deep[False, s][0]:.3g}x "
                 "the plain stack's gradient to layer 1" for s in (1.0, 0.5)))
fig, ax = pyplot.subplots(figsize=(7, 4.2))
for (res, s), norms in deep.items():                           # faded and another line style: weights x 0.5
    ax.semilogy(np.arange(1, DEPTH + 1), norms, marker="o" if res else "s", color="tab:blue" if res else "tab:red",
                ls=("-" if s == 1.0 else "-.") if res else ("--" if s == 1.0 else ":"), alpha=0.5 + 0.5 * s,
                label=f"{'residual' if res else 'plain'}, {'Glorot init' if s == 1.0 else 'weights x 0.5'}")
ax.set(xlabel="layer (1 = first, farthest from the loss)", ylabel="||dL/dy_l||  (log)",
       title=f"Gradient reaching each layer of a {DEPTH}-layer tanh RNN", xticks=range(1, DEPTH + 1))
figures.legend(ax, fontsize=8)
L.figure(fig, "residual_depth", "The gradient norm reaching each layer of a deep tanh RNN: a residual connection adds the "
         "identity to every layer's Jacobian, so layer 1 gets more of it, most of all with small weights.")
L.claim("residual", "Skip connections carry the gradient through depth: a residual stack delivers more of it to its first "
        "layer than a plain stack, far more when the weights are small.",
        deep[True, 1.0][0] > deep[False, 1.0][0] and deep[True, 0.5][0] > 5 * deep[False, 0.5][0],
        {"residual / plain, Glorot": deep[True, 1.0][0] / deep[False, 1.0][0],
         "residual / plain, weights x 0.5": deep[True, 0.5][0] / deep[False, 0.5][0]})

# %% [markdown]
# ## 6. The test that decides: the adding problem at T = 10, 50, 150
# Every cell gets the same budget: 32 units, Adam (lr 0.01), batches of 32, clipping at norm 1, 800 steps
# (1000 at T = 150), then its MSE on 1000 held-out sequences; a run stops once solved (MSE < 0.002) or at NaN.

# %%
results, curves, trained, started = {}, {}, {}, time.perf_counter()
for T in LENGTHS:
    test = batch(np.random.default_rng(10_000 + T), 1000, T)
    for kind in CELLS:
        model = adding_model(kind, T)
        rng = np.random.default_rng(L.seed * 1000 + 10 * CELLS.index(kind) + LENGTHS.index(T))
        with np.errstate(over="ignore", invalid="ignore"):
            log = train(model, optim.Adam(model, lr=LR), rng, T, STEPS[T], 1.0, test, STEPS[T] // 10, solved=0.002)
        results[kind, T] = math.nan if log["diverged"] else log["test"][-1][1]
        curves[kind, T], trained[kind] = log["test"], model     # the last length, T_LONG, stays
        print(f"T={T:4d}  {kind:<9} test MSE {results[kind, T]:.4f}" + (f" (NaN at step {log['diverged']})"
              if log["diverged"] else "") + f"   ({time.perf_counter() - started:.0f} s)")

table = [f"{'':<10}" + "".join(f"{'T=' + str(T):>10}" for T in LENGTHS)]
table += [f"{kind:<10}" + "".join(f"{results[kind, T]:10.4f}" for T in LENGTHS) for kind in CELLS]
table.append(f"{'trivial':<10}" + "".join(f"{TRIVIAL_MSE:10.4f}" for _ in LENGTHS))
L.show(f"adding problem: test MSE after at most {tuple(STEPS.values())} steps (below ~0.01: solved)", "\n".join(table))
for kind in ("GRU", "LSTM", "IRNN"):
    L.headline(f"{kind} test MSE, adding T={T_LONG} (baseline: the better of the tanh RNN and 0.167)",
               results[kind, T_LONG], baseline=min(results["tanh RNN", T_LONG], TRIVIAL_MSE), higher_is_better=False)
fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(12, 4.5))
for kind in CELLS:
    ax1.semilogy(LENGTHS, [results[kind, T] for T in LENGTHS], marker=MARKERS[kind], ls=LINES[kind], color=COLOURS[kind], label=kind)
    ax2.semilogy(*zip(*curves[kind, T_LONG]), marker=MARKERS[kind], ls=LINES[kind], color=COLOURS[kind], label=kind, ms=3)
for ax in (ax1, ax2):
    ax.axhline(TRIVIAL_MSE, color="grey", ls=(0, (5, 1)), label="trivial predictor (0.167)")
figures.legend(ax1, fontsize=8); figures.legend(ax2, fontsize=8)
ax1.set(xlabel="sequence length T", ylabel="test MSE (log)", xticks=LENGTHS, title="After training")
ax2.set(xlabel="training step", ylabel="test MSE (log)", title=f"Learning curves at T = {T_LONG}")
L.figure(fig, "mse_vs_length", "The adding problem: test MSE against the sequence length (left), learning curves at the "
         "longest (right). Below about 0.01 is solved; the grey line is answering 1.0.")
gated_best = min(results["GRU", T_LONG], results["LSTM", T_LONG])
L.claim("gates_solve", f"At T = {T_LONG} the plain tanh RNN stays at the trivial answer while a gated cell solves the adding "
        "problem.", results["tanh RNN", T_LONG] > 0.5 * TRIVIAL_MSE and gated_best < 0.1 * TRIVIAL_MSE,
        {k: results[k, T_LONG] for k in ("tanh RNN", "GRU", "LSTM")} | {"trivial": TRIVIAL_MSE})

# %% [markdown]
# ### The same gradients, after training
# A model that solved the task has opened a path back to the first marked value, up to T steps away.

# %%
trained_profiles = {kind: gradient_profile(m, x_probe, y_probe) for kind, m in trained.items()}
fig, axes = pyplot.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for ax, profiles, when in ((axes[0], init_profiles, "at initialisation"), (axes[1], trained_profiles, "after training")):
    plot_profiles(ax, profiles, when)
    ax.axvspan(T_LONG // 2, T_LONG, color="grey", alpha=0.1, label="where the first marker can be")
figures.legend(axes[0], fontsize=8); figures.legend(axes[1], fontsize=8)
L.figure(fig, "gradient_vs_distance_trained", "The gradient reaching h_t by distance, at initialisation and after training: "
         "the trained tanh RNN's vanishes geometrically; the GRU learned to keep a path back to the first marker.")
L.show("mean relative gradient over the first half of the sequence (d >= T/2)",
       "\n".join(f"{kind:<9} initialisation {init_profiles[kind][T_LONG // 2:].mean():9.2e}   "
                 f"trained {trained_profiles[kind][T_LONG // 2:].mean():9.2e}" for kind in CELLS))
far_rnn, far_gru = (float(trained_profiles[k][T_LONG // 2:].mean()) for k in ("tanh RNN", "GRU"))
L.claim("trained_vanish", "After training, the tanh RNN's gradient vanishes with distance (almost nothing reaches the first "
        "half of the sequence); the GRU's does not: its gates learned to keep the path open.",
        far_rnn < 1e-3 and far_gru > 1e-2, {"tanh RNN, first half": far_rnn, "GRU, first half": far_gru})

# %% [markdown]
# ## 7. Deep and bidirectional RNNs: when the future matters
# Tag every position t with "does the marker appear LATER in this sequence?".  Half the sequences
# hold one marker, in the second half of their real length (the rest is padding).  In the first half
# the answer lies only in the future: a left-to-right RNN can only guess (50%).  A bidirectional layer
# adds an RNN reading from each sequence's real end backwards (the mask makes it start there):
#     y_t = [ h_t(forward), h_t(backward) ]        nn.Bidirectional(nn.GRU(n));  both taggers are two layers deep.

# %%
class Tagger(nn.Layer):
    """Embedding -> 2 recurrent layers (each given the mask) -> Dense(2): one label per position."""
    def __init__(self, bidirectional):
        super().__init__()
        make = lambda: nn.Bidirectional(nn.GRU(16, fused=True)) if bidirectional else nn.GRU(16, fused=True)
        self.embed, self.rnn1, self.rnn2, self.out = nn.Embedding(VOCAB, 8), make(), make(), nn.Dense(2)

    def forward(self, ids, mask):
        h = self.rnn1(self.embed(md.tensor(ids)), mask=mask)
        return self.out(self.rnn2(h, mask=mask))


def train_tagger(bidirectional):
    md.seed(L.seed)
    rng, model = np.random.default_rng(L.seed + 3), Tagger(bidirectional)
    opt = optim.Adam(model, lr=1e-2)                           # given the layer: reads its lazy weights
    for _ in range(TAG_STEPS):
        data = datasets.make_marker_tagging(BATCH, T_TAG, VOCAB, seed=rng)
        loss = md.losses.cross_entropy(model(data["ids"], data["mask"]), data["labels"], mask=data["mask"])
        opt.zero_grad(); loss.backward()
        optim.clip_grad_norm(model, 5.0); opt.step()
    return model


test, tag_acc = datasets.make_marker_tagging(1000, T_TAG, VOCAB, seed=20_000), {}
for label, bidirectional in (("unidirectional", False), ("bidirectional", True)):
    model = train_tagger(bidirectional)
    with md.no_grad():
        predicted = model(test["ids"], test["mask"]).numpy().argmax(axis=-1)
    right, real = predicted == test["labels"], test["mask"]
    tag_acc[label] = {"first half": float(right[test["future_only"]].mean()), "all": float(right[real].mean()),
                      "by position": [float(right[:, t][real[:, t]].mean()) for t in range(T_TAG)]}
L.show("tagging 'a marker comes later': accuracy of 2-layer GRU taggers on 1000 test sequences",
       f"{'':<15}{'first half (future only)':>26}{'all real positions':>20}\n"
       + "\n".join(f"{k:<15}{v['first half']:26.3f}{v['all']:20.3f}" for k, v in tag_acc.items()) + "\nchance on the first half: 0.5")
bi, uni = tag_acc["bidirectional"]["first half"], tag_acc["unidirectional"]["first half"]
L.headline("bidirectional accuracy, first-half positions (baseline: unidirectional)", bi, baseline=uni)
fig, ax = pyplot.subplots(figsize=(7, 4.2))
for label, colour, style in (("unidirectional", "tab:orange", "o-"), ("bidirectional", "tab:blue", "s--")):
    ax.plot(np.arange(T_TAG), tag_acc[label]["by position"], style, color=colour, label=label)
ax.axhline(0.5, color="grey", ls=":", label="chance (first half)")
ax.axvspan(-0.5, T_TAG // 4 - 0.5, color="grey", alpha=0.1, label="in the first half of every sequence")
ax.set(xlabel="position t", ylabel="accuracy at position t", ylim=(0.3, 1.02), xticks=range(0, T_TAG, 2),
       title="Does a marker come later?  Accuracy by position")
figures.legend(ax, fontsize=8)
L.figure(fig, "bidirectional", "Accuracy by position of a left-to-right and a bidirectional tagger on 'does a marker come "
         "later?': where the answer lies only in the future the left-to-right tagger can only guess.")
L.claim("bidirectional", "Only a bidirectional RNN sees the future: where the answer lies only later in the sequence a "
        "left-to-right tagger is at chance, a bidirectional one is right.",
        bi > 0.9 and uni < 0.6, {"bidirectional": bi, "left-to-right": uni})
