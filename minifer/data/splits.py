"""Honest train/validation/test splits for the examples: ``load_splits``.

Validation picks epochs and learning rates; test is looked at once.  Each dataset's
protocol is spelled out in ``Splits.description``:

* fer2013: Training / PublicTest / PrivateTest.  A folder copy cannot tell PublicTest
  from PrivateTest, so its ``test/`` is split 50/50, stratified and seeded.
* ckplus: by subject (train, validation and test subjects are disjoint), because
  frames of one sequence are near-duplicates.
* folder: ``train/``, ``val/`` (or ``validation/``) and ``test/`` subfolders when
  present; whatever is missing is split off ``train/`` (or the whole folder),
  stratified and seeded.
* synthetic: three sets generated from distinct seeds ``(seed, 0|1|2)``.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .ckplus import CKPLUS_HELP, load_ckplus
from .classes import CKPLUS_CLASSES, FER2013_CLASSES
from .errors import DataError, DataNotFoundError
from .fer2013 import fer2013_table, find_fer2013
from .fer2013_csv import TEST
from .folder import folder_class_names, load_image_folder
from .synthetic import synthetic_faces


@dataclass
class Splits:
    """Three ``(images, labels)`` pairs, the class names, and the protocol in words."""
    train: tuple
    val: tuple
    test: tuple
    class_names: tuple
    description: str


def stratified_split(labels, fraction, seed=0):
    """``(rest, part)`` index arrays: ``part`` holds ``round(fraction * count)`` of each
    class, drawn with ``default_rng(seed)``; both are sorted (original order kept)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    part = []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        part.append(members[:int(round(fraction * len(members)))])
    part = np.sort(np.concatenate(part)) if part else np.zeros(0, np.int64)
    return np.setdiff1d(np.arange(len(labels)), part), part


def split_by_subject(subjects, test_fraction=0.2, seed=0):
    """``(train, test)`` index arrays with no subject on both sides.

    ``ceil(test_fraction * n_subjects)`` subjects, drawn with ``default_rng(seed)``
    from the sorted unique ids, go to test, with all of their images.
    """
    subjects = np.asarray(subjects)
    unique = np.unique(subjects)
    n_test = int(np.ceil(test_fraction * len(unique)))
    test_subjects = np.random.default_rng(seed).permutation(unique)[:n_test]
    in_test = np.isin(subjects, test_subjects)
    return np.flatnonzero(~in_test), np.flatnonzero(in_test)


def _take(x, y, idx):
    return x[idx], y[idx]


def _fer2013(path, seed, skip_bad=False, cache=True):
    source = find_fer2013(path)
    table = fer2013_table(source, skip_bad=skip_bad, cache=cache)
    x, y, usage = table["images"], table["labels"], table["usage"]
    if (y < 0).any():
        raise DataError(f"{source} has no labels (a test.csv?); training needs fer2013.csv, "
                        f"icml_face_data.csv or the train/ test/ folder copy")
    train = np.flatnonzero(usage == 0)
    if (usage == TEST).any():
        test_rows = np.flatnonzero(usage == TEST)
        rest, half = stratified_split(y[test_rows], 0.5, seed)
        val, test = test_rows[half], test_rows[rest]
        protocol = (f"val = a stratified 50% of test/ (seed {seed}; a folder copy cannot "
                    f"tell PublicTest from PrivateTest), test = the other 50%")
    else:
        val, test = np.flatnonzero(usage == 1), np.flatnonzero(usage == 2)
        protocol = "val = PublicTest, test = PrivateTest"
    if not (len(train) and len(val) and len(test)):
        raise DataError(f"{source} has {len(train)} Training, {len(val)} validation and "
                        f"{len(test)} test rows ({protocol}); training needs all three, as "
                        f"in fer2013.csv (a train.csv copy has Training rows only)")
    description = (f"FER2013 from {source}: train = Training ({len(train)}), {protocol} "
                   f"({len(val)} / {len(test)}); labels in FER2013_CLASSES order")
    return Splits(_take(x, y, train), _take(x, y, val), _take(x, y, test), FER2013_CLASSES,
                  description)


