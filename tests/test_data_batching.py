"""Padding, masks, DataLoader, length bucketing and language-model batches."""
import importlib.util

import numpy as np
import pytest

import minidl.data as D
from minidl import backend


# ---------------------------------------------------------------------- padding
def test_pad_sequences_post_and_pre():
    seqs = [[5, 8, 2], [7], [3, 3, 3, 3, 9]]
    np.testing.assert_array_equal(D.pad_sequences(seqs, maxlen=4),
                                  [[5, 8, 2, 0], [7, 0, 0, 0], [3, 3, 3, 3]])
    np.testing.assert_array_equal(D.pad_sequences(seqs, maxlen=4, padding="pre", truncating="pre"),
                                  [[0, 5, 8, 2], [0, 0, 0, 7], [3, 3, 3, 9]])
    out = D.pad_sequences(seqs, value=-1)
    assert out.shape == (3, 5) and out.dtype == np.int64 and out[1, 1] == -1
    assert D.pad_sequences([], maxlen=3).shape == (0, 3)
    with pytest.raises(ValueError, match="padding"):
        D.pad_sequences(seqs, padding="middle")


def test_masks_and_lengths():
    ids = np.array([[4, 2, 0], [7, 0, 0]])
    np.testing.assert_array_equal(D.padding_mask(ids), [[True, True, False], [True, False, False]])
    np.testing.assert_array_equal(D.sequence_mask([2, 1], maxlen=3), D.padding_mask(ids))
    np.testing.assert_array_equal(D.sequence_lengths(ids), [2, 1])


# ---------------------------------------------------------------------- DataLoader
def test_dataloader_batches_stay_aligned_and_cover_every_row_once():
    X = np.arange(23)[:, None] * np.ones((1, 3))
    y = np.arange(23)
    loader = D.DataLoader(X, y, batch_size=5, seed=1)
    assert len(loader) == 5
    batches = list(loader.numpy_batches())
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)              # row i of X goes with y[i]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))


def test_dataloader_seed_drop_last_and_no_shuffle():
    y = np.arange(10)
    a = [b[0].tolist() for b in D.DataLoader(y, batch_size=4, seed=3).numpy_batches()]
    b = [b[0].tolist() for b in D.DataLoader(y, batch_size=4, seed=3).numpy_batches()]
    assert a == b
    loader = D.DataLoader(y, batch_size=4, seed=3, drop_last=True)
    assert len(loader) == 2
    epoch1, epoch2 = ([b[0].tolist() for b in loader.numpy_batches()] for _ in range(2))
    assert epoch1 != epoch2                                       # a new shuffle each epoch
    ordered = [b[0].tolist() for b in D.DataLoader(y, batch_size=4, shuffle=False).numpy_batches()]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError, match="same length"):
        D.DataLoader(np.zeros(3), np.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="ragged.*bucket_batches"):
        D.DataLoader([[1, 2], [3]], batch_size=2)


def test_dataloader_without_seed_follows_md_seed():
    loader = D.DataLoader(np.arange(20), batch_size=5)
    backend.seed(7)
    first = [b[0].tolist() for b in loader.numpy_batches()]
    backend.seed(7)
    assert [b[0].tolist() for b in loader.numpy_batches()] == first


@pytest.mark.skipif(importlib.util.find_spec("minidl.autograd") is None, reason="minidl.autograd not written yet")
def test_dataloader_yields_tensors_on_the_active_backend(backend_name):
    from minidl.autograd import Tensor
    X = np.random.default_rng(0).normal(size=(6, 2))             # float64 in
    y = np.arange(6)
    xb, yb = next(iter(D.DataLoader(X, y, batch_size=4, shuffle=False)))
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.dtype == backend.get_default_dtype()                # floats -> float32
    assert np.dtype(yb.dtype).kind == "i"                          # ids/labels stay integers
    assert backend.name_of(xb.data) == backend_name
    np.testing.assert_allclose(backend.asnumpy(xb.data), X[:4], rtol=1e-6)


# ---------------------------------------------------------------------- bucketing
def test_bucket_batches_group_lengths_and_pad_each_batch_to_its_own_longest():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, size=400)
    seqs = [np.full(n, n) for n in lengths]                       # every token equals its row length
    labels = lengths.copy()
    widths, total_pad, seen = [], 0, []
    for x, y in D.bucket_batches(seqs, labels, batch_size=16, seed=0, pool_batches=25):
        assert x.shape[1] == y.max()                              # padded to this batch's longest
        np.testing.assert_array_equal(x[:, 0], y)                 # labels stay with their rows
        total_pad += int((x == 0).sum())
        widths.append(x.shape[1])
        seen += y.tolist()
    assert sorted(seen) == sorted(labels.tolist())
    random_pad = sum(16 * 59 - int(lengths[i:i + 16].sum()) for i in range(0, 400, 16))
    assert total_pad < 0.2 * random_pad                           # far less padding than random batches


def test_bucket_iterator_len_matches_iteration():
    seqs = [[1] * n for n in range(1, 108)]
    for drop_last in (False, True):
        it = D.BucketIterator(seqs, np.arange(107), batch_size=10, pool_batches=3, seed=0, drop_last=drop_last)
        assert len(it) == sum(1 for _ in it.numpy_batches())
    assert len(D.BucketIterator(seqs, batch_size=10, pool_batches=3)) == 11     # 3 pools of 3 + 17 left = 2


# ---------------------------------------------------------------------- language-model batches
def test_lm_stream_batches_shift_by_one_and_continue_each_row():
    ids = np.arange(23)
    batches = list(D.lm_stream_batches(ids, batch_size=2, seq_len=4))
    # rows: 0..10 and 11..21 (row length (23 - 1) // 2 = 11)
    np.testing.assert_array_equal(batches[0][0], [[0, 1, 2, 3], [11, 12, 13, 14]])
    np.testing.assert_array_equal(batches[0][1], [[1, 2, 3, 4], [12, 13, 14, 15]])
    np.testing.assert_array_equal(batches[1][0], [[4, 5, 6, 7], [15, 16, 17, 18]])
    assert [b[0].shape[1] for b in batches] == [4, 4, 3]
    assert len(batches) == D.lm_stream_num_batches(ids, 2, 4)
    assert len(list(D.lm_stream_batches(ids, 2, 4, drop_last=True))) == 2
    for x, y in batches:
        np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="too short"):
        next(D.lm_stream_batches(np.arange(3), batch_size=4, seq_len=2))


def test_lm_random_windows_are_windows_of_the_stream_and_seeded():
    ids = np.arange(100) * 3
    a = list(D.lm_random_windows(ids, batch_size=5, seq_len=7, n_batches=4, seed=0))
    b = list(D.lm_random_windows(ids, batch_size=5, seq_len=7, n_batches=4, seed=0))
    assert len(a) == 4
    for (x, y), (x2, _) in zip(a, b):
        assert x.shape == y.shape == (5, 7)
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(np.diff(x, axis=1), 3)      # contiguous windows
        np.testing.assert_array_equal(y, x + 3)                   # y = next token
        assert y.max() <= ids[-1]
