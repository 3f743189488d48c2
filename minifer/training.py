"""compile / fit / evaluate / predict for Models, Keras style, with exact resumption.

A batch's randomness (shuffle order, augmentation) comes from the data source's
(seed, epoch) generator and dropout's from ``minifer.random``; a checkpoint stores the
weights, the optimizer's slots, the position (epoch, batch), the running sums, the
callbacks' state and the random state, so a resumed run continues bit for bit.
"""
import math
import signal
import threading
import time

import numpy
from tqdm.auto import tqdm

from . import functional as F
from . import optimizers, random
from .backend import to_numpy
from .callbacks import Callback
from .checkpoint import load_checkpoint, save_checkpoint
from .data import BatchSource
from .data.normalize import scale_01
from .tensor import Tensor, no_grad

LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message says where."""


class History(Callback):
    """Per-epoch figures: ``history.history["val_accuracy"][i]`` is epoch ``history.epoch[i]``."""

    def __init__(self):
        self.epoch, self.history = [], {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self):
        return {"epoch": self.epoch, "history": self.history}

    def load_state_dict(self, state):
        self.epoch, self.history = list(state["epoch"]), {k: list(v) for k, v in state["history"].items()}


class TrainingMixin:
    """Adds Keras's training API to ``minifer.Model``."""

    optimizer = None
    stop_training = False

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
        """(total loss Tensor, correct count) for one batch; the loss includes L2 penalties."""
        from_logits = self.output_is_softmax()
        out = self(x, training=training, logits=from_logits)
        loss = F.cross_entropy(out, y, from_logits=from_logits, label_smoothing=self.label_smoothing,
                               sample_weight=sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        labels = y if y.ndim == 1 else y.argmax(axis=1)
        return loss, int((out.data.argmax(axis=1) == labels).sum())

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

        ``resume`` is a checkpoint written by ``ModelCheckpoint`` (or by Ctrl-C): training
        continues from its epoch and batch exactly as if it had never stopped.
        """
        self._require_compiled("fit")
        source = x if isinstance(x, BatchSource) else BatchSource(
            x, y, batch_size=batch_size, augmenter=augmenter, shuffle=shuffle, seed=seed, class_weight=class_weight)
        self.history = History()  # one per fit, as in Keras; a resumed fit reloads the earlier epochs
        callbacks = [self.history] + list(callbacks or [])
        for cb in callbacks:
            cb.set_model(self)
        self._callbacks = callbacks
        self.stop_training = False
        random.seed(seed)  # dropout masks
        start_epoch, start_batch, self._running = 0, 0, (0.0, 0, 0)
        if resume is not None:
            start_epoch, start_batch = self._restore(resume, callbacks)
        self._position = (start_epoch, start_batch)
        for cb in callbacks:
            cb.on_train_begin()
        with _StopOnInterrupt() as interrupt:
            for epoch in range(start_epoch, epochs):
                for cb in callbacks:
                    cb.on_epoch_begin(epoch)
                logs = self._train_epoch(source, epoch, epochs, start_batch if epoch == start_epoch else 0,
                                         interrupt, verbose)
                if logs is None:  # interrupted: a resumable checkpoint has been written
                    break
                if validation_data is not None:
                    val = self.evaluate(*validation_data, batch_size=max(source.batch_size, 256))
                    logs.update({f"val_{k}": v for k, v in val.items()})
                logs["lr"] = self.optimizer.learning_rate
                self._position = (epoch + 1, 0)
                for cb in callbacks:
                    cb.on_epoch_end(epoch, logs)
                if verbose:
                    tqdm.write(f"Epoch {epoch + 1}/{epochs} - {logs['time']:.1f}s - " + " - ".join(
                        f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}" for k, v in logs.items() if k != "time"))
                if self.stop_training:
                    break
        for cb in callbacks:
            cb.on_train_end()
        return self.history

    def _train_epoch(self, source, epoch, epochs, skip, interrupt, verbose):
        loss_sum, correct, seen = self._running if skip else (0.0, 0, 0)
        bar = tqdm(total=len(source), initial=skip, desc=f"Epoch {epoch + 1}/{epochs}", unit="batch",
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
            for cb in self._callbacks:
                cb.on_batch_end(batch)
            loss_sum, correct, seen = loss_sum + value * n, correct + hits, seen + n
            self._running, self._position = (loss_sum, correct, seen), (epoch, batch + 1)
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", accuracy=f"{correct / seen:.4f}")
            if interrupt.requested:
                bar.close()
                for cb in self._callbacks:
                    cb.on_train_interrupted(epoch, batch)
                tqdm.write(f"Interrupted after epoch {epoch + 1}, batch {batch + 1}; resume with resume=<checkpoint>.")
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
            for s in range(0, n, batch_size):
                xb = Tensor(scale_01(x[s:s + batch_size]))
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
        outputs = []
        with no_grad():
            for s in range(0, len(x), batch_size):
                outputs.append(to_numpy(self(Tensor(scale_01(x[s:s + batch_size])), training=False).data))
        return numpy.concatenate(outputs)

    # -- checkpoints -------------------------------------------------------------
    def save_checkpoint(self, path):
        """Everything needed to resume: weights, optimizer, position, callbacks, random state."""
        epoch, batch = self._position
        state = {"epoch": epoch, "batch": batch, "running": list(self._running), "random": random.get_state(),
                 "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()} for cb in self._callbacks]}
        arrays = {f"callbacks/{i}/{k}": a for i, cb in enumerate(self._callbacks) for k, a in cb.arrays().items()}
        save_checkpoint(path, self, self.optimizer, state, arrays)

    def _restore(self, path, callbacks):
        state, arrays = load_checkpoint(path, self, self.optimizer)
        saved = state["callbacks"]
        for i, cb in enumerate(callbacks):
            entry = saved[i] if i < len(saved) else None
            if entry is None or entry["class"] != type(cb).__name__:
                if cb.state_dict():
                    raise ValueError(f"checkpoint {path} was written with callbacks {[c['class'] for c in saved]}; "
                                     f"this fit has {[type(c).__name__ for c in callbacks]}: pass the same ones")
                continue
            cb.load_state_dict(entry["state"])
            prefix = f"callbacks/{i}/"
            cb.load_arrays({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
        random.set_state(state["random"])
        self._running = tuple(state["running"])
        return state["epoch"], state["batch"]


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