def _ckplus(path, seed, val_fraction=0.1, test_fraction=0.2, **load_opts):
    if path is None:
        raise DataNotFoundError(f"load_splits('ckplus') needs path=... {CKPLUS_HELP}")
    x, y, subjects = load_ckplus(path, return_subjects=True, **load_opts)
    rest, test = split_by_subject(subjects, test_fraction, seed)
    fit, val = split_by_subject(subjects[rest], val_fraction / (1 - test_fraction), seed + 1)
    train, val = rest[fit], rest[val]
    n_subjects = [len(np.unique(subjects[i])) for i in (train, val, test)]
    description = (f"CK+ from {path}: split by subject (seed {seed}), subjects "
                   f"{n_subjects[0]}/{n_subjects[1]}/{n_subjects[2]}, images "
                   f"{len(train)}/{len(val)}/{len(test)} (train/val/test); labels in "
                   f"CKPLUS_CLASSES order")
    return Splits(_take(x, y, train), _take(x, y, val), _take(x, y, test), CKPLUS_CLASSES,
                  description)


def _folder(path, seed, class_names=None, val_fraction=0.1, test_fraction=0.2, **load_opts):
    if path is None:
        raise DataNotFoundError("load_splits('folder') needs path=... (a folder of class "
                                "subfolders, or of train/ val/ test/ folders of them)")
    path = Path(path)
    parts = {name: path / sub for name, subs in
             (("train", ("train",)), ("val", ("val", "validation")), ("test", ("test",)))
             for sub in subs if (path / sub).is_dir()}
    root = parts.get("train", path)
    class_names = tuple(class_names or folder_class_names(root))
    load = lambda p: load_image_folder(p, class_names=class_names, **load_opts)  # noqa: E731
    x, y = load(root)
    notes = []
    if "test" in parts:
        test = load(parts["test"])
        notes.append("test = test/")
    else:
        keep, part = stratified_split(y, test_fraction, seed)
        test, (x, y) = _take(x, y, part), _take(x, y, keep)
        notes.append(f"test = a stratified {test_fraction:.0%} of {root.name}/ (seed {seed})")
    if "val" in parts:
        val = load(parts["val"])
        notes.append(f"val = {parts['val'].name}/")
    else:
        share = val_fraction if "test" in parts else val_fraction / (1 - test_fraction)
        keep, part = stratified_split(y, share, seed + 1)
        val, (x, y) = _take(x, y, part), _take(x, y, keep)
        notes.append(f"val = a stratified share of {root.name}/ (seed {seed + 1})")
    description = (f"image folder {path}: train = {root.name}/ ({len(y)}), "
                   f"{', '.join(notes)} ({len(val[1])} / {len(test[1])}); classes "
                   f"{', '.join(class_names)}")
    return Splits((x, y), val, test, class_names, description)


def _synthetic(seed, n_train=3000, n_val=600, n_test=600):
    sets = [synthetic_faces(n, seed=(seed, k)) for k, n in enumerate((n_train, n_val, n_test))]
    description = (f"synthetic faces: train/val/test = {n_train}/{n_val}/{n_test} images "
                   f"generated from seeds ({seed}, 0/1/2); labels in FER2013_CLASSES order")
    return Splits(*sets, FER2013_CLASSES, description)


def load_splits(name, path=None, seed=0, **opts):
    """Train/val/test splits of ``name`` in fer2013 | ckplus | folder | synthetic.

    ``opts`` go to the dataset: synthetic ``n_train, n_val, n_test``; fer2013
    ``skip_bad, cache``; ckplus and folder ``val_fraction, test_fraction`` and the
    options of :func:`load_ckplus` / :func:`load_image_folder`.
    """
    if name == "synthetic":
        return _synthetic(seed, **opts)
    if name == "fer2013":
        return _fer2013(path, seed, **opts)
    if name == "ckplus":
        return _ckplus(path, seed, **opts)
    if name == "folder":
        return _folder(path, seed, **opts)
    raise ValueError(f"unknown dataset {name!r}; expected fer2013, ckplus, folder or synthetic")
