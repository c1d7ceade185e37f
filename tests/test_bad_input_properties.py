"""Random bad arguments at every public entry point (issue 28, "what to build beyond the list").

Each entry of ``ENTRIES`` is one public function, layer constructor, layer call,
optimizer constructor or data utility, with a set of *valid* arguments.  The
tests replace ONE argument by a bad or odd value and require either

* a result (an odd value that is still meaningful, e.g. ``axis=np.int64(1)``), or
* an error that minidl raises on purpose: a ``ValueError`` / ``TypeError`` /
  ``IndexError`` (``md.CheckpointError`` is a ValueError), or ``OSError`` for a
  path, whose message NAMES THE ARGUMENT (its parameter name, or the alias the
  entry lists, e.g. ``input 0`` for an op's first tensor, the layer's name for
  a layer's input).

Never an ``AttributeError`` three calls down, a bare ``StopIteration``, a
``ZeroDivisionError`` or a NumPy message that names nothing.  Two tests: a
sweep of every (entry, argument, value of a fixed pool of bad values), and a
hypothesis test drawing random numbers, strings and arrays of random shapes
and dtypes.  ``test_every_public_entry_point_is_covered`` lists what is public
and fails when a new public name has no entry (or a listed reason why not).
"""
from __future__ import annotations

import inspect
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl as md
from minidl import data, functional, losses, nn, ops, optim

R = np.random.default_rng(0)


def T(*shape, lo=-1.0, hi=1.0):
    return md.tensor(R.uniform(lo, hi, size=shape))


def ids(*shape, n=5):
    return R.integers(0, n, size=shape)


class Entry:
    """``fn(**valid)`` works; ``aliases`` {param: [other words a message may use for it]}."""
    def __init__(self, name, fn, valid, aliases=None, target=None):
        self.name, self.fn, self.valid, self.aliases = name, fn, valid, aliases or {}
        self.target = target if target is not None else fn       # the public object whose signature names the params

    def args(self):
        return {k: (v() if callable(v) and not isinstance(v, (type, np.ndarray)) else v) for k, v in self.valid.items()}

    def __repr__(self):
        return self.name


def _op(name, valid, **aliases):
    """An op / functional entry: its tensor arguments may be named by position (``input k``)."""
    fn = getattr(ops, name, None) or getattr(functional, name)
    names = list(inspect.signature(fn).parameters)
    al = {p: [f"input {names.index(p)}", "input"] for p in valid}
    al.update(aliases)
    return Entry(f"ops.{name}", fn, valid, al)


def _layer(cls_name, ctor, call=None, x=None, aliases=None):
    """A layer constructor (its arguments) and, with ``x``, a call of a fresh layer on ``x``."""
    cls = getattr(nn, cls_name)
    out = [Entry(f"nn.{cls_name}()", cls, ctor, aliases)]
    if x is not None:
        def called(x, _ctor=ctor, _cls=cls, **rest):
            layer = _cls(**{k: (v() if callable(v) and not isinstance(v, type) else v) for k, v in _ctor.items()})
            return layer(x, **rest)
        out.append(Entry(f"nn.{cls_name}()(x)", called, {"x": x, **(call or {})},
                         {"x": ["input", cls_name, "mask", "shape"], "mask": ["mask"]}, target=cls.forward))
    return out


X = lambda: T(2, 3)
X4 = lambda: T(2, 3, 5, 5)
SEQ = lambda: T(2, 4, 3)

