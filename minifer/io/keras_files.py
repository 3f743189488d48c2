"""Keras model files: Keras 2 HDF5 (``.h5``), Keras 3 ``.keras`` (a zip), and weights-only HDF5.

Files are recognised by their first bytes, not their names: HDF5 starts with
``\\x89HDF\\r\\n\\x1a\\n``; a ``.keras`` file is a zip holding ``config.json``. Nothing in a
file is executed: configs are JSON, weights are HDF5 datasets, and every layer class is
looked up among minifer's own. What a file makes minifer allocate is bounded by its size: a
config at most ``MAX_CONFIG_BYTES``, zip members within zlib's ratio, datasets holding the
bytes they declare, a model no larger than its datasets (``keras_weights.stored_values``).
Whatever a damaged or hostile file raises while it is read or its model built is a
``KerasFormatError`` naming it. Writes go through ``atomic_write``.
"""
import contextlib
import datetime
import io
import json
import zipfile
import zlib

import numpy

from ..layers import InputLayer
from ..layers.base import guard_weights
from .atomic import atomic_write
from .config import BAD_CONFIG_ERRORS, MAX_CONFIG_BYTES, layer_from_config
from .keras_config import KerasFormatError, minifer_model_config
from .keras_export import keras_model_config
from .keras_weights import (assign_layer_weights, h5py_module, keras3_keys, layer_weights_by_name,
                            layer_weights_in_order, layer_weights_keras3, stored_values, text, write_keras2_weights,
                            write_keras3_weights)
from .npz import member_problem, regular_file

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
KERAS_LAYOUT_VERSION = "2.15.0"  # the Keras 2 HDF5 layout these files follow (Keras reads it by this version)
KERAS3_VERSION = "3.0.0"


def file_kind(path):
    """"hdf5", "keras" (a zip with config.json), "zip" (another zip: an .npz) or None."""
    with open(regular_file(path), "rb") as f:
        head = f.read(8)
    if head == HDF5_SIGNATURE:
        return "hdf5"
    if head[:4] == ZIP_SIGNATURE:
        try:
            with zipfile.ZipFile(path) as z:
                return "keras" if "config.json" in z.namelist() else "zip"
        except (zipfile.BadZipFile, ValueError, EOFError, RuntimeError):  # damaged: the .npz reader names what
            return "zip"
    return None


def _open_h5(source, where):
    try:
        return h5py_module().File(source, "r")
    except OSError as error:
        raise KerasFormatError(f"{where}: not a readable HDF5 file (truncated or not HDF5): {error}") from None


def load_keras_model(path):
    """A minifer Model from a Keras ``.h5`` or ``.keras`` file."""
    where = repr(str(path))
    with _file_errors(where, "cannot read this Keras file"):
        if file_kind(path) == "keras":
            return _load_zip(path, where)
        with _open_h5(path, where) as f:
            held = stored_values(f, where)
            if "model_config" not in f.attrs:
                raise KerasFormatError(f"{where}: an HDF5 file with no model_config attribute: a weights-only "
                                       "file? build the model in minifer and call model.load_weights on it")
            version = text(f.attrs.get("keras_version", ""))
            if version.startswith("1"):
                raise KerasFormatError(f"{where}: written by Keras {version}; minifer reads Keras 2 and 3 files "
                                       "(Keras 1 laid kernels out differently): load and save it with Keras 2 first")
            keras_config = _json(text(f.attrs["model_config"]).encode("utf-8"), "model_config", where)
            group = f["model_weights"] if "model_weights" in f else f
            model = _build(keras_config, held, where)
            assign_layer_weights(layer_weights_by_name(model.layers, group, where), where)
            return model


@contextlib.contextmanager
def _file_errors(where, doing):
    """Anything a damaged or hostile file makes reading or building raise, as the file's KerasFormatError."""
    try:
        yield
    except KerasFormatError:
        raise
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, *BAD_CONFIG_ERRORS) as error:
        raise KerasFormatError(f"{where}: {doing} ({type(error).__name__}: {str(error)[:300]})") from None


def _json(raw, name, where):
    if len(raw) > MAX_CONFIG_BYTES:
        raise KerasFormatError(f"{where}: {name} is {len(raw)} bytes, more than the {MAX_CONFIG_BYTES} allowed")
    return json.loads(raw.decode("utf-8"))


