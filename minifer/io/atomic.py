"""Atomic file writes: a crash or error mid-write never leaves a half-written file in place.

Write to a temporary file in the target's directory, flush and fsync it, then ``os.replace``
it over the target (atomic on POSIX and Windows within one file system). On any error the
temporary file is removed and the old file, if any, is untouched. A save that is killed
cannot remove its temporary file; a later save to that folder removes stale ones (a folder is
swept at most once every ``SWEEP_SECONDS`` per process). A path
that is a symlink is written through: the file it points to is replaced, the link kept.
"""
import contextlib
import math
import os
import re
import tempfile
import threading
import time

import numpy

from .npz import NpzFile

STALE_SECONDS = 3600  # a temporary file untouched this long belongs to a killed save
SWEEP_SECONDS = 600
TEMP_SUFFIX = ".minifer-tmp"  # a name only these saves make, so no user's file is ever taken for one
_swept, _sweep_lock = {}, threading.Lock()  # folder -> when this process last swept it
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + "$")  # mkstemp's names, as made below


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """``with atomic_write(path) as f: f.write(...)`` replaces ``path`` only if the block succeeds."""
    path = os.path.realpath(path)  # through a symlink: replacing the link itself would cut it
    directory = os.path.dirname(path)
    remove_stale_temps(directory)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=TEMP_SUFFIX)
    try:
        os.chmod(temp, _new_file_mode(path))  # mkstemp makes 0600; give the file its usual permissions
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        raise
    _sync_directory(directory)


def remove_stale_temps(directory):
    """Delete the temporary files of saves that were killed (kill -9, power loss) in ``directory``.

    Only names this module makes (``.<name>.<8 random characters>.minifer-tmp``) that nothing has
    written to for ``STALE_SECONDS`` go: a save in progress keeps its file's mtime fresh, and
    an age works across processes and machines where a writer's PID would not. A folder is swept at
    most once in ``SWEEP_SECONDS`` by a process: a run writing thousands of pictures into one folder
    would otherwise list it again for every one (quadratic in the pictures).
    """
    now = time.time()
    with _sweep_lock:
        if now - _swept.get(directory, -math.inf) < SWEEP_SECONDS:
            return
        _swept[directory] = now
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not _TEMP_NAME.match(entry.name):
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > STALE_SECONDS:
                os.remove(entry.path)


def _new_file_mode(path):
    """The replaced file's permissions, or what ``open()`` would give a new file under the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_directory(directory):
    """Make the rename itself durable where the OS allows fsync on a directory (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def npz_path(path):
    """The file to read for ``path``: the path as given, or (for files saved by versions that
    appended it) the path with ``.npz`` added when only that exists."""
    path = os.fspath(path)
    if os.path.exists(path) or path.endswith(".npz") or not os.path.exists(path + ".npz"):
        return path
    return path + ".npz"


def atomic_save_npz(path, arrays):
    """``numpy.savez`` of the dict ``arrays`` to exactly ``path``, atomically; returns the path."""
    path = os.fspath(path)
    with atomic_write(path) as f:
        numpy.savez(f, **arrays)
    return path


def load_npz(path):
    """All arrays of an .npz as a dict, never unpickling (a weights file cannot run code);
    a damaged file raises ``FileFormatError`` naming it."""
    with NpzFile(npz_path(path)) as archive:
        return dict(archive)
