"""load_splits: the honest protocol of each dataset."""
import numpy as np
import pytest
from PIL import Image

from minifer.data import (FER2013_CLASSES, DataError, DataNotFoundError, load_splits,
                          write_fer2013_csv)


def test_synthetic_splits_are_distinct_seeded_sets():
    splits = load_splits("synthetic", seed=1, n_train=70, n_val=21, n_test=14)
    assert [len(p[1]) for p in (splits.train, splits.val, splits.test)] == [70, 21, 14]
    assert splits.class_names == FER2013_CLASSES and "seeds (1, 0/1/2)" in splits.description
    assert not np.array_equal(splits.train[0][:14], splits.test[0])
    again = load_splits("synthetic", seed=1, n_train=70, n_val=21, n_test=14)
    np.testing.assert_array_equal(again.val[0], splits.val[0])


def test_fer2013_csv_uses_training_publictest_privatetest(tmp_path):
    usage = ["Training"] * 6 + ["PublicTest"] * 3 + ["PrivateTest"] * 2
    labels = np.arange(11) % 7
    images = np.arange(11, dtype=np.uint8)[:, None, None, None] * np.ones((1, 48, 48, 1), np.uint8)
    write_fer2013_csv(tmp_path / "fer2013.csv", images, labels, usage)
    splits = load_splits("fer2013", tmp_path / "fer2013.csv")
    for part, rows in ((splits.train, slice(0, 6)), (splits.val, slice(6, 9)), (splits.test, slice(9, 11))):
        np.testing.assert_array_equal(part[0], images[rows])
        np.testing.assert_array_equal(part[1], labels[rows])
    assert "val = PublicTest, test = PrivateTest" in splits.description


def test_fer2013_folder_copy_splits_test_in_half_stratified(tmp_path):
    rng = np.random.default_rng(0)
    for part, n in (("train", 2), ("test", 4)):
        for name in FER2013_CLASSES:
            (tmp_path / part / name).mkdir(parents=True)
            for k in range(n):
                image = rng.integers(0, 256, (48, 48), dtype=np.uint8)
                Image.fromarray(image).save(tmp_path / part / name / f"{k}.png")
    splits = load_splits("fer2013", tmp_path, seed=2)
    assert len(splits.train[1]) == 14
    assert list(np.bincount(splits.val[1])) == [2] * 7 == list(np.bincount(splits.test[1]))
    both = np.concatenate([splits.val[0], splits.test[0]]).reshape(28, -1)
    assert len(np.unique(both, axis=0)) == 28
    assert "stratified 50% of test/" in splits.description


def test_unlabelled_or_missing_fer2013_is_explained(tmp_path, monkeypatch):
    write_fer2013_csv(tmp_path / "test.csv", np.zeros((2, 48, 48, 1), np.uint8), layout="test")
    with pytest.raises(DataError, match="has no labels"):
        load_splits("fer2013", tmp_path / "test.csv")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIFER_DATA", raising=False)
    with pytest.raises(DataNotFoundError, match="--data synthetic"):
        load_splits("fer2013")
    with pytest.raises(DataNotFoundError, match="needs path"):
        load_splits("ckplus")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_splits("mnist")
