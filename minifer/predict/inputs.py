"""The files a run predicts on, found lazily, one directory entry at a time.

Folders are walked with ``os.scandir`` in the order the file system lists them (what ``find``
prints), never gathered or sorted first, so a folder of a million photos costs no more memory than
one of a thousand; hidden entries and the run's own output folder are skipped. Each input carries
its size and modification time, which, with its path, tell a resume whether it is the file already
done (``key``).
"""
import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Optional

from ..data.images import is_image_file

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".avi", ".webm", ".mov")


def is_video_file(name):
    """True for a visible file whose extension is a video container PyAV reads."""
    return not name.startswith(".") and name.lower().endswith(VIDEO_EXTENSIONS)


def input_key(file, size, mtime_ns):
    """64 bits standing for (path, size, modification time): all a resume keeps per input done."""
    text = f"{file}\0{size}\0{mtime_ns}".encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Input:
    """A file to predict on, its path as found; ``error`` where it cannot be (then size and
    modification time are None when the file could not even be looked at)."""
    file: str
    size: Optional[int] = None
    mtime_ns: Optional[int] = None
    error: Optional[str] = None

    @property
    def video(self):
        return is_video_file(os.path.basename(self.file))

    @property
    def key(self):
        return input_key(self.file, self.size, self.mtime_ns)


def walk(paths, skip=None):
    """Inputs for ``paths``: files as given (any extension: an unreadable one becomes an error row),
    and the image and video files under folders; a missing path is an input with an error.
    ``skip``: a folder left out of the walk (the run's output folder)."""
    skipped = _identity(skip) if skip is not None else None
    for path in map(os.fspath, paths):
        try:
            info = os.stat(path)
        except OSError as error:
            yield Input(path, error="not found" if isinstance(error, FileNotFoundError) else
                        f"cannot be read ({error.strerror})")
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _folder(path, skipped)
        elif not stat.S_ISREG(info.st_mode):
            yield Input(path, error="not a regular file")
        else:
            yield Input(path, info.st_size, info.st_mtime_ns)


def _identity(path):
    try:
        info = os.stat(path)
        return info.st_dev, info.st_ino
    except OSError:
        return None


def _folder(root, skipped):
    """Depth first; only the folders still to visit are held, never a folder's list of files."""
    stack = [root]
    while stack:
        folder = stack.pop()
        if skipped is not None and _identity(folder) == skipped:
            continue
        subfolders = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        subfolders.append(entry.path)
                    elif is_image_file(entry.name) or is_video_file(entry.name):
                        yield _entry_input(entry)
        except OSError as error:
            yield Input(folder, error=f"folder cannot be listed ({error.strerror})")
        stack.extend(reversed(subfolders))


def _entry_input(entry):
    try:
        info = entry.stat()
    except OSError as error:  # a dangling link
        return Input(entry.path, error=f"cannot be read ({error.strerror})")
    return Input(entry.path, info.st_size, info.st_mtime_ns)
