"""``BatchSource``: shuffled, augmented, optionally class-weighted training batches.

Batches hold the arrays as given (uint8 pixels stay uint8): the model's inputs take them at its
door, by the rule each input declares (``layers/input.py``), as at every other door.

Epoch ``e``'s order comes from ``np.random.default_rng([seed, e])`` and each step's augmentation
from a generator of its own position, and nothing else, so a run resumed anywhere sees exactly
the batches (order and augmentation) an uninterrupted run would have seen, without saving RNG
state, and the processes of a distributed run each take their share of one order.
"""
import numpy as np

from .distribute import SOLO
from .structure import is_nested, length, map_leaves, take


def class_labels(y):
    """Labels as the losses take them: class indices (N,) as int64, or one-hot / soft targets
    (N, K) as float32 exactly as given. (N, 1) is read as indices, as Keras does; float indices
    must be whole numbers (2.7 is not a class)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        return y.astype(np.float32, copy=False)
    if y.ndim != 1:
        raise ValueError(f"labels must be class indices (N,) or targets (N, classes), got shape {y.shape}")
    if y.dtype.kind == "f" and not np.all(y == np.floor(y)):
        raise ValueError("float labels must be whole class indices; got fractional values (soft targets go "
                         "in a (N, classes) array with loss='categorical_crossentropy')")
    if y.dtype.kind not in "iuf" and y.size:
        raise TypeError(f"labels must be numbers, got dtype {y.dtype}")
    return y.astype(np.int64)


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
    """Batches ``(xb, yb, wb)`` of ``x`` (N, H, W, C) images and labels ``y``.

    ``xb`` is ``x``'s images as they are, augmented (``augmenter(xb, rng)``) in their own
    units, on the device that holds ``x``; ``yb`` the labels as given (class indices, one-hot / soft
    targets: see :func:`class_labels`, or regression targets); ``wb`` float32 per-sample
    weights (``sample_weight`` times the ``class_weight`` of each sample's class), or None.  ``class_weight``: None, "balanced" (see
    :func:`class_weights`, computed on this ``y``) or a dict {class: weight}
    (missing classes weigh 1).  ``len(source)`` is the number of batches per epoch.
    """

    def __init__(self, x, y, batch_size=256, augmenter=None, shuffle=True, seed=0,
                 class_weight=None, drop_last=False, n_classes=None, sample_weight=None):
        self.n = length(x, "x")
        if length(y, "y") != self.n:
            raise ValueError(f"x has {self.n} images but y has {length(y, 'y')} labels")
        if sample_weight is not None and len(sample_weight) != self.n:
            raise ValueError(f"sample_weight has {len(sample_weight)} weights but y has {self.n} labels")
        if self.n < (batch_size if drop_last else 1):
            raise ValueError(f"{self.n} images make no batch of {batch_size}"
                             f"{' with drop_last' if drop_last else ''}")
        if is_nested(x) and augmenter is not None:
            raise ValueError("augmentation applies to one image input; this model's x holds several inputs")
        if is_nested(y) and class_weight is not None:
            raise ValueError("class_weight applies to one output, as in Keras; weigh samples with sample_weight")
        self.x, self.y = x, map_leaves(np.asarray, y)  # as given: the loss reads them (regression targets too)
        self.batch_size, self.augmenter, self.shuffle = batch_size, augmenter, shuffle
        self.seed, self.drop_last = seed, drop_last
        self.sample_weights = self._sample_weights(class_weight, n_classes, sample_weight)

    def _sample_weights(self, class_weight, n_classes, sample_weight):
        """Each sample's weight times its class's weight, as Keras combines them."""
        own = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float32)
        if class_weight is None:
            return own
        labels = class_labels(self.y)
        classes = labels if labels.ndim == 1 else labels.argmax(axis=1)
        n_classes = n_classes or (labels.shape[1] if labels.ndim == 2 else int(classes.max()) + 1)
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"class_weight must be None, 'balanced' or a dict, "
                                 f"not {class_weight!r}")
            per_class = class_weights(classes, n_classes)
        else:  # classes the labels do not hold weigh nothing here, as in Keras
            per_class = np.ones(max([n_classes] + [int(c) + 1 for c in class_weight]))
            for cls, weight in class_weight.items():
                per_class[int(cls)] = weight
        weights = per_class[classes].astype(np.float32)
        return weights if own is None else weights * own

    def steps(self, processes=1):
        """Steps per epoch, each a batch from every one of ``processes``: every source ``fit`` reads
        offers ``steps()`` (training/adapters.py)."""
        full, rest = divmod(self.n, self.batch_size * processes)
        return full + (1 if rest and not self.drop_last else 0)

    def images(self, n):
        """The training images precise BatchNorm re-estimates over: all of them
        (``recompute_batchnorm`` takes its spread-out subset of at most ``n``)."""
        return self.x

    def __len__(self):
        return self.steps()

    def epoch(self, e, done=(0, 0), comm=SOLO):
        """Yield this process's batch of each step of epoch ``e`` after ``done`` = (steps, samples):
        from the sample ``done[1]`` of the epoch's order (deterministic in ``(seed, e)``) on. A step takes the next ``batch_size *
        comm.size`` samples and gives each process a near-equal contiguous share (in a last step
        with fewer samples than processes, some get none); the augmentation of a share draws from
        ``(seed, e, the step's first sample, rank)``. So a run resumed at any sample, on any number
        of processes, sees what an uninterrupted one would."""
        order = np.random.default_rng([self.seed, e]).permutation(self.n) if self.shuffle else np.arange(self.n)
        step = self.batch_size * comm.size
        end = self.n - self.n % step if self.drop_last else self.n
        for first in range(done[1], end, step):
            idx = np.array_split(order[first:min(first + step, end)], comm.size)[comm.rank]
            xb = take(self.x, idx)
            if self.augmenter is not None and len(idx):
                xb = self.augmenter(xb, np.random.default_rng([self.seed, e, first, comm.rank]))
            wb = None if self.sample_weights is None else self.sample_weights[idx]
            yield xb, take(self.y, idx), wb

    def __iter__(self):
        """Epoch 0; use :meth:`epoch` to pick the epoch explicitly."""
        return self.epoch(0)
