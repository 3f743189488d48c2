"""``fit``'s arguments, checked before anything runs: a batch size or ``validation_freq`` of 0 failed
deep in the first epoch (ZeroDivisionError), and a negative epoch count, step count or weight
trained on nothing, or on a loss turned upside down, without a word."""
import numbers

import numpy

from .structure import leaves


def check_fit_arguments(batch_size, epochs, initial_epoch, steps_per_epoch, validation_steps, validation_batch_size,
                        validation_freq, class_weight, sample_weight):
    for name, value, low in (("batch_size", batch_size, 1), ("steps_per_epoch", steps_per_epoch, 1),
                             ("validation_steps", validation_steps, 1),
                             ("validation_batch_size", validation_batch_size, 1),
                             ("epochs", epochs, 0), ("initial_epoch", initial_epoch, 0)):
        if value is not None:
            whole(name, value, low)
    if isinstance(validation_freq, numbers.Integral) and not isinstance(validation_freq, bool):
        whole("validation_freq", validation_freq, 1)
    elif not (isinstance(validation_freq, (list, tuple, set, range)) and validation_freq):
        raise TypeError(f"validation_freq must be a whole number >= 1 or a list of epochs, got {validation_freq!r}")
    else:
        for epoch in validation_freq:
            whole("an epoch in validation_freq", epoch, 1)
    if isinstance(class_weight, dict):
        _weights("class_weight", list(class_weight.values()))
    for leaf in leaves(sample_weight) if sample_weight is not None else ():
        _weights("sample_weight", leaf)


def whole(name, value, low):
    """``value`` if it is a whole number of at least ``low`` (a bool or 1.9 is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


def _weights(name, values):
    values = numpy.asarray(values)
    if values.dtype.kind not in "biuf" or not numpy.all(numpy.isfinite(values)) or numpy.any(values < 0):
        raise ValueError(f"{name} must hold finite numbers of 0 or more (a negative weight turns the loss "
                         "upside down)")
