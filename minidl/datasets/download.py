"""Verified downloads into the cache folder, and safe archive extraction.

``download(name)`` fetches a registered data set (see ``registry.py``) into the
cache folder (``$MINIDL_DATA``, default ``~/.cache/minidl``) and returns its
path.  Three promises:

* **No half files, even with several processes.**  Each download writes its
  own temporary (``.<file>.<host>.<pid>.<random>.part``, ``minidl/atomic_file.py``);
  the size and checksums are verified *on the file on disk*, and only then is
  it renamed to the final name with ``os.replace`` (atomic on one file
  system).  Any failure -- network error, checksum mismatch, Ctrl-C -- deletes
  the temporary.  So a file under its final name is always a whole, verified
  file.  ``download(name)`` also holds a lock per file (``<file>.lock``), so a
  second process waits and then finds the file cached instead of fetching it again.
* **Fail fast offline.**  Each connection gives up after ``timeout`` seconds
  (10 by default) and the error says which file to fetch by hand and where to
  put it.
* **Progress.**  A tqdm bar shows bytes received (``progress=False`` hides it).

A file already in the cache is not fetched again: its size is re-checked, and its
checksums once, at its first use (a corrupt cached file is fetched again);
``force=True`` fetches anyway.  An archive counts as extracted only once its
``.extracted`` marker is written after a complete extraction, so a killed
extraction is redone, and ``force=True`` re-extracts.  Archives (``.zip``, ``.tar.gz``) are
unpacked by ``extract``, which refuses members that would land outside the
target folder (``../../etc/passwd``, absolute paths, links).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from ..atomic_file import atomic_write, file_lock
from .paths import cache_dir, not_found_message
from .registry import GROUPS, REGISTRY

_CHUNK = 1 << 16


class DownloadError(OSError):
    """The file could not be fetched (offline, HTTP error, ...); says how to supply it by hand."""


class ChecksumError(DownloadError):
    """The fetched bytes do not have the expected size or MD5."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the extraction folder."""


def file_digest(path, algorithm="md5"):
    """Hex digest (``md5``, ``sha1``, ``sha256``) of a file, read in chunks (never whole in memory)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def md5sum(path):
    return file_digest(path, "md5")


def _progress_bar(total, desc, enabled):
    """A tqdm bar of bytes received (``enabled=False``: a bar that draws nothing)."""
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not enabled)


def download_url(url, dest, md5=None, size=None, timeout=10.0, progress=True, hint="", sha256=None,
                 sha1=None):
    """Fetch ``url`` to ``dest`` through a private temporary; verify the file on disk; rename.  Returns dest.

    Raises DownloadError (with ``hint`` appended: how to get the file by hand)
    when the transfer fails, ChecksumError when size or checksums disagree.  In
    every failure case neither ``dest`` nor a temporary is left behind, and a
    ``dest`` that was already there is untouched.  Safe when several processes
    download the same file at once: each writes its own temporary
    (``minidl/atomic_file.py``), and only a verified whole file is renamed in.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    expected = _checksums(md5=md5, sha256=sha256, sha1=sha1)     # SHA-1: where that is all that is published
    promised = {}

    def verify(tmp):
        # The bytes ON DISK are checked, not the stream this process believes it wrote:
        # a file that something else truncated or overwrote cannot pass.
        got = os.path.getsize(tmp)
        if promised.get("length") is not None and got != promised["length"]:
            raise DownloadError(f"{url}: transfer interrupted after {got} of {promised['length']} bytes."
                                + _hint(hint))
        if size is not None and got != size:
            raise ChecksumError(f"{url}: got {got} bytes, expected {size}; the file was deleted." + _hint(hint))
        for name, want in expected.items():
            digest = file_digest(tmp, name)
            if digest != want:
                raise ChecksumError(f"{url}: {_NAMES[name]} {digest} does not match the expected {want}; "
                                    f"the file was deleted." + _hint(hint))

    try:
        with atomic_write(dest, ".part", verify=verify) as out, \
                urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            promised["length"] = int(length) if length else None
            bar = _progress_bar(promised["length"] or size, dest.name, progress)
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
            finally:
                bar.close()
    except DownloadError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        # URLError (no network, DNS, HTTP 404), timeouts, connection resets
        # and IncompleteRead (the server closed early) all end up here.
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        raise DownloadError(f"could not download {url} ({reason}).{_hint(hint)}") from exc
    return dest


_NAMES = {"md5": "MD5", "sha256": "SHA-256", "sha1": "SHA-1"}


def _checksums(**given):
    """The checksums that are known: {algorithm: expected hex digest}."""
    return {name: value for name, value in given.items() if value is not None}


def _hint(hint):
    return f"\n{hint}" if hint else ""


