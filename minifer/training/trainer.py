"""compile / fit / evaluate / predict for Models, Keras style, with exact resumption.

``Trainer`` is the half of ``minifer.Model`` that trains: it needs only a model's call,
weights and losses, so it sits below the Model class that inherits it (Keras's own layout).
A batch's randomness (shuffle order, augmentation) comes from the data source's (seed, epoch)
generator and dropout's from the run's own generator; a checkpoint stores the run
(``run.py``), so a resumed fit continues bit for bit.
"""
import math
import signal
import threading
import time

import numpy

from .. import functional as F
from .. import random
from ..autograd import Tensor, no_grad
from ..backend import to_numpy
from . import optimizers
from .run import TrainingRun
from .source import BatchSource, scale_01

LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message says where."""


def _progress(**kwargs):
    from tqdm.auto import tqdm  # loaded on the first fit, not with minifer
    return tqdm(**kwargs)


def _write(line):
    from tqdm.auto import tqdm
    tqdm.write(line)


class Trainer:
    """Adds Keras's training API to ``minifer.Model``."""

    optimizer = None
    stop_training = False
    history = None

    def compile(self, optimizer="adam", loss="sparse_categorical_crossentropy", metrics=("accuracy",),
                label_smoothing=0.0):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        unknown = set(metrics or ()) - {"accuracy"}
        if unknown:
            raise ValueError(f"unknown metrics {sorted(unknown)}; supported: ['accuracy']")
        self.optimizer = optimizers.get(optimizer)
        self.loss, self.metrics, self.label_smoothing = loss, tuple(metrics or ()), float(label_smoothing)

    def _require_compiled(self, what):
        if self.optimizer is None:
            raise RuntimeError(f"call model.compile(...) before {what}()")

    # -- one batch ---------------------------------------------------------------
    def _loss(self, x, y, sample_weight, training):
        """(total loss Tensor, correct count) for one batch; the loss includes L2 penalties.

        A softmax output carries its logits (``Tensor.logits``), which the cross-entropy uses."""
        out = self(x, training=training)
        loss = F.cross_entropy(out, y, from_logits=False, label_smoothing=self.label_smoothing,
                               sample_weight=sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        labels = to_numpy(y if y.ndim == 1 else y.argmax(axis=1))
        return loss, int((to_numpy(out.data.argmax(axis=1)) == labels).sum())

    def train_on_batch(self, x, y, sample_weight=None):
        params = self.trainable_weights
        self.optimizer.zero_grad(params)
        loss, correct = self._loss(x, y, sample_weight, training=True)
        value = float(loss.data)
        if not math.isfinite(value):
            return value, correct  # the caller stops before a bad update is applied
        loss.backward()
        self.optimizer.step(params)
        return value, correct

    # -- fit -------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=32, epochs=1, validation_data=None, callbacks=None, shuffle=True,
            seed=0, class_weight=None, verbose=1, augmenter=None, resume=None):
        """Train; ``x`` is an image array (with labels ``y``) or a ``BatchSource``.

        ``seed`` fixes the shuffle order, the augmentation and the dropout masks of this fit
        (from generators of its own: the global ``minifer.random`` generator is left alone).
        ``resume`` is a checkpoint written by ``ModelCheckpoint`` (or by Ctrl-C): training
        continues from its epoch and batch exactly as if it had never stopped.
        """
        self._require_compiled("fit")
        source = x if isinstance(x, BatchSource) else BatchSource(
            x, y, batch_size=batch_size, augmenter=augmenter, shuffle=shuffle, seed=seed, class_weight=class_weight)
        run = TrainingRun(self, callbacks, seed)
        self.history = run.history  # a resumed fit reloads the earlier epochs into it
        self.stop_training = False
        if resume is not None:
            run.restore(resume)
        for cb in run.callbacks:
            cb.on_train_begin()
        start_epoch, start_batch = run.epoch, run.batch
        with _StopOnInterrupt() as interrupt, random.using(run.rng):
            for epoch in range(start_epoch, epochs):
                for cb in run.callbacks:
                    cb.on_epoch_begin(epoch)
                logs = self._train_epoch(run, source, epoch, epochs, start_batch if epoch == start_epoch else 0,
                                         interrupt, verbose)
                if logs is None:  # interrupted: a resumable checkpoint has been written
                    break
                if validation_data is not None:
                    val = self.evaluate(*validation_data, batch_size=max(source.batch_size, 256))
                    logs.update({f"val_{k}": v for k, v in val.items()})
                logs["lr"] = self.optimizer.learning_rate
                run.advance(epoch + 1, 0)
                for cb in run.callbacks:
                    cb.on_epoch_end(epoch, logs)
                if verbose:
                    _write(f"Epoch {epoch + 1}/{epochs} - {logs['time']:.1f}s - " + " - ".join(
                        f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}" for k, v in logs.items() if k != "time"))
                if self.stop_training:
                    break
        for cb in run.callbacks:
            cb.on_train_end()
        return self.history

    def _train_epoch(self, run, source, epoch, epochs, skip, interrupt, verbose):
        loss_sum, correct, seen = run.running if skip else (0.0, 0, 0)
        bar = _progress(total=len(source), initial=skip, desc=f"Epoch {epoch + 1}/{epochs}", unit="batch",
                        leave=False, disable=verbose != 1)
        start = time.perf_counter()
        for batch, (xb, yb, wb) in enumerate(source.epoch(epoch)):
            if batch < skip:
                continue
            value, hits = self.train_on_batch(xb, yb, wb)
            if not math.isfinite(value):
                bar.close()
                raise TrainingDiverged(
                    f"the loss became {value} at epoch {epoch + 1}, batch {batch + 1}; training stopped before "
                    "applying that update, and the last checkpoint written (if any) was kept. Try a lower "
                    "learning rate or weaker L2.")
            n = len(yb)
            for cb in run.callbacks:
                cb.on_batch_end(batch)
            loss_sum, correct, seen = loss_sum + value * n, correct + hits, seen + n
            run.advance(epoch, batch + 1, (loss_sum, correct, seen))
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", accuracy=f"{correct / seen:.4f}")
            if interrupt.requested:
                bar.close()
                for cb in run.callbacks:
                    cb.on_train_interrupted(epoch, batch)
                _write(f"Interrupted after epoch {epoch + 1}, batch {batch + 1}; resume with resume=<checkpoint>.")
                return None
        bar.close()
        logs = {"loss": loss_sum / max(seen, 1)}
        if "accuracy" in self.metrics:
            logs["accuracy"] = correct / max(seen, 1)
        logs["time"] = time.perf_counter() - start
        return logs

    # -- inference -------------------------------------------------------------
    def evaluate(self, x, y, batch_size=256, sample_weight=None):
        """Loss (with L2 penalties) and accuracy in inference mode, as a dict."""
        self._require_compiled("evaluate")
        total, correct, n = 0.0, 0, len(x)
        with no_grad():
            for s, xb in _inference_batches(x, batch_size):
                wb = None if sample_weight is None else sample_weight[s:s + batch_size]
                loss, hits = self._loss(xb, numpy.asarray(y[s:s + batch_size]), wb, training=False)
                total += float(loss.data) * len(xb)
                correct += hits
        logs = {"loss": total / n}
        if "accuracy" in self.metrics:
            logs["accuracy"] = correct / n
        return logs

    def predict(self, x, batch_size=256):
        """Class probabilities (N, classes) as a NumPy array, in inference mode."""
        with no_grad():
            return numpy.concatenate([to_numpy(self(xb, training=False).data)
                                      for _, xb in _inference_batches(x, batch_size)])


def _inference_batches(x, batch_size):
    """(start, scaled batch Tensor) pairs over ``x``, the one input convention of evaluate and predict."""
    for s in range(0, len(x), batch_size):
        yield s, Tensor(scale_01(x[s:s + batch_size]))


class _StopOnInterrupt:
    """Turn the first Ctrl-C into a request to stop after the current batch."""

    requested = False

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False
