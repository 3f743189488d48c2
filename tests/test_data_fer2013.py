"""FER2013 readers: every copy users have, read back exactly; bad data named precisely."""
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from minifer.data import (FER2013_CLASSES, DataError, DataNotFoundError, DataWarning,
                          LoadReport, find_fer2013, load_fer2013, write_fer2013_csv)
from minifer.data.fer2013_csv import pixel_rows_text

USAGES = ["Training"] * 5 + ["PublicTest"] * 3 + ["PrivateTest"] * 4


def make_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)
    images[0, 0, 0, 0], images[0, 47, 47, 0] = 0, 255  # the extremes round-trip too
    labels = rng.integers(0, 7, n)
    return images, labels


@pytest.mark.parametrize("layout", ["fer2013", "icml"])
def test_csv_layouts_round_trip_with_usage(tmp_path, layout):
    images, labels = make_rows(len(USAGES))
    path = tmp_path / ("fer2013.csv" if layout == "fer2013" else "icml_face_data.csv")
    write_fer2013_csv(path, images, labels, USAGES, layout=layout)
    x, y = load_fer2013(path)
    assert x.shape == (12, 48, 48, 1) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    for usage, rows in (("Training", slice(0, 5)), ("PublicTest", slice(5, 8)),
                        ("PrivateTest", slice(8, 12)), ("Test", slice(5, 12))):
        x, y = load_fer2013(path, usage=usage)
        np.testing.assert_array_equal(x, images[rows])
        np.testing.assert_array_equal(y, labels[rows])


def test_train_csv_is_training_and_test_csv_has_no_labels(tmp_path):
    images, labels = make_rows(6)
    write_fer2013_csv(tmp_path / "train.csv", images, labels, layout="train")
    write_fer2013_csv(tmp_path / "test.csv", images[:4], layout="test")
    x, y = load_fer2013(tmp_path / "train.csv", usage="Training")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert len(load_fer2013(tmp_path / "train.csv", usage="PublicTest")[1]) == 0
    x, y = load_fer2013(tmp_path / "test.csv", usage="Test")
    np.testing.assert_array_equal(x, images[:4])
    np.testing.assert_array_equal(y, [-1, -1, -1, -1])


def test_crlf_quotes_and_blank_lines_are_tolerated(tmp_path):
    images, labels = make_rows(3)
    rows = pixel_rows_text(images)
    lines = [b"emotion,pixels,Usage"] + [b'%d,"%s",Training' % (l, r) for l, r in zip(labels, rows)]
    (tmp_path / "fer2013.csv").write_bytes(b"\r\n".join(lines) + b"\r\n\r\n")
    x, y = load_fer2013(tmp_path / "fer2013.csv")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def write_folder_copy(root, images, labels, spelling, ext=".png"):
    """A train/ or test/ image-folder copy, with the class folder names of ``spelling``."""
    for i, (img, label) in enumerate(zip(images, labels)):
        folder = root / spelling[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img[..., 0]).save(folder / f"im{i:03d}{ext}")


ALPHABETICAL = dict(enumerate(FER2013_CLASSES))
ADJECTIVES = {0: "angry", 1: "disgusted", 2: "fearful", 3: "happy", 4: "sad", 5: "surprised",
              6: "neutral"}


@pytest.mark.parametrize("spelling", [ALPHABETICAL, ADJECTIVES])
def test_folder_copy_maps_classes_by_name(tmp_path, spelling):
    images, labels = make_rows(14)
    labels = np.arange(14) % 7  # every class present, so a positional mapping would show
    write_folder_copy(tmp_path / "train", images[:7], labels[:7], spelling)
    write_folder_copy(tmp_path / "test", images[7:], labels[7:], spelling)
    x, y = load_fer2013(tmp_path, usage="Training")
    order = np.argsort(labels[:7], kind="stable")  # class order, then file name
    np.testing.assert_array_equal(y, labels[:7][order])
    np.testing.assert_array_equal(x, images[:7][order])
    with pytest.warns(DataWarning, match="cannot tell PublicTest from PrivateTest"):
        x_pub, y_pub = load_fer2013(tmp_path, usage="PublicTest")
    x_test, y_test = load_fer2013(tmp_path, usage="Test")
    np.testing.assert_array_equal(x_pub, x_test)
    np.testing.assert_array_equal(y_test, np.sort(labels[7:]))


