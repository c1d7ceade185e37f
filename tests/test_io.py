"""md.save / md.load: bit-exact round trip, every refusal leaves the layer unchanged, atomic save."""
import json
import os
import pickle

import numpy as np
import pytest

import minidl as md
from minidl import nn


def _model(seed=0, vocab=20, d=4):
    md.seed(seed)
    m = nn.Serial(nn.Embedding(vocab, d), nn.Mean(axis=1), nn.Dense(3), nn.LogSoftmax())
    m(md.tensor([[1, 2, 3]]))                # builds the lazy Dense
    return m


def _snapshot(layer):
    return {n: p.numpy().copy() for n, p in layer.named_parameters()}


def _assert_unchanged(layer, before):
    after = _snapshot(layer)
    assert after.keys() == before.keys()
    for n in before:
        np.testing.assert_array_equal(after[n], before[n])


def test_round_trip_is_bit_exact(backend_name, tmp_path):
    src, dst = _model(0), _model(1)
    path = tmp_path / "model.npz"
    md.save(src, path)
    assert not np.array_equal(src[0].W.numpy(), dst[0].W.numpy())
    md.load(dst, path)
    for (n, a), (m, b) in zip(src.named_parameters(), dst.named_parameters()):
        assert n == m and a.dtype == b.dtype and a.backend == b.backend == backend_name
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = md.tensor([[3, 4, 0]])
    np.testing.assert_array_equal(src(x).numpy(), dst(x).numpy())


def test_file_is_a_plain_npz_with_json_metadata(tmp_path):
    path = tmp_path / "m.npz"
    md.save(_model(), path)
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {"p0", "p1", "p2", "__minidl_meta__"}
        meta = json.loads(z["__minidl_meta__"].tobytes().decode())
    assert meta["format"] == "minidl-checkpoint" and meta["version"] == 3 and meta["buffers"] == []
    assert meta["params"][0] == {"name": "0.W", "key": "p0", "shape": [20, 4], "dtype": "float32"}


def test_checkpoint_moves_across_backends(backend_name, tmp_path):
    # saved on the backend under test, loaded into a CPU model (and back)
    path = tmp_path / "m.npz"
    src = _model(0)
    md.save(src, path)
    with md.using("numpy"):
        cpu = _model(1)
    md.load(cpu, path)
    assert cpu[0].W.backend == "numpy"
    np.testing.assert_array_equal(cpu[0].W.numpy(), src[0].W.numpy())
    md.save(cpu, path)
    md.load(src, path)
    assert src[0].W.backend == backend_name


def test_float_checkpoint_is_cast_to_the_layers_dtype(tmp_path):
    with md.default_dtype("float64"):
        src = _model(0)
    path = tmp_path / "m.npz"
    md.save(src, path)
    dst = _model(1)
    md.load(dst, path)
    assert dst[0].W.dtype == np.float32
    np.testing.assert_array_equal(dst[0].W.numpy(), src[0].W.numpy().astype(np.float32))


# ----------------------------------------------------------------------------- refusals
def _write_npz(path, meta, **arrays):
    arrays["__minidl_meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def _meta_for(arrays, version=1):
    return {"format": "minidl-checkpoint", "version": version,
            "params": [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()]}


def _good_file(tmp_path):
    path = tmp_path / "good.npz"
    md.save(_model(5), path)
    return path


def refuses(layer, path, match):
    before = _snapshot(layer)
    with pytest.raises(md.CheckpointError, match=match):
        md.load(layer, path)
    _assert_unchanged(layer, before)


def test_missing_name(tmp_path):
    path = tmp_path / "m.npz"
    md.save(nn.Serial(nn.Embedding(20, 4), nn.Mean(axis=1), nn.Dense(3, n_in=4, use_bias=False)), path)
    refuses(_model(), path, r"missing from the checkpoint: \['2.b'\]")


def test_extra_name(tmp_path):
    path = tmp_path / "m.npz"
    md.save(_model(), path)
    refuses(nn.Serial(nn.Embedding(20, 4), nn.Mean(axis=1), nn.Dense(3, n_in=4, use_bias=False)),
            path, r"in the checkpoint but not in Serial: \['2.b'\]")


def test_shape_mismatch(tmp_path):
    path = tmp_path / "m.npz"
    md.save(_model(vocab=30), path)
    refuses(_model(vocab=20), path, r"'0.W' has shape \(30, 4\) in the checkpoint but \(20, 4\) in the layer")


def test_non_float_array_for_a_float_parameter(tmp_path):
    path = tmp_path / "m.npz"
    arrays = {n: p.numpy().astype(np.int32) for n, p in _model().named_parameters()}
    _write_npz(path, _meta_for(arrays), **arrays)
    refuses(_model(), path, "'0.W' is int32 in the checkpoint but the parameter is float32")


def test_truncated_file(tmp_path):
    path = _good_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refuses(_model(), path, "not a readable .npz checkpoint")


def test_corrupt_bytes(tmp_path):
    path = _good_file(tmp_path)
    data = bytearray(path.read_bytes())
    with np.load(path) as z:                         # flip bytes inside the stored 0.W values
        W = z["p0"].tobytes()
    start = bytes(data).index(W)
    for i in range(start + 8, start + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    refuses(_model(), path, "not a readable .npz checkpoint.*(CRC|corrupt)")


def test_not_an_npz(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("these are not the weights you are looking for\n" * 10)
    refuses(_model(), text, "not a readable .npz checkpoint")
    npy = tmp_path / "w.npy"
    np.save(npy, np.zeros(3))
    refuses(_model(), npy, "single .npy array")
    plain = tmp_path / "plain.npz"
    np.savez(plain, W=np.zeros(3))
    refuses(_model(), plain, "not written by md.save")


def test_wrong_version(tmp_path):
    path = tmp_path / "m.npz"
    arrays = _snapshot(_model())
    _write_npz(path, _meta_for(arrays, version=99), **arrays)
    refuses(_model(), path, "format version 99, but this minidl reads versions 1, 2, 3")


def test_object_array_is_refused_and_never_unpickled(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    arrays = _snapshot(_model())
    arrays["2.b"] = np.array([{"evil": 1}, None, 3], dtype=object)
    _write_npz(path, _meta_for(arrays), **arrays)        # np.savez pickles the object array

    def no_unpickling(*args, **kwargs):
        raise AssertionError("md.load tried to unpickle")
    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    refuses(_model(), path, "'2.b' holds Python objects.*unpickling; refused")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        md.load(_model(), tmp_path / "nope.npz")


def test_lazy_layer_must_be_built_first(tmp_path):
    path = _good_file(tmp_path)
    lazy = nn.Serial(nn.Embedding(20, 4), nn.Mean(axis=1), nn.Dense(3), nn.LogSoftmax())
    refuses(lazy, path, "Dense_3 has not built its parameters yet: call the model on one batch")
    with pytest.raises(md.CheckpointError, match="Dense_3 has not created its parameters"):
        md.save(lazy, tmp_path / "lazy.npz")


# ----------------------------------------------------------------------------- atomic save
def test_failed_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = _good_file(tmp_path)
    good_bytes = path.read_bytes()

    def crash_mid_write(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip")         # some bytes reach the disk, then the crash
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        md.save(_model(9), path)
    monkeypatch.undo()
    assert path.read_bytes() == good_bytes
    assert os.listdir(tmp_path) == ["good.npz"]
    dst = _model(1)
    md.load(dst, path)
    np.testing.assert_array_equal(dst[0].W.numpy(), _model(5)[0].W.numpy())
