"""Checkpoints, round 3 (issue 28): buffers are saved, other processes cannot break a save,
every damaged file is a CheckpointError, a bomb is refused before it is inflated, the umask is respected."""
import json
import os
import stat
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile

import numpy as np
import pytest

import minidl as md
from minidl import nn


def _bn_model(seed=0):
    md.seed(seed)
    model = nn.Serial(nn.Dense(4, n_in=3), nn.BatchNorm(), nn.ReLU(), nn.Dense(2))
    x = md.tensor(np.random.default_rng(seed).normal(2.0, 3.0, size=(16, 3)))
    for _ in range(5):                          # moves the running statistics away from (0, 1)
        model(x)
    return model.eval(), x


# ----------------------------------------------------------------------------- buffers
def test_eval_outputs_survive_a_round_trip_because_buffers_are_saved(backend_name, tmp_path):
    src, x = _bn_model(0)
    want = src(x).numpy()
    dst, _ = _bn_model(1)
    assert np.abs(dst(x).numpy() - want).max() > 1e-2      # without the load they differ (the test can fail)
    md.save(src, tmp_path / "bn.npz")
    md.load(dst, tmp_path / "bn.npz")
    np.testing.assert_array_equal(dst(x).numpy(), want)
    for (n, a), (m, b) in zip(src.named_buffers(), dst.named_buffers()):
        assert n == m and md.backend.name_of(b) == backend_name
        np.testing.assert_array_equal(md.backend.asnumpy(a), md.backend.asnumpy(b))
    with np.load(tmp_path / "bn.npz") as z:
        meta = json.loads(z["__minidl_meta__"].tobytes())
    assert [b["name"] for b in meta["buffers"]] == ["1.running_mean", "1.running_var"]


def _snapshot(model):
    return [md.backend.asnumpy(a).copy() for _, a in model.named_buffers()] + \
        [p.numpy().copy() for p in model.parameters()]


