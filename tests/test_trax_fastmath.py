"""trax.fastmath on minidl: NumPy on plain arrays, minidl ops on Tensors; random keys; trees."""
import numpy as np
import pytest

import minidl as md
from minidl.trax import fastmath
from minidl.trax.fastmath import numpy as fnp, random

X = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])


def test_on_plain_arrays_it_is_numpy():
    for name, args in {"dot": (X, X.T), "sum": (X,), "mean": (X, 1), "max": (X, 0), "maximum": (X, 0.0),
                       "diagonal": (X @ X.T,), "where": (X > 0, X, 0.0), "exp": (X,), "concatenate": ([X, X], 1),
                       "argmax": (X, 1), "cumsum": (X,), "eye": (3,), "arange": (4,)}.items():
        got, want = getattr(fnp, name)(*args), getattr(np, name)(*args)
        assert type(got) is type(want) and not isinstance(got, md.Tensor), name
        np.testing.assert_array_equal(got, want)
    assert fnp.float32 is np.float32 and fnp.pi == np.pi and fnp.newaxis is None
    np.testing.assert_allclose(fnp.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1))


def test_on_tensors_it_builds_a_graph():
    t = md.tensor(X, requires_grad=True)
    for y in (fnp.dot(t, t.T), fnp.sum(t, axis=1), fnp.max(t, axis=[1]), fnp.maximum(0.0, t), fnp.diagonal(t @ t.T),
              fnp.where(X > 0, t, 0.0), fnp.exp(t), fnp.concatenate([t, X], axis=1), fnp.mean(t), fnp.asarray(t)):
        assert isinstance(y, md.Tensor) and y.requires_grad
    fnp.sum(fnp.diagonal(fnp.dot(t, t.T))).backward()                # sum of squares
    np.testing.assert_allclose(t.grad, 2 * X, rtol=1e-6)


def test_a_numpy_only_function_refuses_a_tensor_that_requires_grad():
    t = md.tensor(X, requires_grad=True)
    with pytest.raises(NotImplementedError, match="fastmath.numpy.cumsum has no differentiable version.*dot"):
        fnp.cumsum(t)
    np.testing.assert_array_equal(fnp.cumsum(md.tensor(X)), np.cumsum(X.astype(np.float32)))     # no grad: fine
    np.testing.assert_array_equal(fnp.argmax(t, axis=1), [2, 1])     # no gradient in the result: fine
    with pytest.raises(AttributeError, match="no attribute 'not_a_numpy_name'"):
        fnp.not_a_numpy_name


def test_logsumexp_is_stable_and_matches_numpy():
    big = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [0.0, np.log(3.0)]])
    out = fastmath.logsumexp(big, axis=1)
    np.testing.assert_allclose(out, [1000.0 + np.log(2.0), -np.inf, np.log(4.0)])
    assert fastmath.logsumexp(X, axis=1, keepdims=True).shape == (2, 1)
    t = fastmath.logsumexp(md.tensor(X, dtype=np.float64), axis=0)
    np.testing.assert_allclose(t.numpy(), np.log(np.exp(X).sum(0)))


def test_random_keys_are_reproducible_and_split_apart():
    key = random.get_prng(0)
    assert key.shape == (2,) and key.dtype == np.uint32
    k1, k2 = random.split(key)
    assert not np.array_equal(k1, k2) and not np.array_equal(k1, key)
    np.testing.assert_array_equal(random.split(key), random.split(random.get_prng(0)))
    a, b = random.normal(k1, (1000,)), random.normal(k1, (1000,))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and abs(a.mean()) < 0.15 and abs(a.std() - 1) < 0.1
    u = random.uniform(k2, (500,), minval=-1.0, maxval=3.0)
    assert u.min() >= -1.0 and u.max() < 3.0 and not np.array_equal(random.uniform(k1, (500,)), random.uniform(k2, (500,)))
    assert random.randint(k1, (10,), 0, 5).max() < 5 and random.bernoulli(k1, 0.5, (10,)).dtype == bool
    assert random.categorical(k1, np.log(np.array([[0.0, 1.0]]) + 1e-30)).tolist() == [1]
    with pytest.raises(ValueError, match="2 uint32 words"):
        random.normal(np.zeros(3), (2,))


def test_trees():
    tree = (np.zeros(2), ((), (np.ones(3), {"a": np.ones(1)})), [])
    leaves = fastmath.tree_flatten(tree)
    assert [x.shape for x in leaves] == [(2,), (3,), (1,)]
    rebuilt, rest = fastmath.tree_unflatten([1, 2, 3], tree, copy_from_tree=[()])
    assert rebuilt == (1, ((), (2, {"a": 3})), []) and rest == []
    assert fastmath.nested_map(lambda x: x.shape, tree) == ((2,), ((), ((3,), {"a": (1,)})), [])
    assert fastmath.jit(len) is len and fastmath.stop_gradient(md.tensor([1.0], requires_grad=True)).requires_grad is False
