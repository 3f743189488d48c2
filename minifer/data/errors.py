"""Errors and reports for data that is missing or malformed.

Every reader raises :class:`DataError` with the file, the line (1-based, the header is
line 1) or the image, and what was expected, so a user can fix their copy instead of
debugging a shape error three layers deeper.  With ``skip_bad=True`` readers skip such
entries instead, warn once with :class:`DataWarning`, and record them in a
:class:`LoadReport` when one is passed.
"""
import warnings
from dataclasses import dataclass, field

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


class DataWarning(UserWarning):
    """Entries were skipped (``skip_bad=True``) or needed a fallback."""


def where(path, line=None):
    """``'path line 7'`` or ``'path'``: the prefix of every message about a file."""
    return f"{path} line {line}" if line is not None else f"{path}"


@dataclass
class LoadReport:
    """What a load skipped or patched up; pass one as ``report=`` to receive it.

    ``skipped`` holds one message per skipped row or image; ``fallbacks`` one per
    image whose face was not found and was centre-cropped instead.
    """

    skipped: list = field(default_factory=list)
    fallbacks: list = field(default_factory=list)
    from_cache: bool = False

    @property
    def n_skipped(self):
        return len(self.skipped)

    @property
    def n_fallbacks(self):
        return len(self.fallbacks)


def report_problems(source, skipped, fallbacks, from_cache, report):
    """Warn about skipped/fallback entries and copy them into ``report`` if given."""
    if skipped:
        warnings.warn(
            f"{source}: skipped {len(skipped)} bad entries; first: {skipped[0]}",
            DataWarning, stacklevel=3)
    if fallbacks:
        warnings.warn(
            f"{source}: no face found in {len(fallbacks)} images, used a centre crop; "
            f"first: {fallbacks[0]}", DataWarning, stacklevel=3)
    if report is not None:
        report.skipped.extend(skipped)
        report.fallbacks.extend(fallbacks)
        report.from_cache = from_cache
