"""Callbacks with Keras's names and meanings that track a monitored figure or write files,
plus the state a resumed run needs; the base class and the stateless ones are in ``hooks.py``.
"""
import csv
import io
import math
import string
import warnings

from ..io import atomic_write
from .hooks import Callback, LambdaCallback, LearningRateScheduler, TerminateOnNaN

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "ReduceLROnPlateau", "TerminateOnNaN"]


class _Monitor(Callback):
    """Tracks the best value of ``monitor``; mode "auto" maximises accuracy-like names."""

    def __init__(self, monitor, min_delta, mode):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f'mode must be "auto", "min" or "max", got {mode!r}')
        self.monitor, self.min_delta = monitor, abs(min_delta)
        self.maximize = mode == "max" or (mode == "auto" and ("acc" in monitor or monitor.endswith("f1")))
        self.best = -math.inf if self.maximize else math.inf
        self.wait = 0

    def current(self, logs):
        """The monitored figure, or None with a warning when this epoch did not log it (Keras
        warns and goes on too: with ``validation_freq`` some epochs have no val_* figures)."""
        if self.monitor not in (logs or {}):
            warnings.warn(f"{type(self).__name__} monitors {self.monitor!r}, which is not among the logged "
                          f"figures {sorted(logs or {})}; pass validation_data to monitor val_* figures", stacklevel=3)
            return None
        return logs[self.monitor]

    def improved(self, value):
        if self.maximize:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    STATE = ("best", "wait")  # the attributes a checkpoint keeps; subclasses add theirs

    def state_dict(self):
        return {name: getattr(self, name) for name in self.STATE}

    def load_state_dict(self, state):
        for name in self.STATE:
            setattr(self, name, state[name])


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement."""

    STATE = _Monitor.STATE + ("cooldown_left",)

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, cooldown=0, min_lr=0.0,
                 mode="auto", verbose=0):
        super().__init__(monitor, min_delta, mode)
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau factor must be < 1")
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, cooldown, min_lr
        self.cooldown_left, self.verbose = 0, verbose

    def on_epoch_end(self, epoch, logs=None):
        value = self.current(logs)
        if value is None:
            return
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.improved(value):
            self.best, self.wait = value, 0
        elif self.cooldown_left == 0:
            self.wait += 1
            optimizer = self.model.optimizer
            if self.wait >= self.patience and optimizer.learning_rate > self.min_lr:
                new = max(optimizer.learning_rate * self.factor, self.min_lr)
                if self.verbose and self.writes:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.3g}.")
                optimizer.learning_rate = new
                self.cooldown_left, self.wait = self.cooldown, 0


class EarlyStopping(_Monitor):
    """Stop after ``patience`` epochs without improvement; optionally restore the best weights.

    With ``restore_best_weights`` the best epoch's weights are put back when training ends,
    whether it stopped early or ran out of epochs (Keras 2 restores only on an early stop).
    """

    STATE = _Monitor.STATE + ("best_epoch",)

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False,
                 verbose=0):
        super().__init__(monitor, min_delta, mode)
        self.patience, self.restore_best_weights, self.verbose = patience, restore_best_weights, verbose
        self.best_weights, self.best_epoch, self.stopped_epoch = None, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = self.current(logs)
        if value is None:
            return
        if self.improved(value):
            self.best, self.wait, self.best_epoch = value, 0, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose and self.writes:
                print(f"Epoch {epoch + 1}: early stopping ({self.monitor} has not improved for {self.wait} epochs).")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose and self.writes:
                print(f"Restoring the weights of epoch {self.best_epoch + 1} (best {self.monitor}).")
            self.model.set_weights(self.best_weights)


    def arrays(self):
        return {str(i): w for i, w in enumerate(self.best_weights or [])}

    def load_arrays(self, arrays):
        self.best_weights = [arrays[str(i)] for i in range(len(arrays))] or None


class ModelCheckpoint(Callback):
    """Keras's ModelCheckpoint: at epoch ends, write the model (``minifer.load`` opens it) or,
    with ``save_weights_only``, its weights (``model.load_weights``) to ``filepath``, which may
    name the epoch and its figures: "w-{epoch:02d}-{val_loss:.2f}.npz" (epoch counted from 1).
    With ``save_best_only`` it writes only when ``monitor`` improves.

    ``resumable=True`` writes a training checkpoint instead, a different kind of file (weights,
    optimizer, position, generators) that only ``fit(resume=path)`` reads, continuing exactly;
    a Ctrl-C writes one too. Writes are atomic, so a crash or a NaN never leaves a broken file
    where the last good one was.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", resumable=False):
        self.filepath, self.save_best_only, self.verbose = str(filepath), save_best_only, verbose
        self.save_weights_only, self.resumable = save_weights_only, resumable
        if resumable and save_weights_only:
            raise ValueError("a resumable checkpoint holds the weights and the training state; "
                             "save_weights_only applies to plain checkpoints")
        fields = {field for _, field, _, _ in string.Formatter().parse(self.filepath) if field}
        if resumable and fields - {"epoch"}:
            raise ValueError(f"a resumable checkpoint's path may name only {{epoch}}, got {sorted(fields)}: "
                             "a Ctrl-C writes one between epochs, where no figures exist")
        self.tracker = _Monitor(monitor, 0.0, mode)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            value = self.tracker.current(logs)
            if value is None or not self.tracker.improved(value):
                return
            self.tracker.best = value
        self._write(self.filepath.format(epoch=epoch + 1, **(logs or {})))
        if self.verbose and self.writes:
            print(f"Epoch {epoch + 1}: saved {'a resumable checkpoint' if self.resumable else 'the model'} "
                  f"to {self.filepath.format(epoch=epoch + 1, **(logs or {}))}")

    def _write(self, path):
        if not self.writes:
            return
        if self.resumable:
            self.run.save_checkpoint(path)
        elif self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def on_train_interrupted(self, epoch, batch):
        if self.resumable and not self.save_best_only:  # the "last" checkpoint doubles as the resume point
            self.run.save_checkpoint(self.filepath.format(epoch=epoch + 1))  # fit says where

    def state_dict(self):
        return self.tracker.state_dict()

    def load_state_dict(self, state):
        self.tracker.load_state_dict(state)


class CSVLogger(Callback):
    """Rewrite ``path`` atomically after every epoch with the whole history (resume-safe)."""

    def __init__(self, path):
        self.path = str(path)

    def on_epoch_end(self, epoch, logs=None):
        if not self.writes:
            return
        history = self.run.history.history
        keys = list(history)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["epoch"] + keys)
        for i, e in enumerate(self.run.history.epoch):
            writer.writerow([e + 1] + [history[k][i] for k in keys])
        with atomic_write(self.path, "w") as f:
            f.write(buffer.getvalue())
