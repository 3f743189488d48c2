"""Any folder of class subfolders of photos: detect, crop, grey, 48x48."""
import numpy as np
import pytest
from PIL import Image
from skimage import data

from minifer.data import (FER2013_CLASSES, DataError, DataWarning, LoadReport, crop_face,
                          folder_class_names, load_image_folder, load_splits)


@pytest.fixture
def photos(tmp_path):
    """happiness/ holds the astronaut (colour PNG, grey JPG); sad/ a face-less wall."""
    (tmp_path / "happiness").mkdir()
    (tmp_path / "sad").mkdir()
    Image.fromarray(data.astronaut()).save(tmp_path / "happiness" / "a.png")
    Image.fromarray(data.astronaut()).convert("L").resize((300, 300)).save(tmp_path / "happiness" / "b.jpg")
    Image.fromarray(np.full((120, 160, 3), 90, np.uint8)).save(tmp_path / "sad" / "wall.png")
    (tmp_path / "sad" / "notes.txt").write_text("not an image, ignored")
    return tmp_path


def test_faces_are_cropped_and_missing_faces_centre_cropped(photos):
    report = LoadReport()
    with pytest.warns(DataWarning, match="no face found in 1 images"):
        x, y = load_image_folder(photos, class_names=FER2013_CLASSES, report=report)
    assert x.shape == (3, 48, 48, 1) and x.dtype == np.uint8
    assert [FER2013_CLASSES[i] for i in y] == ["happy", "happy", "sad"]  # by name: happiness
    np.testing.assert_array_equal(x[0, ..., 0], crop_face(data.astronaut()))
    assert (x[2] == 90).all()
    assert report.n_fallbacks == 1 and "wall.png" in report.fallbacks[0]


def test_no_face_skip_drops_and_counts(photos):
    report = LoadReport()
    with pytest.warns(DataWarning, match="skipped 1"):
        x, y = load_image_folder(photos, no_face="skip", report=report)
    assert folder_class_names(photos) == ("happiness", "sad")
    assert list(y) == [0, 0] and report.skipped[0].endswith("wall.png: no face found")


def test_without_detection_the_whole_image_is_resized(photos):
    x, y = load_image_folder(photos, detect_faces=False)
    assert x.shape == (3, 48, 48, 1) and (x[2] == 90).all()


def test_unknown_class_and_unreadable_image(photos):
    (photos / "bored").mkdir()
    with pytest.raises(DataError, match="unknown class folder 'bored'"):
        load_image_folder(photos, class_names=FER2013_CLASSES)
    (photos / "bored").rmdir()
    (photos / "sad" / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(DataError, match=r"cut\.jpg: cannot be read as an image"):
        load_image_folder(photos, detect_faces=False)


def write_classes(root, per_class, seed):
    rng = np.random.default_rng(seed)
    for name in ("happy", "sad"):
        (root / name).mkdir(parents=True)
        for k in range(per_class):
            Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8)).save(root / name / f"{k}.png")


def test_folder_splits_use_subfolders_or_a_stratified_split(tmp_path):
    write_classes(tmp_path / "flat", 10, 0)
    splits = load_splits("folder", tmp_path / "flat", seed=3, detect_faces=False)
    assert [len(p[1]) for p in (splits.train, splits.val, splits.test)] == [14, 2, 4]
    assert list(np.bincount(splits.test[1])) == [2, 2]  # stratified
    everything = np.concatenate([splits.train[0], splits.val[0], splits.test[0]])
    assert len(np.unique(everything.reshape(20, -1), axis=0)) == 20  # disjoint
    again = load_splits("folder", tmp_path / "flat", seed=3, detect_faces=False)
    np.testing.assert_array_equal(again.test[0], splits.test[0])

    for part, n in (("train", 10), ("val", 2), ("test", 3)):
        write_classes(tmp_path / "split" / part, n, len(part))
    splits = load_splits("folder", tmp_path / "split", detect_faces=False)
    assert [len(p[1]) for p in (splits.train, splits.val, splits.test)] == [20, 4, 6]
    assert splits.class_names == ("happy", "sad") and "val = val/" in splits.description