ENTRIES = [
    *[_op(n, {"a": X}) for n in ("abs", "exp", "neg")],
    _op("log", {"a": lambda: T(2, 3, lo=0.5, hi=2)}), _op("sqrt", {"a": lambda: T(2, 3, lo=0.5, hi=2)}),
    *[_op(n, {"x": X}) for n in ("relu", "sigmoid", "tanh")],
    *[_op(n, {"a": X, "b": X}) for n in ("add", "sub", "mul", "div", "maximum")],
    _op("matmul", {"a": X, "b": lambda: T(3, 4)}),
    _op("pow", {"a": lambda: T(2, 3, lo=0.5, hi=2), "p": 2.0}), _op("rpow", {"base": 2.0, "a": X}),
    _op("where", {"cond": lambda: ids(2, 3, n=2), "a": X, "b": X}),
    _op("leaky_relu", {"x": X, "slope": 0.1}), _op("softmax", {"x": X, "axis": -1}),
    _op("log_softmax", {"x": X, "axis": -1}), _op("dropout", {"x": X, "rate": 0.5, "training": True}),
    _op("sigmoid_range", {"x": X, "low": 0.0, "high": 5.0}), _op("clip", {"a": X, "lo": -0.5, "hi": 0.5}),
    _op("cast", {"a": X, "dtype": np.float64}),
    _op("reshape", {"x": X, "shape": (3, 2)}), _op("transpose", {"x": X, "axes": (1, 0)}),
    *[_op(n, {"x": X, "axis": 1, "keepdims": False}) for n in ("sum", "mean", "max", "min")],
    _op("unstack", {"x": X, "axis": 0}), _op("getitem", {"x": X, "idx": 1}, idx=["index"]),
    _op("concat", {"xs": lambda: [T(2, 3), T(1, 3)], "axis": 0}),
    _op("stack", {"xs": lambda: [T(2, 3), T(2, 3)], "axis": 0}),
    _op("split", {"x": lambda: T(4, 3), "indices_or_sections": 2, "axis": 0}),
    _op("embedding", {"ids": lambda: ids(2, 3), "W": lambda: T(5, 4)}),
    _op("one_hot", {"targets": lambda: ids(4), "n_classes": 5, "dtype": np.float32}),
    _op("conv2d", {"x": X4, "w": lambda: T(4, 3, 3, 3), "b": lambda: T(4), "stride": 1, "padding": 1}),
    _op("max_pool2d", {"x": X4, "k": 2, "stride": None}), _op("avg_pool2d", {"x": X4, "k": 2, "stride": None}),
    _op("batch_norm", {"x": X, "gamma": lambda: T(3), "beta": lambda: T(3), "eps": 1e-5}),
    Entry("losses.cross_entropy", losses.cross_entropy, {"logits": X, "targets": lambda: ids(2, n=3),
                                                         "mask": None, "reduction": "mean"}),
    Entry("losses.cross_entropy_simple", losses.cross_entropy_simple,
          {"logits": X, "targets": lambda: ids(2, n=3), "mask": None, "reduction": "mean"}),
    Entry("losses.nll_loss", losses.nll_loss, {"log_probs": lambda: T(2, 3, lo=-3, hi=0), "targets": lambda: ids(2, n=3),
                                               "mask": None, "reduction": "mean"}),
    Entry("losses.binary_cross_entropy", losses.binary_cross_entropy, {"logits": X, "targets": lambda: ids(2, 3, n=2)}),
    Entry("losses.mse", losses.mse, {"pred": X, "target": X}, {"pred": ["prediction"]}),
    Entry("losses.triplet_loss", losses.triplet_loss, {"v1": X, "v2": X, "margin": 0.25, "negatives": "both"}),
    Entry("md.tensor", md.tensor, {"data": [1.0, 2.0], "requires_grad": False, "dtype": None, "backend_name": None},
          {"backend_name": ["backend"]}),
    Entry("md.concat", md.concat, {"xs": lambda: [T(2), T(3)], "axis": 0}),
    Entry("md.stack", md.stack, {"xs": lambda: [T(2), T(2)], "axis": 0}),
    Entry("md.split", md.split, {"x": lambda: T(4), "indices_or_sections": 2, "axis": 0}),
    Entry("md.where", md.where, {"cond": lambda: ids(3, n=2), "a": lambda: T(3), "b": lambda: T(3)},
          {"a": ["input 0"], "b": ["input 1"]}),
    Entry("md.maximum", md.maximum, {"a": X, "b": X}, {"a": ["input 0"], "b": ["input 1"]}),
    Entry("md.scan", md.scan, {"fn": lambda: (lambda x, c: (x + c, c)), "xs": SEQ, "init": lambda: T(2, 3), "axis": 1},
          {"init": ["carry", "input"], "fn": ["step"], "xs": ["input"], "axis": ["input"]}),   # errors of fn itself
    Entry("md.grad", lambda f, argnums, x: md.grad(f, argnums)(x), {"f": lambda: (lambda x: (x * x).sum()),
                                                                    "argnums": 0, "x": X}, {"x": ["argument 0"]},
          target=md.grad),
    Entry("md.use", md.use, {"name": "numpy"}, {"name": ["backend"]}), Entry("md.seed", md.seed, {"n": 0}),
    Entry("md.set_default_dtype", lambda dtype: (md.set_default_dtype(dtype), md.set_default_dtype("float32")),
          {"dtype": "float32"}, target=md.set_default_dtype),
    Entry("md.gradcheck", lambda f, x, eps: md.gradcheck(f, x, eps=eps), {"f": lambda: (lambda x: x * x), "x": X,
                                                                          "eps": 1e-6}, {"x": ["input 0"]},
          target=md.gradcheck),
    Entry("md.save", md.save, {"layer": lambda: nn.Dense(2, n_in=3), "path": lambda: _tmp("m.npz")}),
    Entry("md.load", md.load, {"layer": lambda: nn.Dense(2, n_in=3), "path": lambda: _saved()}),
    *_layer("Dense", {"n_units": 3, "n_in": None, "use_bias": True}, x=X),
    *_layer("Embedding", {"vocab_size": 5, "d_feature": 4}, x=lambda: ids(2, 3)),
    *_layer("Mean", {"axis": 1, "keepdims": False}, x=SEQ, call={"mask": lambda: ids(2, 4, n=2)}),
    *_layer("Dropout", {"rate": 0.5}, x=X),
    *_layer("Flatten", {}, x=X4),
    *_layer("ReLU", {}, x=X), *_layer("Softmax", {"axis": -1}, x=X), *_layer("LogSoftmax", {"axis": -1}, x=X),
    *_layer("SigmoidRange", {"low": 0.0, "high": 5.0}, x=X),
    *_layer("Normalize", {"eps": 1e-12}, x=X),
    *_layer("PaddingMask", {"pad_id": 0}, x=lambda: ids(2, 3)),
    *_layer("RNNCell", {"n_units": 4}), *_layer("GRUCell", {"n_units": 4}), *_layer("LSTMCell", {"n_units": 4}),
    *_layer("RNN", {"n_units": 4}, x=SEQ, call={"mask": lambda: ids(2, 4, n=2)}),
    *_layer("GRU", {"n_units": 4, "fused": True}, x=SEQ, call={"mask": lambda: ids(2, 4, n=2)}),
    *_layer("LSTM", {"n_units": 4}, x=SEQ, call={"mask": lambda: ids(2, 4, n=2)}),
    *_layer("Conv2d", {"filters": 4, "kernel_size": 3, "stride": 1, "padding": 1}, x=X4),
    *_layer("MaxPool2d", {"k": 2, "stride": None}, x=X4), *_layer("AvgPool2d", {"k": 2, "stride": None}, x=X4),
    *_layer("GlobalAvgPool2d", {}, x=X4),
    *_layer("BatchNorm", {"momentum": 0.1, "eps": 1e-5, "n_channels": None}, x=X),
    *_layer("HierarchicalSoftmax", {"vocab_size": 6, "tree": "huffman", "counts": None}),
    *_layer("ConcatEmbeddings", {"sizes": [(5, 2), (4, 3)]}, x=lambda: np.stack([ids(3, n=5), ids(3, n=4)], 1)),
    Entry("nn.Bidirectional()", nn.Bidirectional, {"layer": lambda: nn.LSTM(3)}),
    Entry("nn.Serial()", lambda layer: nn.Serial(layer), {"layer": lambda: nn.ReLU()}, {"layer": ["Serial"]},
          target=lambda layer: None),
    Entry("nn.Residual()", lambda layer: nn.Residual(layer), {"layer": lambda: nn.ReLU()}, {"layer": ["Residual"]},
          target=lambda layer: None),
    *[Entry(f"optim.{c}()", getattr(optim, c), {"params": lambda: nn.Dense(2, n_in=3), "lr": 0.1, **extra})
      for c, extra in (("SGD", {"momentum": 0.9, "weight_decay": 0.0}),
                       ("Adam", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
                       ("AdamW", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01}),
                       ("Adagrad", {"initial_accumulator_value": 0.0, "eps": 1e-10, "weight_decay": 0.0}))],
    Entry("optim.clip_grad_norm", optim.clip_grad_norm, {"params": lambda: nn.Dense(2, n_in=3), "max_norm": 1.0}),
    Entry("optim.one_cycle", optim.one_cycle, {"t": 3, "total_steps": 10, "max_lr": 0.1, "pct_start": 0.25}),
    Entry("data.pad_sequences", data.pad_sequences, {"seqs": [[1, 2], [3]], "maxlen": None, "value": 0,
                                                     "padding": "post", "truncating": "post"}),
    Entry("data.padding_mask", data.padding_mask, {"ids": lambda: ids(2, 3), "pad_id": 0}),
    Entry("data.sequence_mask", data.sequence_mask, {"lengths": [2, 1], "maxlen": None}),
    Entry("data.sequence_lengths", data.sequence_lengths, {"ids": lambda: ids(2, 3), "pad_id": 0}),
    Entry("data.DataLoader", lambda X, batch_size, shuffle: list(data.DataLoader(X, batch_size=batch_size, shuffle=shuffle)),
          {"X": lambda: np.ones((5, 2)), "batch_size": 2, "shuffle": True}, {"X": ["array"]}, target=lambda X, batch_size, shuffle: 0),
    Entry("data.bucket_batches", lambda seqs, batch_size: list(data.bucket_batches(seqs, batch_size=batch_size)),
          {"seqs": [[1, 2], [3], [4, 5, 6]], "batch_size": 2}, target=data.bucket_batches),
    Entry("data.lm_stream_batches", lambda ids, batch_size, seq_len: list(data.lm_stream_batches(ids, batch_size, seq_len)),
          {"ids": lambda: ids(50), "batch_size": 2, "seq_len": 4}, target=data.lm_stream_batches),
    Entry("data.lm_random_windows", lambda ids, batch_size, seq_len, n_batches: list(
        data.lm_random_windows(ids, batch_size, seq_len, n_batches)), {"ids": lambda: ids(50), "batch_size": 2,
                                                                        "seq_len": 4, "n_batches": 2}, target=data.lm_random_windows),
    Entry("data.TextVectorizer", data.TextVectorizer, {"max_tokens": 10, "output_mode": "int",
                                                       "output_sequence_length": 4, "ngrams": None}),
    Entry("data.TabularProcessor", lambda cat_names, cont_names: data.TabularProcessor(cat_names, cont_names).fit(
        {"a": ["x", "y"], "b": [1.0, 2.0]}), {"cat_names": ["a"], "cont_names": ["b"]}, {"cat_names": ["column"],
                                                                                         "cont_names": ["column"]},
          target=data.TabularProcessor),
    Entry("data.emb_sz_rule", data.emb_sz_rule, {"n_cat": 5}),
    Entry("data.one_hot_columns", data.one_hot_columns, {"cats": lambda: np.stack([ids(3, n=2), ids(3, n=3)], 1),
                                                         "cardinalities": [2, 3]}),
]