def _resource_names(name):
    if name in GROUPS:
        return list(GROUPS[name])
    if name in REGISTRY:
        return [name]
    known = sorted(REGISTRY) + sorted(GROUPS)
    raise KeyError(f"unknown data set {name!r}; known: {', '.join(known)}")


def download(name, force=False, timeout=10.0, progress=True, root=None):
    """Fetch registered data set ``name`` into the cache; returns its local path.

    name:  a key of ``REGISTRY`` (e.g. "movielens-100k", "shakespeare") or of
           ``GROUPS`` ("mnist", "vader", ...).
    root:  cache folder (default ``cache_dir()``).
    Returns the file, the folder an archive unpacks to, or for a group the
    folder holding its files.  Archives are extracted after download.
    """
    root = Path(root) if root is not None else cache_dir()
    paths = []
    for key in _resource_names(name):
        res = REGISTRY[key]
        dest = root / res.filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        # One process at a time per file: a second one waits, then finds the file cached
        # (the kernel drops the lock if its holder dies, so it never goes stale).
        with file_lock(dest.with_name(dest.name + ".lock")):
            paths.append(_fetch_one(key, res, root, dest, force, timeout, progress))
    return paths[0] if len(paths) == 1 else Path(os.path.commonpath(paths))


def _fetch_one(key, res, root, dest, force, timeout, progress):
    """Download (unless cached and whole) and extract one registry resource; returns its target path."""
    hint = not_found_message(res.filename, first_line=f"To supply {key!r} by hand, fetch "
                                                      f"{res.urls[0] if res.urls else res.about} and:")
    if res.notes:
        hint = f"{res.notes}\n{hint}"
    if force or not _cached_and_whole(dest, res):
        if not res.urls:
            raise DownloadError(f"{key!r} cannot be downloaded automatically.\n{hint}")
        errors = []
        for url in res.urls:
            try:
                download_url(url, dest, res.md5, res.size, timeout, progress, hint, res.sha256, res.sha1)
                if _checksums(md5=res.md5, sha256=res.sha256, sha1=res.sha1):   # verified on disk
                    dest.with_name(dest.name + ".verified").write_text("checksums verified\n")
                break
            except ChecksumError:
                raise          # a wrong file is not a mirror problem: stop
            except DownloadError as exc:
                if len(res.urls) == 1:
                    raise
                errors.append(str(exc).split("\n")[0])
        else:
            raise DownloadError("every mirror failed:\n  " + "\n  ".join(errors) + f"\n{hint}")
    # Extraction is complete only when its marker exists: a folder left by a killed
    # extraction is never served as the data set (it is extracted again).
    done = root / (res.filename + ".extracted")
    if res.unpack is not None and (force or not done.exists() or not (root / res.target).exists()):
        done.unlink(missing_ok=True)
        extract(dest, root / res.unpack)
        done.write_text(f"{res.filename} extracted into {res.unpack or '.'}\n")
    return root / res.target


def _cached_and_whole(dest, res):
    """Is ``dest`` in the cache with the registry's size and checksums?

    The checksums are computed once, at the first use of a cached file (a
    ``.verified`` marker remembers it); a file that fails is deleted so it is
    fetched again, instead of a truncated copy being served for ever.
    """
    if not dest.exists() or (res.size is not None and dest.stat().st_size != res.size):
        return False
    marker = dest.with_name(dest.name + ".verified")
    expected = _checksums(md5=res.md5, sha256=res.sha256, sha1=res.sha1)
    if not expected or marker.exists():
        return True
    if any(file_digest(dest, name) != want for name, want in expected.items()):
        dest.unlink()
        return False
    marker.write_text("checksums verified\n")
    return True


# ---------------------------------------------------------------------- extraction
def _check_member(target, name, archive):
    """Refuse an archive member whose path resolves outside ``target``."""
    dest = (target / name).resolve()
    if dest != target and target not in dest.parents:
        raise UnsafeArchiveError(f"{archive}: member {name!r} would be written outside {target}; refusing")


def extract(archive, target_dir):
    """Unpack a .zip or .tar(.gz/.bz2/.xz) ``archive`` into ``target_dir``.

    Every member is checked before anything is written: a path that escapes
    the target folder, or (in a tar) a link or device file, raises
    UnsafeArchiveError.  Returns the target folder.
    """
    archive = Path(archive)
    target = Path(target_dir).resolve()
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                _check_member(target, name, archive)
            zf.extractall(target)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                _check_member(target, m.name, archive)
                if not (m.isfile() or m.isdir()):
                    # Links can point anywhere and devices are never data: refuse both.
                    raise UnsafeArchiveError(f"{archive}: member {m.name!r} is a link or special file; refusing")
            if hasattr(tarfile, "data_filter"):       # Python >= 3.12 (and patched 3.10/3.11)
                tf.extractall(target, members=members, filter="data")
            else:
                tf.extractall(target, members=members)
    else:
        raise ValueError(f"{archive}: not a zip or tar archive")
    return target
