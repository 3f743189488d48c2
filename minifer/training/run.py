"""TrainingRun: the state of one ``fit``, kept in one object instead of on the model.

Where the run is (epoch, steps and samples into it), what it has summed so far, its callbacks
and History, the seed its dropout masks are drawn from and the processes it runs in.
``ModelCheckpoint`` saves the run through ``save_checkpoint`` (rank 0 alone writes);
``fit(resume=path)`` restores one, and with the data source's (seed, epoch) stream the resumed
run continues bit for bit.
"""
import copy


from ..io.config import BAD_CONFIG_ERRORS
from .callbacks import Callback
from .checkpoint import read_checkpoint, save_checkpoint
from .distribute import SOLO, DistributedError


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


class TrainingRun:
    def __init__(self, model, callbacks, seed, comm=SOLO):
        self.model, self.seed, self.comm = model, seed, comm  # dropout masks: never the global generator
        self.history = History()  # one per fit, as in Keras
        self.callbacks = [self.history] + list(callbacks or [])
        self.epoch, self.batch = 0, 0  # the next batch to train
        self.running = (0.0, [], 0)  # this epoch's loss sum, metric sums and samples so far (all processes')
        self.last_saved = None  # the path of the last checkpoint written
        for cb in self.callbacks:
            cb.set_run(self)

    def advance(self, epoch, batch, running=(0.0, (), 0)):
        self.epoch, self.batch, self.running = epoch, batch, running

    def save_checkpoint(self, path):
        """Everything needed to resume: weights, optimizer, position (steps, and samples in ``running``,
        with the number of processes), callbacks, seeded layers' generators. Rank 0 alone writes."""
        if not self.comm.is_chief:
            return
        state = {"epoch": self.epoch, "batch": self.batch, "running": list(self.running), "processes": self.comm.size,
                 "layer_random": self._generators(),
                 "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks]}
        arrays = {f"callbacks/{i}/{k}": a for i, cb in enumerate(self.callbacks) for k, a in cb.arrays().items()}
        save_checkpoint(path, self.model, self.model.optimizer, state, arrays)
        self.last_saved = path

    def restore(self, path, resumes_anywhere=True):
        """Load a checkpoint written by ``save_checkpoint`` into the model, its optimizer and this run:
        everything is checked first (the file's form, the weights, the optimizer's class and slots, the
        callbacks), and if applying still fails, everything is put back as it was. Every process reads
        the same file. ``resumes_anywhere``: the data resumes from a sample, so the checkpoint may come
        from another number of processes (arrays do; a Sequence, or a fit limited to steps_per_epoch,
        resumes from a step, whose size depends on the number of processes)."""
        checkpoint = read_checkpoint(path)
        written_by = checkpoint.state.get("processes", 1)
        if written_by != self.comm.size and not resumes_anywhere and checkpoint.state["batch"]:
            raise DistributedError(f"{path} was written mid-epoch by {written_by} process(es) and this fit runs in "
                                   f"{self.comm.size}: a Sequence, or a fit limited to steps_per_epoch, resumes from a "
                                   "step, only on as many processes; arrays without steps_per_epoch resume on any number")
        values, optimizer_state = checkpoint.fitted(self.model, self.model.optimizer)
        saved = checkpoint.state["callbacks"]
        entries = [saved[i] if i < len(saved) and saved[i]["class"] == type(cb).__name__ else None
                   for i, cb in enumerate(self.callbacks)]
        if any(entry is None and cb.state_dict() for entry, cb in zip(entries, self.callbacks)):
            raise ValueError(f"checkpoint {path} was written with callbacks {[c['class'] for c in saved]}; "
                             f"this fit has {[type(c).__name__ for c in self.callbacks]}: pass the same ones")
        before = self._snapshot()
        try:
            for weight, value in values:
                weight.assign(value)
            self.model.optimizer.load_state_dict(optimizer_state)
            for i, (cb, entry) in enumerate(zip(self.callbacks, entries)):
                if entry is not None:
                    cb.load_state_dict(entry["state"])
                    prefix = f"callbacks/{i}/"
                    cb.load_arrays({k[len(prefix):]: v for k, v in checkpoint.arrays.items() if k.startswith(prefix)})
            self._set_generators(checkpoint.state.get("layer_random", {}))
            self.advance(checkpoint.state["epoch"], checkpoint.state["batch"], tuple(checkpoint.state["running"]))
        except BAD_CONFIG_ERRORS as e:  # a callback's state of the wrong form
            self._restore(before)
            raise checkpoint.error(f"its training state cannot be applied ({type(e).__name__}: {e})") from None

    def _generators(self):
        return {layer.name: layer.rng.bit_generator.state for layer in layers_with(self.model, "rng")}

    def _set_generators(self, layers):
        for layer in layers_with(self.model, "rng"):  # a Dropout(seed=...) draws from a generator of its own
            if layer.name in layers:
                layer.rng.bit_generator.state = layers[layer.name]

    def _snapshot(self):
        """Everything ``restore`` changes, to put back if it fails halfway."""
        layers = self._generators()
        return (self.model._snapshot(), [(copy.deepcopy(cb.state_dict()), cb.arrays()) for cb in self.callbacks],
                layers, (self.epoch, self.batch, self.running))

    def _restore(self, snapshot):
        model, callbacks, layers, position = snapshot
        self.model._restore(model)
        for cb, (state, arrays) in zip(self.callbacks, callbacks):
            cb.load_state_dict(state)
            cb.load_arrays(arrays)
        self._set_generators(layers)
        self.advance(*position)


def layers_with(layer, attribute):
    """Every layer in ``layer`` (itself, then nested models' layers, in order) whose ``attribute`` is
    set: "rng" (a generator of its own), "moving_variance" (moving statistics)."""
    found = [layer] if getattr(layer, attribute, None) is not None else []
    for sub in layer.sublayers():
        found += layers_with(sub, attribute)
    return found
