"""Invariants as hypothesis properties (not only shapes): every example once per epoch, and so on."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minidl.data import DataLoader, bucket_batches


@settings(max_examples=40)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 100))
def test_a_dataloader_epoch_visits_every_example_exactly_once(n, batch_size, shuffle, drop_last, seed):
    X = np.arange(n)[:, None] * np.ones((1, 2))
    loader = DataLoader(X, np.arange(n), batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    seen = np.concatenate([y for _, y in loader.numpy_batches()]) if len(loader) else np.array([], int)
    assert len(loader) == sum(1 for _ in loader.numpy_batches())
    if drop_last:
        assert len(seen) == (n // batch_size) * batch_size and len(set(seen.tolist())) == len(seen)
    else:
        assert sorted(seen.tolist()) == list(range(n))


@settings(max_examples=30)
@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=40), batch_size=st.integers(1, 8),
       pool=st.integers(1, 5), seed=st.integers(0, 50))
def test_bucketed_batches_visit_every_sequence_once_and_pad_only_to_their_longest(lengths, batch_size, pool, seed):
    seqs = [[i + 1] * n for i, n in enumerate(lengths)]           # row i is filled with i + 1
    seen = []
    for x, y in bucket_batches(seqs, np.arange(len(seqs)), batch_size=batch_size, pool_batches=pool, seed=seed):
        assert x.shape[1] == max(lengths[i] for i in y)
        for row, i in zip(x, y):
            assert (row[:lengths[i]] == i + 1).all() and (row[lengths[i]:] == 0).all()
        seen += y.tolist()
    assert sorted(seen) == list(range(len(seqs)))


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=7)


@settings(max_examples=40)
@given(corpus=st.lists(st.lists(WORDS, min_size=1, max_size=8), min_size=1, max_size=6), pick=st.data())
def test_vectorizer_encode_then_decode_round_trips_in_vocabulary_text(corpus, pick):
    from minidl.data import TextVectorizer
    vec = TextVectorizer()
    vec.adapt([" ".join(words) for words in corpus])
    sentence = pick.draw(st.sampled_from(corpus))                # every word of it is in the vocabulary
    text = " ".join(sentence)
    ids = vec(text)
    assert 0 not in ids.tolist() and 1 not in ids.tolist()       # no padding, no unknown
    assert vec.decode(ids) == text
