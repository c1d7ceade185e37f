"""The memory tasks of lesson 09: the adding problem and marker tagging, with their planted structure."""
import numpy as np
import pytest

from minidl import datasets
from minidl.datasets.synthetic_sequences import MARKER_ID, TRIVIAL_ADDING_MSE


def test_adding_problem_marks_one_value_in_each_half_and_sums_them():
    d = datasets.make_adding_problem(500, 30, seed=3)
    x, y, pos = d["x"], d["y"], d["positions"]
    assert x.shape == (500, 30, 2) and y.shape == (500, 1) and x.dtype == y.dtype == np.float32
    assert d["source"].startswith("synthetic:")
    np.testing.assert_array_equal(x[:, :, 1].sum(axis=1), 2)                   # exactly two markers
    assert np.all(pos[:, 0] < 15) and np.all(pos[:, 1] >= 15)                  # one per half
    marked = np.stack([np.flatnonzero(row) for row in x[:, :, 1]])
    np.testing.assert_array_equal(marked, pos)
    rows = np.arange(500)
    np.testing.assert_allclose(y[:, 0], x[rows, pos[:, 0], 0] + x[rows, pos[:, 1], 0], rtol=1e-6)
    assert np.all((x[:, :, 0] >= 0) & (x[:, :, 0] <= 1))


def test_adding_problem_trivial_baseline_and_seeding():
    y = datasets.make_adding_problem(20000, 10, seed=0)["y"]
    assert abs(float(np.mean((y - 1.0) ** 2)) - TRIVIAL_ADDING_MSE) < 0.01     # predicting 1.0
    a, b = datasets.make_adding_problem(4, 10, seed=7), datasets.make_adding_problem(4, 10, seed=7)
    np.testing.assert_array_equal(a["x"], b["x"])
    rng = np.random.default_rng(7)                                             # one stream, successive batches
    first, second = datasets.make_adding_problem(4, 10, seed=rng), datasets.make_adding_problem(4, 10, seed=rng)
    np.testing.assert_array_equal(first["x"], a["x"])
    assert not np.array_equal(first["x"], second["x"])
    with pytest.raises(ValueError, match="length must be at least 2"):
        datasets.make_adding_problem(3, 1)


def test_marker_tagging_labels_say_whether_the_marker_comes_later():
    d = datasets.make_marker_tagging(400, 16, vocab_size=10, seed=1)
    ids, labels, mask, lengths = d["ids"], d["labels"], d["mask"], d["lengths"]
    assert ids.shape == labels.shape == mask.shape == (400, 16)
    np.testing.assert_array_equal(mask.sum(axis=1), lengths)
    assert np.all((lengths >= 8) & (lengths <= 16))
    for b in range(400):
        real = ids[b, :lengths[b]]
        assert np.all(ids[b, lengths[b]:] == 0) and np.all(real >= MARKER_ID) and np.all(real < 10)
        where = np.flatnonzero(real == MARKER_ID)
        assert len(where) <= 1
        expected = np.zeros(16, np.int64)
        if len(where):
            assert where[0] >= lengths[b] // 2                                 # in the second half
            expected[:where[0]] = 1
        np.testing.assert_array_equal(labels[b], expected)
    with_marker = (ids == MARKER_ID).any(axis=1)
    assert 0.4 < with_marker.mean() < 0.6


def test_marker_tagging_first_half_depends_only_on_the_future():
    """On future_only positions no marker has appeared yet and the label is 'this sequence has one'."""
    d = datasets.make_marker_tagging(300, 20, seed=2)
    has_marker = (d["ids"] == MARKER_ID).any(axis=1)
    for b, t in zip(*np.nonzero(d["future_only"])):
        assert t < d["lengths"][b] // 2 and MARKER_ID not in d["ids"][b, :t + 1]
        assert d["labels"][b, t] == has_marker[b]
    with pytest.raises(ValueError, match="vocab_size >= 4"):
        datasets.make_marker_tagging(2, 10, vocab_size=3)
