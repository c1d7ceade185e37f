"""minidl.trax layers: Trax's stack semantics, one combinator at a time, from Trax's documented examples.

Each test states the example as Trax's docs or its own layer tests give it (the
stack before, the stack after, the printed tree, n_in / n_out), so a facade
that passed a tuple into the next layer's arguments (nn.Serial's rule) fails.
"""
import numpy as np
import pytest

import minidl as md
from minidl import nn
from minidl.trax import layers as tl, shapes


def DivideBy(val):
    return tl.Fn("DivideBy", lambda x: x / val)


def as_list(outputs):
    return tl.to_list(outputs)


# ----------------------------------------------------------------------------- Serial
def test_serial_threads_the_stack_and_counts_items():
    assert as_list(tl.Serial(DivideBy(3))(np.array([3, 6, 9, 12]))) == [1, 2, 3, 4]
    layer = tl.Serial(tl.Dup(), tl.Dup())
    assert (layer.n_in, layer.n_out) == (1, 3)
    assert as_list(layer(np.array([1, 2, 3]))) == [[1, 2, 3]] * 3
    adds = tl.Serial(tl.Add(), tl.Add())                        # a + b, then + c
    assert (adds.n_in, adds.n_out) == (3, 1)
    assert as_list(adds((np.array([1]), np.array([10]), np.array([100])))) == [111]
    const = tl.Serial(tl.Fn("ReturnConst", lambda: np.array([3, 6, 9, 12])), DivideBy(3))
    assert (const.n_in, const.n_out) == (0, 1) and as_list(const(())) == [1, 2, 3, 4]


def test_serial_flattens_nested_lists_and_none_is_a_no_op():
    layer = tl.Serial(DivideBy(2.0), [DivideBy(5.0), [tl.Dup()]])
    assert len(layer.sublayers) == 3 and layer.n_out == 2
    assert as_list(layer(np.array([10, 20, 30]))) == [[1, 2, 3], [1, 2, 3]]
    xs = [np.array([1, 2, 3, 4]), np.array([10, 20, 30])]
    assert as_list(tl.Serial(None)(xs)) == [[1, 2, 3, 4], [10, 20, 30]]
    assert as_list(tl.Serial([])(xs)) == [[1, 2, 3, 4], [10, 20, 30]]


def test_serial_leaves_what_a_layer_does_not_take_the_issue_examples():
    """Mean takes one item: the mask stays on the stack (nn.Serial would hand it to Mean)."""
    embed = tl.Embedding(10, 4)
    model = tl.Serial(tl.Branch(embed, tl.Fn("Mask", lambda x: x != 0)), tl.Mean(axis=1))
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    mean, mask = model(ids)
    assert model.n_out == 2 and mean.shape == (2, 4) and mask.shape == (2, 4)
    np.testing.assert_allclose(mean, embed.weights[ids].mean(axis=1), rtol=1e-6)     # padding included
    np.testing.assert_array_equal(mask, ids != 0)

    dense3 = tl.Dense(3)
    model = tl.Serial(tl.Branch(tl.Dense(4), dense3), tl.Dense(2))
    x = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    y2, y3 = model(x)
    assert (y2.shape, y3.shape) == ((5, 2), (5, 3))
    np.testing.assert_allclose(y3, dense3(x), rtol=1e-6)


def test_print_is_traxs_tree():
    model = tl.Serial(tl.Embedding(9088, 256), tl.Mean(axis=1), tl.Dense(2), tl.LogSoftmax())
    assert str(model) == "Serial[\n  Embedding_9088_256\n  Mean\n  Dense_2\n  LogSoftmax\n]"
    assert str(tl.Branch(tl.Add(), tl.Add())) == "Branch_in2_out2[\n  Add_in2\n  Add_in2\n]"
    assert repr(tl.Concatenate(axis=0)) == "Concatenate_axis0_in2"
    assert str(tl.Select([0, 0])) == "Select[0,0]_out2"
    assert str(tl.LSTM(8)) == "LSTM_8" and str(tl.GRU(8)) == "GRU_8" and str(tl.ShiftRight()) == "ShiftRight(1)"
    assert str(tl.CrossEntropyLoss()) == "CrossEntropyLoss_in3"
    assert str(tl.Serial(tl.Embedding(5, 2), tl.Serial(tl.Relu(), tl.Dense(3)))) == \
        "Serial[\n  Embedding_5_2\n  Serial[\n    Relu\n    Dense_3\n  ]\n]"


