"""Weights as .npz keyed by weight name (``"<layer name>/<weight name>"``), loaded by name, not position."""
from ..backend import to_numpy
from .atomic import atomic_save_npz, load_npz


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
    mismatched = [f"{name}: model {weights[name].shape}, file {tuple(arrays[name].shape)}"
                  for name in sorted(set(weights) & set(arrays)) if weights[name].shape != arrays[name].shape]
    problems = [f"{label}: {', '.join(items)}" for label, items in
                (("missing from the file", missing), ("not in the model", unexpected),
                 ("shape mismatches", mismatched)) if items]
    if problems:
        raise ValueError(f"weights in {source} do not fit model '{model.name}': " + "; ".join(problems))
    for name, weight in weights.items():
        weight.assign(arrays[name])


def save_weights(model, path):
    """Write the model's weights atomically; returns the path written (``.npz`` appended if missing)."""
    return atomic_save_npz(path, weight_arrays(model))


def load_weights(model, path):
    assign_weights(model, load_npz(path), repr(str(path)))
