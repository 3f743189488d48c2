"""Classification figures from integer labels: accuracy, confusion matrix, per-class P/R/F1."""
import numpy


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
