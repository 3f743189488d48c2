"""``load_fer2013``: FER2013 from any of the copies users actually have.

Accepted: ``fer2013.csv`` (emotion,pixels,Usage), ``icml_face_data.csv`` (the same with
`` Usage``/`` pixels`` headers), ``train.csv`` (emotion,pixels: all Training),
``test.csv`` (pixels only: all "Test", labels -1), or a folder with ``train/`` and
``test/`` class subfolders of 48x48 images (class folders are matched by name, in any
spelling; ``test/`` is PublicTest+PrivateTest and cannot tell them apart).
Labels always follow :data:`FER2013_CLASSES`, the CSV's order.
"""
import os
import warnings
from pathlib import Path

import numpy as np

from .cache import cached
from .classes import FER2013_CLASSES
from .errors import FER2013_HELP, DataError, DataNotFoundError, DataWarning, Problems, report_problems
from .fer2013_csv import TEST, read_csv_table
from .folder import list_class_images, raise_or_report, read_images
from .images import resize

_SELECT = {"Training": (0,), "PublicTest": (1,), "PrivateTest": (2,), "Test": (1, 2, TEST)}
CSV_NAMES = ("fer2013.csv", "icml_face_data.csv")


def fer2013_table(path, skip_bad=False, cache=True, report=None):
    """All rows of a FER2013 copy: dict of ``images``, ``labels``, ``usage`` codes
    (into ``USAGES``), ``lines`` (CSV line, or -1 for a folder copy)."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"{path} does not exist. {FER2013_HELP}")
    if path.is_dir():
        if not ((path / "train").is_dir() and (path / "test").is_dir()):
            for name in CSV_NAMES:
                if (path / name).is_file():
                    return fer2013_table(path / name, skip_bad, cache, report)
            raise DataNotFoundError(f"{path} holds neither {' nor '.join(CSV_NAMES)} nor "
                                    f"train/ and test/ class folders. {FER2013_HELP}")
        arrays, from_cache = cached(path, "fer2013-folder", {}, lambda: _read_folder_copy(path),
                                    enabled=cache)
        raise_or_report(path, arrays, skip_bad, from_cache, report)
        return arrays
    arrays, from_cache = cached(path, "fer2013", {}, lambda: read_csv_table(path), enabled=cache)
    skipped = Problems.from_arrays(arrays, "skipped")
    if skipped.count and not skip_bad:
        raise DataError(skipped.messages[0])
    report_problems(path, skipped, Problems(), from_cache, report)
    return arrays


def _read_folder_copy(path):
    bad, entries, codes = Problems(), [], []
    for split, code in (("train", 0), ("test", TEST)):
        part = list_class_images(path / split, FER2013_CLASSES, bad, dataset="FER2013")
        entries += part
        codes += [code] * len(part)
    arrays = read_images(entries, lambda grey, file: (resize(grey), None), bad)
    arrays["usage"] = np.asarray(codes, np.uint8)[arrays["kept"]]
    arrays["lines"] = np.full(len(arrays["labels"]), -1, np.int64)
    return arrays


def select_usage(table, usage, source=""):
    """Boolean mask of the rows of ``table`` in ``usage`` (None: all rows)."""
    if usage is None:
        return np.ones(len(table["labels"]), bool)
    if usage not in _SELECT:
        raise ValueError(f"usage must be one of {', '.join(_SELECT)} or None, not {usage!r}")
    codes = table["usage"]
    if usage in ("PublicTest", "PrivateTest") and (codes == TEST).any():
        warnings.warn(f"{source} cannot tell PublicTest from PrivateTest (a folder copy's "
                      f"test/ or a test.csv): usage={usage!r} returns all of its test rows",
                      DataWarning, stacklevel=3)
        return codes == TEST
    return np.isin(codes, _SELECT[usage])


def load_fer2013(path, usage=None, skip_bad=False, cache=True, report=None):
    """FER2013 as ``(images (N,48,48,1) uint8, labels int64)`` in FER2013_CLASSES order.

    ``usage``: "Training", "PublicTest", "PrivateTest", "Test" (= both test parts) or
    None (all rows, file order).  ``test.csv`` has no labels: they are returned as -1.
    Bad rows raise :class:`DataError` naming the file and line; with ``skip_bad=True``
    they are skipped, warned about, and listed in ``report`` (a LoadReport) if given.
    Parsed files are cached as ``.npz`` beside the source (``cache=False`` to disable).
    """
    table = fer2013_table(path, skip_bad=skip_bad, cache=cache, report=report)
    keep = select_usage(table, usage, source=path)
    return table["images"][keep], table["labels"][keep]


def find_fer2013(path=None):
    """The FER2013 copy to use: ``path`` or the first found in the usual places.

    Looks in ./data, $MINIFER_DATA and ~/.minifer/data for fer2013.csv,
    icml_face_data.csv, or a folder with train/ and test/ (the folder itself or its
    ``fer2013/`` subfolder).  Raises DataNotFoundError with download help otherwise.
    """
    if path is not None:
        if not Path(path).exists():
            raise DataNotFoundError(f"{path} does not exist. {FER2013_HELP}")
        return Path(path)
    places = [Path("data")]
    if os.environ.get("MINIFER_DATA"):
        places.append(Path(os.environ["MINIFER_DATA"]))
    places.append(Path.home() / ".minifer" / "data")
    for place in places:
        if place.is_file():
            return place
        for candidate in [place / n for n in CSV_NAMES]:
            if candidate.is_file():
                return candidate
        for folder in (place, place / "fer2013"):
            if (folder / "train").is_dir() and (folder / "test").is_dir():
                return folder
    looked = ", ".join(str(p) for p in places)
    raise DataNotFoundError(f"FER2013 not found (looked in {looked}). {FER2013_HELP}")