def _read_member(z, name, where, limit=None):
    """The bytes of the archive member ``name``, refused from its header if it could hold more than
    its compressed bytes (a zip bomb) or ``limit``."""
    if name not in z.namelist():
        raise KerasFormatError(f"{where}: the .keras archive has no {name}")
    info = z.getinfo(name)
    problem = member_problem(info, limit)
    if problem:
        raise KerasFormatError(f"{where}: {name} in the archive {problem}")
    return z.read(info)


def _load_zip(path, where):
    with zipfile.ZipFile(path) as z:
        keras_config = _json(_read_member(z, "config.json", where, MAX_CONFIG_BYTES), "config.json", where)
        weights = _read_member(z, "model.weights.h5", where)
    with _open_h5(io.BytesIO(weights), where) as f:
        model = _build(keras_config, stored_values(f, where), where)
        entries = keras_config["config"]["layers"]
        if keras_config["class_name"] == "Sequential":
            entries = [e for e in entries if e["class_name"] != InputLayer.__name__]
        by_name = {layer.name: layer for layer in model.layers}
        layers = [by_name[e["config"]["name"]] for e in entries]  # one per entry, so each key meets its layer
        assign_layer_weights(layer_weights_keras3(layers, keras3_keys([e["class_name"] for e in entries]), f, where),
                             where)
    return model


def _build(keras_config, held, where):
    """The model of a Keras config, refused before any memory is spent if it declares more weight
    values than the file's datasets hold (``held``: a small file cannot make a huge model)."""
    declared = [0]

    def check(name, shape):
        declared[0] += int(numpy.prod(shape, dtype=numpy.int64))
        if declared[0] > held:
            raise KerasFormatError(f"{where}: the model config declares more weight values than the file holds "
                                   f"({held}; at weight {name!r} of shape {shape})")

    with guard_weights(check):
        return layer_from_config(minifer_model_config(keras_config, where))


def load_keras_weights(model, path):
    """Keras weights into a minifer model built the same way: Keras 2's ``save_weights("w.h5")`` (or a
    whole-model file) by layer order and shapes, Keras 3's ``save_weights("w.weights.h5")`` by its
    per-class keys, which the same layers in the same order reproduce."""
    where = repr(str(path))
    with _file_errors(where, "cannot read these Keras weights"), _open_h5(regular_file(path), where) as f:
        stored_values(f, where)
        if "layer_names" in f.attrs:
            found = layer_weights_in_order(model.layers, f, where)
        elif "model_weights" in f:
            found = layer_weights_in_order(model.layers, f["model_weights"], where)
        elif "layers" in f:
            found = layer_weights_keras3(*_keras3_containers(model), f, where)
        else:
            raise KerasFormatError(f"{where}: no Keras weights (no layer_names attribute, model_weights or "
                                   "layers group)")
        assign_layer_weights(found, where)


def save_keras_model(model, path):
    """Write ``model`` as Keras 2 HDF5 (``.h5``/``.hdf5``) or Keras 3 ``.keras``, by the path's extension."""
    h5py = h5py_module()
    if str(path).endswith(".keras"):
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            write_keras3_weights(f, *_keras3_containers(model))
        metadata = {"keras_version": KERAS3_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
        with atomic_write(path, "w+b") as out, zipfile.ZipFile(out, "w") as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(keras_model_config(model, keras3=True)))
            z.writestr("model.weights.h5", buffer.getvalue())
        return str(path)
    with atomic_write(path, "w+b") as out, h5py.File(out, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS_LAYOUT_VERSION
        f.attrs["model_config"] = json.dumps(keras_model_config(model, keras3=False))
        group = f.create_group("model_weights")
        group.attrs["backend"] = "tensorflow"
        group.attrs["keras_version"] = KERAS_LAYOUT_VERSION
        layers = ([model.inputs[0].layer] if "input_layers" not in model.get_config() else []) + model.layers
        write_keras2_weights(group, layers)
    return str(path)


def save_keras_weights(model, path):
    """Keras 2's weights-only HDF5 (``save_weights("w.h5")``): what Keras's ``load_weights("w.h5")`` reads."""
    h5py = h5py_module()
    with atomic_write(path, "w+b") as out, h5py.File(out, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS_LAYOUT_VERSION
        write_keras2_weights(f, model.layers)
    return str(path)


def _keras3_containers(model):
    """The model's layers and their Keras 3 keys (a PointwiseConv2D is a Conv2D to Keras)."""
    layers = model.layers
    return layers, keras3_keys([layer.keras_config(keras3=True)[0] for layer in layers])
