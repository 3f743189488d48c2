"""Errors and reports for data that is missing or malformed.

Every reader raises :class:`DataError` with the file, the line (1-based, the header is
line 1) or the image, and what was expected, so a user can fix their copy instead of
debugging a shape error three layers deeper.  With ``skip_bad=True`` readers skip such
entries instead, warn once with :class:`DataWarning`, and record them in a
:class:`LoadReport` when one is passed (counted, with the first few messages).
"""
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..io.npz import FileFormatError, regular_file

FER2013_HELP = (
    "FER2013 is not distributed with minifer. Download fer2013.csv from Kaggle's "
    "\"Challenges in Representation Learning: Facial Expression Recognition Challenge\" "
    "(or its icml_face_data.csv / train/ test/ folder copies), then either put it at "
    "./data/fer2013.csv, put it in the folder named by $MINIFER_DATA, or pass the path "
    "(--data-path PATH in the examples, path=... in Python). To try the pipeline "
    "without it, use --data synthetic."
)


class DataError(ValueError):
    """Data that cannot be read as the documented format."""


class DataNotFoundError(DataError):
    """A dataset file or folder that is not where it was looked for."""


def cannot_list(folder, error):
    """The DataError for a folder ``os.listdir``/``scandir`` refused (permissions, a dangling link)."""
    return DataError(f"{folder}: cannot be listed ({error.strerror or error})")


class DataWarning(UserWarning):
    """Entries were skipped (``skip_bad=True``) or needed a fallback."""


def where(path, line=None):
    """``'path line 7'`` or ``'path'``: the prefix of every message about a file."""
    return f"{path} line {line}" if line is not None else f"{path}"


MAX_MESSAGES = 20  # messages kept per kind of problem; every problem is still counted


def open_regular(path):
    """Open ``path`` for binary reading if it is a regular file, else raise DataError.

    A FIFO, a device such as ``/dev/zero`` or a folder would block or never end, so they
    are refused before opening (opening a FIFO alone blocks).
    """
    try:
        return open(regular_file(path), "rb")
    except FileFormatError as e:
        raise DataError(str(e)) from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from e


class Problems:
    """Bad entries of one kind: all are counted, only the first MAX_MESSAGES kept.

    A file of millions of bad lines must not cost millions of messages in memory or in
    its cache, so the count and the first few messages are all that is stored.
    """

    def __init__(self, messages=(), count=0):
        self.messages, self.count = list(messages), max(count, len(messages))

    def add(self, message):
        self.count += 1
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(str(message))

    def extend(self, other):
        self.count += other.count
        self.messages = (self.messages + other.messages)[:MAX_MESSAGES]

    def arrays(self, name):
        """``{name: first messages, n_name: count}`` for a cache file."""
        return {name: np.asarray(self.messages, str), f"n_{name}": np.int64(self.count)}

    @classmethod
    def from_arrays(cls, arrays, name):
        return cls(arrays[name].tolist(), int(arrays[f"n_{name}"]))


@dataclass
class LoadReport:
    """What a load skipped or patched up; pass one as ``report=`` to receive it.

    ``n_skipped`` counts skipped rows or images and ``skipped`` holds the first
    MAX_MESSAGES of their messages; ``n_fallbacks``/``fallbacks`` the same for images
    whose face was not found and were centre-cropped instead.
    """

    skipped_problems: Problems = field(default_factory=Problems)
    fallback_problems: Problems = field(default_factory=Problems)
    from_cache: bool = False

    skipped = property(lambda self: self.skipped_problems.messages)
    n_skipped = property(lambda self: self.skipped_problems.count)
    fallbacks = property(lambda self: self.fallback_problems.messages)
    n_fallbacks = property(lambda self: self.fallback_problems.count)

    def add(self, skipped, fallbacks=None):
        """Record the ``Problems`` of one load."""
        self.skipped_problems.extend(skipped)
        if fallbacks is not None:
            self.fallback_problems.extend(fallbacks)


def report_problems(source, skipped, fallbacks, from_cache, report):
    """Warn about skipped/fallback entries (``Problems``) and add them to ``report`` if given."""
    if skipped.count:
        warnings.warn(
            f"{source}: skipped {skipped.count} bad entries; first: {skipped.messages[0]}",
            DataWarning, stacklevel=3)
    if fallbacks.count:
        warnings.warn(
            f"{source}: no face found in {fallbacks.count} images, used a centre crop; "
            f"first: {fallbacks.messages[0]}", DataWarning, stacklevel=3)
    if report is not None:
        report.add(skipped, fallbacks)
        report.from_cache = from_cache
