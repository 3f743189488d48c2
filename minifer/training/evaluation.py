"""compile, evaluate, predict and the single-batch calls, with Keras's signatures and return shapes.

``Evaluator`` is the inference half of ``Trainer``: the compiled loss (``losses.get``) and
metrics (``metrics.get``), and the one function that runs a batch and reduces it to a loss
Tensor and per-metric sums (``_loss``), which fit, evaluate and the batch calls all use.
``evaluate`` and ``test_on_batch`` return what Keras returns: the loss alone without metrics,
``[loss, *metrics]`` with them, or the dict with ``return_dict=True``.
"""
import numpy

from ..autograd import no_grad
from ..backend import to_numpy
from . import losses, optimizers
from . import metrics as keras_metrics
from .adapters import adapt, steps_of

INFERENCE_BATCH_SIZE = 256  # evaluate/predict with batch_size=None: the results do not depend on it


def progress(**kwargs):
    from tqdm.auto import tqdm  # loaded on first use, not with minifer
    return tqdm(**kwargs)


def write_line(line):
    from tqdm.auto import tqdm
    tqdm.write(line)


def format_logs(logs):
    return " - ".join(f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}" for k, v in logs.items() if k != "time")


class Evaluator:
    """Adds Keras's compile / evaluate / predict to ``minifer.Model``."""

    optimizer = None

    def compile(self, optimizer="adam", loss="sparse_categorical_crossentropy", metrics=None, label_smoothing=0.0):
        """``loss``: a Keras name, a ``minifer.losses`` object or a callable ``(y_true, y_pred)``;
        ``metrics``: Keras names or callables, logged under the name given ("acc" logs as "acc").
        ``label_smoothing`` applies to a cross-entropy named by string."""
        self.loss = losses.get(loss, label_smoothing)
        self.metrics = [keras_metrics.get(m) for m in (metrics or ())]
        self.optimizer = optimizers.get(optimizer)

    @property
    def metrics_names(self):
        return ["loss"] + [name for name, _ in getattr(self, "metrics", ())]

    def _require_compiled(self, what):
        if self.optimizer is None:
            raise RuntimeError(f"call model.compile(...) before {what}()")

    # -- one batch ---------------------------------------------------------------
    def _loss(self, x, y, sample_weight, training):
        """(total loss Tensor with the L2 penalties, each metric's sum over the batch).

        A softmax output carries its logits (``Tensor.logits``), which the cross-entropies use."""
        if y is None:
            raise ValueError("this needs labels: pass y, or batches (x, y) from the generator or Sequence")
        y = to_numpy(getattr(y, "data", y))
        out = self(x, training=training)
        loss = self.loss(y, out, sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        if not self.metrics:
            return loss, []
        predicted = to_numpy(out.data)
        n = len(predicted)
        return loss, [float(numpy.broadcast_to(fn(y, predicted), (n,)).sum()) for _, fn in self.metrics]

    def _logs(self, loss_sum, sums, seen):
        """The mean loss and metrics over ``seen`` samples, under Keras's names."""
        seen = max(seen, 1)
        return dict(zip(self.metrics_names, [loss_sum / seen] + [s / seen for s in sums]))

    def _result(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics of one batch in inference mode, shaped as ``evaluate``'s."""
        self._require_compiled("test_on_batch")
        with no_grad():
            loss, sums = self._loss(x, y, sample_weight, training=False)
        return self._result(self._logs(float(loss.data) * len(x), sums, len(x)), return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch in inference mode, as a NumPy array."""
        with no_grad():
            return to_numpy(self(x, training=False).data)

    # -- whole data sets -----------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 return_dict=False):
        """Loss (with L2 penalties) and metrics in inference mode, over arrays, a generator of
        (x, y[, w]) batches or a Sequence; ``verbose``: 0 silent, 1 a progress bar, 2 one line."""
        self._require_compiled("evaluate")
        source = adapt(x, y, sample_weight, batch_size or INFERENCE_BATCH_SIZE, steps=steps)
        loss_sum, sums, seen = 0.0, [0.0] * len(self.metrics), 0
        bar = progress(total=steps_of(source), desc="evaluate", unit="batch", leave=False,
                        disable=verbosity(verbose) != 1)
        with no_grad():
            for xb, yb, wb in source.epoch(0):
                loss, batch_sums = self._loss(xb, yb, wb, training=False)
                loss_sum, seen = loss_sum + float(loss.data) * len(xb), seen + len(xb)
                sums = [a + b for a, b in zip(sums, batch_sums)]
                bar.update(1)
        bar.close()
        logs = self._logs(loss_sum, sums, seen)
        if verbosity(verbose):
            write_line(format_logs(logs))
        return self._result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None):
        """The outputs (class probabilities for a softmax model) as a NumPy array, in inference mode;
        ``x`` as ``evaluate`` takes it (labels a generator gives are ignored)."""
        source = adapt(x, batch_size=batch_size or INFERENCE_BATCH_SIZE, steps=steps)
        bar = progress(total=steps_of(source), desc="predict", unit="batch", leave=False,
                        disable=verbosity(verbose) != 1)
        outputs = []
        for xb, _, _ in source.epoch(0):
            outputs.append(self.predict_on_batch(xb))
            bar.update(1)
        bar.close()
        return numpy.concatenate(outputs)


def verbosity(verbose):
    """Keras's verbose: "auto" is 1 (a progress bar), 2 one line, 0 nothing."""
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f'verbose must be 0, 1, 2 or "auto", got {verbose!r}')
    return int(verbose)
