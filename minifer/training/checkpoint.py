"""Training checkpoints: one ``.npz`` with weights, optimizer slots and a JSON state.

Layout: ``weights/<layer>/<weight>``, ``optimizer/<layer>/<weight>|<slot>``, any extra
arrays (callbacks' best weights), and ``state``, the UTF-8 JSON of the position and
counters. Everything loads with ``allow_pickle=False``; writes are atomic.
"""
import json
import os

import numpy

from ..io import NpzFile, assign_weights, atomic_save_npz, weight_arrays
from ..io.kinds import CHECKPOINT_KEY, check_kind


def save_checkpoint(path, model, optimizer, state, arrays=None):
    optimizer_state = optimizer.state_dict()
    payload = {f"weights/{name}": a for name, a in weight_arrays(model).items()}
    payload.update({f"optimizer/{k}": v for k, v in optimizer_state.pop("slots").items()})
    payload.update(arrays or {})
    state = {**state, "optimizer": optimizer_state}
    payload[CHECKPOINT_KEY] = numpy.frombuffer(json.dumps(state).encode("utf-8"), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_save_npz(path, payload)


def load_checkpoint(path, model, optimizer):
    """Put weights and optimizer state back; return (state dict, the other arrays)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    with NpzFile(path, "a training checkpoint") as archive:  # a damaged file: FileFormatError naming it
        check_kind(path, archive.shapes, "checkpoint")  # another kind of file is refused before it is read
        arrays = dict(archive)
    state = json.loads(arrays.pop(CHECKPOINT_KEY).tobytes().decode("utf-8"))
    weights = {k[len("weights/"):]: arrays.pop(k) for k in list(arrays) if k.startswith("weights/")}
    assign_weights(model, weights, source=path)
    slots = {k[len("optimizer/"):]: arrays.pop(k) for k in list(arrays) if k.startswith("optimizer/")}
    optimizer.load_state_dict({**state["optimizer"], "slots": slots})
    return state, arrays
