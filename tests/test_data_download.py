"""Downloads (no internet: file:// and a loopback HTTP server), extraction, data folders."""
import hashlib
import http.server
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import local_http_server

import minidl.datasets as S
from minidl.datasets.registry import Resource

PAYLOAD = b"0123456789" * 5000


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/cut":
            # Promise the whole payload, send a tenth of it, hang up.
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:len(PAYLOAD) // 10])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    with local_http_server(_Handler) as url:
        yield url


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def test_http_download_verified_and_renamed(server, tmp_path):
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    out = S.download_url(server + "/ok", tmp_path / "f.bin", md5=md5, size=len(PAYLOAD), progress=False)
    assert out.read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["f.bin"]


def test_checksum_failure_leaves_no_file(server, tmp_path):
    with pytest.raises(S.ChecksumError, match="MD5"):
        S.download_url(server + "/ok", tmp_path / "f.bin", md5="0" * 32, progress=False)
    assert leftovers(tmp_path) == []
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc")
    with pytest.raises(S.ChecksumError, match="got 3 bytes, expected 4"):
        S.download_url(src.as_uri(), tmp_path / "g.bin", size=4, progress=False)
    assert leftovers(tmp_path) == ["src.bin"]


def test_interrupted_download_leaves_no_file(server, tmp_path):
    with pytest.raises(S.DownloadError):
        S.download_url(server + "/cut", tmp_path / "f.bin", progress=False)
    assert leftovers(tmp_path) == []


def test_offline_fails_fast_and_says_how_to_supply_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "cache"))
    with socket_closed_port() as port:
        monkeypatch.setitem(S.REGISTRY, "toy", Resource(urls=(f"http://127.0.0.1:{port}/toy.txt",),
                                                        filename="toy/toy.txt"))
        with pytest.raises(S.DownloadError) as info:
            S.download("toy", timeout=2, progress=False)
    message = str(info.value)
    assert "toy/toy.txt" in message and str(tmp_path / "cache") in message and "--data PATH" in message
    assert not (tmp_path / "cache" / "toy" / "toy.txt").exists()
    with pytest.raises(S.DownloadError, match="Kaggle"):
        S.download("gmb-ner", progress=False)


class socket_closed_port:
    """A loopback port with nothing listening (connection refused at once)."""

    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc):
        return False


def test_download_registry_entry_into_cache_then_reuse(tmp_path, monkeypatch):
    src = tmp_path / "src.txt"
    src.write_bytes(b"hello corpus\n")
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "cache"))
    monkeypatch.setitem(S.REGISTRY, "toy", Resource(urls=((tmp_path / "missing.txt").as_uri(),   # first mirror fails
                                                          src.as_uri()),
                                                    filename="toy/corpus.txt", size=13,
                                                    md5=hashlib.md5(b"hello corpus\n").hexdigest()))
    path = S.download("toy", progress=False)
    assert path == tmp_path / "cache" / "toy" / "corpus.txt" and path.read_bytes() == b"hello corpus\n"
    src.unlink()                                       # a second call must not fetch again
    assert S.download("toy", progress=False) == path
    assert S.find_file("toy/corpus.txt") == path


def test_download_unpacks_archives(tmp_path, monkeypatch):
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pack/u.data", "1\t1\t5\t0\n")
    monkeypatch.setitem(S.REGISTRY, "pack", Resource(urls=(archive.as_uri(),), filename="pack.zip",
                                                     unpack="", provides="pack"))
    out = S.download("pack", progress=False, root=tmp_path / "cache")
    assert out == tmp_path / "cache" / "pack" and (out / "u.data").read_text() == "1\t1\t5\t0\n"