# ----------------------------------------------------------------------------- Parallel, Branch, Select
def test_parallel_gives_each_layer_its_span_traxs_docstring_example():
    """F: 1 -> 1, G: 3 -> 1, H: 2 -> 2; Parallel(F, G, H) takes a..f and gives F(a), G(b, c, d), h1, h2."""
    F = tl.Fn("F", lambda a: a * 10)
    G = tl.Fn("G", lambda b, c, d: b + c + d)
    H = tl.Fn("H", lambda e, f: (e * f, e - f), n_out=2)
    layer = tl.Parallel(F, G, H)
    assert (layer.n_in, layer.n_out) == (6, 4)
    xs = tuple(np.array([v]) for v in (1, 2, 3, 4, 5, 6))
    assert as_list(layer(xs)) == [[10], [9], [30], [-1]]
    assert as_list(tl.Parallel(tl.Dup(), tl.Dup())((np.array([1, 2, 3]), np.array([10, 20])))) == \
        [[1, 2, 3], [1, 2, 3], [10, 20], [10, 20]]
    assert as_list(tl.Parallel([], None)((np.array([1, 2, 3]), np.array([10, 20])))) == [[1, 2, 3], [10, 20]]
    with pytest.raises(ValueError, match="n_in = 0"):
        tl.Parallel(tl.Fn("Const", lambda: 1), tl.Dup())


def test_branch_copies_the_inputs_traxs_docstring_example():
    """F: 1 -> 1, G: 3 -> 1, H: 2 -> 2; Branch(F, G, H) takes a, b, c and gives F(a), G(a, b, c), H(a, b)."""
    F = tl.Fn("F", lambda a: a * 10)
    G = tl.Fn("G", lambda a, b, c: a + b + c)
    H = tl.Fn("H", lambda a, b: (a * b, a - b), n_out=2)
    layer = tl.Branch(F, G, H)
    assert (layer.n_in, layer.n_out) == (3, 4)
    assert as_list(layer((np.array([1]), np.array([2]), np.array([3])))) == [[10], [6], [2], [-1]]
    assert as_list(tl.Branch([], tl.Dup())(np.array([1, 2, 3]))) == [[1, 2, 3]] * 3
    assert as_list(tl.Branch(tl.Add(), DivideBy(0.5))((np.array([1, 2, 3]), np.array([10, 20, 30])))) == \
        [[11, 22, 33], [2, 4, 6]]
    assert as_list(tl.Branch(DivideBy(0.5))(np.array([1, 2, 3]))) == [2, 4, 6]


def test_select_dup_drop_swap():
    assert [tl.Select(i).n_in for i in ([0, 0], [1, 0], [2])] == [1, 2, 3]
    xs = (np.array([1, 2, 3]), np.array([10, 20]), np.array([100]))
    assert as_list(tl.Select([0], n_in=3)(xs)) == [1, 2, 3]
    assert as_list(tl.Select([1], n_in=3)(xs)) == [10, 20]
    assert as_list(tl.Select([2, 0, 0])(xs)) == [[100], [1, 2, 3], [1, 2, 3]]
    assert as_list(tl.Drop()(np.array([1, 2, 3]))) == []
    assert (tl.Drop().n_in, tl.Drop().n_out) == (1, 0)
    assert as_list(tl.Swap()((np.array([1, 2, 3]), np.array([10, 20, 30])))) == [[10, 20, 30], [1, 2, 3]]
    assert as_list(tl.Serial(tl.Swap(), tl.SubtractTop())((np.array([10]), np.array([3])))) == [7]   # 10 - 3


def test_add_and_concatenate():
    a, b = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[10, 20, 30], [40, 50, 60]])
    assert as_list(tl.Add()((a, b))) == [[11, 22, 33], [44, 55, 66]]
    assert as_list(tl.Concatenate()((a, b))) == [[1, 2, 3, 10, 20, 30], [4, 5, 6, 40, 50, 60]]
    assert as_list(tl.Concatenate(axis=0)((a, b))) == [[1, 2, 3], [4, 5, 6], [10, 20, 30], [40, 50, 60]]
    assert tl.Concatenate(n_items=3)((a, b, a)).shape == (2, 9)


def test_residual_is_branch_then_add():
    layer = tl.Residual(DivideBy(2.0))
    assert as_list(layer(np.array([2.0, 4.0]))) == [3.0, 6.0]              # x / 2 + x
    assert str(layer) == "Serial[\n  Branch_out2[\n    None\n    DivideBy\n  ]\n  Add_in2\n]"
    dense = tl.Dense(3)
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    model = tl.Residual(dense, tl.Relu())
    np.testing.assert_allclose(model(x), np.maximum(dense(x), 0) + x, rtol=1e-6)
    with_shortcut = tl.Residual(tl.Dense(2), shortcut=tl.Dense(2))
    assert with_shortcut(x).shape == (4, 2)


def test_fn_takes_n_in_from_the_signature_and_refuses_defaults():
    assert tl.Fn("F", lambda: 0).n_in == 0 and tl.Fn("F", lambda x, y, z: x).n_in == 3
    import functools
    assert tl.Fn("Loss", functools.partial(lambda v1, v2, margin: v1, margin=0.25)).n_in == 2
    with pytest.raises(ValueError, match="default arguments"):
        tl.Fn("F", lambda x, y=1: x)
    with pytest.raises(tl.LayerError, match="n_out=k"):          # a tuple from an n_out=1 Fn
        tl.Fn("TwoThings", lambda x: (x, x))(np.array([1]))


