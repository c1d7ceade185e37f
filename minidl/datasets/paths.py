"""Where data files live, and the two errors a loader can raise.

Real data sets are never part of minidl.  A loader finds its file in one of
three places, in this order:

1. the path the caller gives (a file, or a folder that holds it; a lesson's
   ``--data PATH``);
2. the *data dir* -- ``$MINIDL_DATA_DIR`` if set, else the ``shared/data``
   folder beside the repository (``<repo>/../shared/data``) when it exists:
   real files kept next to the project for development and CI;
3. the *download cache* -- ``$MINIDL_DATA`` if set, else
   ``$XDG_CACHE_HOME/minidl`` or ``~/.cache/minidl``: where
   ``md.datasets.download(name)`` puts what it fetches.

Both folders use the same layout (``mnist/t10k-images-idx3-ubyte.gz``,
``vader_sentiment/tweets_GroundTruth.txt``, ``ml-100k/u.data``, ...), so one
relative path finds a file in either.

Errors:
* ``DataNotFoundError`` (a FileNotFoundError) says where it looked and how to
  get the file: which download name, which file to put in which folder.
* ``DataFormatError`` (a ValueError) names the file and the 1-based line of a
  malformed record.  Parsers never skip a bad line silently: one dropped line
  would shift every later label by one.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "MINIDL_DATA_DIR"     # real files for development / CI
ENV_CACHE_DIR = "MINIDL_DATA"        # the download cache


class DataNotFoundError(FileNotFoundError):
    """A data file is in none of the places a loader looks."""


class DataFormatError(ValueError):
    """A data file does not have the documented format (message names file and line)."""

    def __init__(self, path, line, message):
        self.path, self.line = str(path), line
        where = f"{path}, line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")


def find_data_dir():
    """The folder of real data files for development, or None.

    ``$MINIDL_DATA_DIR`` when set (returned even if it does not exist, so a
    typo shows up as "not found in <that folder>"), otherwise
    ``<repo>/../shared/data`` when that folder exists, otherwise None.
    """
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    # paths.py -> datasets -> minidl -> <repo>; shared/ sits beside <repo>.
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    return shared if shared.is_dir() else None


def cache_dir():
    """The download cache folder (not created here)."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "minidl"


def search_dirs(data_dir=None):
    """The folders searched for relative paths, in order (existing ones only)."""
    dirs = [Path(data_dir)] if data_dir is not None else []
    found = find_data_dir()
    if found is not None:
        dirs.append(found)
    dirs.append(cache_dir())
    return [d for d in dirs if d.is_dir()]


def find_file(relpath, data_dir=None):
    """The first existing ``<dir>/<relpath>`` over ``search_dirs(data_dir)``, or None.

    Works for folders too (``find_file("ml-100k")``).
    """
    for d in search_dirs(data_dir):
        candidate = d / relpath
        if candidate.exists():
            return candidate
    return None


def resolve(path, relpaths, download_name=None, what="data file"):
    """The file a loader should read.

    path:     what the caller passed: None, a file, or a folder.
    relpaths: the usual relative path(s) of the file, e.g.
              ``"vader_sentiment/tweets_GroundTruth.txt"``.  Tried as given under
              the search dirs; inside a given folder, by their last component in
              the folder and its subfolders (``find_inside``).  No relpaths (any
              text file): a folder holding exactly one ``.txt`` file gives that file.
    Raises DataNotFoundError with instructions when nothing is found.
    """
    relpaths = [relpaths] if isinstance(relpaths, str) else list(relpaths)
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p
        if p.is_dir():
            for rel in relpaths:
                if (p / rel).is_file():
                    return p / rel
            names = [Path(r).name for r in relpaths]
            found = find_inside(p, names) if names else single_file(p, ".txt")
            if found is not None:
                return found
            looked = " or ".join(names) + " (also in its subfolders)" if names else "a single .txt file"
            raise DataNotFoundError(f"no {what} in the folder {p}: looked for {looked}; it holds {listing(p)}")
        raise DataNotFoundError(f"{what} {p} does not exist")
    for rel in relpaths:
        found = find_file(rel)
        if found is not None:
            return found
    raise DataNotFoundError(not_found_message(relpaths[0], download_name, what))


