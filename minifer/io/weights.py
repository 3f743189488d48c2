"""Weights as .npz keyed by weight name (``"<layer name>/<weight name>"``), loaded by name, not position."""
from ..backend import to_numpy
from .atomic import atomic_save_npz, npz_path
from .keras_files import file_kind, load_keras_weights, save_keras_weights
from .kinds import check_kind
from .npz import NpzFile


def weight_arrays(model):
    """{weight name: NumPy array}; names must be unique or a file could not say whose weight is whose."""
    arrays = {}
    for w in model.weights:
        if w.name in arrays:
            raise ValueError(f"model '{model.name}' has two weights named {w.name!r}; rename a layer to save it")
        arrays[w.name] = to_numpy(w.data)
    return arrays


def assign_weights(model, arrays, source):
    """Set every weight from ``arrays`` by name; if anything differs, change nothing and say what."""
    weights = {w.name: w for w in model.weights}
    missing = sorted(set(weights) - set(arrays))
    unexpected = sorted(set(arrays) - set(weights))
    shapes = getattr(arrays, "shapes", None) or {k: tuple(a.shape) for k, a in arrays.items()}  # NpzFile: unread
    mismatched = [f"{name}: model {weights[name].shape}, file {shapes[name]}"
                  for name in sorted(set(weights) & set(arrays)) if weights[name].shape != shapes[name]]
    problems = [f"{label}: {', '.join(items)}" for label, items in
                (("missing from the file", missing), ("not in the model", unexpected),
                 ("shape mismatches", mismatched)) if items]
    if problems:
        raise ValueError(f"weights in {source} do not fit model '{model.name}': " + "; ".join(problems))
    for name, weight in weights.items():
        weight.assign(arrays[name])


def save_weights(model, path):
    """Write the model's weights atomically; returns the path written (``.npz`` appended if missing;
    Keras 2's weights-only HDF5 for ``.h5``/``.hdf5``)."""
    if str(path).endswith((".h5", ".hdf5")):
        return save_keras_weights(model, path)
    return atomic_save_npz(path, weight_arrays(model))


def load_weights(model, path):
    """From minifer's .npz (by weight name) or a Keras HDF5 weights file (by layer order and shapes)."""
    if str(path).endswith((".h5", ".hdf5")) or file_kind_or_none(path) == "hdf5":
        return load_keras_weights(model, path)
    with NpzFile(npz_path(path), "a weights file (model.save_weights)") as archive:  # read after the names fit
        check_kind(path, archive.shapes, "weights")
        assign_weights(model, archive, repr(str(path)))


def file_kind_or_none(path):
    try:
        return file_kind(path)
    except OSError:
        return None
