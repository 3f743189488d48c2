"""``BatchSource``: shuffled, augmented, optionally class-weighted training batches, and the
one input scaling (``scale_01``) every entry point applies.

The random stream of epoch ``e`` is ``np.random.default_rng([seed, e])`` and nothing
else, so a run resumed at epoch ``e`` sees exactly the batches (order and
augmentation) an uninterrupted run would have seen, without saving RNG state.
"""
import numpy as np

from ..backend import get_xp


def scale_01(images):
    """uint8 images to float32 in [0, 1]; float images are taken as already scaled.

    The one input convention of training, evaluation and prediction, so they never disagree.
    """
    xp = get_xp(images)
    if images.dtype == xp.uint8:
        return images.astype(xp.float32) / xp.float32(255)
    return images.astype(xp.float32, copy=False)


def class_weights(y, n_classes):
    """sklearn's "balanced" weights ``n_samples / (n_classes * count)`` per class.

    A class absent from ``y`` gets weight 0 (it has no samples to weigh).
    """
    counts = np.bincount(np.asarray(y), minlength=n_classes).astype(np.float64)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = len(y) / (n_classes * counts[present])
    return weights


class BatchSource:
    """Batches ``(xb, yb, wb)`` of ``x`` (N, H, W, C) uint8 images and int labels ``y``.

    ``xb`` is float32 (uint8 ``x`` scaled to [0, 1], float ``x`` taken as already
    scaled: see :func:`scale_01`) and then augmented (``augmenter(xb, rng)``), on the
    device that holds ``x``; ``yb`` int64; ``wb`` float32 per-sample weights, or
    None without ``class_weight``.  ``class_weight``: None, "balanced" (see
    :func:`class_weights`, computed on this ``y``) or a dict {class: weight}
    (missing classes weigh 1).  ``len(source)`` is the number of batches per epoch.
    """

    def __init__(self, x, y, batch_size=256, augmenter=None, shuffle=True, seed=0,
                 class_weight=None, drop_last=False, n_classes=None):
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
        if len(x) < (batch_size if drop_last else 1):
            raise ValueError(f"{len(x)} images make no batch of {batch_size}"
                             f"{' with drop_last' if drop_last else ''}")
        self.x, self.y = x, np.asarray(y, np.int64)
        self.batch_size, self.augmenter, self.shuffle = batch_size, augmenter, shuffle
        self.seed, self.drop_last = seed, drop_last
        self.n_classes = n_classes or int(self.y.max()) + 1
        self.sample_weights = self._sample_weights(class_weight)

    def _sample_weights(self, class_weight):
        if class_weight is None:
            return None
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"class_weight must be None, 'balanced' or a dict, "
                                 f"not {class_weight!r}")
            per_class = class_weights(self.y, self.n_classes)
        else:
            per_class = np.ones(self.n_classes)
            for cls, weight in class_weight.items():
                per_class[int(cls)] = weight
        return per_class[self.y].astype(np.float32)

    def __len__(self):
        full, rest = divmod(len(self.y), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def epoch(self, e):
        """Yield the batches of epoch ``e`` (deterministic in ``(seed, e)``)."""
        rng = np.random.default_rng([self.seed, e])
        order = rng.permutation(len(self.y)) if self.shuffle else np.arange(len(self.y))
        xp = get_xp(self.x)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            xb = scale_01(self.x[xp.asarray(idx)])
            if self.augmenter is not None:
                xb = self.augmenter(xb, rng)
            wb = None if self.sample_weights is None else self.sample_weights[idx]
            yield xb, self.y[idx], wb

    def __iter__(self):
        """Epoch 0; use :meth:`epoch` to pick the epoch explicitly."""
        return self.epoch(0)
