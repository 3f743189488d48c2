"""FER+ relabelling: majority vote, documented ties, non-faces and unknown/NF dropped."""
import numpy as np
import pytest

from minifer.data import (FERPLUS_CLASSES, DataError, LoadReport, load_ferplus,
                          write_fer2013_csv)

HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
# votes (10 columns), and the expected label or None if dropped
ROWS = [
    ("Training", "fer0000000.png", [0, 8, 2, 0, 0, 0, 0, 0, 0, 0], "happiness"),
    ("Training", "fer0000001.png", [4, 0, 0, 4, 0, 0, 0, 0, 2, 0], "neutral"),  # tie: first
    ("Training", "", [0, 0, 0, 0, 0, 0, 0, 0, 0, 10], None),  # not a face
    ("PublicTest", "fer0000003.png", [2, 0, 0, 0, 0, 0, 0, 0, 6, 2], None),  # unknown wins
    ("PublicTest", "fer0000004.png", [0, 0, 0, 0, 3, 3, 0, 0, 3, 1], None),  # unknown ties
    ("PrivateTest", "fer0000005.png", [0, 0, 0, 0, 0, 2, 0, 7, 1, 0], "contempt"),
]


def write_pair(tmp_path, rows=ROWS, fer_usage=None):
    n = len(rows)
    images = np.random.default_rng(0).integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)
    usage = fer_usage or [r[0] for r in rows]
    write_fer2013_csv(tmp_path / "fer2013.csv", images, np.zeros(n, int), usage)
    lines = [HEADER] + [f"{u},{name}," + ",".join(map(str, v)) for u, name, v, _ in rows]
    (tmp_path / "fer2013new.csv").write_text("\n".join(lines) + "\n")
    return images


def test_majority_labels_and_dropped_rows(tmp_path):
    images = write_pair(tmp_path)
    report = LoadReport()
    x, y = load_ferplus(tmp_path / "fer2013.csv", tmp_path / "fer2013new.csv", report=report)
    kept = [i for i, r in enumerate(ROWS) if r[3] is not None]
    np.testing.assert_array_equal(x, images[kept])
    assert [FERPLUS_CLASSES[i] for i in y] == [ROWS[i][3] for i in kept]
    assert report.n_skipped == 3 and "line 4: not a face" in report.skipped[0]


def test_usage_filter(tmp_path):
    write_pair(tmp_path)
    x, y = load_ferplus(tmp_path / "fer2013.csv", tmp_path / "fer2013new.csv", usage="PrivateTest")
    assert list(y) == [FERPLUS_CLASSES.index("contempt")]


def test_mismatched_files_are_refused(tmp_path):
    write_pair(tmp_path, fer_usage=["Training"] * len(ROWS))
    with pytest.raises(DataError, match=r"fer2013new\.csv line 5: Usage 'PublicTest' but line 5"):
        load_ferplus(tmp_path / "fer2013.csv", tmp_path / "fer2013new.csv")


def test_bad_vote_and_bad_header_are_named(tmp_path):
    write_pair(tmp_path)
    path = tmp_path / "fer2013new.csv"
    lines = path.read_text().split("\n")
    path.write_text("\n".join(lines[:3] + [lines[3].replace(",0,", ",x,", 1)] + lines[4:]))
    with pytest.raises(DataError, match=r"fer2013new\.csv line 4: vote counts must be integers"):
        load_ferplus(tmp_path / "fer2013.csv", path)
    path.write_text("Usage,Image name,neutral\nTraining,a.png,1\n")
    with pytest.raises(DataError, match="line 1: header lacks happiness"):
        load_ferplus(tmp_path / "fer2013.csv", path)
