"""Weights in Keras's HDF5 layouts, read into and written from minifer layers.

Keras 2 (``model.save("x.h5")``, ``save_weights("w.h5")``) keeps one group per layer, named
after the layer, whose ``weight_names`` attribute lists its datasets in the layer's weight
order. Keras 3 (``model.weights.h5`` inside a ``.keras`` file) keeps ``layers/<key>/vars/<i>``,
where the key is the layer's class in snake case, numbered by order (``dense``, ``dense_1``),
not its name. Readers find datasets without reading them; ``assign_layer_weights`` checks
every count and shape, then reads and checks every value, before it sets any weight, so a file
that does not fit leaves the model untouched and a dataset is never read at a size the model
does not expect.
"""
import numpy

from ..backend import to_numpy
from ..layers.names import snake_case
from .extras import optional_module
from .keras_config import KerasFormatError
from .npz import MAX_DEFLATE_RATIO
from .values import weight_values


def h5py_module():
    """h5py, imported only when a Keras file is read or written (an optional extra)."""
    return optional_module("h5py", "Keras files", "keras")


def text(value):
    """HDF5 attributes come back as str or bytes depending on who wrote them (older Keras: bytes)."""
    if isinstance(value, (bytes, numpy.bytes_)):
        return value.decode("utf-8")
    return str(value)


def texts(values):
    """An HDF5 list attribute as strings (Keras writes an empty float array for a layer without weights)."""
    return [text(v) for v in numpy.atleast_1d(values)]


def stored_values(f, where):
    """How many values the datasets of the open HDF5 file ``f`` hold, after refusing what would read
    other files (external links, external or virtual storage: ``/etc/passwd`` as a bias, or a FIFO
    that never ends) and any dataset that holds fewer bytes than it declares (declared but never
    written, or compressed beyond zlib's ratio), so no read allocates more than the file holds."""
    h5py = h5py_module()
    total = [0]

    def external_link(name, link):  # a visit stops at the first callback that returns something
        if isinstance(link, h5py.ExternalLink):
            return f"{name} links to {link.filename!r}; minifer reads no file but the one it is given"
        return None

    def dataset_problem(name, item):
        if not isinstance(item, h5py.Dataset):
            return None
        plist = item.id.get_create_plist()
        if plist.get_layout() == h5py.h5d.VIRTUAL or plist.get_external_count():
            return f"dataset {name} keeps its values in other files; minifer reads no file but the one it is given"
        stored = item.id.get_storage_size()
        if item.nbytes > stored * (MAX_DEFLATE_RATIO if plist.get_nfilters() else 1):
            return f"dataset {name} declares shape {item.shape} ({item.nbytes} bytes) but stores {stored} bytes"
        total[0] += item.size
        return None

    problem = f.visititems_links(external_link) or f.visititems(dataset_problem)
    if problem:
        raise KerasFormatError(f"{where}: {problem}")
    return total[0]


def layer_weights_by_name(layers, group, where):
    """Keras 2 full-model layout: {layer: datasets} from the group named after each layer."""
    found = {}
    for layer in layers:
        if not layer.weights:
            continue
        if layer.name not in group:
            raise KerasFormatError(f"{where}: no weights for layer '{layer.name}' in the file")
        sub = group[layer.name]
        found[layer] = [sub[name] for name in texts(sub.attrs.get("weight_names", []))]
    return found


def layer_weights_in_order(layers, group, where):
    """Keras 2 weights-only layout: the file's layers with weights, matched to ``layers`` by position."""
    names = [n for n in texts(group.attrs.get("layer_names", []))
             if len(texts(group[n].attrs.get("weight_names", [])))]
    mine = [layer for layer in layers if layer.weights]
    files = [(n, [group[n][w] for w in texts(group[n].attrs["weight_names"])]) for n in names]

    def describe(pairs):
        return "; ".join(f"{n} {[tuple(a.shape) for a in arrays]}" for n, arrays in pairs)

    model_side = [(layer.name, [w.data for w in layer.weights]) for layer in mine]
    if len(files) != len(mine) or any(len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b))
                                      for (_, a), (_, b) in zip(files, model_side)):
        raise KerasFormatError(f"{where}: the weights are for a different graph.\n  file:  {describe(files)}"
                               f"\n  model: {describe(model_side)}")
    return {layer: arrays for layer, (_, arrays) in zip(mine, files)}


def keras3_keys(class_names):
    """Keras 3's key for each layer of a container: snake-case class name, numbered from the second."""
    used, keys = {}, []
    for class_name in class_names:
        base = snake_case(class_name)
        used[base] = used.get(base, -1) + 1
        keys.append(base if used[base] == 0 else f"{base}_{used[base]}")
    return keys


def layer_weights_keras3(layers, keys, group, where):
    """Keras 3 layout: {layer: datasets} from ``layers/<key>/vars/0, 1, ...``."""
    found = {}
    for layer, key in zip(layers, keys):
        if not layer.weights:
            continue
        path = f"layers/{key}/vars"
        if path not in group:
            raise KerasFormatError(f"{where}: no weights for layer '{layer.name}' (expected group {path}); "
                                   "the weights are for a different graph")
        vars_ = group[path]
        found[layer] = [vars_[str(i)] for i in range(len(vars_))]
    used = {f"layers/{key}" for layer, key in zip(layers, keys) if layer.weights}
    unused = [name for name in group.get("layers", {}) if f"layers/{name}" not in used and len(
        group[f"layers/{name}"].get("vars", {}))]
    if unused:
        raise KerasFormatError(f"{where}: the file holds weights for layers this model lacks: {', '.join(unused)}")
    return found


def assign_layer_weights(found, where):
    """Set every layer's weights from its datasets (``{layer: datasets}``): every count and shape is
    checked before any dataset is read, every value before any weight is set."""
    wrong = []
    for layer, arrays in found.items():
        expected = [w.shape for w in layer.weights]
        if [tuple(a.shape) for a in arrays] != expected:
            wrong.append(f"layer '{layer.name}' ({type(layer).__name__}) needs {expected}, "
                         f"the file has {[tuple(a.shape) for a in arrays]}")
    if wrong:
        raise KerasFormatError(f"{where}: weights do not fit: " + "; ".join(wrong))
    pairs = [(w, dataset[()]) for layer, datasets in found.items() for w, dataset in zip(layer.weights, datasets)]
    values, problems = weight_values(pairs)
    if problems:
        raise KerasFormatError(f"{where}: weights cannot be loaded: " + "; ".join(problems))
    for (weight, _), value in zip(pairs, values):
        weight.assign(value)


def write_keras2_weights(group, layers):
    """Keras 2's per-layer groups, with ``weight_names`` as ``"<layer>/<weight>"``."""
    group.attrs["layer_names"] = numpy.array([layer.name.encode("utf-8") for layer in layers])
    for layer in layers:
        sub = group.create_group(layer.name)
        names = [f"{layer.name}/{w.name.rsplit('/', 1)[1]}" for w in layer.weights]
        sub.attrs["weight_names"] = numpy.array([n.encode("utf-8") for n in names])
        for name, weight in zip(names, layer.weights):
            sub.create_dataset(name, data=to_numpy(weight.data))


def write_keras3_weights(root, layers, keys):
    """Keras 3's ``layers/<key>/vars/<i>`` (a group for every layer, empty ones included) and root ``vars``."""
    root.create_group("vars")
    for layer, key in zip(layers, keys):
        vars_ = root.create_group(f"layers/{key}/vars")
        for i, weight in enumerate(layer.weights):
            vars_.create_dataset(str(i), data=to_numpy(weight.data))
