"""Training checkpoints: one ``.npz`` with weights, optimizer slots and a JSON state.

Layout: ``weights/<layer>/<weight>``, ``optimizer/<layer>/<weight>|<slot>``, any extra
arrays (callbacks' best weights), and ``state``, the UTF-8 JSON of the position and
counters. Everything loads with ``allow_pickle=False``; writes are atomic.
"""
import json
import os

import numpy

from .backend import to_numpy
from .io import assign_weights, atomic_write


def save_checkpoint(path, model, optimizer, state, arrays=None):
    payload = {f"weights/{w.name}": to_numpy(w.data) for w in model.weights}
    payload.update({f"optimizer/{k}": v for k, v in optimizer.state_dict()["slots"].items()})
    payload.update(arrays or {})
    state = {**state, "optimizer_iterations": optimizer.iterations, "learning_rate": optimizer.learning_rate}
    payload["state"] = numpy.frombuffer(json.dumps(state).encode("utf-8"), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(os.fspath(path), "wb") as f:
        numpy.savez(f, **payload)


def load_checkpoint(path, model, optimizer):
    """Put weights and optimizer state back; return (state dict, the other arrays)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    with numpy.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    if "state" not in arrays:
        raise ValueError(f"{path} is not a training checkpoint (no 'state' entry); "
                         "use model.load_weights or minifer.load for saved models")
    state = json.loads(arrays.pop("state").tobytes().decode("utf-8"))
    weights = {k[len("weights/"):]: arrays.pop(k) for k in list(arrays) if k.startswith("weights/")}
    assign_weights(model, weights, source=path)
    slots = {k[len("optimizer/"):]: arrays.pop(k) for k in list(arrays) if k.startswith("optimizer/")}
    optimizer.load_state_dict({"iterations": state["optimizer_iterations"],
                               "learning_rate": state["learning_rate"], "slots": slots})
    return state, arrays