# public names without an entry, and why
NOT_FUZZED = {
    "Tensor": "wraps an array as given; md.tensor is the checked door (fuzzed)",
    "Function": "a base class; its call checks are fuzzed through every op",
    "no_grad": "no arguments", "enable_grad": "no arguments", "is_grad_enabled": "no arguments",
    "set_grad_enabled": "takes any truthy value, as torch", "get_backend": "no arguments",
    "available_backends": "no arguments", "get_default_dtype": "no arguments",
    "using": "the context-manager form of md.use (fuzzed)", "default_dtype": "the context form of set_default_dtype",
    "float32": "NumPy's type", "float64": "NumPy's type", "int64": "NumPy's type",
    "GradcheckError": "an exception class", "CheckpointError": "an exception class",
    "NonFiniteGradientError": "an exception class", "value_and_grad": "the same wrapper as md.grad (fuzzed)",
    "numerical_grad": "the inner loop of md.gradcheck (fuzzed)", "Layer": "a base class",
    "Parameter": "a Tensor subclass", "parameter": "nn.init arrays only", "Fn": "wraps any user function",
    "Parallel": "a combinator like Serial (fuzzed)", "Branch": "a combinator like Serial (fuzzed)",
    "Sigmoid": "like ReLU (fuzzed)", "Tanh": "like ReLU (fuzzed)",
    "grad_norms_through_time": "a lesson diagnostic", "Optimizer": "a base class", "OneCycle": "wraps one_cycle (fuzzed)",
    "BucketIterator": "bucket_batches' iterator (fuzzed)", "lm_stream_rows": "the inside of lm_stream_batches (fuzzed)",
    "lm_stream_num_batches": "the count of lm_stream_batches (fuzzed)",
}

