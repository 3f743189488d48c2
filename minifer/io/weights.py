"""Weights as .npz keyed by weight name (``"<layer name>/<weight name>"``), loaded by name; a network
built again under other automatic names loads by structure (count and shapes in order)."""
from ..backend import to_numpy
from .atomic import atomic_save_npz, npz_path
from .keras_files import file_kind, load_keras_weights, save_keras_weights
from .kinds import KINDS, check_kind
from .npz import NpzFile
from .values import weight_values


def weight_arrays(model):
    """{weight name: NumPy array}; names must be unique or a file could not say whose weight is whose."""
    arrays = {}
    for w in model.weights:
        if w.name in arrays:
            raise ValueError(f"model '{model.name}' has two weights named {w.name!r}; rename a layer to save it")
        arrays[w.name] = to_numpy(w.data)
    return arrays


def assign_weights(model, arrays, source):
    """Set every weight from ``arrays`` by name; if anything differs or any value is not a finite real
    number in its weight's dtype (``values.py``), change nothing and say what."""
    for weight, value in fitted_values(model, arrays, source):
        weight.assign(value)


def fitted_values(model, arrays, source):
    """``[(weight, value)]`` for every weight of ``model`` from ``arrays`` by name, all read and checked
    (names, shapes, values), nothing set; a ValueError naming ``source`` says everything that differs."""
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
    values, problems = weight_values((weight, arrays[name]) for name, weight in weights.items())  # all read first
    if problems:
        raise ValueError(f"weights in {source} cannot be loaded: " + "; ".join(problems))
    return list(zip(weights.values(), values))


def save_weights(model, path):
    """Write the model's weights atomically to exactly ``path``; returns it (Keras 2's weights-only
    HDF5 for ``.h5``/``.hdf5``, minifer's .npz for any other name)."""
    if str(path).endswith((".h5", ".hdf5")):
        return save_keras_weights(model, path)
    return atomic_save_npz(path, weight_arrays(model))


def load_weights(model, path):
    """From minifer's .npz (by weight name) or a Keras HDF5 weights file (by layer order and shapes)."""
    kind = file_kind_or_none(path)
    if str(path).endswith((".h5", ".hdf5")) or kind == "hdf5":
        return load_keras_weights(model, path)
    if kind == "keras":
        raise ValueError(f"{str(path)!r} is {KINDS['keras'][0]}, not a weights file: read it with {KINDS['keras'][1]}")
    with NpzFile(npz_path(path), "a weights file (model.save_weights)") as archive:  # read after the names fit
        check_kind(path, archive.shapes, "weights")
        assign_weights(model, _by_structure(model, archive), repr(str(path)))


def _by_structure(model, archive):
    """The file's arrays under the model's weight names when the names differ but the structure is
    the same (the same network built again in one process gets other automatic names): the same
    number of weights with the same shapes, in order, as Keras's HDF5 loading matches them. Else the
    file as it is, so that ``assign_weights`` says what differs."""
    weights = model.weights
    names = list(archive.shapes)
    if set(names) == {w.name for w in weights} or len(names) != len(weights) or any(
            archive.shapes[n] != w.shape for n, w in zip(names, weights)):
        return archive
    return {w.name: archive[n] for n, w in zip(names, weights)}


def file_kind_or_none(path):
    try:
        return file_kind(path)
    except OSError:
        return None