# ----------------------------------------------------------------------------- looking inside a folder
MAX_DEPTH = 3                 # how deep find_inside looks: data/<set>/<unpacked>/<file>
MAX_ENTRIES = 20_000          # and how many entries at most: pointing at $HOME must not take minutes


def _walk(folder, max_depth=MAX_DEPTH):
    """(folder, its entries) breadth first: the folder itself, then subfolders down to max_depth."""
    queue, seen = [(Path(folder), 0)], 0
    while queue:
        d, depth = queue.pop(0)
        try:
            entries = sorted(d.iterdir(), key=lambda e: e.name)
        except OSError:
            continue
        seen += len(entries)
        yield d, entries
        if depth < max_depth and seen < MAX_ENTRIES:
            queue += [(e, depth + 1) for e in entries if e.is_dir() and not e.name.startswith(".")]


def find_inside(folder, names, max_depth=MAX_DEPTH):
    """The first file called one of ``names`` in ``folder`` or below (nearest first, then names' order)."""
    for _, entries in _walk(folder, max_depth):
        by_name = {e.name: e for e in entries if e.is_file()}
        for name in names:
            if name in by_name:
                return by_name[name]
    return None


def folder_holding(folder, required, max_depth=MAX_DEPTH):
    """The first folder at or below ``folder`` that holds every entry of ``required``.

    Each entry of ``required`` is a name or a tuple of alternative names
    (``("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte")``); a name may be a
    file or a folder (``"train"`` in aclImdb).
    """
    alternatives = [(r,) if isinstance(r, str) else tuple(r) for r in required]
    for d, entries in _walk(folder, max_depth):
        names = {e.name for e in entries}
        if all(any(a in names for a in alt) for alt in alternatives):
            return d
    return None


def single_file(folder, suffix):
    """The one file with ``suffix`` directly in ``folder``, or None (none, or several)."""
    files = [e for e in Path(folder).iterdir() if e.is_file() and e.suffix == suffix]
    return files[0] if len(files) == 1 else None


def listing(folder, limit=8) -> str:
    """What a folder holds, for an error message: "a.txt, b/, c.gz and 4 more" (or "nothing")."""
    try:
        entries = sorted(Path(folder).iterdir(), key=lambda e: e.name)
    except OSError as exc:
        return f"nothing readable ({exc.strerror})"
    names = [e.name + ("/" if e.is_dir() else "") for e in entries if not e.name.startswith(".")]
    if not names:
        return "nothing"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def resolve_dir(path, relpath, download_name=None, what="data folder"):
    """The folder a folder-loader should read (``aclImdb``, ``ml-100k``, ...).

    A given ``path`` may be the folder itself or its parent (then
    ``path/relpath`` is used); None searches the data dir and the cache.
    """
    if path is None:
        return resolve(None, relpath, download_name, what)
    p = Path(path).expanduser()
    if p.is_file():
        p = p.parent
    if not p.is_dir():
        raise DataNotFoundError(f"{what} {p} does not exist")
    return p / relpath if (p / relpath).is_dir() else p


def not_found_message(relpath, download_name=None, what="data file", first_line=None):
    """How to supply ``relpath`` by hand (used by loaders and by download)."""
    if first_line is None:
        looked = [str(d) for d in [find_data_dir(), cache_dir()] if d is not None]
        first_line = f"could not find {relpath!r} ({what}); looked in: {', '.join(looked)}."
    lines = [first_line]
    if download_name:
        lines.append(f"  - download it: md.datasets.download({download_name!r}), or")
    lines.append(f"  - put it by hand at {cache_dir() / relpath} (set ${ENV_CACHE_DIR} to move the cache), or")
    lines.append(f"  - point ${ENV_DATA_DIR} at a folder holding {relpath}, or pass its path to the "
                 f"loader (lessons: --data PATH).")
    return "\n".join(lines)


def read_lines(path, encoding="utf-8"):
    """(1-based line number, line without its newline) for every line of a text file.

    The one line reader of the loaders, so every format error can name its line.
    """
    with open(path, encoding=encoding, newline="") as f:
        for lineno, line in enumerate(f, 1):
            yield lineno, line.rstrip("\r\n")
