"""Classification figures from integer labels: accuracy, confusion matrix, per-class P/R/F1;
and Keras's compiled metrics by name (``get``), as per-sample values that fit and evaluate average."""
import numpy

from .source import class_labels


def accuracy(y_true, y_pred):
    y_true, y_pred = numpy.asarray(y_true), numpy.asarray(y_pred)
    return float((y_true == y_pred).mean()) if y_true.size else float("nan")


def confusion_matrix(y_true, y_pred, num_classes):
    """``cm[i, j]`` counts samples of true class i predicted as class j."""
    cm = numpy.zeros((num_classes, num_classes), dtype=numpy.int64)
    numpy.add.at(cm, (numpy.asarray(y_true), numpy.asarray(y_pred)), 1)
    return cm


def per_class(cm):
    """Precision, recall, F1 and support per class; 0 where a class is never predicted or present."""
    cm = numpy.asarray(cm, dtype=numpy.float64)
    tp = numpy.diag(cm)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = numpy.divide(tp, predicted, out=numpy.zeros_like(tp), where=predicted > 0)
    recall = numpy.divide(tp, support, out=numpy.zeros_like(tp), where=support > 0)
    total = precision + recall
    f1 = numpy.divide(2 * precision * recall, total, out=numpy.zeros_like(tp), where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(numpy.int64)}


def classification_report(y_true, y_pred, class_names):
    """A JSON-able dict of the figures and a printable table."""
    cm = confusion_matrix(y_true, y_pred, len(class_names))
    figures = per_class(cm)
    report = {
        "accuracy": accuracy(y_true, y_pred),
        "macro_f1": float(figures["f1"].mean()),
        "per_class": {name: {key: (int(figures[key][i]) if key == "support" else float(figures[key][i]))
                             for key in ("precision", "recall", "f1", "support")}
                      for i, name in enumerate(class_names)},
        "confusion_matrix": cm.tolist(),
    }
    width = max(len(n) for n in class_names) + 2
    lines = [f"{'class':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name, row in report["per_class"].items():
        lines.append(f"{name:<{width}}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}"
                     f"{row['support']:>10d}")
    lines.append(f"{'accuracy':<{width}}{report['accuracy']:>30.3f}{int(cm.sum()):>10d}")
    lines.append(f"{'macro f1':<{width}}{report['macro_f1']:>30.3f}")
    return report, "\n".join(lines)


# -- Keras's compiled metrics: per-sample values a fit or evaluate averages -------------------------
def _indices(y_true):
    return class_labels(y_true)  # (N, 1) read as (N,), the one label rule


def _targets(y_true, y_pred):
    y = numpy.asarray(y_true, dtype=numpy.float64)
    return y[..., None] if y.ndim == y_pred.ndim - 1 else y


def sparse_categorical_accuracy(y_true, y_pred):
    return (y_pred.argmax(axis=-1) == _indices(y_true)).astype(numpy.float64)


def categorical_accuracy(y_true, y_pred):
    return (y_pred.argmax(axis=-1) == numpy.asarray(y_true).argmax(axis=-1)).astype(numpy.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    return ((y_pred > threshold) == (_targets(y_true, y_pred) > threshold)).mean(axis=-1)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    top = numpy.argsort(-y_pred, axis=-1, kind="stable")[:, :k]
    return (top == _indices(y_true)[:, None]).any(axis=1).astype(numpy.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(numpy.asarray(y_true).argmax(axis=-1), y_pred, k)


def mean_absolute_error(y_true, y_pred):
    return numpy.abs(y_pred - _targets(y_true, y_pred)).mean(axis=-1)


def mean_squared_error(y_true, y_pred):
    return ((y_pred - _targets(y_true, y_pred)) ** 2).mean(axis=-1)


def keras_accuracy(y_true, y_pred):
    """What Keras 3 makes of "accuracy": binary for one output unit, sparse for class indices
    ((N,) or (N, 1) labels), categorical for one-hot targets."""
    if y_pred.shape[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    if numpy.ndim(y_true) == 1 or numpy.shape(y_true)[-1] == 1:
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)


KERAS_METRICS = {"accuracy": keras_accuracy, "acc": keras_accuracy,
                 "sparse_categorical_accuracy": sparse_categorical_accuracy,
                 "categorical_accuracy": categorical_accuracy, "binary_accuracy": binary_accuracy,
                 "top_k_categorical_accuracy": top_k_categorical_accuracy,
                 "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
                 "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
                 "mse": mean_squared_error, "mean_squared_error": mean_squared_error}


def get(identifier):
    """(log name, fn(y_true, y_pred) -> per-sample values) for a Keras metric name or a callable;
    the log name is the string given, as in Keras ("acc" logs as "acc")."""
    if isinstance(identifier, str):
        if identifier.lower() not in KERAS_METRICS:
            raise ValueError(f"unknown metric {identifier!r}; supported: {sorted(KERAS_METRICS)}")
        return identifier, KERAS_METRICS[identifier.lower()]
    if callable(identifier):
        return getattr(identifier, "__name__", type(identifier).__name__), identifier
    raise ValueError(f"a metric is a Keras name or a callable (y_true, y_pred), got {identifier!r}")
