"""Batches for training: shuffled per epoch, augmented, weighted, repeatable.

Epoch ``e``'s order and augmentation come from ``numpy.random.default_rng([seed, e])``
alone, so a run resumed at epoch ``e`` (even mid-epoch) sees exactly the batches an
uninterrupted run would have seen.
"""
import numpy


def as_float_images(x):
    """uint8 images scale to [0, 1] float32; float images pass through as float32.

    One definition used by training, evaluation and prediction, so they never disagree.
    """
    x = numpy.asarray(x)
    if x.dtype == numpy.uint8:
        return x.astype(numpy.float32) * numpy.float32(1 / 255)
    return x.astype(numpy.float32, copy=False)


def class_weights(y, num_classes=None, mode="balanced"):
    """Inverse-frequency weights n / (classes * count), as scikit-learn's "balanced"."""
    if mode != "balanced":
        raise ValueError(f'class weight mode must be "balanced", got {mode!r}')
    y = numpy.asarray(y)
    num_classes = num_classes or int(y.max()) + 1
    counts = numpy.bincount(y, minlength=num_classes).astype(numpy.float64)
    return {c: (len(y) / (num_classes * counts[c]) if counts[c] else 0.0) for c in range(num_classes)}


class BatchSource:
    """Yields ``(images float32, labels int64, sample weights or None)`` for one epoch at a time."""

    def __init__(self, x, y, batch_size=256, augmenter=None, shuffle=True, seed=0, class_weight=None,
                 drop_last=False):
        if len(x) != len(y):
            raise ValueError(f"{len(x)} images but {len(y)} labels")
        if len(x) == 0:
            raise ValueError("no training images")
        self.x, self.y = x, numpy.asarray(y, dtype=numpy.int64)
        self.batch_size, self.augmenter, self.shuffle = int(batch_size), augmenter, shuffle
        self.seed, self.drop_last = seed, drop_last
        if isinstance(class_weight, str):
            class_weight = class_weights(self.y, mode=class_weight)
        self.sample_weight = None if class_weight is None else numpy.array(
            [class_weight.get(int(c), 1.0) for c in range(int(self.y.max()) + 1)], dtype=numpy.float32)[self.y]

    def __len__(self):
        n = len(self.x) // self.batch_size if self.drop_last else -(-len(self.x) // self.batch_size)
        return max(n, 1)

    def epoch(self, epoch):
        rng = numpy.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.x)) if self.shuffle else numpy.arange(len(self.x))
        for b in range(len(self)):
            index = numpy.sort(order[b * self.batch_size:(b + 1) * self.batch_size])
            xb = as_float_images(self.x[index])
            if self.augmenter is not None:
                xb = self.augmenter(xb, rng)
            wb = None if self.sample_weight is None else self.sample_weight[index]
            yield xb, self.y[index], wb
