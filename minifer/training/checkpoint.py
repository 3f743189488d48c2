"""Training checkpoints: one ``.npz`` with weights, optimizer slots and a JSON state.

Layout: ``weights/<layer>/<weight>``, ``optimizer/<layer>/<weight>|<slot>``, any extra
arrays (callbacks' best weights), and ``state``, the UTF-8 JSON of the position and
counters. Everything loads with ``allow_pickle=False``; writes are atomic.

Reading is separate from applying: ``read_checkpoint`` checks the file's form (JSON, positions,
generator states, finite arrays) and ``Checkpoint.fitted`` checks it against a model and its
optimizer, so a damaged or foreign checkpoint is refused, naming the file, before anything changes.
"""
import json
import math
import os

import numpy

from ..io import FileFormatError, NpzFile, atomic_save_npz, weight_arrays
from ..io.config import MAX_CONFIG_BYTES
from ..io.kinds import CHECKPOINT_KEY, check_kind
from ..io.values import checked_values
from ..io.weights import fitted_values

MAX_COUNT = 2**31  # epochs, batches and optimizer steps: far beyond any run, far below float precision


def save_checkpoint(path, model, optimizer, state, arrays=None):
    optimizer_state = optimizer.state_dict()
    payload = {f"weights/{name}": a for name, a in weight_arrays(model).items()}
    payload.update({f"optimizer/{k}": v for k, v in optimizer_state.pop("slots").items()})
    payload.update(arrays or {})
    state = {**state, "optimizer": optimizer_state}
    payload[CHECKPOINT_KEY] = numpy.frombuffer(json.dumps(state).encode("utf-8"), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_save_npz(path, payload)


def read_checkpoint(path):
    """The checkpoint at ``path``, read whole and checked for its form; nothing is applied."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    with NpzFile(path, "a training checkpoint") as archive:  # a damaged file: FileFormatError naming it
        check_kind(path, archive.shapes, "checkpoint")  # another kind of file is refused before it is read
        state = archive.json(CHECKPOINT_KEY, "its state", MAX_CONFIG_BYTES)
        arrays = dict(archive.without(CHECKPOINT_KEY))
    return Checkpoint(path, state, arrays)


class Checkpoint:
    """``state`` (the JSON), ``weights`` and ``slots`` by name, and the callbacks' ``arrays``."""

    def __init__(self, path, state, arrays):
        self.path, self.state = path, state
        problem = _state_problem(self.state)
        if problem:
            raise self.error(f"its state's {problem}")
        self.weights = _prefixed(arrays, "weights/")
        self.slots = _prefixed(arrays, "optimizer/")
        self.arrays = arrays

    def error(self, problem):
        return FileFormatError(f"{self.path}: {problem}; expected a training checkpoint (ModelCheckpoint(..., "
                               "resumable=True)) of this model")

    def fitted(self, model, optimizer):
        """``([(weight, value)], optimizer state)``: what this checkpoint sets, checked against ``model``
        and ``optimizer`` (weights, the optimizer's class, every slot's weight, shape and values)."""
        saved = self.state["optimizer"].get("class", type(optimizer).__name__)  # older files did not say
        if saved != type(optimizer).__name__:
            raise self.error(f"it was written by a {saved} optimizer and the model is compiled with "
                             f"{type(optimizer).__name__}; compile with {saved} to resume")
        values = fitted_values(model, self.weights, self.path)  # a ValueError naming the file if they differ
        weights = {w.name: w for w in model.weights}
        wrong = [key for key, slot in self.slots.items() if "|" not in key or key.rsplit("|", 1)[0] not in weights
                 or tuple(slot.shape) != weights[key.rsplit("|", 1)[0]].shape]
        if wrong:
            raise self.error(f"its optimizer slots {', '.join(wrong[:5])} fit no weight of model '{model.name}'")
        slots, problems = checked_values((f"optimizer slot {key}", weights[key.rsplit("|", 1)[0]].dtype, slot)
                                         for key, slot in self.slots.items())
        if problems:
            raise self.error("; ".join(problems))
        return values, {**self.state["optimizer"], "slots": dict(zip(self.slots, slots))}


def _prefixed(arrays, prefix):
    return {k[len(prefix):]: arrays.pop(k) for k in list(arrays) if k.startswith(prefix)}


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _generator_problem(state):
    try:
        numpy.random.PCG64().state = state  # what fit's and a seeded Dropout's generators are
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        return f"is not a generator state ({type(e).__name__}: {e})"
    return None


def _state_problem(state):
    """What is wrong with a checkpoint's JSON state, or None."""
    if not isinstance(state, dict):
        return "JSON is not an object"
    for key in ("epoch", "batch"):
        if not _count(state.get(key)):
            return f"{key} is {state.get(key)!r}, not a whole number from 0 to {MAX_COUNT}"
    running = state.get("running")
    if not (isinstance(running, list) and len(running) == 3 and _number(running[0]) and isinstance(running[1], list)
            and all(_number(v) for v in running[1]) and _count(running[2])):
        return f"running sums are {str(running)[:80]}, not [loss sum, [metric sums], samples]"
    callbacks = state.get("callbacks")
    if not (isinstance(callbacks, list) and all(isinstance(c, dict) and isinstance(c.get("class"), str)
                                                and isinstance(c.get("state"), dict) for c in callbacks)):
        return f"callbacks are {str(callbacks)[:80]}, not a list of {{class, state}}"
    optimizer = state.get("optimizer")
    if not (isinstance(optimizer, dict) and _count(optimizer.get("iterations"))
            and isinstance(optimizer.get("class", ""), str)
            and (optimizer.get("learning_rate") is None or _number(optimizer["learning_rate"])
                 and optimizer["learning_rate"] >= 0)):
        return f"optimizer state is {str(optimizer)[:80]}, not {{iterations, learning_rate}}"
    layers = state.get("layer_random", {})
    if not isinstance(layers, dict):
        return f"layer_random is {str(layers)[:80]}, not an object"
    if not _count(state.get("processes", 1)) or state.get("processes", 1) < 1:
        return f"processes is {state.get('processes')!r}, not a whole number of at least 1"
    older = [("random", state["random"])] if "random" in state else []  # fit's own generator, before 2026-12
    for name, generator in [*older, *layers.items()]:
        problem = _generator_problem(generator)
        if problem:
            return f"{name} {problem}"
    return None
