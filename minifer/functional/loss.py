"""Cross-entropy for integer or one-hot labels, from logits or from probabilities.

From logits it uses log-softmax (stable for any logit size). From probabilities it uses the
logits a softmax tagged them with (``Tensor.logits``), as Keras does, and otherwise clips them
to [1e-7, 1 - 1e-7] first. With sample weights the loss is
sum(w_i * loss_i) / N, Keras's "sum over batch size" reduction.
"""
from ..autograd import as_tensor
from ..backend import get_xp
from .softmax import log_softmax
from .core import clip

EPSILON = 1e-7


def one_hot(labels, num_classes, dtype, xp):
    labels = xp.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got values in "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    out = xp.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[xp.arange(labels.shape[0]), labels] = 1
    return out


def cross_entropy(outputs, labels, from_logits=True, label_smoothing=0.0, sample_weight=None):
    """Mean cross-entropy of (N, K) ``outputs`` against labels (N,) ints or (N, K) one-hot."""
    outputs = as_tensor(outputs)
    xp = get_xp(outputs.data)
    n, k = outputs.shape
    labels = getattr(labels, "data", labels)
    if labels.ndim == 1:
        target = one_hot(labels, k, outputs.dtype, xp)
    elif labels.shape == outputs.shape:
        target = xp.asarray(labels, dtype=outputs.dtype)
    else:
        raise ValueError(f"labels of shape {labels.shape} do not fit outputs of shape {outputs.shape}")
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / k
    if not from_logits and outputs.logits is not None:
        outputs, from_logits = outputs.logits, True
    log_p = log_softmax(outputs) if from_logits else clip(outputs, EPSILON, 1 - EPSILON).log()
    per_sample = -(log_p * target).sum(axis=1)
    if sample_weight is not None:
        per_sample = per_sample * xp.asarray(sample_weight, dtype=outputs.dtype)
    return per_sample.sum() * (1.0 / n)
