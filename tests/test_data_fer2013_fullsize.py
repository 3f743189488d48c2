"""A full-size (35,887-row, ~300 MB) fer2013.csv parses correctly and loads from cache.

Prints the parse time (see it with ``pytest -s``); the number is recorded in
docs/data.md, and deliberately not asserted, since it depends on the machine.
"""
import time

import numpy as np
import pytest

from minifer.data import load_fer2013, write_fer2013_csv

N_TRAIN, N_PUBLIC, N_PRIVATE = 28709, 3589, 3589


@pytest.mark.slow
def test_full_size_fer2013_csv(tmp_path):
    n = N_TRAIN + N_PUBLIC + N_PRIVATE
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)
    labels = rng.integers(0, 7, n)
    usage = ["Training"] * N_TRAIN + ["PublicTest"] * N_PUBLIC + ["PrivateTest"] * N_PRIVATE
    path = tmp_path / "fer2013.csv"
    write_fer2013_csv(path, images, labels, usage)

    start = time.perf_counter()
    x, y = load_fer2013(path)
    parsed = time.perf_counter() - start
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)

    start = time.perf_counter()
    x_pub, y_pub = load_fer2013(path, usage="PublicTest")
    cached = time.perf_counter() - start
    assert len(y_pub) == N_PUBLIC
    np.testing.assert_array_equal(x_pub, images[N_TRAIN:N_TRAIN + N_PUBLIC])
    print(f"\nfer2013.csv, {n} rows, {path.stat().st_size / 1e6:.0f} MB: "
          f"parse + cache write {parsed:.2f} s, cached load {cached:.3f} s")
