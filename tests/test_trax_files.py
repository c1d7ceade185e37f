"""minidl.trax.register(), and checkpoints: minidl's pickle-free files under Trax's names, Trax's own read safely."""
import gzip
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest

import minidl as md
from minidl.trax import layers as tl, shapes


def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_register_makes_the_courses_imports_work_and_plain_minidl_registers_nothing():
    out = run_python(
        "import sys, minidl\n"
        "assert 'minidl.trax' not in sys.modules and 'trax' not in sys.modules\n"
        "import minidl.trax\n"
        "assert 'trax' not in sys.modules\n"
        "minidl.trax.register()\n"
        "import trax\n"
        "from trax import layers as tl\n"
        "import trax.fastmath.numpy as np\n"
        "from trax import fastmath, shapes, optimizers\n"
        "from trax.fastmath import random, grad, logsumexp\n"
        "from trax.supervised import training\n"
        "from trax.supervised.trainer_lib import init_random_number_generators\n"
        "from trax.data.inputs import add_loss_weights\n"
        "import trax.layers.combinators, trax.lr\n"
        "assert tl.Serial is minidl.trax.layers.Serial and trax.layers.combinators.Branch is tl.Branch\n"
        "assert trax.lr.warmup_and_rsqrt_decay and trax.optimizers.Adam and training.Loop\n"
        "minidl.trax.unregister()\n"
        "assert 'trax' not in sys.modules and 'trax.layers' not in sys.modules\n"
        "print('ok')\n")
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("minidl.trax.register(): `import trax` now gives") and lines[1] == "ok"


def model():
    return tl.Serial(tl.Embedding(9, 4), tl.LSTM(4), tl.Dense(3), tl.LogSoftmax())


IDS = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])


def test_save_to_file_and_init_from_file_round_trip(tmp_path):
    a = model()
    a.init(shapes.signature(IDS))
    a.save_to_file(str(tmp_path / "model.pkl.gz"), input_signature=shapes.signature(IDS))
    assert (tmp_path / "model.pkl.gz").read_bytes()[:2] == b"PK"
    b = model()
    b.init_from_file(str(tmp_path / "model.pkl.gz"), weights_only=True)
    np.testing.assert_array_equal(a(IDS), b(IDS))
    md.save(md.models.SentimentModel(9, 4), tmp_path / "native.npz")
    with pytest.raises(md.CheckpointError, match="written by md.save"):
        model().init_from_file(str(tmp_path / "native.npz"))


@pytest.fixture
def trax_shapes_module(monkeypatch):
    """A stand-in ``trax.shapes.ShapeDtype`` class, so a test can write a pickle exactly as Trax would."""
    fake_trax, fake_shapes = types.ModuleType("trax"), types.ModuleType("trax.shapes")

    class ShapeDtype:
        __slots__ = ("shape", "dtype")

        def __init__(self, shape, dtype):
            self.shape, self.dtype = shape, dtype
    ShapeDtype.__module__, ShapeDtype.__qualname__ = "trax.shapes", "ShapeDtype"
    fake_shapes.ShapeDtype, fake_trax.shapes = ShapeDtype, fake_shapes
    monkeypatch.setitem(sys.modules, "trax", fake_trax)
    monkeypatch.setitem(sys.modules, "trax.shapes", fake_shapes)
    return ShapeDtype


def write_trax_checkpoint(path, flat_weights, input_signature, separate_weights=False):
    d = {"step": 7, "flat_weights": flat_weights, "flat_state": [], "history": {"_values": {}},
         "input_signature": input_signature, "version_timestamp": "Mar-10-2021"}
    if separate_weights:                       # newer Trax: the arrays in model.weights.npy.gz, gzip'd .npy records
        with gzip.open(str(path).replace(".pkl.gz", ".weights.npy.gz"), "wb") as f:
            for w in flat_weights:
                np.save(f, w, allow_pickle=False)
        d["flat_weights"] = 2
    with gzip.open(path, "wb", compresslevel=2) as f:
        pickle.dump(d, f, protocol=pickle.HIGHEST_PROTOCOL)


@pytest.mark.parametrize("separate_weights", [False, True])
def test_a_checkpoint_written_by_trax_loads(tmp_path, trax_shapes_module, separate_weights):
    a = model()
    a.init(shapes.signature(IDS))
    flat, _ = tl.flatten_weights_and_state(a.weights, a.state)
    path = tmp_path / "model.pkl.gz"
    write_trax_checkpoint(path, [np.asarray(w) for w in flat], (trax_shapes_module((2, 4), np.dtype("int64")),),
                          separate_weights)
    b = model()
    b.init_from_file(str(path))                 # no init first: the signature comes from the file
    np.testing.assert_array_equal(a(IDS), b(IDS))


class Exploit:
    """Unpickling this runs code: it writes a file (a stand-in for anything worse)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_a_malicious_trax_checkpoint_is_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "model.pkl.gz"
    payload = pickle.dumps({"flat_weights": [Exploit(marker)], "flat_state": []})
    with gzip.open(path, "wb") as f:
        f.write(payload)
    with pytest.raises(md.CheckpointError, match="refused: the checkpoint asks to load builtins.exec"):
        model().init_from_file(str(path))
    assert not marker.exists()
    assert pickle.loads(payload) is not None and marker.exists()       # the same bytes, unpickled plainly, run code


def test_object_arrays_and_other_files_are_refused(tmp_path):
    path = tmp_path / "model.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump({"flat_weights": [np.array([1, "x"], dtype=object)], "flat_state": []}, f)
    with pytest.raises(md.CheckpointError, match="Python objects"):
        model().init_from_file(str(path))
    (tmp_path / "junk.pkl.gz").write_bytes(b"not a checkpoint")
    with pytest.raises(md.CheckpointError, match="neither a minidl checkpoint"):
        model().init_from_file(str(tmp_path / "junk.pkl.gz"))
