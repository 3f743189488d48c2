"""Augmentation semantics: identities, flips, Keras's rotation direction, shifts, fill
modes against scipy.ndimage, random ranges, and determinism."""
import numpy as np
import pytest
from scipy import ndimage

from minifer.data import ImageAugmenter, affine_matrices, affine_resample


@pytest.fixture
def batch():
    return np.random.default_rng(0).random((4, 48, 48, 1), dtype=np.float32)


def test_all_ranges_zero_is_the_identity(batch):
    out = ImageAugmenter()(batch, np.random.default_rng(0))
    np.testing.assert_array_equal(out, batch)
    for mode in ("nearest", "constant", "reflect", "wrap"):
        np.testing.assert_array_equal(affine_resample(batch, affine_matrices(48, 48, np.zeros(4)), mode), batch)


def test_pure_flip_mirrors_columns(batch):
    out = affine_resample(batch, affine_matrices(48, 48, flip=np.ones(4)))
    np.testing.assert_array_equal(out, batch[:, :, ::-1])
    out = ImageAugmenter(horizontal_flip=True)(batch, np.random.default_rng(1))
    flipped = [np.array_equal(o, b[:, ::-1]) for o, b in zip(out, batch)]
    kept = [np.array_equal(o, b) for o, b in zip(out, batch)]
    assert all(f != k for f, k in zip(flipped, kept))  # each image is one or the other


def test_rotation_turns_counter_clockwise_like_rot90_and_keras(batch):
    out = affine_resample(batch, affine_matrices(48, 48, 90.0))
    np.testing.assert_allclose(out, np.rot90(batch, k=1, axes=(1, 2)), atol=1e-5)
    out = affine_resample(batch, affine_matrices(48, 48, -90.0))
    np.testing.assert_allclose(out, np.rot90(batch, k=-1, axes=(1, 2)), atol=1e-5)
    # scipy.ndimage.rotate is an independent implementation with the same direction.
    out = affine_resample(batch[:1], affine_matrices(48, 48, 30.0))[0, ..., 0]
    ref = ndimage.rotate(batch[0, ..., 0], 30.0, reshape=False, order=1, mode="nearest")
    np.testing.assert_allclose(out[12:36, 12:36], ref[12:36, 12:36], atol=1e-4)


def test_shift_moves_content_by_whole_pixels(batch):
    out = affine_resample(batch, affine_matrices(48, 48, shift_y=3, shift_x=-2), "constant", cval=-1.0)
    np.testing.assert_array_equal(out[:, 3:, :-2], batch[:, :-3, 2:])
    assert (out[:, :3] == -1).all() and (out[:, :, -2:] == -1).all()
    out = affine_resample(batch, affine_matrices(48, 48, shift_y=5, shift_x=7), "wrap")
    np.testing.assert_array_equal(out, np.roll(batch, (5, 7), axis=(1, 2)))
    out = affine_resample(batch, affine_matrices(48, 48, shift_x=2), "reflect")
    np.testing.assert_array_equal(out[:, :, :2], batch[:, :, 1::-1])
    out = affine_resample(batch, affine_matrices(48, 48, shift_x=2), "nearest")
    np.testing.assert_array_equal(out[:, :, :2], np.repeat(batch[:, :, :1], 2, axis=2))


@pytest.mark.parametrize("mode,scipy_mode", [("nearest", "nearest"), ("reflect", "reflect"),
                                             ("constant", "constant"), ("wrap", "grid-wrap")])
def test_random_transforms_match_scipy_affine_transform(mode, scipy_mode):
    rng = np.random.default_rng(2)
    batch = rng.random((8, 30, 40, 2), dtype=np.float32)  # non-square, two channels
    aug = ImageAugmenter(25, 0.2, 0.2, 0.3, True, fill_mode=mode, cval=0.5)
    matrices = aug.random_matrices(8, 30, 40, rng)
    out = affine_resample(batch, matrices, mode, 0.5)
    for i in range(8):
        for c in range(2):
            ref = ndimage.affine_transform(batch[i, ..., c].astype(np.float64), matrices[i, :, :2],
                                           matrices[i, :, 2], order=1, mode=scipy_mode, cval=0.5)
            np.testing.assert_allclose(out[i, ..., c], ref, atol=1e-4)


def test_random_ranges_follow_keras_meanings():
    rng = np.random.default_rng(3)
    m = ImageAugmenter(width_shift_range=0.25).random_matrices(500, 48, 48, rng)
    np.testing.assert_allclose(m[:, :, :2], np.broadcast_to(np.eye(2), (500, 2, 2)))
    assert np.all(m[:, 0, 2] == 0) and np.abs(m[:, 1, 2]).max() <= 12 < np.abs(m[:, 1, 2]).max() + 1
    m = ImageAugmenter(height_shift_range=5).random_matrices(500, 48, 48, rng)  # >= 1: pixels
    assert np.all(m[:, 1, 2] == 0) and 4.5 < np.abs(m[:, 0, 2]).max() <= 5
    m = ImageAugmenter(zoom_range=0.2).random_matrices(500, 48, 48, rng)
    zy, zx = m[:, 0, 0], m[:, 1, 1]
    assert zy.min() >= 0.8 and zy.max() <= 1.2 and zx.min() >= 0.8 and zx.max() <= 1.2
    assert not np.allclose(zy, zx)  # independent per axis, as Keras draws them
    m = ImageAugmenter(rotation_range=20).random_matrices(500, 48, 48, rng)
    angles = np.degrees(np.arctan2(m[:, 0, 1], m[:, 0, 0]))
    assert -20 <= angles.min() < -18 and 18 < angles.max() <= 20


def test_deterministic_for_a_seed(batch):
    aug = ImageAugmenter(15, 0.1, 0.1, 0.1, True, fill_mode="reflect")
    a = aug(batch, np.random.default_rng(7))
    b = aug(batch, np.random.default_rng(7))
    c = aug(batch, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.dtype == np.float32 and a.shape == batch.shape


def test_bad_fill_mode_is_refused():
    with pytest.raises(ValueError, match="fill_mode"):
        ImageAugmenter(fill_mode="mirror")


def test_uint8_pixels_are_augmented_in_their_own_units_and_stay_uint8():
    """The same transform on uint8 pixels as on the same pixels in float, rounded back to uint8."""
    pixels = np.random.default_rng(3).integers(0, 256, (6, 20, 24, 1), dtype=np.uint8)
    aug = ImageAugmenter(rotation_range=30, zoom_range=0.2, horizontal_flip=True, fill_mode="constant", cval=255)
    out = aug(pixels, np.random.default_rng(4))
    floats = aug(pixels.astype(np.float32), np.random.default_rng(4))
    assert out.dtype == np.uint8 and out.shape == pixels.shape
    np.testing.assert_array_equal(out, np.clip(np.rint(floats), 0, 255).astype(np.uint8))
    assert not np.array_equal(out, pixels)
