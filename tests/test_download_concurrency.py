"""Concurrent downloads of one file, by real processes (issue 28): no lost data, no double fetch.

A loopback HTTP server sends a 1.6 MB payload slowly, so the downloads overlap.
Before the fix, two downloads shared ``<dest>.part``: the second truncated the
first's file while the first's checksum, computed on its own stream, still
passed, and a file with zeros in it was served as verified.
"""
import hashlib
import http.server
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import local_http_server

PAYLOAD = bytes(range(256)) * 6250          # 1.6 MB, no long runs of zeros
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        step = len(PAYLOAD) // 16
        for i in range(0, len(PAYLOAD), step):
            self.wfile.write(PAYLOAD[i:i + step])
            self.wfile.flush()
            time.sleep(0.03)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_server():
    _SlowHandler.requests = []
    with local_http_server(_SlowHandler) as url:
        yield url


def _run_all(code, args_list):
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for args in args_list]
    return [(p.wait(timeout=120), *p.communicate()) for p in procs]


def test_concurrent_downloads_to_one_destination_all_give_the_whole_file(slow_server, tmp_path):
    dest = tmp_path / "data" / "f.bin"
    code = """
        import sys
        import minidl.datasets as S
        S.download_url(sys.argv[1], sys.argv[2], md5=sys.argv[3], progress=False)
        print(open(sys.argv[2], "rb").read() == bytes(range(256)) * 6250)
    """
    results = _run_all(code, [(slow_server + "/f.bin", str(dest), MD5)] * 3)
    assert [(rc, out.strip()) for rc, out, _ in results] == [(0, "True")] * 3, [err for _, _, err in results]
    assert dest.read_bytes() == PAYLOAD
    assert sorted(os.listdir(dest.parent)) == ["f.bin"]      # no temporary left behind
    assert len(_SlowHandler.requests) == 3                    # download_url itself takes no lock


def test_concurrent_registry_downloads_fetch_once_and_wait_for_each_other(slow_server, tmp_path):
    code = """
        import sys
        import minidl.datasets as S
        from minidl.datasets.registry import Resource
        S.REGISTRY["toy"] = Resource(urls=(sys.argv[1],), filename="toy/f.bin", md5=sys.argv[3], size=1600000)
        path = S.download("toy", progress=False, root=sys.argv[2])
        print(path.read_bytes() == bytes(range(256)) * 6250)
    """
    results = _run_all(code, [(slow_server + "/f.bin", str(tmp_path / "cache"), MD5)] * 3)
    assert [(rc, out.strip()) for rc, out, _ in results] == [(0, "True")] * 3, [err for _, _, err in results]
    assert _SlowHandler.requests == ["/f.bin"]               # the others waited, then found it cached
    files = sorted(p.name for p in Path(tmp_path / "cache" / "toy").iterdir())
    assert files == ["f.bin", "f.bin.lock", "f.bin.verified"]


def test_a_file_changed_on_disk_before_the_rename_is_refused(slow_server, tmp_path, monkeypatch):
    """The checksum is computed on the bytes on disk, not on the stream: damage in between is caught."""
    import minidl.datasets as S
    from minidl import atomic_file
    real = atomic_file.atomic_write

    def damaging(dest, suffix=".tmp", verify=None):
        def damage_then_verify(tmp):
            with open(tmp, "r+b") as f:                      # what another writer's truncation did
                f.seek(1000)
                f.write(bytes(1000))
            verify(tmp)
        return real(dest, suffix, damage_then_verify)
    monkeypatch.setattr(sys.modules["minidl.datasets.download"], "atomic_write", damaging)
    with pytest.raises(S.ChecksumError, match="MD5"):
        S.download_url(slow_server + "/f.bin", tmp_path / "f.bin", md5=MD5, progress=False)
    assert os.listdir(tmp_path) == []
