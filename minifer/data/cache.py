"""Parsed datasets cached as ``.npz`` so the second load is near instant.

The cache file lives beside the source (``.fer2013.csv.fer2013-<key>.npz``, hidden) or,
when that folder is not writable, in ``$MINIFER_CACHE`` or ``~/.cache/minifer``.
Its name is keyed on the loader and its options; inside it stores a *stamp* of the
source (size and mtime of the file, or of every file under a folder), and a stamp
that no longer matches means the source changed and it is parsed again.
Writes go through ``minifer.io.atomic_save_npz`` (a temporary file in the same folder,
fsynced, then ``os.replace``d), so a crash or a concurrent reader never sees half a cache file.  Only plain arrays are
stored and read with ``allow_pickle=False``.
"""
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_save_npz
from ..io.npz import NpzFile

FORMAT_VERSION = 2  # 2: problems are counted, only the first messages kept


def default_cache_dir():
    """``$MINIFER_CACHE`` or ``~/.cache/minifer``: used when the source folder is read-only."""
    return Path(os.environ.get("MINIFER_CACHE", Path.home() / ".cache" / "minifer"))


def source_stamp(path):
    """A string that changes when the file, or any file or folder under the folder, changes.

    Symlinked folders are followed (class folders are often links into a dataset store),
    each real folder once so a link loop ends; a dangling link counts as its name alone.
    """
    path = Path(path)
    if path.is_file():
        st = path.stat()
        return f"file:{st.st_size}:{st.st_mtime_ns}"
    listing = hashlib.sha1()
    seen = set()
    for root, dirs, files in os.walk(path, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()
        listing.update(f"{os.path.relpath(root, path)}/\n".encode())  # empty folders count
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                st = os.stat(full)
                size, mtime = st.st_size, st.st_mtime_ns
            except OSError:  # dangling or looping link: read (and reported) as a bad file
                size = mtime = -1
            listing.update(f"{os.path.relpath(full, path)}\0{size}\0{mtime}\n".encode())
    return "dir:" + listing.hexdigest()


def cache_paths(source, loader, options):
    """Candidate cache files for ``source``: beside it first, then the cache dir."""
    source = Path(source).resolve()
    key = json.dumps({"loader": loader, "options": options, "v": FORMAT_VERSION},
                     sort_keys=True, default=str)
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    beside = source.parent / f".{source.name}.{loader}-{digest}.npz"
    where_digest = hashlib.sha1(str(source).encode()).hexdigest()[:12]
    elsewhere = default_cache_dir() / f"{source.name}.{where_digest}.{loader}-{digest}.npz"
    return beside, elsewhere


def _read(path, stamp):
    """The cached arrays, or None; read through NpzFile, so a foreign file costs at most its headers."""
    try:
        with NpzFile(path, "a minifer data cache", kinds="biufU") as npz:
            if str(npz["__stamp__"]) != stamp:
                return None
            return {k: npz[k] for k in npz if k != "__stamp__"}
    except (OSError, ValueError, KeyError):  # absent, truncated or foreign
        return None


def _write_atomic(path, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_npz(path, arrays)  # the names end in .npz already, so this writes ``path``


def cached(source, loader, options, parse, enabled=True):
    """Return ``(arrays, from_cache)``: the cached arrays of ``source`` or ``parse()``'s.

    ``parse`` returns a dict of NumPy arrays (strings as unicode arrays); it is called
    only when no cache file with a matching stamp exists.
    """
    if not enabled:
        return parse(), False
    stamp = source_stamp(source)
    candidates = cache_paths(source, loader, options)
    for path in candidates:
        arrays = _read(path, stamp)
        if arrays is not None:
            return arrays, True
    arrays = parse()
    payload = dict(arrays, __stamp__=np.array(stamp))
    for path in candidates:
        try:
            _write_atomic(path, payload)
            break
        except OSError:
            continue
    else:
        warnings.warn(f"could not write a cache for {source} (tried {candidates[0]} and "
                      f"{candidates[1]}); it will be parsed again next time")
    return arrays, False
