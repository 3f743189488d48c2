"""Speed of minifer's batch augmentation against per-image reference loops.

``ImageAugmenter`` resamples a whole batch with one vectorised bilinear gather.  This
script times it on a 256x48x48x1 float32 batch (the training batch of the examples)
with Keras-like settings, and, in the same run and on the same transforms, a Python
loop of ``scipy.ndimage.affine_transform`` (what Keras's ImageDataGenerator runs per
image) and of ``skimage.transform.warp``.  Medians of repeated runs are printed.

    python -m benchmarks.augmentation [--batch 256] [--repeats 30]
"""
import argparse
import time

import numpy as np

from minifer.data.augment import ImageAugmenter, affine_resample


def median_ms(fn, repeats):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    from scipy import ndimage
    from skimage.transform import AffineTransform, warp

    rng = np.random.default_rng(0)
    batch = rng.random((args.batch, 48, 48, 1), dtype=np.float32)
    augmenter = ImageAugmenter(rotation_range=10, width_shift_range=0.1,
                               height_shift_range=0.1, zoom_range=0.1, horizontal_flip=True)
    matrices = augmenter.random_matrices(args.batch, 48, 48, rng)

    def scipy_loop():
        return [ndimage.affine_transform(img[..., 0], m[:, :2], m[:, 2], order=1, mode="nearest")
                for img, m in zip(batch, matrices)]

    # skimage's warp takes an (x, y) = (col, row) map, so swap the axes of each matrix.
    swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    xy = [AffineTransform(swap @ np.vstack([m, [0, 0, 1]]) @ swap) for m in matrices]

    def skimage_loop():
        return [warp(img[..., 0], t, order=1, mode="edge") for img, t in zip(batch, xy)]

    ours = affine_resample(batch, matrices)
    assert np.allclose(ours[..., 0], np.stack(scipy_loop()), atol=1e-4)
    assert np.allclose(ours[..., 0], np.stack(skimage_loop()), atol=1e-4)

    rows = [("minifer ImageAugmenter (draw + resample)", median_ms(lambda: augmenter(batch, rng), args.repeats)),
            ("minifer affine_resample only", median_ms(lambda: affine_resample(batch, matrices), args.repeats)),
            ("scipy.ndimage.affine_transform loop", median_ms(scipy_loop, max(3, args.repeats // 5))),
            ("skimage.transform.warp loop", median_ms(skimage_loop, max(3, args.repeats // 5)))]
    print(f"{args.batch} x 48x48x1 float32, rotation 10, shifts 0.1, zoom 0.1, flip; median ms")
    print(f"{'method':<44} {'ms':>8} {'x ours':>8}")
    for name, ms in rows:
        print(f"{name:<44} {ms:>8.1f} {ms / rows[0][1]:>8.1f}")


if __name__ == "__main__":
    main()