def test_folder_copy_reads_jpg_within_compression_error(tmp_path):
    images, labels = make_rows(7)
    images = np.repeat(np.repeat(images[:, ::8, ::8], 8, 1), 8, 2)  # smooth enough for JPEG
    write_folder_copy(tmp_path / "train", images, np.arange(7), ALPHABETICAL, ext=".jpg")
    write_folder_copy(tmp_path / "test", images[:1], [6], ALPHABETICAL, ext=".jpeg")
    x, y = load_fer2013(tmp_path, usage="Training")
    np.testing.assert_array_equal(y, np.arange(7))
    assert np.abs(x.astype(int) - images).mean() < 8


def test_folder_copy_unknown_class_folder_is_named(tmp_path):
    images, labels = make_rows(2)
    write_folder_copy(tmp_path / "train", images, [0, 1], {0: "angry", 1: "contemptuous"})
    write_folder_copy(tmp_path / "test", images, [0, 0], ALPHABETICAL)
    with pytest.raises(DataError, match="unknown class folder 'contemptuous'"):
        load_fer2013(tmp_path)


def test_folder_copy_unreadable_and_empty_images_are_named(tmp_path):
    images, _ = make_rows(2)
    write_folder_copy(tmp_path / "train", images, [0, 3], ALPHABETICAL)
    (tmp_path / "test" / "sad").mkdir(parents=True)
    (tmp_path / "test" / "sad" / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "test" / "sad" / "empty.jpg").write_bytes(b"")
    with pytest.raises(DataError, match=r"broken\.png: cannot be read as an image"):
        load_fer2013(tmp_path)
    report = LoadReport()
    with pytest.warns(DataWarning, match="skipped 2 bad entries"):
        x, y = load_fer2013(tmp_path, skip_bad=True, report=report)
    assert len(y) == 2 and report.n_skipped == 2
    assert any("empty.jpg: image file is empty" in m for m in report.skipped)