_TMP = []


def _tmp(name):
    return os.path.join(_TMP[-1], name)


def _saved():
    path = _tmp("saved.npz")
    if not os.path.exists(path):
        md.save(nn.Dense(2, n_in=3), path)
    return path


@pytest.fixture(autouse=True)
def _folder(tmp_path_factory, monkeypatch):
    _TMP.append(str(tmp_path_factory.mktemp("bad")))
    monkeypatch.chdir(_TMP[-1])          # a fuzzed relative path (md.save(path="abc")) lands here, not in the repo
    yield
    _TMP.pop()


BAD = [None, "abc", {"k": 1}, object(), [1, "x"], float("nan"), float("inf"), -1, 0, -2.5, 1.5, True, (), [],
       np.array([], float), np.array(["a", "b"]), np.ones((2, 2, 2, 2, 2)), 1 + 2j, np.array([np.nan, 1.0]),
       np.array([None, 1], dtype=object), np.int64(1), np.float32(0.5), md.tensor([1, 2]), md.tensor(np.ones((3, 7)))]
ALLOWED = (ValueError, TypeError, IndexError, OSError)


def _mentions(message, entry, param):
    words = [param] + list(entry.aliases.get(param, []))
    low = message.lower()
    return any(w.lower() in low for w in words)


def check_call(entry, param, bad):
    args = entry.args()
    args[param] = bad
    try:
        with np.errstate(all="ignore"):
            entry.fn(**args)
    except ALLOWED as exc:
        message = str(exc)
        assert _mentions(message, entry, param), (
            f"{entry.name}({param}={bad!r}) raised {type(exc).__name__} without naming {param!r}: {message}")
    except Exception as exc:
        raise AssertionError(f"{entry.name}({param}={bad!r}) crashed with {type(exc).__name__}: {exc}") from exc


