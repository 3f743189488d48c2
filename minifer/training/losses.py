"""Keras's losses: objects, their string names, and any callable ``(y_true, y_pred) -> Tensor``.

Every loss takes labels as a NumPy array and the model's output Tensor and returns the
mean over the batch of the per-sample loss (Keras's "sum over batch size": weighted by
``sample_weight``, divided by N). The cross-entropies use the logits a softmax tagged its
output with (``Tensor.logits``), as Keras does; each loss checks that its labels have the
shape it reads, so a sparse/one-hot mix-up is an error instead of a wrong loss.
"""
import numpy

from .. import functional as F
from ..autograd import as_tensor
from ..backend import get_xp
from ..functional.loss import EPSILON
from .source import class_labels


class Loss:
    name = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred)
        y = get_xp(y_pred.data).asarray(self.labels(y_true, y_pred.shape), dtype=y_pred.dtype)  # on its device
        per_sample = self.per_sample(y, y_pred)
        if sample_weight is not None:
            per_sample = per_sample * get_xp(y_pred.data).asarray(sample_weight, dtype=y_pred.dtype)
        return per_sample.sum() * (1.0 / y_pred.shape[0])

    def labels(self, y, output_shape):
        """``y`` as this loss reads it: targets of the output's shape ((N,) is read as (N, 1))."""
        y = numpy.asarray(y)
        if y.ndim == len(output_shape) - 1:
            y = y[..., None]
        if y.shape != tuple(output_shape):
            raise ValueError(f"loss '{self.name}' needs targets of the output's shape {tuple(output_shape)}, "
                             f"got labels of shape {y.shape}")
        return y

    def per_sample(self, y, y_pred):
        raise NotImplementedError


class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"
    label_ndim, takes = 1, "class indices of shape (N,)"
    instead = "use loss='categorical_crossentropy' for one-hot or soft targets"

    def __init__(self, from_logits=False, label_smoothing=0.0):
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)

    def labels(self, y, output_shape):
        """Class indices or targets (``class_labels``), of the kind this loss reads, else Keras's error."""
        y = class_labels(y)
        if y.ndim != self.label_ndim:
            kind = "labels" if self.label_ndim == 1 else "class indices"
            raise ValueError(f"loss '{self.name}' takes {self.takes}, got {kind} of shape {y.shape}: {self.instead}")
        return y

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The cross-entropy in ``F.cross_entropy``, one formula for both label kinds."""
        y_pred = as_tensor(y_pred)
        return F.cross_entropy(y_pred, self.labels(y_true, y_pred.shape), from_logits=self.from_logits,
                               label_smoothing=self.label_smoothing, sample_weight=sample_weight)


class CategoricalCrossentropy(SparseCategoricalCrossentropy):
    name = "categorical_crossentropy"
    label_ndim, takes = 2, "one-hot or soft targets of shape (N, classes)"
    instead = "use loss='sparse_categorical_crossentropy'"


def _abs(x):
    return F.relu(x) + F.relu(-x)  # gradient 0 at 0, as TensorFlow's sign(0)


class BinaryCrossentropy(Loss):
    """Mean over the last axis of -[y log p + (1 - y) log(1 - p)]; from logits z it is computed
    as relu(z) - z y + log(1 + exp(-|z|)), which never overflows."""

    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0):
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)

    def per_sample(self, y, y_pred):
        if self.label_smoothing:
            y = y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            loss = F.relu(y_pred) - y_pred * y + (1.0 + (-_abs(y_pred)).exp()).log()
        else:
            p = F.clip(y_pred, EPSILON, 1 - EPSILON)
            loss = -(p.log() * y + (1.0 - p).log() * (1.0 - y))
        return loss.mean(axis=-1)


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def per_sample(self, y, y_pred):
        d = y_pred - y
        return (d * d).mean(axis=-1)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def per_sample(self, y, y_pred):
        return _abs(y_pred - y).mean(axis=-1)


class Huber(Loss):
    """0.5 d^2 where |d| <= delta, delta (|d| - delta / 2) beyond: quadratic near 0, linear far out."""

    name = "huber"

    def __init__(self, delta=1.0):
        self.delta = float(delta)

    def per_sample(self, y, y_pred):
        d = _abs(y_pred - y)
        quadratic = F.clip(d, 0.0, self.delta)
        return (quadratic * quadratic * 0.5 + (d - quadratic) * self.delta).mean(axis=-1)


class _Function(Loss):
    """A user's callable ``(y_true, y_pred) -> Tensor`` of per-sample losses (or their mean)."""

    def __init__(self, fn):
        self.fn, self.name = fn, getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred)
        value = as_tensor(self.fn(y_true, y_pred))
        if sample_weight is not None:
            value = value * get_xp(y_pred.data).asarray(sample_weight, dtype=y_pred.dtype)
        return value.mean() if value.ndim else value


ALIASES = {"sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
           "categorical_crossentropy": CategoricalCrossentropy, "binary_crossentropy": BinaryCrossentropy,
           "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
           "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "huber": Huber, "huber_loss": Huber}


def get(identifier, label_smoothing=0.0):
    """A Loss from a Loss, a Keras name (``label_smoothing`` applies to the cross-entropies) or a callable."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = ALIASES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown loss {identifier!r}; Keras names: {sorted(ALIASES)}")
        if not label_smoothing:
            return cls()
        if not issubclass(cls, (SparseCategoricalCrossentropy, BinaryCrossentropy)):
            raise ValueError(f"label_smoothing applies to the cross-entropies, not to loss {identifier!r}")
        return cls(label_smoothing=label_smoothing)
    if callable(identifier):
        return _Function(identifier)
    raise TypeError(f"loss must be a Keras name, a minifer.losses object or a callable, got {identifier!r}")
