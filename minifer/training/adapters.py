"""Every kind of input ``fit``, ``evaluate`` and ``predict`` take, adapted to one shape: a source
whose ``epoch(e, done, comm)`` yields this process's ``(x, y, sample_weight)`` batch of each
step after ``done`` = (steps, samples) of the epoch, and whose ``steps(processes)`` counts the
steps (None where a generator cannot say). Arrays resume from the sample (on any number of
processes), the others from the step.

Arrays go through ``BatchSource`` (shuffling, augmentation, class weights, exact resumption);
a Keras ``Sequence``/``PyDataset`` (``__len__`` and ``__getitem__`` returning batches) is read
in a (seed, epoch) order; a Python generator or iterator is read on, batch after batch, as
Keras reads one (its epochs continue where the last one stopped).
"""
import itertools

import numpy

from .distribute import SOLO, DistributedError
from .source import BatchSource
from .structure import leaves, length, take

DEFAULT_BATCH_SIZE = 32  # Keras's batch_size=None
PRECISE_BN_IMAGES = 1024  # training images fit re-estimates BatchNorm statistics over (docs/training.md)


def adapt(x, y=None, sample_weight=None, batch_size=None, shuffle=False, seed=0, class_weight=None,
          augmenter=None, steps=None):
    """The batch source for ``x`` (and ``y``, ``sample_weight`` for arrays), at most ``steps`` batches an epoch."""
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    arrays = not isinstance(x, BatchSource) and all(hasattr(a, "shape") and hasattr(a, "dtype") for a in leaves(x))
    if not arrays and (y is not None or sample_weight is not None or class_weight is not None):
        raise ValueError(f"x is a {type(x).__name__} of batches: its batches carry the labels and weights, so "
                         "y, sample_weight and class_weight must be None (as in Keras)")
    if isinstance(x, BatchSource):
        source = x
    elif arrays:  # one per input
        source = _Unlabelled(x, batch_size) if y is None else BatchSource(
            x, y, batch_size=batch_size, augmenter=augmenter, shuffle=shuffle, seed=seed,
            class_weight=class_weight, sample_weight=sample_weight)
    else:
        source = _Indexed(x, shuffle, seed) if hasattr(x, "__getitem__") and hasattr(x, "__len__") else _Stream(x)
    return source if steps is None else _Limited(source, steps)


def streamed(source):
    """Whether ``adapt`` read its input as a stream (a generator or iterator), which no resume can replay."""
    return isinstance(source, _Stream) or isinstance(source, _Limited) and streamed(source.source)


def unpack(item):
    """(x, y, w) from a batch a generator or Sequence gave: a tuple (x, y[, w]) or x alone."""
    if isinstance(item, tuple):
        if not 1 <= len(item) <= 3:
            raise ValueError(f"a batch is (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(item)}")
        return (item + (None, None))[:3]
    return item, None, None


def _first(batches, n):
    """Up to ``n`` samples of x from ``(x, y, w)`` batches: one array, or one per input."""
    taken, count = [], 0
    for xb, _, _ in batches:
        taken.append(xb)
        count += length(xb)
        if count >= n:
            break
    if not taken:
        return numpy.zeros((0,))

    def join(parts):
        return numpy.concatenate([numpy.asarray(p) for p in parts])[:n]

    if isinstance(taken[0], dict):
        return {key: join([t[key] for t in taken]) for key in taken[0]}
    if isinstance(taken[0], (list, tuple)):
        return [join([t[i] for t in taken]) for i in range(len(taken[0]))]
    return join(taken)


class _Unlabelled:
    """``x`` alone, in order (``predict``)."""

    def __init__(self, x, batch_size):
        self.x, self.batch_size = x, batch_size

    def steps(self, processes=1):
        return max(-(-length(self.x) // self.batch_size), 1)

    def epoch(self, e, done=(0, 0), comm=SOLO):
        n = length(self.x)
        for s in range(0, max(n, 1), self.batch_size):  # no images: one empty batch, so outputs keep their shape
            yield take(self.x, numpy.arange(s, min(s + self.batch_size, n))), None, None


class _Indexed:
    """A Keras ``Sequence``/``PyDataset``: ``seq[i]`` is batch i; shuffled per (seed, epoch) when asked."""

    def __init__(self, sequence, shuffle, seed):
        self.sequence, self.shuffle, self.seed = sequence, shuffle, seed

    def steps(self, processes=1):
        return -(-len(self.sequence) // processes)

    def epoch(self, e, done=(0, 0), comm=SOLO):
        """Step k gives process r the Sequence's batch k * size + r of the epoch's order (None past
        its end, in the last step)."""
        n = len(self.sequence)
        order = numpy.random.default_rng([self.seed, e]).permutation(n) if self.shuffle else numpy.arange(n)
        for first in range(done[0] * comm.size, n, comm.size):
            mine = first + comm.rank
            yield unpack(self.sequence[int(order[mine])]) if mine < n else (None, None, None)
        if hasattr(self.sequence, "on_epoch_end"):
            self.sequence.on_epoch_end()

    def images(self, n):
        return _first((unpack(self.sequence[i]) for i in range(len(self.sequence))), n)


class _Stream:
    """A generator or iterator: each epoch reads on from where the last stopped."""

    def __init__(self, iterable):
        self.iterator, self.seen = iter(iterable), []

    def steps(self, processes=1):
        return None

    def epoch(self, e, done=(0, 0), comm=SOLO):
        if comm.size > 1:
            raise DistributedError("a generator cannot be shared out between processes: give fit arrays, a "
                                   "BatchSource or a Sequence to train on several")
        self.seen, kept = [], 0  # this epoch's first batches: a generator cannot be read twice
        for item in itertools.islice(self.iterator, done[0], None):
            batch = unpack(item)
            if kept < PRECISE_BN_IMAGES:
                self.seen.append(batch)
                kept += length(batch[0])
            yield batch

    def images(self, n):
        return _first(self.seen, n)


class _Limited:
    """At most ``steps`` batches of each epoch (``steps_per_epoch``, ``evaluate(steps=)``)."""

    def __init__(self, source, steps):
        self.source, self.limit = source, int(steps)

    def steps(self, processes=1):
        inner = self.source.steps(processes)
        return self.limit if inner is None else min(inner, self.limit)

    def epoch(self, e, done=(0, 0), comm=SOLO):
        return itertools.islice(self.source.epoch(e, done, comm), max(self.limit - done[0], 0))

    def images(self, n):
        return self.source.images(n)
