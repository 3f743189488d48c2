""".npz files read member by member, each member checked from its header before its data.

``numpy.load`` reads a member whole when asked for it, so a 4 MB file can hold a 4 GB array
of zeros. Here every member's header (shape, dtype) is read first, without its data, so a
reader can check names and shapes against what it expects and then read only what it
needs. A member must also be able to hold what its header declares: a stored member its
bytes, a deflated one at most ``MAX_DEFLATE_RATIO`` times its compressed size (zlib's
limit), so what a file makes us allocate is bounded by its size on disk. Other compression
methods (bzip2, LZMA: a few KB can inflate to gigabytes in one step) and encrypted members
are refused: NumPy and Keras write neither.
"""
import copy
import json
import math
import os
import stat
import zipfile
import zlib
from collections.abc import Mapping

import numpy
from numpy.lib import format as npy

NUMERIC_KINDS = "biuf"  # bool, integers, floats: what model files hold (never objects, so never pickle)
MAX_DEFLATE_RATIO = 1032  # zlib never inflates one byte into more than about 1032
_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: MAX_DEFLATE_RATIO}  # the methods NumPy and Keras write
# what zipfile and numpy raise for a damaged, encrypted or foreign archive or member
_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, SyntaxError, RuntimeError,
                NotImplementedError, zlib.error)


class FileFormatError(ValueError):
    """A file that is not what it should be; the message names the file and what was expected."""


def regular_file(path):
    """``path``, if it is a regular file: a FIFO, a device or a folder is refused before it is opened
    (opening a FIFO blocks; ``/dev/zero`` never ends). A missing path raises FileNotFoundError."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise FileFormatError(f"{path}: is not a regular file (a folder, FIFO or device?)")
    return path


def member_problem(info, limit=None):
    """Why the zip member ``info`` cannot be read within bounds, or None: encrypted, compressed
    with a method other than stored or deflated, or declaring more bytes than its compressed
    bytes can hold (or than ``limit``). ``zipfile`` never returns more than the declared size."""
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in _EXPANSION:
        return (f"is compressed with zip method {info.compress_type}; minifer reads stored or deflated "
                "members, what NumPy and Keras write")
    if info.file_size > info.compress_size * _EXPANSION[info.compress_type]:
        return f"declares {info.file_size} bytes, more than its {info.compress_size} compressed bytes can hold"
    if limit is not None and info.file_size > limit:
        return f"declares {info.file_size} bytes, more than the {limit} allowed"
    return None


class NpzFile(Mapping):
    """``with NpzFile(path, "a model file") as f``: ``f.shapes``/``f.dtypes`` by member name
    from the headers alone, ``f[name]`` reads that member (never unpickling)."""

    def __init__(self, path, expected="an .npz file of arrays", kinds=NUMERIC_KINDS):
        self.path, self.expected, self.kinds = str(path), expected, kinds
        self.shapes, self.dtypes = {}, {}

    def __enter__(self):
        try:
            self._zip = zipfile.ZipFile(regular_file(self.path))
        except (FileNotFoundError, FileFormatError):
            raise  # already names the path
        except _READ_ERRORS as e:
            raise self.error(f"is not a readable .npz ({e})") from e
        try:
            for info in self._zip.infolist():
                self._check_header(info)
        except BaseException:
            self._zip.close()
            raise
        return self

    def __exit__(self, *exc):
        self._zip.close()
        return False

    def error(self, problem):
        return FileFormatError(f"{self.path}: {problem}; expected {self.expected}")

    def _check_header(self, info):
        name = info.filename[:-4] if info.filename.endswith(".npy") else None
        problem = member_problem(info)
        if problem:
            raise self.error(f"member {info.filename!r} {problem}")
        try:
            with self._zip.open(info) as f:
                version = npy.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"unsupported .npy version {version}")
                read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                shape, _, dtype = read_header(f)
                offset = f.tell()
        except _READ_ERRORS as e:
            raise self.error(f"member {info.filename!r} is not a .npy array ({e})") from e
        if name is None or dtype.kind not in self.kinds or min(shape, default=0) < 0:
            raise self.error(f"member {info.filename!r} is not a plain .npy array of the kinds "
                             f"{self.kinds!r} (it is {dtype})")
        declared = offset + math.prod(shape) * dtype.itemsize
        if declared > info.file_size:
            raise self.error(f"member {name!r} declares shape {shape} ({declared} bytes) but holds "
                             f"{info.file_size} bytes ({info.compress_size} compressed)")
        self.shapes[name], self.dtypes[name] = tuple(shape), dtype

    def without(self, *names):
        """The same open file with ``names`` left out of its keys (a model file's config)."""
        view = copy.copy(self)
        view.shapes = {k: v for k, v in self.shapes.items() if k not in names}
        return view

    def json(self, name, what, limit):
        """Member ``name`` parsed as UTF-8 JSON, read only after its header says it is a byte string of
        at most ``limit`` bytes; ``what`` names it in the error ("its config", "its state")."""
        if self.dtypes[name] != numpy.uint8 or len(self.shapes[name]) != 1 or self.shapes[name][0] > limit:
            raise self.error(f"{what} is {self.dtypes[name]} {self.shapes[name]}, not UTF-8 JSON bytes "
                             f"(at most {limit})")
        try:
            return json.loads(self[name].tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise self.error(f"{what} is not JSON ({e})") from None

    def __getitem__(self, name):
        if name not in self.shapes:
            raise KeyError(name)
        try:
            with self._zip.open(name + ".npy") as f:
                return npy.read_array(f, allow_pickle=False)
        except _READ_ERRORS as e:
            raise self.error(f"member {name!r} cannot be read ({e})") from e

    def __iter__(self):
        return iter(self.shapes)

    def __len__(self):
        return len(self.shapes)
