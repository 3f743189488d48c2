"""Folders of class subfolders of images: listing them, and ``load_image_folder``.

A class is the *name* of its subfolder, mapped to a label through
:func:`~minifer.data.classes.class_index`, so ``fearful/`` and ``fear/`` both land on
the same label and alphabetical listing order never decides a label.
Files are read in class order, then by file name, so loads are reproducible.
"""
import os
from pathlib import Path

import numpy as np

from .cache import cached
from .classes import class_index
from .errors import DataError, DataNotFoundError, Problems, cannot_list, report_problems, where
from .faces import face_crop_or_centre
from .images import is_image_file, read_grey, resize


def folder_class_names(path):
    """Sorted names of the class subfolders of ``path`` (hidden folders ignored)."""
    path = Path(path)
    if not path.is_dir():
        raise DataNotFoundError(f"{path}: no such folder of class subfolders")
    try:
        names = sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    except OSError as e:
        raise cannot_list(path, e) from e
    if not names:
        raise DataError(f"{path}: has no class subfolders; expected e.g. {path}/happy/*.png")
    return tuple(names)


def list_class_images(path, class_names, bad=None, dataset=""):
    """``[(file, label), ...]`` for every image under ``path/<class>/``.

    Raises DataError for a subfolder that matches none of ``class_names``; plain files
    beside the class folders and non-image files inside them are ignored.  A class
    folder that cannot be listed is added to ``bad`` (a ``Problems``), or raised
    without one.
    """
    path = Path(path)
    entries = []
    for folder in folder_class_names(path):
        label = class_index(folder, class_names, where=where(path), dataset=dataset)
        try:
            files = sorted(f for f in os.listdir(path / folder) if is_image_file(f))
        except OSError as e:
            error = cannot_list(path / folder, e)
            if bad is None:
                raise error from e
            bad.add(error)
            continue
        entries.extend((path / folder / f, label) for f in files)
    entries.sort(key=lambda e: e[1])  # stable: class order, then file name
    return entries


def read_images(entries, to_48, bad=None):
    """Read ``(file, label)`` entries into arrays, counting what went wrong.

    ``to_48(grey, file)`` returns ``(image, note)``: an image and None, an image and a
    fallback note, or None and the reason the image is dropped.  ``bad`` (a
    ``Problems``) may already hold problems found while listing.  Returns a dict of
    ``images``, ``labels``, ``kept`` (entry positions), and the first messages and
    counts of ``bad`` (unreadable files), ``dropped`` and ``fallbacks``.
    """
    bad = bad if bad is not None else Problems()
    dropped, fallbacks = Problems(), Problems()
    images, labels, kept = [], [], []
    for pos, (file, label) in enumerate(entries):
        try:
            image, note = to_48(read_grey(file), file)
        except DataError as e:
            bad.add(e)
            continue
        if image is None:
            dropped.add(note)
            continue
        if note:
            fallbacks.add(note)
        images.append(image)
        labels.append(label)
        kept.append(pos)
    return {
        "images": np.stack(images)[..., None] if images else np.zeros((0, 48, 48, 1), np.uint8),
        "labels": np.asarray(labels, np.int64),
        "kept": np.asarray(kept, np.int64),
        **bad.arrays("bad"), **dropped.arrays("dropped"), **fallbacks.arrays("fallbacks"),
    }


def raise_or_report(source, arrays, skip_bad, from_cache, report):
    """Raise the first bad entry unless ``skip_bad``; warn about and report the rest."""
    bad = Problems.from_arrays(arrays, "bad")
    if bad.count and not skip_bad:
        raise DataError(bad.messages[0])
    bad.extend(Problems.from_arrays(arrays, "dropped"))
    report_problems(source, bad, Problems.from_arrays(arrays, "fallbacks"), from_cache, report)


def load_image_folder(path, class_names=None, detect_faces=True, margin=0.2, align=False,
                      no_face="centre", skip_bad=False, cache=True, report=None):
    """Load any folder of class subfolders of photos as ``(images, labels)``.

    Each image is converted to grey; with ``detect_faces`` the largest face found by
    :func:`~minifer.data.faces.detect_faces` is cropped with ``margin`` and resized to
    48x48.  When no face is found, ``no_face="centre"`` uses the central square instead
    (counted in the warning and ``report.fallbacks``) and ``no_face="skip"`` drops the
    image (counted in ``report.skipped``).  ``class_names=None`` uses the sorted
    subfolder names (see :func:`folder_class_names`); given names are matched by
    spelling-independent concept and an unknown subfolder raises DataError.
    Without ``detect_faces`` the whole image is squashed to 48x48.
    """
    path = Path(path)
    class_names = tuple(class_names or folder_class_names(path))
    if no_face not in ("centre", "skip"):
        raise ValueError(f"no_face must be 'centre' or 'skip', not {no_face!r}")

    def to_48(grey, file):
        if not detect_faces:
            return resize(grey), None
        face, found = face_crop_or_centre(grey, margin=margin, align=align)
        if found:
            return face, None
        return (face if no_face == "centre" else None), f"{file}: no face found"

    def parse():
        bad = Problems()
        return read_images(list_class_images(path, class_names, bad), to_48, bad)

    options = {"classes": class_names, "faces": detect_faces, "margin": margin,
               "align": align, "no_face": no_face}
    arrays, from_cache = cached(path, "folder", options, parse, enabled=cache)
    raise_or_report(path, arrays, skip_bad, from_cache, report)
    return arrays["images"], arrays["labels"]
