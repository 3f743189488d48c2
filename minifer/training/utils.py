"""Keras's ``utils`` that training scripts reach for: one-hot labels and one seed for everything."""
import random as _python_random

import numpy

from .. import random


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices (any shape; a trailing axis of 1 is dropped, as Keras does) as one-hot rows."""
    y = numpy.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.size and (y.min() < 0 or not numpy.all(y == numpy.floor(y))):
        raise ValueError("to_categorical takes whole, non-negative class indices")
    y = y.astype(numpy.int64)
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    if y.size and y.max() >= num_classes:
        raise ValueError(f"class index {int(y.max())} does not fit num_classes={num_classes}")
    return numpy.eye(num_classes, dtype=dtype)[y]


def set_random_seed(seed):
    """Seed Python's ``random``, NumPy's global generator and minifer's (weight initialisation),
    as Keras's ``set_random_seed`` does. fit's shuffling and dropout follow ``fit(seed=)`` instead."""
    _python_random.seed(seed)
    numpy.random.seed(seed)
    random.seed(seed)