def test_extract_refuses_paths_that_escape(tmp_path):
    evil_zip = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil_zip, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../escaped.txt", "gotcha")
    with pytest.raises(S.UnsafeArchiveError, match="escaped.txt"):
        S.extract(evil_zip, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out" / "ok.txt").exists()

    def tar_with(member):
        path = tmp_path / "t.tar.gz"
        with tarfile.open(path, "w:gz") as tf:
            tf.addfile(member, io.BytesIO(b"x" * member.size))
        return path

    absolute = tarfile.TarInfo("/tmp/minidl-absolute.txt")
    absolute.size = 1
    with pytest.raises(S.UnsafeArchiveError):
        S.extract(tar_with(absolute), tmp_path / "out")
    link = tarfile.TarInfo("innocent")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(S.UnsafeArchiveError, match="link"):
        S.extract(tar_with(link), tmp_path / "out")
    good = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
    good.size = 3
    S.extract(tar_with(good), tmp_path / "out")
    assert (tmp_path / "out" / "aclImdb" / "train" / "pos" / "0_9.txt").read_bytes() == b"xxx"


def test_find_data_dir_and_find_file(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "a.gz").write_bytes(b"")
    monkeypatch.setenv("MINIDL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "nowhere"))
    assert S.find_data_dir() == tmp_path
    assert S.find_file("mnist/a.gz") == tmp_path / "mnist" / "a.gz"
    assert S.find_file("mnist/b.gz") is None
    with pytest.raises(S.DataNotFoundError, match=r"download\('vader-tweets'\)"):
        S.load_vader()
    monkeypatch.delenv("MINIDL_DATA_DIR")
    shared = Path(S.paths.__file__).resolve().parents[3] / "shared" / "data"
    assert S.find_data_dir() == (shared if shared.is_dir() else None)


def test_registry_entries_are_well_formed():
    for name, res in S.REGISTRY.items():
        assert res.md5 is None or len(res.md5) == 32, name
        assert all(u.startswith(("http://", "https://")) for u in res.urls), name
    for group, members in S.GROUPS.items():
        assert set(members) <= set(S.REGISTRY), group
    assert S.REGISTRY["movielens-100k"].md5 == "0e33842e24a9c977be4e0107933c0723"


# ----------------------------------------------------------------------------- stale caches (reliability)
def test_a_killed_extraction_is_redone_not_served(tmp_path, monkeypatch):
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pack/u.data", "1\t1\t5\t0\n")
        zf.writestr("pack/u.item", "1|Toy Story\n")
    monkeypatch.setitem(S.REGISTRY, "pack", Resource(urls=(archive.as_uri(),), filename="pack.zip",
                                                     unpack="", provides="pack"))
    cache = tmp_path / "cache"
    out = S.download("pack", progress=False, root=cache)
    assert (cache / "pack.zip.extracted").exists()
    # simulate a kill mid-extraction: half the folder, no completion marker
    (out / "u.item").unlink()
    (cache / "pack.zip.extracted").unlink()
    out = S.download("pack", progress=False, root=cache)
    assert (out / "u.item").read_text() == "1|Toy Story\n"
    # force=True re-extracts even with the marker present
    (out / "u.item").write_text("tampered")
    S.download("pack", progress=False, root=cache, force=True)
    assert (out / "u.item").read_text() == "1|Toy Story\n"


def test_a_corrupt_cached_file_is_fetched_again_on_first_use(tmp_path, monkeypatch):
    body = b"hello corpus\n"
    src = tmp_path / "src.txt"
    src.write_bytes(body)
    monkeypatch.setitem(S.REGISTRY, "toy", Resource(urls=(src.as_uri(),), filename="toy/corpus.txt",
                                                    size=len(body), sha256=hashlib.sha256(body).hexdigest()))
    cache = tmp_path / "cache"
    (cache / "toy").mkdir(parents=True)
    (cache / "toy" / "corpus.txt").write_bytes(b"hello CORPUS\n")      # right size, wrong bytes
    path = S.download("toy", progress=False, root=cache)
    assert path.read_bytes() == body
    assert (cache / "toy" / "corpus.txt.verified").exists()


def test_sha256_mismatch_is_a_checksum_error(server, tmp_path):
    with pytest.raises(S.ChecksumError, match="SHA-256"):
        S.download_url(server + "/ok", tmp_path / "f.bin", sha256="0" * 64, progress=False)
    assert leftovers(tmp_path) == []


def test_registry_entries_with_shared_copies_carry_sha256():
    for key in ("shakespeare", "wnut17-train", "vader-tweets", "mnist-test-images"):
        assert S.REGISTRY[key].sha256 and len(S.REGISTRY[key].sha256) == 64
