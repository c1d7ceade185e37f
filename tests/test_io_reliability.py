"""Checkpoints lose nothing: any parameter name, killed saves, forged members (issue: reliability)."""
import io
import json
import keyword
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl as md
from minidl import nn


class Bag(nn.Layer):
    """A layer whose parameters have whatever names the test gives them."""
    def __init__(self, named):
        super().__init__()
        for name, array in named.items():
            setattr(self, name, nn.Parameter(array))


NAMES = st.one_of(st.sampled_from(sorted(keyword.kwlist) + ["file", "allow_pickle", "args", "kwds",
                                                             "__minidl_meta__", "p0", "fix_imports"]),
                  st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_characters="/\\."),
                          min_size=1, max_size=12)).filter(lambda n: not _refused(n))


def _refused(name):
    """Names a Layer refuses (tested below): its registries, dunders, its methods."""
    return name in ("_params", "_layers") or (name.startswith("__") and name.endswith("__")) \
        or hasattr(nn.Layer, name)


@settings(max_examples=30)
@given(names=st.lists(NAMES, min_size=1, max_size=5, unique=True),
       dtype=st.sampled_from(["float32", "float64", "float16"]), seed=st.integers(0, 1000))
def test_save_load_round_trip_is_bit_exact_for_any_names_and_dtypes(tmp_path_factory, names, dtype, seed):
    rng = np.random.default_rng(seed)
    arrays = {n: rng.standard_normal(rng.integers(1, 4, size=rng.integers(0, 3))).astype(dtype) for n in names}
    path = tmp_path_factory.mktemp("ck") / "m.npz"
    md.save(Bag(arrays), path)
    fresh = Bag({n: np.zeros_like(a) for n, a in arrays.items()})
    md.load(fresh, path)
    for n, p in fresh.named_parameters():
        assert p.dtype == arrays[n].dtype
        np.testing.assert_array_equal(p.numpy(), arrays[n])


@pytest.mark.parametrize("name, why", [("_params", "the layer.s own"), ("_layers", "the layer.s own"),
                                       ("__dict__", "the layer.s own"), ("forward", "a method"),
                                       ("parameters", "a method")])
def test_a_parameter_may_not_take_a_name_that_would_break_the_layer(name, why):
    layer = Bag({"w": np.ones(2)})
    with pytest.raises(AttributeError, match=f"{name!r} is {why}"):
        setattr(layer, name, nn.Parameter(np.ones(3)))
    assert [n for n, _ in layer.named_parameters()] == ["w"]      # nothing was lost
    layer.forward_note = "a plain attribute may still be anything"


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes_once_provably_dead(tmp_path):
    from minidl import atomic_file
    path = tmp_path / "m.npz"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()                                      # a writer that was killed: its pid no longer exists
    old = time.time() - 2 * atomic_file.STALE_AFTER
    dead = tmp_path / f".m.npz.{atomic_file._HOST}.{gone.pid}.abcd1234.tmp"
    fresh_dead = tmp_path / f".m.npz.{atomic_file._HOST}.{gone.pid}.ffff0000.tmp"   # idle too briefly
    alive = tmp_path / f".m.npz.{atomic_file._HOST}.{os.getppid()}.00001111.tmp"  # its writer is running
    elsewhere = tmp_path / f".m.npz.another-host.{gone.pid}.22223333.tmp"          # cannot be proven dead
    legacy = tmp_path / ".m.npz.abc123.tmp"          # an older minidl's name: removed after a day
    other = tmp_path / ".other.npz.x.tmp"            # another target's temporary is not ours to remove
    for f in (dead, fresh_dead, alive, elsewhere, legacy, other):
        f.write_bytes(b"\0" * 100)
    for f in (dead, alive, elsewhere):
        os.utime(f, (old, old))
    os.utime(legacy, (old - atomic_file.LEGACY_STALE_AFTER,) * 2)
    md.save(nn.Serial(nn.Dense(2, n_in=3)), path)
    assert sorted(os.listdir(tmp_path)) == sorted(f.name for f in (fresh_dead, alive, elsewhere, other, path))


def test_saving_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "nowhere" / "m.npz"
    with pytest.raises(FileNotFoundError, match=f"cannot save {target}: the folder .*nowhere does not exist"):
        md.save(nn.Serial(nn.Dense(2, n_in=3)), target)


def _checkpoint_with(tmp_path, member_name, member_bytes):
    good = tmp_path / "good.npz"
    model = nn.Serial(nn.Dense(2, n_in=3))
    md.save(model, good)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "p0.npy":
                dst.writestr(member_name, member_bytes)
            else:
                dst.writestr(info, data)
    meta = json.loads(np.load(good)["__minidl_meta__"].tobytes())
    return model, bad, meta


def test_a_member_that_is_not_an_npy_array_is_refused(tmp_path):
    model, bad, _ = _checkpoint_with(tmp_path, "p0.txt", b"hello")
    with pytest.raises(md.CheckpointError, match="member 'p0.txt' is not a .npy array"):
        md.load(model, bad)


def test_a_forged_huge_header_is_refused_before_allocating(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**6, 10**6)})
    model, bad, _ = _checkpoint_with(tmp_path, "p0.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 64)
    with pytest.raises(md.CheckpointError, match=r"declares float32\(1000000, 1000000\) but the metadata says "
                                                 r"float32\(3, 2\)"):
        md.load(model, bad)


def test_version_1_checkpoints_still_load(tmp_path):
    model = nn.Serial(nn.Dense(2, n_in=3))
    arrays = {n: p.numpy() for n, p in model.named_parameters()}
    meta = {"format": "minidl-checkpoint", "version": 1, "model": "x",
            "params": [{"name": n, "shape": list(a.shape), "dtype": str(a.dtype)} for n, a in arrays.items()]}
    path = tmp_path / "v1.npz"
    np.savez(path, **arrays, __minidl_meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    fresh = nn.Serial(nn.Dense(2, n_in=3))
    md.load(fresh, path)
    np.testing.assert_array_equal(fresh[0].W.numpy(), model[0].W.numpy())
