"""Write a file atomically, while other processes write the same file: ``md.save`` and downloads.

    with atomic_write("model.npz") as f:       # bytes go to a private temporary ...
        f.write(data)                         # ... flushed to disk, then renamed over the target

Readers see the old file or the new one, never half of either, and a crash
leaves the old file intact.  What makes it safe with *several* writers:

* **One temporary per writer.**  ``.<name>.<host>.<pid>.<random><suffix>`` in the
  target's folder (a rename is atomic only within one file system), created with
  ``O_EXCL``: two writers never share a temporary (a shared ``<name>.part``
  let one download truncate another's bytes).
* **Only a provably dead temporary is removed.**  A writer killed mid-write
  leaves its temporary behind; the next writer removes it only when it was made
  on this host by a process that no longer exists *and* has not been touched
  for ``STALE_AFTER`` seconds.  A live writer's temporary is never touched
  (deleting it made another process's ``os.replace`` fail).  Temporaries
  without an owner in their name (older minidl versions) are removed after a day.
* **Permissions like any other file.**  The temporary is created with mode
  0o666 and the kernel applies the umask, as ``open(path, "w")`` would
  (``tempfile.mkstemp`` would give 0600 regardless); when the target already
  exists, its permission bits are kept.
* **Verified before it is visible.**  ``verify(tmp_path)`` (optional) runs on the
  bytes *on disk*, after fsync and before the rename: a download checks its
  size and checksum there, not on the stream it thinks it wrote.

``file_lock(path)`` serialises whole operations (download, then extract) among
processes with ``fcntl.flock``; the lock goes away with its process, so it can
never be left stale.  Without ``fcntl`` (Windows) it is a no-op: the private
temporaries alone keep concurrent writers correct, they only duplicate work.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import stat
import time
from pathlib import Path

STALE_AFTER = 60.0              # seconds without a write before a dead writer's temporary may go
LEGACY_STALE_AFTER = 86400.0    # a temporary that does not name its writer: a day

_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _prefix(dest: Path) -> str:
    return f".{dest.name}."


def temporary_name(dest: Path, suffix: str) -> str:
    """This writer's fresh temporary name for ``dest``: ``.<name>.<host>.<pid>.<random><suffix>``."""
    return f"{_prefix(dest)}{_HOST}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"


def _owner(entry: str, dest: Path, suffix: str):
    """(host, pid) from a temporary's name, or None when the name does not say (legacy)."""
    middle = entry[len(_prefix(dest)):-len(suffix)].split(".")
    if len(middle) == 3 and middle[1].isdigit():
        return middle[0], int(middle[1])
    return None


def _process_exists(pid: int) -> bool:
    if os.name == "nt":                 # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                     # EPERM: it exists, it belongs to someone else
        return True
    return True


def is_dead_temporary(path: Path, dest: Path, suffix: str, now: float | None = None) -> bool:
    """Provably abandoned: written on this host by a process that is gone, and idle for a while."""
    try:
        idle = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    owner = _owner(path.name, dest, suffix)
    if owner is None:
        return idle > LEGACY_STALE_AFTER
    host, pid = owner
    return host == _HOST and pid != os.getpid() and idle > STALE_AFTER and not _process_exists(pid)


def remove_dead_temporaries(dest, suffix: str) -> list[str]:
    """Delete the temporaries of ``dest`` left by writers that are provably dead; return their names."""
    dest = Path(dest)
    removed = []
    try:
        entries = os.listdir(dest.parent)
    except OSError:
        return removed
    for entry in entries:
        if entry.startswith(_prefix(dest)) and entry.endswith(suffix) and \
                is_dead_temporary(dest.parent / entry, dest, suffix):
            with contextlib.suppress(OSError):         # gone already: another writer cleaned it
                os.remove(dest.parent / entry)
                removed.append(entry)
    return removed


def _create(dest: Path, suffix: str):
    """(fd, path) of a new private temporary beside ``dest``, mode 0o666 minus the umask."""
    for _ in range(100):
        tmp = dest.parent / temporary_name(dest, suffix)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(os.stat(dest).st_mode))    # keep the target's own permissions
        except FileNotFoundError:
            pass
        return fd, tmp
    raise FileExistsError(f"could not create a temporary file beside {dest}")


@contextlib.contextmanager
def atomic_write(dest, suffix: str = ".tmp", verify=None):
    """Yield a binary file; on a clean exit its bytes replace ``dest`` atomically.

    ``verify(tmp_path)``, when given, runs on the finished file on disk before the
    rename; if it (or the block) raises, the temporary is deleted and ``dest`` is
    left as it was."""
    dest = Path(dest)
    remove_dead_temporaries(dest, suffix)
    fd, tmp = _create(dest, suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())        # the bytes are on disk before the rename makes them visible
        if verify is not None:
            verify(tmp)
        os.replace(tmp, dest)           # atomic on POSIX and Windows
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    fsync_folder(dest.parent)


def fsync_folder(folder):
    """Make a rename itself durable (POSIX); harmless to skip where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(path):
    """Hold an exclusive advisory lock on ``path`` (created if needed) for the block.

    The kernel drops the lock when its process dies, so a killed holder never
    leaves a stale lock behind.  A no-op where ``fcntl`` does not exist."""
    try:
        import fcntl
    except ImportError:                 # Windows: private temporaries keep writers correct anyway
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
