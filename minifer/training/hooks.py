"""``Callback``, the hooks fit calls, and Keras's callbacks that keep no state of their own:
LambdaCallback, LearningRateScheduler, TerminateOnNaN. The ones that track a monitored
figure or write files are in ``callbacks.py``, which re-exports these (``minifer.callbacks``).
"""
import math


class Callback:
    """Keras's hooks. ``state_dict()`` is JSON-able (arrays, such as EarlyStopping's best weights,
    go in ``arrays()``), so a training checkpoint can restore a callback exactly."""

    model = None
    run = None  # the TrainingRun this callback belongs to, set by fit

    def set_model(self, model):
        self.model = model

    def set_run(self, run):
        self.run = run
        self.set_model(run.model)

    @property
    def writes(self):
        """Whether this process prints and writes files: the one process, or rank 0 of several."""
        return self.run is None or self.run.comm.is_chief

    def on_train_begin(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def on_train_batch_end(self, batch, logs=None):
        """``logs``: the epoch's running loss and metrics; Keras 2's ``on_batch_end`` is its old name."""
        self.on_batch_end(batch, logs)

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


_KERAS2_NAMES = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    HOOKS = ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_epoch_end",
             "on_train_end")

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            name = _KERAS2_NAMES.get(name, name)
            if name not in self.HOOKS:
                raise TypeError(f"LambdaCallback has no hook {name!r}; it has {list(self.HOOKS)}")
            if fn is not None:
                setattr(self, name, fn)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or ``schedule(epoch)``), epoch from 0."""

    def __init__(self, schedule, verbose=0):
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            rate = self.schedule(epoch, optimizer.learning_rate)
        except TypeError:  # a schedule of the epoch alone, as Keras allows
            rate = self.schedule(epoch)
        if not isinstance(rate, (int, float)) or not math.isfinite(rate):
            raise ValueError(f"LearningRateScheduler's schedule must return a finite number, got {rate!r}")
        optimizer.learning_rate = rate
        if self.verbose and self.writes:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}.")


class TerminateOnNaN(Callback):
    """Stop training, without an error, at the first batch whose loss is not finite. fit has
    already undone that step (it raises TrainingDiverged when no callback stops it)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            if self.writes:
                print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True
