"""``load_ckplus``: the Extended Cohn-Kanade (CK+) dataset, in either common layout.

* "CK+48": class subfolders (anger contempt disgust fear happy sadness surprise) of
  48x48 crops named ``S010_004_00000017.png`` (subject, sequence, frame).
* The original release: ``cohn-kanade-images/S005/001/S005_001_00000011.png`` frames
  and ``Emotion/S005/001/S005_001_00000011_emotion.txt`` labels (one float, 1-7 for
  anger..surprise).  The last ``frames_per_sequence`` frames of each labelled sequence
  are used (the apex of the expression); faces are detected and cropped to 48x48,
  falling back to a centre crop (warned, counted) when none is found.  A label of 0
  (neutral) is not used, since CK+48 has no neutral class either.

Frames of one sequence are near-duplicates, so every image carries its subject id
(``S005``) and evaluation must split by subject: see :func:`split_by_subject`.
"""
import math
import os
import re
from pathlib import Path

import numpy as np

from .cache import cached
from .classes import CKPLUS_CLASSES
from .errors import DataError, DataNotFoundError, Problems, cannot_list, open_regular
from .faces import face_crop_or_centre
from .folder import list_class_images, raise_or_report, read_images
from .images import is_image_file, resize

_SUBJECT = re.compile(r"^(S\d+)_\d+_\d+")
CKPLUS_HELP = ("CK+ is not distributed with minifer; request it from its authors "
               "(the original release) or use a CK+48 copy, and pass its folder.")


def _original_layout(path):
    """``(images_dir, emotion_dir)`` if ``path`` (or a child of it) holds the original
    release, else None."""
    for root in [path] + sorted(p for p in path.iterdir() if p.is_dir()):
        images, emotion = root / "cohn-kanade-images", root / "Emotion"
        if not images.is_dir():
            images = next(root.glob("*/cohn-kanade-images"), images)
        if not emotion.is_dir():
            emotion = next(root.glob("*/Emotion"), emotion)
        if images.is_dir() and emotion.is_dir():
            return images, emotion
    return None


def _read_emotion(file):
    """The emotion code in one label file; DataError naming it for anything else."""
    try:
        with open_regular(file) as f:
            text = f.read(64).decode(errors="replace").strip()  # one number; never read more
    except DataError as e:
        raise DataError(f"{e}; expected a label file holding one number 0-7") from e
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{file}: expected one number 0-7 (the emotion code), "
                        f"found {text[:40]!r}") from None
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= 7:
        raise DataError(f"{file}: emotion code {value} is not an integer 0-7")
    return int(value)


def _original_entries(images_dir, emotion_dir, frames_per_sequence, bad):
    """``[(frame, label, subject)]``: the last frames of every non-neutral sequence.

    Unreadable label files and sequences without frames are added to ``bad``.
    """
    entries = []
    for label_file in sorted(emotion_dir.glob("S*/*/*_emotion.txt")):
        subject, sequence = label_file.parent.parent.name, label_file.parent.name
        frames_dir = images_dir / subject / sequence
        try:
            code = _read_emotion(label_file)
            frames = sorted(f for f in os.listdir(frames_dir) if is_image_file(f)) \
                if frames_dir.is_dir() else []
        except DataError as e:
            bad.add(e)
            continue
        except OSError as e:
            bad.add(str(cannot_list(frames_dir, e)))
            continue
        if code == 0:
            continue
        if not frames:
            bad.add(f"{label_file}: labels a sequence but {frames_dir} has no frames")
            continue
        entries += [(frames_dir / f, code - 1, subject) for f in frames[-frames_per_sequence:]]
    if not entries and not bad.count:
        raise DataError(f"{emotion_dir}: no *_emotion.txt label files with codes 1-7 found")
    return entries


def _ck48_entries(path, bad):
    entries = []
    for file, label in list_class_images(path, CKPLUS_CLASSES, bad, dataset="CK+"):
        match = _SUBJECT.match(file.name)
        subject = match.group(1) if match else ""
        entries.append((file, label, subject))
    return entries


def load_ckplus(path, return_subjects=False, frames_per_sequence=3, margin=0.2, align=False,
                skip_bad=False, cache=True, report=None):
    """CK+ as ``(images, labels)``, or ``(images, labels, subjects)`` with return_subjects.

    Labels follow :data:`CKPLUS_CLASSES`; ``subjects`` is a str array like ``'S005'``.
    A CK+48 file whose name does not start with a subject id (``S010_004_...``) is a
    bad entry: without it the data cannot be split honestly.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataNotFoundError(f"{path} is not a folder. {CKPLUS_HELP}")
    try:
        original = _original_layout(path)
    except OSError as e:
        raise cannot_list(path, e) from e

    def to_48(grey, file):
        if original is None:
            if not _SUBJECT.match(file.name):
                raise DataError(f"{file}: expected a name like S010_004_00000017.png "
                                f"(subject_sequence_frame) to split by subject")
            return resize(grey), None
        face, found = face_crop_or_centre(grey, margin=margin, align=align)
        return face, None if found else f"{file}: no face found"

    def parse():
        bad = Problems()
        if original is None:
            entries = _ck48_entries(path, bad)
        else:
            entries = _original_entries(*original, frames_per_sequence, bad)
        arrays = read_images([(f, label) for f, label, _ in entries], to_48, bad)
        subjects = np.asarray([s for _, _, s in entries], dtype=str)
        arrays["subjects"] = subjects[arrays["kept"]] if len(entries) else subjects
        return arrays

    options = {"layout": "original" if original else "ck48", "frames": frames_per_sequence,
               "margin": margin, "align": align}
    arrays, from_cache = cached(path, "ckplus", options, parse, enabled=cache)
    raise_or_report(path, arrays, skip_bad, from_cache, report)
    if return_subjects:
        return arrays["images"], arrays["labels"], arrays["subjects"]
    return arrays["images"], arrays["labels"]
