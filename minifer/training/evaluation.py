"""compile, evaluate, predict and the single-batch calls, with Keras's signatures and return shapes.

``Evaluator`` is the inference half of ``Trainer``: the compiled loss (``losses.get``) and
metrics (``metrics.get``), and the one function that runs a batch and reduces it to a loss
Tensor and per-metric sums (``_loss``), which fit, evaluate and the batch calls all use.
``evaluate`` and ``test_on_batch`` return what Keras returns: the loss alone without metrics,
``[loss, *metrics]`` with them, or the dict with ``return_dict=True``.
"""
import json

import numpy

from ..autograd import no_grad
from ..backend import to_numpy
from . import losses, optimizers
from . import metrics as keras_metrics
from .adapters import adapt
from .distribute import SOLO
from .structure import is_nested, length, ordered

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

    def compile(self, optimizer="adam", loss="sparse_categorical_crossentropy", metrics=None, loss_weights=None,
                label_smoothing=0.0):
        """``loss``: a Keras name, a ``minifer.losses`` object or a callable ``(y_true, y_pred)``;
        ``metrics``: Keras names or callables, logged under the name given ("acc" logs as "acc").
        ``label_smoothing`` applies to a cross-entropy named by string. With several outputs,
        ``loss``, ``loss_weights`` and ``metrics`` may be lists (output order) or dicts (by output
        layer name); one loss or one metric list applies to every output, as in Keras."""
        self.loss, self.optimizer = loss, optimizers.get(optimizer)
        self._spec, self._heads_cache = (loss, loss_weights, metrics, label_smoothing), None
        if getattr(self, "graph_ready", True):
            self._heads()  # a bad name is an error now, not at the first batch

    def compile_config(self):
        """compile's arguments as JSON, which model files keep as Keras's do; None when not compiled or
        when a loss, metric or learning-rate schedule is a Python object rather than a name or number."""
        if self.optimizer is None:
            return None
        loss, loss_weights, metrics, smoothing = self._spec
        config = {"optimizer": {"class_name": type(self.optimizer).__name__, "config": self.optimizer.get_config()},
                  "loss": loss, "loss_weights": loss_weights, "metrics": metrics, "label_smoothing": smoothing}
        try:
            json.dumps(config)
        except TypeError:
            return None
        return config

    def _heads(self):
        """([(loss, weight)] per output, [(log name, output index, metric)]); resolved on first use,
        because a Sequential may be compiled before it knows its outputs."""
        if self._heads_cache is None:
            loss, loss_weights, metrics, smoothing = self._spec
            names = self._output_names()
            given = ordered(loss, names, "losses") if is_nested(loss) else [loss] * len(names)
            weights = [1.0] * len(names) if loss_weights is None else ordered(loss_weights, names, "loss weights")
            several = isinstance(metrics, dict) or (len(names) > 1 and metrics and is_nested(metrics[0]))
            per_output = ordered(metrics, names, "metric lists") if several else [metrics or ()] * len(names)
            label = (lambda i, n: f"{names[i]}_{n}") if len(names) > 1 else (lambda i, n: n)
            self._heads_cache = ([(losses.get(l, smoothing), float(w)) for l, w in zip(given, weights)],
                                 [(label(i, name), i, fn) for i, chosen in enumerate(per_output)
                                  for name, fn in (keras_metrics.get(m) for m in chosen or ())])
        return self._heads_cache

    def _output_names(self):
        return [t.layer.name for t in self.outputs]

    @property
    def metrics(self):
        return self._heads()[1] if self.optimizer is not None else []

    @property
    def metrics_names(self):
        names = self._output_names()
        per_output = [f"{n}_loss" for n in names] if len(names) > 1 else []
        return ["loss"] + per_output + [name for name, _, _ in self.metrics]

    def _require_compiled(self, what):
        if self.optimizer is None:
            raise RuntimeError(f"call model.compile(...) before {what}()")

    # -- one batch ---------------------------------------------------------------
    def _loss(self, x, y, sample_weight, training):
        """(total loss Tensor with the L2 penalties, the sums over the batch of each figure after
        "loss" in ``metrics_names``: per-output losses with several outputs, then the metrics).

        A softmax output carries its logits (``Tensor.logits``), which the cross-entropies use."""
        if y is None:
            raise ValueError("this needs labels: pass y, or batches (x, y) from the generator or Sequence")
        heads, metrics = self._heads()
        outs = self(x, training=training)
        outs = outs if isinstance(outs, list) else [outs]
        ys = ordered(y, self._output_names(), "labels") if len(outs) > 1 else [y]
        ys = [to_numpy(getattr(t, "data", t)) for t in ys]
        parts = [fn(t, out, sample_weight) for (fn, _), t, out in zip(heads, ys, outs)]
        loss = parts[0] * heads[0][1]
        for part, (_, weight) in zip(parts[1:], heads[1:]):
            loss = loss + part * weight
        for penalty in self.losses:
            loss = loss + penalty
        n = len(ys[0])
        sums = [float(part.data) * n for part in parts] if len(outs) > 1 else []
        if metrics:
            predicted = [to_numpy(out.data) for out in outs]
            sums += [float(numpy.broadcast_to(fn(ys[i], predicted[i]), (n,)).sum()) for _, i, fn in metrics]
        return loss, sums

    def _logs(self, loss_sum, sums, seen):
        """The mean loss and metrics over ``seen`` samples, under Keras's names."""
        seen = max(seen, 1)
        return dict(zip(self.metrics_names, [loss_sum / seen] + [s / seen for s in sums]))

    def _result(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _batch_result(self, loss, sums, x, return_dict):
        """One batch's figures (its mean loss and metric sums), shaped as ``evaluate``'s."""
        n = length(x)
        return self._result(self._logs(loss * n, sums, n), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics of one batch in inference mode, shaped as ``evaluate``'s."""
        self._require_compiled("test_on_batch")
        with no_grad():
            loss, sums = self._loss(x, y, sample_weight, training=False)
        return self._batch_result(float(loss.data), sums, x, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch in inference mode, as a NumPy array (a list, one per output,
        for a model with several)."""
        with no_grad():
            outs = self(x, training=False)
        return [to_numpy(o.data) for o in outs] if isinstance(outs, list) else to_numpy(outs.data)

    # -- whole data sets -----------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 return_dict=False, distribute=None):
        """Loss (with L2 penalties) and metrics in inference mode, over arrays, a generator of
        (x, y[, w]) batches or a Sequence; ``verbose``: 0 silent, 1 a progress bar, 2 one line.

        With ``distribute`` (a communicator, as fit takes) the processes take turns at the batches
        and add up every batch's figures in batch order, so each returns exactly what one process
        evaluating alone returns (a generator must give every process the same batches)."""
        self._require_compiled("evaluate")
        comm, batch_size = distribute or SOLO, batch_size or INFERENCE_BATCH_SIZE
        source = adapt(x, y, sample_weight, batch_size, steps=steps)
        steps_known = source.steps()
        owned = range(comm.rank, steps_known or 0, comm.size)  # the batch numbers this process computes
        bar = progress(total=len(owned) if steps_known else None, desc="evaluate", unit="batch", leave=False,
                       disable=verbosity(verbose) != 1 or not comm.is_chief)
        rows = []  # per batch: its index, loss * samples, the metric sums, samples
        with no_grad():
            for b, (xb, yb, wb) in enumerate(source.epoch(0)):
                if b % comm.size == comm.rank:
                    loss, batch_sums = self._loss(xb, yb, wb, training=False)
                    rows.append([b, float(loss.data) * length(xb), *batch_sums, length(xb)])
                    bar.update(1)
        bar.close()
        width = len(self.metrics_names) + 2
        mine = numpy.array(rows, numpy.float64).reshape(-1, width)
        table = numpy.concatenate(comm.allgather(mine)) if comm.size > 1 else mine
        loss_sum, sums, seen = 0.0, [0.0] * (width - 3), 0
        for row in table[numpy.argsort(table[:, 0], kind="stable")]:  # one process's order and arithmetic
            loss_sum, seen = loss_sum + row[1], seen + int(row[-1])
            sums = [a + b for a, b in zip(sums, row[2:-1])]
        logs = self._logs(loss_sum, [float(v) for v in sums], seen)
        if verbosity(verbose) and comm.is_chief:
            write_line(format_logs(logs))
        return self._result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None):
        """The outputs (class probabilities for a softmax model) as a NumPy array, in inference mode;
        ``x`` as ``evaluate`` takes it (labels a generator gives are ignored)."""
        source = adapt(x, batch_size=batch_size or INFERENCE_BATCH_SIZE, steps=steps)
        bar = progress(total=source.steps(), desc="predict", unit="batch", leave=False,
                        disable=verbosity(verbose) != 1)
        outputs = []
        for xb, _, _ in source.epoch(0):
            outputs.append(self.predict_on_batch(xb))
            bar.update(1)
        bar.close()
        if outputs and isinstance(outputs[0], list):
            return [numpy.concatenate(per_output) for per_output in zip(*outputs)]
        return numpy.concatenate(outputs)


def verbosity(verbose):
    """Keras's verbose: "auto" is 1 (a progress bar), 2 one line, 0 nothing."""
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f'verbose must be 0, 1, 2 or "auto", got {verbose!r}')
    return int(verbose)

