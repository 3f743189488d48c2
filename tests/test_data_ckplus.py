"""CK+ in both layouts, with subject ids, and subject-disjoint splits."""
import numpy as np
import pytest
from PIL import Image
from skimage import data

from minifer.data import (CKPLUS_CLASSES, DataError, DataWarning, LoadReport, crop_face,
                          load_ckplus, load_splits, split_by_subject)


def write_ck48(root, n_subjects=6, per_class=2):
    """CK+48 folders; returns {file name: (image, label, subject)}."""
    rng = np.random.default_rng(0)
    truth = {}
    for label, name in enumerate(CKPLUS_CLASSES):
        (root / name).mkdir(parents=True)
        for k in range(per_class):
            subject = f"S{10 + (label + k) % n_subjects:03d}"
            file = f"{subject}_{label + 1:03d}_{k + 8:08d}.png"
            image = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            Image.fromarray(image).save(root / name / file)
            truth[file] = (image, label, subject)
    return truth


def test_ck48_round_trip_with_subjects(tmp_path):
    truth = write_ck48(tmp_path)
    x, y, subjects = load_ckplus(tmp_path, return_subjects=True)
    assert x.shape == (len(truth), 48, 48, 1) and y.dtype == np.int64
    expected = sorted(truth, key=lambda f: (truth[f][1], f))  # class order, then name
    np.testing.assert_array_equal(x[..., 0], [truth[f][0] for f in expected])
    np.testing.assert_array_equal(y, [truth[f][1] for f in expected])
    np.testing.assert_array_equal(subjects, [truth[f][2] for f in expected])
    x2, y2 = load_ckplus(tmp_path)
    np.testing.assert_array_equal(y2, y)


def test_ck48_bad_names_and_unknown_classes(tmp_path):
    write_ck48(tmp_path)
    Image.new("L", (48, 48)).save(tmp_path / "happy" / "frame.png")
    with pytest.raises(DataError, match=r"frame\.png: expected a name like S010_004_00000017"):
        load_ckplus(tmp_path)
    with pytest.warns(DataWarning, match="skipped 1"):
        x, y = load_ckplus(tmp_path, skip_bad=True)
    assert len(y) == 14
    (tmp_path / "neutral").mkdir()
    with pytest.raises(DataError, match="unknown class folder 'neutral' for CK\\+"):
        load_ckplus(tmp_path)


def test_split_by_subject_never_splits_a_subject():
    subjects = np.repeat([f"S{i:03d}" for i in range(10)], 3)
    train, test = split_by_subject(subjects, test_fraction=0.3, seed=4)
    assert len(np.unique(subjects[test])) == 3
    assert not set(subjects[train]) & set(subjects[test])
    assert sorted(np.concatenate([train, test])) == list(range(30))
    again = split_by_subject(subjects, test_fraction=0.3, seed=4)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(split_by_subject(subjects, 0.3, seed=5)[1], test)


def test_ckplus_splits_are_subject_disjoint(tmp_path):
    write_ck48(tmp_path, n_subjects=10, per_class=6)
    splits = load_splits("ckplus", tmp_path, seed=0)
    _, _, subjects = load_ckplus(tmp_path, return_subjects=True)
    x, y = load_ckplus(tmp_path)

    def subjects_of(part):  # find each image's subject by its pixels
        return {subjects[np.flatnonzero((x == img).all(axis=(1, 2, 3)))[0]] for img in part[0]}
    parts = [subjects_of(p) for p in (splits.train, splits.val, splits.test)]
    assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(splits.train[1]) + len(splits.val[1]) + len(splits.test[1]) == len(y)
    assert splits.class_names == CKPLUS_CLASSES and "by subject" in splits.description


def photo_frame(brightness):
    """A 640x490 grey frame with the astronaut's face in it, like a CK+ photo."""
    face = np.asarray(Image.fromarray(data.astronaut()).convert("L").resize((490, 490)))
    frame = np.full((490, 640), 128, np.uint8)
    frame[:, 75:565] = np.clip(face.astype(int) + brightness, 0, 255)
    return frame


def write_original(root):
    """Two labelled sequences (5 frames each), one neutral-labelled, one unlabelled."""
    for subject, sequence, code, has_face in (("S005", "001", "3", True), ("S010", "002", "7", False),
                                             ("S011", "001", "0", True), ("S012", "003", None, True)):
        frames = root / "cohn-kanade-images" / subject / sequence
        frames.mkdir(parents=True)
        for k in range(1, 6):
            image = photo_frame(10 * k) if has_face else np.full((490, 640), 40 * k, np.uint8)
            Image.fromarray(image).save(frames / f"{subject}_{sequence}_{k:08d}.png")
        if code is not None:
            labels = root / "Emotion" / subject / sequence
            labels.mkdir(parents=True)
            (labels / f"{subject}_{sequence}_00000005_emotion.txt").write_text(f"   {code}.0000000e+00\n")


def test_original_release_last_three_frames_cropped(tmp_path):
    write_original(tmp_path)
    report = LoadReport()
    with pytest.warns(DataWarning, match="no face found in 3 images"):
        x, y, subjects = load_ckplus(tmp_path, return_subjects=True, report=report)
    assert [CKPLUS_CLASSES[i] for i in y] == ["disgust"] * 3 + ["surprise"] * 3
    assert list(subjects) == ["S005"] * 3 + ["S010"] * 3
    for i, k in enumerate((3, 4, 5)):  # the last three frames, face-cropped
        np.testing.assert_array_equal(x[i, ..., 0], crop_face(photo_frame(10 * k)))
    assert report.n_fallbacks == 3 and "S010_002_00000003.png" in report.fallbacks[0]
    np.testing.assert_array_equal(x[3:, 24, 24, 0], [120, 160, 200])  # centre crops


def test_original_release_bad_emotion_file(tmp_path):
    write_original(tmp_path)
    (tmp_path / "Emotion" / "S005" / "001" / "S005_001_00000005_emotion.txt").write_text("anger")
    with pytest.raises(DataError, match=r"S005_001_00000005_emotion\.txt: expected one number 0-7"):
        load_ckplus(tmp_path)