def test_missing_file_message_says_where_to_get_and_put_it(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_fer2013(tmp_path / "nope" / "fer2013.csv")
    message = str(err.value)
    for hint in ("nope", "Kaggle", "Challenges in Representation Learning", "./data/fer2013.csv",
                 "MINIFER_DATA", "--data-path", "--data synthetic"):
        assert hint in message


def test_find_fer2013_looks_in_the_usual_places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIFER_DATA", raising=False)
    with pytest.raises(DataNotFoundError, match="looked in data"):
        find_fer2013()
    env = tmp_path / "elsewhere"
    env.mkdir()
    write_fer2013_csv(env / "icml_face_data.csv", *make_rows(1), ["Training"], layout="icml")
    monkeypatch.setenv("MINIFER_DATA", str(env))
    assert find_fer2013() == env / "icml_face_data.csv"
    (tmp_path / "data").mkdir()
    write_fer2013_csv(tmp_path / "data" / "fer2013.csv", *make_rows(1), ["Training"])
    assert find_fer2013() == Path("data") / "fer2013.csv"


# Each corruption: (how to damage a row's fields, what the message must say).
def _fields(label, pixels, usage):
    return [b"%d" % label, pixels, usage]


CORRUPTIONS = {
    "short": (lambda f: [f[0], f[1].rsplit(b" ", 1)[0], f[2]], "has 2303 pixel values, expected 2304"),
    "long": (lambda f: [f[0], f[1] + b" 7", f[2]], "has 2305 pixel values"),
    "word": (lambda f: [f[0], b"abc " + f[1].split(b" ", 1)[1], f[2]], "pixel 1 is 'abc'"),
    "float": (lambda f: [f[0], f[1].rsplit(b" ", 1)[0] + b" 2.5", f[2]], "pixel 2304 is '2.5'"),
    "negative": (lambda f: [f[0], b"-3 " + f[1].split(b" ", 1)[1], f[2]], "pixel 1 is '-3'"),
    "too_big": (lambda f: [f[0], f[1].rsplit(b" ", 1)[0] + b" 256", f[2]], "pixel 2304 is 256, outside 0-255"),
    "label": (lambda f: [b"7", f[1], f[2]], "emotion is '7', expected an integer 0-6"),
    "label_text": (lambda f: [b"happy", f[1], f[2]], "emotion is 'happy'"),
    "usage": (lambda f: [f[0], f[1], b"Validation"], "Usage is 'Validation'"),
    "fields": (lambda f: f[:2], "has 2 comma-separated fields, expected 3"),
    "empty_pixels": (lambda f: [f[0], b"", f[2]], "has 0 pixel values"),
}


def write_rows(path, images, labels, corruptions):
    rows = pixel_rows_text(images)
    lines = [b"emotion,pixels,Usage"]
    for label, pixels, kind in zip(labels, rows, corruptions):
        fields = _fields(label, pixels, b"Training")
        if kind is not None:
            fields = CORRUPTIONS[kind][0](fields)
        lines.append(b",".join(fields))
    path.write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_each_bad_row_is_named_by_file_and_line(tmp_path, kind):
    images, labels = make_rows(4)
    path = tmp_path / "fer2013.csv"
    write_rows(path, images, labels, [None, None, kind, None])
    with pytest.raises(DataError) as err:
        load_fer2013(path)
    assert f"{path} line 4: " in str(err.value)  # header is line 1, third row is line 4
    assert CORRUPTIONS[kind][1] in str(err.value)
    report = LoadReport()
    with pytest.warns(DataWarning, match="skipped 1 bad entries"):
        x, y = load_fer2013(path, skip_bad=True, report=report)
    np.testing.assert_array_equal(x, images[[0, 1, 3]])
    np.testing.assert_array_equal(y, labels[[0, 1, 3]])
    assert report.n_skipped == 1 and "line 4" in report.skipped[0]


def test_header_without_pixels_and_empty_file_are_reported(tmp_path):
    (tmp_path / "a.csv").write_text("emotion,usage\n1,Training\n")
    with pytest.raises(DataError, match=r"a\.csv line 1: expected a header naming a 'pixels'"):
        load_fer2013(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("emotion,pixels,Usage\n")
    with pytest.raises(DataError, match="no data rows"):
        load_fer2013(tmp_path / "b.csv")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(sorted(CORRUPTIONS))), min_size=1, max_size=6),
       st.integers(0, 2**16))
def test_reader_returns_exactly_the_good_rows_or_names_the_first_bad_line(corruptions, seed):
    images, labels = make_rows(len(corruptions), seed)
    good = [i for i, c in enumerate(corruptions) if c is None]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fer2013.csv"
        write_rows(path, images, labels, corruptions)
        if len(good) < len(corruptions):
            first_bad_line = corruptions.index(next(c for c in corruptions if c)) + 2
            with pytest.raises(DataError, match=f"line {first_bad_line}: "):
                load_fer2013(path, cache=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            x, y = load_fer2013(path, skip_bad=True, cache=False)
        np.testing.assert_array_equal(x, images[good])
        np.testing.assert_array_equal(y, labels[good])


def test_folder_without_a_copy_and_unreadable_file_are_explained(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.mkdir()  # a folder with neither CSVs nor train/ test/
    with pytest.raises(DataNotFoundError, match="neither fer2013.csv nor icml_face_data.csv"):
        load_fer2013(path)
    if os.geteuid() != 0:  # root reads anything, so this case only exists for users
        other = tmp_path / "locked.csv"
        other.write_text("pixels\n1\n")
        other.chmod(0)
        with pytest.raises(DataError, match="cannot be read"):
            load_fer2013(other)
