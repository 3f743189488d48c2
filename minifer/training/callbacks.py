"""Callbacks with Keras's names and meanings, plus the state a resumed run needs.

Each callback's ``state_dict()`` is JSON-able (arrays, such as EarlyStopping's best
weights, go in ``arrays()``), so a training checkpoint can restore it exactly.
"""
import csv
import io
import math

from ..io import atomic_write


class Callback:
    model = None
    run = None  # the TrainingRun this callback belongs to, set by fit

    def set_model(self, model):
        self.model = model

    def set_run(self, run):
        self.run = run
        self.set_model(run.model)

    def on_train_begin(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_train_interrupted(self, epoch, batch): pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass

    def arrays(self):
        return {}

    def load_arrays(self, arrays):
        pass


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
        if self.monitor not in (logs or {}):
            raise KeyError(f"{type(self).__name__} monitors {self.monitor!r}, which is not among the logged "
                           f"figures {sorted(logs or {})}; pass validation_data to monitor val_* figures")
        return logs[self.monitor]

    def improved(self, value):
        if self.maximize:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def state_dict(self):
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state):
        self.best, self.wait = state["best"], state["wait"]


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, cooldown=0, min_lr=0.0,
                 mode="auto", verbose=0):
        super().__init__(monitor, min_delta, mode)
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau factor must be < 1")
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, cooldown, min_lr
        self.cooldown_left, self.verbose = 0, verbose

    def on_epoch_end(self, epoch, logs=None):
        value = self.current(logs)
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
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.3g}.")
                optimizer.learning_rate = new
                self.cooldown_left, self.wait = self.cooldown, 0

    def state_dict(self):
        return {**super().state_dict(), "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.cooldown_left = state["cooldown_left"]


class EarlyStopping(_Monitor):
    """Stop after ``patience`` epochs without improvement; optionally restore the best weights.

    With ``restore_best_weights`` the best epoch's weights are put back when training ends,
    whether it stopped early or ran out of epochs (Keras 2 restores only on an early stop).
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False,
                 verbose=0):
        super().__init__(monitor, min_delta, mode)
        self.patience, self.restore_best_weights, self.verbose = patience, restore_best_weights, verbose
        self.best_weights, self.best_epoch, self.stopped_epoch = None, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = self.current(logs)
        if self.improved(value):
            self.best, self.wait, self.best_epoch = value, 0, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping ({self.monitor} has not improved for {self.wait} epochs).")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring the weights of epoch {self.best_epoch + 1} (best {self.monitor}).")
            self.model.set_weights(self.best_weights)

    def state_dict(self):
        return {**super().state_dict(), "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.best_epoch = state["best_epoch"]

    def arrays(self):
        return {str(i): w for i, w in enumerate(self.best_weights or [])}

    def load_arrays(self, arrays):
        self.best_weights = [arrays[str(i)] for i in range(len(arrays))] or None


class ModelCheckpoint(Callback):
    """Write a resumable training checkpoint (weights, optimizer, position, RNG) at epoch ends.

    With ``save_best_only`` it writes only when ``monitor`` improves. Writes are atomic, so a
    crash or a NaN never leaves a broken file where the last good checkpoint was.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto", verbose=0):
        self.path, self.save_best_only, self.verbose = str(path), save_best_only, verbose
        self.tracker = _Monitor(monitor, 0.0, mode)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            value = self.tracker.current(logs)
            if not self.tracker.improved(value):
                return
            self.tracker.best = value
        self.run.save_checkpoint(self.path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved checkpoint to {self.path}")

    def on_train_interrupted(self, epoch, batch):
        if not self.save_best_only:  # the "last" checkpoint doubles as the resume point
            self.run.save_checkpoint(self.path)
            print(f"Saved a resumable checkpoint to {self.path}")

    def state_dict(self):
        return self.tracker.state_dict()

    def load_state_dict(self, state):
        self.tracker.load_state_dict(state)


class CSVLogger(Callback):
    """Rewrite ``path`` atomically after every epoch with the whole history (resume-safe)."""

    def __init__(self, path):
        self.path = str(path)

    def on_epoch_end(self, epoch, logs=None):
        history = self.run.history.history
        keys = list(history)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["epoch"] + keys)
        for i, e in enumerate(self.run.history.epoch):
            writer.writerow([e + 1] + [history[k][i] for k in keys])
        with atomic_write(self.path, "w") as f:
            f.write(buffer.getvalue())