def test_a_checkpoint_without_the_buffers_is_refused_and_changes_nothing(tmp_path):
    src, _ = _bn_model(0)
    arrays = {f"p{i}": p.numpy() for i, p in enumerate(src.parameters())}
    meta = {"format": "minidl-checkpoint", "version": 2,
            "params": [{"name": n, "key": f"p{i}", "shape": list(p.shape), "dtype": str(p.dtype)}
                       for i, (n, p) in enumerate(src.named_parameters())]}
    np.savez(tmp_path / "v2.npz", **arrays, __minidl_meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    dst, _ = _bn_model(1)
    before = _snapshot(dst)
    with pytest.raises(md.CheckpointError, match=r"buffers missing from the checkpoint: \['1.running_mean', "
                                                 r"'1.running_var'\] \(format version 2 files"):
        md.load(dst, tmp_path / "v2.npz")
    for a, b in zip(before, _snapshot(dst)):
        np.testing.assert_array_equal(a, b)


def test_a_buffer_of_another_shape_or_an_extra_buffer_is_refused(tmp_path):
    wide = nn.Serial(nn.Dense(5, n_in=3), nn.BatchNorm(n_channels=5))
    md.save(wide, tmp_path / "wide.npz")
    narrow = nn.Serial(nn.Dense(4, n_in=3), nn.BatchNorm(n_channels=4))
    with pytest.raises(md.CheckpointError, match=r"'0.W' has shape \(3, 5\) in the checkpoint but \(3, 4\)"):
        md.load(narrow, tmp_path / "wide.npz")
    plain = nn.Serial(nn.Dense(5, n_in=3))
    with pytest.raises(md.CheckpointError, match=r"in the checkpoint but not in Serial: \['1.beta', '1.gamma'\]"
                                                 r"; buffers in the checkpoint but not in Serial"):
        md.load(plain, tmp_path / "wide.npz")


# ----------------------------------------------------------------------------- other processes
SAVER = textwrap.dedent("""
    import sys, numpy as np, minidl as md
    from minidl import nn
    path, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    md.seed(seed)
    model = nn.Serial(nn.Embedding(200, 64), nn.Dense(8, n_in=64))
    failures = 0
    for _ in range(n):
        try:
            md.save(model, path)
        except Exception as exc:
            failures += 1
            print(type(exc).__name__, exc, file=sys.stderr)
    print(failures)
""")


def test_four_processes_saving_to_one_path_never_break_each_other(tmp_path):
    path = tmp_path / "shared.npz"
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(path), str(seed), "25"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [int(out.strip()) for out, _ in results] == [0, 0, 0, 0], [err for _, err in results]
    model = nn.Serial(nn.Embedding(200, 64), nn.Dense(8, n_in=64))
    md.load(model, path)                                 # whole: one of the four writers' checkpoints
    assert sorted(os.listdir(tmp_path)) == ["shared.npz"]  # no temporary left behind


def test_a_live_writers_temporary_is_never_removed(tmp_path):
    from minidl import atomic_file
    path = tmp_path / "m.npz"
    with atomic_file.atomic_write(path) as slow:        # a slow save in progress, in this live process
        slow.write(b"half")
        live = [e for e in os.listdir(tmp_path) if e.endswith(".tmp")]
        os.utime(tmp_path / live[0], (0, 0))             # however old it looks
        out = subprocess.run([sys.executable, "-c", SAVER, str(path), "0", "3"], capture_output=True, text=True)
        assert out.stdout.strip() == "0", out.stderr
        assert (tmp_path / live[0]).exists()
    assert path.read_bytes() == b"half"


# ----------------------------------------------------------------------------- damaged files
def _small_checkpoint(tmp_path):
    model = nn.Serial(nn.Dense(3, n_in=2), nn.BatchNorm())
    model(md.tensor(np.ones((4, 2))))
    path = tmp_path / "good.npz"
    md.save(model, path)
    return model, path


def _load_or_checkpoint_error(model, path, want):
    try:
        md.load(model, path)
    except md.CheckpointError:
        return "refused"
    for a, b in zip(want, _snapshot(model)):             # a load that succeeds loaded the right numbers
        np.testing.assert_array_equal(a, b)
    return "loaded"


def test_every_single_byte_flip_is_refused_or_harmless(tmp_path):
    model, path = _small_checkpoint(tmp_path)
    want = _snapshot(model)
    good = path.read_bytes()
    bad = tmp_path / "bad.npz"
    seen = set()
    for i in range(len(good)):                   # every byte, with a rotating bit pattern
        data = bytearray(good)
        data[i] ^= (0x01, 0x08, 0x80, 0xFF)[i % 4]
        bad.write_bytes(bytes(data))
        seen.add(_load_or_checkpoint_error(model, bad, want))
    assert seen == {"refused", "loaded"}          # flips in zip timestamps are harmless; the rest refused


def test_random_three_byte_corruptions_and_truncations_are_checkpoint_errors(tmp_path):
    model, path = _small_checkpoint(tmp_path)
    want = _snapshot(model)
    good = path.read_bytes()
    bad = tmp_path / "bad.npz"
    rng = np.random.default_rng(0)
    for _ in range(300):
        data = bytearray(good)
        for i in rng.integers(0, len(good), size=3):
            data[i] = int(rng.integers(0, 256))
        bad.write_bytes(bytes(data))
        _load_or_checkpoint_error(model, bad, want)
    for n in range(0, len(good), 7):
        bad.write_bytes(good[:n])
        assert _load_or_checkpoint_error(model, bad, want) == "refused"


@pytest.mark.parametrize("field, value", [("compress_type", 99), ("flag_bits", 0x1), ("create_version", 99),
                                          ("extract_version", 99)])
def test_zip_flags_that_zipfile_cannot_handle_are_checkpoint_errors(tmp_path, field, value):
    model, path = _small_checkpoint(tmp_path)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
    data = bytearray(bad.read_bytes())
    # patch the field in every local header and central directory entry (offsets of the zip spec)
    local, central = {"compress_type": 8, "flag_bits": 6, "extract_version": 4, "create_version": 4}, \
        {"compress_type": 10, "flag_bits": 8, "extract_version": 6, "create_version": 4}
    for sig, table in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        start = 0
        while (start := data.find(sig, start)) >= 0:
            data[start + table[field]] = value
            start += 4
    bad.write_bytes(bytes(data))
    _load_or_checkpoint_error(model, bad, _snapshot(model))


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tmp_path):
    model, path = _small_checkpoint(tmp_path)
    bomb = tmp_path / "bomb.npz"
    n = 50_000_000                                       # 200 MB of float32 zeros, ~200 kB deflated
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        meta = json.loads(np.frombuffer(src.read("__minidl_meta__.npy")[128:], np.uint8).tobytes())
        for info in src.infolist():
            if info.filename != "p0.npy":
                dst.writestr(info.filename, src.read(info))
        with dst.open("p0.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (n,)})
            chunk = bytes(1 << 22)
            for _ in range(n * 4 // len(chunk)):
                f.write(chunk)
    assert meta["params"][0]["key"] == "p0" and bomb.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(md.CheckpointError, match=r"member 'p0.npy' declares float32\(50000000,\) but the "
                                                     r"metadata says float32\(2, 3\)"):
            md.load(model, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"md.load allocated {peak:,} bytes for a refused file"


# ----------------------------------------------------------------------------- permissions
@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_the_checkpoint_mode_follows_the_umask_like_any_file(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        md.save(nn.Dense(2, n_in=3), tmp_path / "m.npz")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "m.npz"
    md.save(nn.Dense(2, n_in=3), path)
    os.chmod(path, 0o640)
    md.save(nn.Dense(2, n_in=3), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
