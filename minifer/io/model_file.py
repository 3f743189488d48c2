"""A whole model in one .npz: its JSON config (as UTF-8 bytes in a uint8 array) plus its weights.

The file rebuilds the model with no code and loads with ``allow_pickle=False``.
"""
import json

import numpy

from .atomic import atomic_save_npz, load_npz
from .config import layer_config, layer_from_config
from .weights import assign_weights, weight_arrays

CONFIG_KEY = "__minifer_model__"
FORMAT_VERSION = 1


def save_model(model, path):
    """Write architecture and weights atomically; returns the path written (``.npz`` appended if missing)."""
    header = {"format_version": FORMAT_VERSION, "model": layer_config(model)}
    arrays = weight_arrays(model)
    arrays[CONFIG_KEY] = numpy.frombuffer(json.dumps(header).encode("utf-8"), dtype=numpy.uint8)
    return atomic_save_npz(path, arrays)


def load_model(path):
    arrays = load_npz(path)
    if CONFIG_KEY not in arrays:
        raise ValueError(f"{str(path)!r} holds no model architecture (a weights-only file? "
                         "build the model and use model.load_weights)")
    header = json.loads(arrays.pop(CONFIG_KEY).tobytes().decode("utf-8"))
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{str(path)!r} has model format {header.get('format_version')}, "
                         f"this minifer reads {FORMAT_VERSION}")
    model = layer_from_config(header["model"])
    assign_weights(model, arrays, repr(str(path)))
    return model
