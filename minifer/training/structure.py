"""Data for models with several inputs or outputs: a list, tuple or dict of arrays, one per input
(or output), handled leaf by leaf so every other piece of training code sees one shape of data.

A dict is keyed by input (or output) layer name, a list is in the model's order, as in Keras.
"""
from ..backend import get_xp


def is_nested(data):
    return isinstance(data, (list, tuple, dict))


def leaves(data):
    if isinstance(data, dict):
        return list(data.values())
    return list(data) if isinstance(data, (list, tuple)) else [data]


def map_leaves(fn, data):
    """``fn`` applied to every array of ``data``, the structure kept (None stays None)."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: fn(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [fn(value) for value in data]
    return fn(data)


def length(data, what="x"):
    """The number of samples, the same in every array of ``data``."""
    sizes = {len(a) for a in leaves(data)}
    if len(sizes) != 1:
        raise ValueError(f"the arrays in {what} hold different numbers of samples: {sorted(sizes)}")
    return sizes.pop()


def take(data, index):
    """Samples ``index`` (NumPy integers) of every array in ``data``, each on its own device."""
    return map_leaves(lambda a: a[get_xp(a).asarray(index)], data)


def ordered(data, names, what):
    """``data`` as a list in ``names`` order: a dict by name, a list or tuple as it is, one array as [it]."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing or len(data) != len(names):
            raise ValueError(f"{what} must be keyed by {names}, got keys {sorted(data)}")
        return [data[n] for n in names]
    data = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(data) != len(names):
        raise ValueError(f"the model takes {len(names)} {what} ({', '.join(names)}), got {len(data)}")
    return data