@pytest.mark.parametrize("entry", ENTRIES, ids=repr)
def test_every_bad_value_of_the_pool_gives_a_result_or_an_error_naming_the_argument(entry):
    assert entry.fn(**entry.args()) is not NotImplemented        # the valid call works
    for param in entry.valid:
        for bad in BAD:
            check_call(entry, param, bad)


RANDOM_BAD = st.one_of(
    st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
    st.booleans(), st.none(), st.lists(st.integers(-5, 5), max_size=4), st.tuples(st.integers(-3, 3), st.integers(-3, 3)),
    st.builds(lambda shape, kind, seed: _random_array(shape, kind, seed),
              st.lists(st.integers(0, 4), max_size=4), st.sampled_from(["f", "i", "b", "U", "c"]), st.integers(0, 99)))


def _random_array(shape, kind, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape) * 10
    return {"f": a, "i": a.astype(np.int64), "b": a > 0, "U": a.astype(str), "c": a + 1j}[kind]


@settings(max_examples=int(os.environ.get("MINIDL_FUZZ_EXAMPLES", "300")), deadline=None)
@given(pick=st.data(), bad=RANDOM_BAD)
def test_random_bad_arguments_give_a_result_or_an_error_naming_the_argument(pick, bad):
    entry = pick.draw(st.sampled_from([e for e in ENTRIES if e.valid]))
    param = pick.draw(st.sampled_from(sorted(entry.valid)))
    if isinstance(bad, (int, float)) and not isinstance(bad, bool) and abs(bad) > 10**4 and \
            param in ("n_units", "vocab_size", "d_feature", "filters", "n_channels", "shape", "maxlen", "n_classes",
                      "max_tokens", "output_sequence_length", "total_steps", "n_batches", "seq_len", "batch_size",
                      "kernel_size", "k", "padding", "n_cat", "t", "value"):
        bad = int(math.copysign(min(abs(bad), 50), bad)) if math.isfinite(bad) else bad   # a size, not a memory test
    check_call(entry, param, bad)


def test_every_public_entry_point_is_covered():
    public = set()
    for mod in (md, functional, losses, ops, nn, optim, data):
        for n in getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]:
            if callable(getattr(mod, n)) and not inspect.ismodule(getattr(mod, n)):
                public.add(n)
    covered = {e.name.split(".", 1)[1].split("(")[0] for e in ENTRIES}
    missing = sorted(public - covered - set(NOT_FUZZED))
    assert not missing, f"public entry points without a bad-argument entry (add one, or a reason): {missing}"
    for e in ENTRIES:                                   # the fuzzed names are the real parameter names
        params = inspect.signature(e.target).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()) and e.target is e.fn:
            assert set(e.valid) <= set(params), (e.name, set(e.valid) - set(params))
    assert not covered & set(NOT_FUZZED)
    print(f"\n{len(ENTRIES)} entries cover {len(covered & public)} public names of {len(public)} "
          f"({len(public & set(NOT_FUZZED))} listed as not fuzzed, with a reason)")
