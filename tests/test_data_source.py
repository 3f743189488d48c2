"""BatchSource: batches are a function of (seed, epoch) only; class weights; normaliser."""
import json

import numpy as np
import pytest

from minifer.data import BatchSource, ImageAugmenter, Normalizer, class_weights


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 48, 48, 1), dtype=np.uint8)
    y = np.array([0] * 30 + [1] * 15 + [2] * 5)
    return x, y


def batches(source, epoch):
    return list(source.epoch(epoch))


def test_an_epoch_covers_every_sample_once_as_given(data):
    """Batches hold the images as given (uint8 stays uint8: the model's input scales it)."""
    x, y = data
    source = BatchSource(x, y, batch_size=16)
    assert len(source) == 4 and len(BatchSource(x, y, batch_size=16, drop_last=True)) == 3
    seen = []
    for xb, yb, wb in source.epoch(0):
        assert xb.dtype == np.uint8 and yb.dtype == np.int64 and wb is None
        for img, label in zip(xb, yb):
            i = np.flatnonzero((x == img).all(axis=(1, 2, 3)))[0]
            assert y[i] == label
            seen.append(i)
    assert sorted(seen) == list(range(50))
    unshuffled = BatchSource(x, y, batch_size=50, shuffle=False)
    xb, yb, _ = next(unshuffled.epoch(5))
    np.testing.assert_array_equal(xb, x)


def test_epoch_batches_depend_only_on_seed_and_epoch(data):
    x, y = data
    aug = ImageAugmenter(rotation_range=10, horizontal_flip=True)
    uninterrupted = BatchSource(x, y, batch_size=16, augmenter=aug, seed=3)
    for e in range(3):
        batches(uninterrupted, e)
    expected = batches(uninterrupted, 3)
    resumed = BatchSource(x, y, batch_size=16, augmenter=aug, seed=3)  # fresh, "after a restart"
    for (xa, ya, _), (xb, yb, _) in zip(expected, batches(resumed, 3)):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    other_epoch = batches(resumed, 4)
    assert not np.array_equal(other_epoch[0][1], expected[0][1])
    other_seed = batches(BatchSource(x, y, batch_size=16, augmenter=aug, seed=4), 3)
    assert not np.array_equal(other_seed[0][1], expected[0][1])


def test_balanced_class_weights_follow_sklearn(data):
    x, y = data
    np.testing.assert_allclose(class_weights(y, 3), [50 / (3 * 30), 50 / (3 * 15), 50 / (3 * 5)])
    np.testing.assert_allclose(class_weights([0, 0, 2], 4), [3 / (4 * 2), 0, 3 / (4 * 1), 0])
    source = BatchSource(x, y, batch_size=50, class_weight="balanced")
    _, yb, wb = next(source.epoch(0))
    assert wb.dtype == np.float32
    np.testing.assert_allclose(wb, class_weights(y, 3)[yb])
    # Balanced weights make every class weigh the same in total.
    np.testing.assert_allclose(np.bincount(yb, weights=wb), [50 / 3] * 3, rtol=1e-6)
    _, yb, wb = next(BatchSource(x, y, batch_size=50, class_weight={2: 4.0}).epoch(0))
    np.testing.assert_allclose(wb, np.where(yb == 2, 4.0, 1.0))
    with pytest.raises(ValueError, match="class_weight"):
        BatchSource(x, y, class_weight="auto")


def test_normalizer_round_trips_through_json(data):
    x, _ = data
    norm = Normalizer().fit(x)
    z = norm(x)
    assert z.dtype == np.float32
    assert abs(float(z.mean())) < 1e-4 and abs(float(z.std()) - 1) < 1e-4
    again = Normalizer.from_dict(json.loads(json.dumps(norm.to_dict())))
    np.testing.assert_array_equal(again(x), z)


def test_float_images_are_taken_as_they_are_and_empty_sets_refused(data):
    x, y = data
    scaled = x.astype(np.float32) / 255
    xb, _, _ = next(BatchSource(scaled, y, batch_size=50, shuffle=False).epoch(0))
    np.testing.assert_array_equal(xb, scaled)
    with pytest.raises(ValueError, match="no batch"):
        BatchSource(x[:0], y[:0])
    with pytest.raises(ValueError, match="drop_last"):
        BatchSource(x, y, batch_size=64, drop_last=True)