def test_errors_name_the_layer_and_the_input_shapes():
    model = tl.Serial(tl.Dense(4), tl.Fn("Boom", lambda x: x @ np.ones((3, 3))))
    with pytest.raises(tl.LayerError, match=r"layer Boom .*\n.*test_trax_layers.py.*\n.*shape:\(2, 4\)"):
        model(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="weighs"):
        tl.Dense(2).weighs = 1                                   # Trax's typo guard


# ----------------------------------------------------------------------------- weights
def test_weights_nest_like_traxs_and_shared_layers_are_cached():
    model = tl.Serial(tl.Dup(), tl.Dense(5), tl.Serial(tl.Dense(7), tl.Dup()))
    model.init(shapes.signature(np.zeros((2, 3), np.float32)))
    flat, state = tl.flatten_weights_and_state(model.weights, model.state)
    assert [w.shape for w in flat] == [(3, 5), (5,), (5, 7), (7,)] and state == []
    assert model.weights[0] == () and len(model.weights[2]) == 2

    shared = tl.Dense(5)
    model = tl.Parallel(shared, shared)
    weights, _ = model.init(shapes.signature((np.ones(5, np.float32), np.ones(5, np.float32))))
    assert weights[1] is tl.GET_WEIGHTS_FROM_CACHE
    assert len(tl.flatten_weights_and_state(model.weights, ())[0]) == 2 and len(model.parameters()) == 2

    model2 = tl.Serial(tl.Dense(5), tl.Dup(), tl.Dense(7))
    sig = model2.weights_and_state_signature(shapes.signature(np.zeros((2, 3), np.float32)))
    assert model2.weights == ((), (), ())                        # asking for the signature changed nothing
    w2, _ = tl.unflatten_weights_and_state(flat, [], sig, weights_only=True)
    model2.weights = w2
    assert model2.weights[2][0] is flat[2]                       # assigned arrays are kept, not copied


def test_weights_are_assignable_and_feed_the_minidl_parameters():
    layer = tl.Dense(2)
    w, b = np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1.0, -1.0], np.float32)
    layer.weights = (w, b)
    np.testing.assert_allclose(layer(np.ones((1, 3), np.float32)), [[1 + 6, -1 + 9]])
    assert layer.parameters()[0].data is w
    embed = tl.Embedding(4, 2)
    embed.weights = np.eye(4, 2, dtype=np.float32)
    assert embed.weights.shape == (4, 2)                         # the bare matrix
    with pytest.raises(ValueError, match=r"w of shape \(3, 5\) should be \(n_in, 2\)"):
        layer.weights = (np.ones((3, 5), np.float32), b)


def test_init_is_reproducible_from_the_rng_and_differs_between_layers():
    def make():
        m = tl.Serial(tl.Serial(tl.Dense(2), tl.Dense(2)), tl.Dense(3))
        m.init(shapes.ShapeDtype((1, 2)), rng=tl.base.random.get_prng(0))
        return tl.flatten_weights_and_state(m.weights, ())[0]
    a, b = make(), make()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[2])                        # each sublayer its own key
    limit = np.sqrt(6 / (2 + 2))
    assert np.abs(a[0]).max() <= limit and np.abs(a[1]).max() < 1e-4      # Glorot w, tiny N(0, 1e-6) b


# ----------------------------------------------------------------------------- layers
def test_embedding_clips_ids_out_of_range_as_trax_does():
    embed = tl.Embedding(5, 2)
    embed.weights = np.arange(10, dtype=np.float32).reshape(5, 2)
    with pytest.warns(UserWarning, match="clipped"):
        out = embed(np.array([-3, 0, 4, 7]))
    np.testing.assert_array_equal(out, np.arange(10).reshape(5, 2)[[0, 0, 4, 4]])
    with pytest.raises(IndexError, match="token id 7"):          # the native layer still refuses
        nn.Embedding(5, 2)(md.tensor(np.array([7])))


def test_shift_right_pads_in_front_and_keeps_the_dtype():
    ids = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert as_list(tl.ShiftRight()(ids)) == [[0, 1, 2, 3], [0, 5, 6, 7]]
    assert as_list(tl.ShiftRight(n_positions=2)(ids)) == [[0, 0, 1, 2], [0, 0, 5, 6]]
    assert tl.ShiftRight()(ids).dtype == ids.dtype
    assert as_list(tl.ShiftRight(mode="predict")(ids)) == as_list(ids)
    x = md.tensor(np.ones((1, 3, 2)), requires_grad=True)
    y = tl.ShiftRight().forward(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad[0, :, 0], [1, 1, 0])    # the last step is dropped: no gradient


def test_mean_relu_layernorm_one_hot_values():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]], np.float32)
    np.testing.assert_allclose(tl.Mean()(x), x.mean(-1), rtol=1e-6)
    np.testing.assert_allclose(tl.Mean(axis=0, keepdims=True)(x), x.mean(0, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(tl.Relu()(x), np.maximum(x, 0))
    ln = tl.LayerNorm()
    ln.init(shapes.signature(x))
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(ln(x), (x - mu) / np.sqrt(var + 1e-6), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(tl.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(tl.LogSoftmax()(x), x - np.log(np.exp(x).sum(-1, keepdims=True)), rtol=1e-6)
