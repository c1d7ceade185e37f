"""The figure check that every lesson's figures pass (lessons/figures.py) catches what it promises.

Each case draws a small figure with one known fault and asserts that ``problems`` names it, then
the fixed figure and asserts it is clean: a check that cannot fail would guard nothing.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lessons import figures


def _close(fig):
    plt.close(fig)


def test_overlapping_labels_are_found_and_place_labels_avoids_them():
    fig, ax = plt.subplots()
    ax.scatter([0, 0.01, 1], [0, 0.01, 1])
    ax.annotate("good", (0, 0)); ax.annotate("brilliantly", (0.01, 0.01))    # lesson 03's old "goodbrilliantly"
    assert any("overlapping labels" in p for p in figures.problems(fig))
    _close(fig)
    fig, ax = plt.subplots()
    ax.scatter([0, 0.01, 1], [0, 0.01, 1])
    ax.margins(0.3)
    dropped = figures.place_labels(ax, [0, 0.01, 1], [0, 0.01, 1], ["good", "brilliantly", "far"])
    assert not figures.problems(fig) and dropped <= 1
    _close(fig)


def test_an_image_needs_a_colour_bar():
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    ims = [ax.imshow(np.eye(3), vmin=0, vmax=1) for ax in axes]
    for ax in axes:
        ax.set_xticks([]); ax.set_yticks([])
    assert sum("colour bar" in p for p in figures.problems(fig)) == 2
    fig.colorbar(ims[0], ax=axes)             # one bar serves both: same colour map and limits
    assert not figures.problems(fig)
    _close(fig)


def test_a_legend_on_the_data_is_found_and_legend_moves_it():
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 50)
    for k in range(3):
        ax.plot(x, np.full_like(x, 0.5) + 0.01 * k, label=f"line {k}", **figures.style(k))
    ax.legend(loc="center")
    assert any("covers data" in p for p in figures.problems(fig))
    figures.legend(ax)
    assert not figures.problems(fig)
    _close(fig)


def test_lines_that_differ_only_by_colour_are_found():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], "o-", color="tab:blue", label="train")
    ax.plot([0, 1], [1, 0], "o-", color="tab:orange", label="validation")
    assert any("differ only by colour" in p for p in figures.problems(fig))
    ax.lines[1].set_linestyle("--")
    assert not figures.problems(fig)
    _close(fig)


def test_a_label_that_runs_into_another_panel_is_found():
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(4, 3))
    a2.set_ylabel("a long label that runs into the panel beside it", labelpad=40)
    assert any("runs into another panel" in p for p in figures.problems(fig))
    _close(fig)


def test_tidy_gives_plain_log_ticks_and_whole_epochs():
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot([50, 250], [1.6, 6.0]); a1.set_yscale("log")           # lesson 02's old "6 x 10^0"
    a2.plot([1, 2, 3], [0.5, 0.6, 0.7]); a2.set_xlabel("epoch")    # lesson 10's old "1.25, 1.50"
    found = figures.problems(fig)
    assert any("tick labels like" in p for p in found) and any("fractional epoch" in p for p in found)
    figures.tidy(fig)
    assert not figures.problems(fig)
    labels = [t.get_text() for t in a1.get_yticklabels() if t.get_text()]
    assert labels and all("times" not in t and "$" not in t for t in labels)
    _close(fig)
