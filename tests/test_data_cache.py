"""The .npz cache: reused without re-parsing, invalidated by a changed source."""
import os

import numpy as np
import pytest

from minifer.data import load_fer2013, write_fer2013_csv
from minifer.data import cache as cache_module
from minifer.data import fer2013 as fer2013_module


def write_csv(path, n=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)
    labels = rng.integers(0, 7, n)
    write_fer2013_csv(path, images, labels, ["Training"] * n)
    return images, labels


def forbid_parsing(monkeypatch):
    def fail(path):
        raise AssertionError(f"{path} was parsed again")
    monkeypatch.setattr(fer2013_module, "read_csv_table", fail)


def test_second_load_comes_from_the_cache_file(tmp_path, monkeypatch):
    path = tmp_path / "fer2013.csv"
    write_csv(path)
    first = load_fer2013(path)
    cache_files = list(tmp_path.glob(".fer2013.csv.fer2013-*.npz"))
    assert len(cache_files) == 1
    forbid_parsing(monkeypatch)
    second = load_fer2013(path)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert not list(tmp_path.glob(".*-tmp"))  # the atomic write left no temporary behind


def test_changed_source_is_parsed_again(tmp_path, monkeypatch):
    path = tmp_path / "fer2013.csv"
    write_csv(path, n=5)
    load_fer2013(path)
    images, labels = write_csv(path, n=6, seed=1)  # new size and mtime
    x, y = load_fer2013(path)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)

    # Same size, only the mtime differs: still invalidated.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    calls = []
    real = fer2013_module.read_csv_table
    monkeypatch.setattr(fer2013_module, "read_csv_table", lambda p: calls.append(p) or real(p))
    load_fer2013(path)
    assert calls == [path]


def test_cache_false_always_parses(tmp_path, monkeypatch):
    path = tmp_path / "fer2013.csv"
    write_csv(path)
    load_fer2013(path, cache=False)
    assert not list(tmp_path.glob("*.npz"))


def test_read_only_source_folder_caches_in_the_cache_dir(tmp_path, monkeypatch):
    path = tmp_path / "fer2013.csv"
    write_csv(path)
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("MINIFER_CACHE", str(cache_dir))
    real_write = cache_module._write_atomic

    def refuse_beside_source(target, arrays):
        if target.parent == tmp_path:
            raise PermissionError(13, "Permission denied", str(target))
        real_write(target, arrays)
    monkeypatch.setattr(cache_module, "_write_atomic", refuse_beside_source)
    first = load_fer2013(path)
    assert len(list(cache_dir.glob("fer2013.csv.*.npz"))) == 1
    forbid_parsing(monkeypatch)
    np.testing.assert_array_equal(load_fer2013(path)[0], first[0])


def test_corrupt_cache_file_is_ignored(tmp_path):
    path = tmp_path / "fer2013.csv"
    images, _ = write_csv(path)
    load_fer2013(path)
    (cache_file,) = tmp_path.glob(".fer2013.csv.*.npz")
    cache_file.write_bytes(b"garbage")
    np.testing.assert_array_equal(load_fer2013(path)[0], images)


def test_folder_stamp_sees_a_changed_file_inside(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"1")
    before = cache_module.source_stamp(tmp_path)
    (tmp_path / "a" / "x.png").write_bytes(b"22")
    assert cache_module.source_stamp(tmp_path) != before


@pytest.mark.parametrize("skip_bad", [False, True])
def test_a_cached_bad_file_still_raises_without_skip_bad(tmp_path, skip_bad):
    path = tmp_path / "fer2013.csv"
    write_csv(path)
    path.write_bytes(path.read_bytes() + b"9,1 2 3,Training\n")
    with pytest.warns(UserWarning):
        load_fer2013(path, skip_bad=True)  # parsed and cached with its bad row
    if skip_bad:
        with pytest.warns(UserWarning):
            assert len(load_fer2013(path, skip_bad=True)[1]) == 5
    else:
        with pytest.raises(ValueError, match="line 7"):
            load_fer2013(path)
