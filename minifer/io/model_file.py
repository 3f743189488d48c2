"""A whole model in one .npz: its JSON config (as UTF-8 bytes in a uint8 array) plus its weights.

The file rebuilds the model with no code and loads with ``allow_pickle=False``. The header may
carry ``metadata`` (class names, input range) so a trained model runs with no extra flags;
older files without it still load. Keras files (``.h5``, ``.keras``) go to ``keras_files``,
recognised by content when read; ONNX files (``.onnx``) to ``onnx_export`` and ``onnx_import``.
"""
import json
import math
import numbers
import os

import numpy

from ..layers import InputLayer
from ..layers.base import guard_weights
from .atomic import atomic_save_npz, npz_path
from .config import BAD_CONFIG_ERRORS, MAX_CONFIG_BYTES, layer_config, layer_from_config
from .keras_files import file_kind, load_keras_model, save_keras_model
from .kinds import MODEL_KEY, check_kind
from .npz import FileFormatError, NpzFile
from .onnx_export import save_onnx
from .onnx_import import load_onnx
from .weights import assign_weights, weight_arrays

FORMAT_VERSION = 2  # 2: inputs declare their pixel range (1 scaled every model's uint8 input to [0, 1])
READS = (1, 2)
KERAS_EXTENSIONS = (".h5", ".hdf5", ".keras")
ONNX_EXTENSION = ".onnx"


def save_model(model, path, **options):
    """Write architecture and weights atomically to exactly ``path``; returns it (Keras's formats for
    ``.h5``/``.hdf5``/``.keras``, ONNX for ``.onnx``, minifer's .npz for any other name). ``model.metadata``
    (a JSON-able dict) and compile's arguments (``compile_config``, where they are names and numbers) go
    in an .npz's header. ``options`` are the ONNX writer's (``fold_batchnorm``, ``opset``)."""
    if str(path).endswith(ONNX_EXTENSION):
        return save_onnx(model, path, **options)
    if options:
        raise TypeError(f"{', '.join(sorted(options))}: options of ONNX files (.onnx), not of {str(path)!r}")
    if str(path).endswith(KERAS_EXTENSIONS):
        return save_keras_model(model, path)
    header = {"format_version": FORMAT_VERSION, "model": layer_config(model)}
    if getattr(model, "metadata", None):
        header["metadata"] = model.metadata
    compiled = model.compile_config() if hasattr(model, "compile_config") else None
    if compiled is not None:
        header["compile"] = compiled
    arrays = weight_arrays(model)
    arrays[MODEL_KEY] = numpy.frombuffer(json.dumps(header).encode("utf-8"), dtype=numpy.uint8)
    return atomic_save_npz(path, arrays)


def load_model(path):
    """The model in ``path`` (minifer .npz, a Keras file, or ONNX by its .onnx name), opened as given;
    ``model.metadata`` from an .npz's header."""
    path = npz_path(path)  # as given, or with the .npz older versions appended
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file {path!r}")
    kind = file_kind(path)
    if kind in ("hdf5", "keras") or (kind is None and path.endswith(KERAS_EXTENSIONS)):
        return load_keras_model(path)
    if kind is None and path.endswith(ONNX_EXTENSION):
        return load_onnx(path)
    if kind != "zip":
        raise ValueError(f"{path!r} is neither a minifer .npz model, a Keras .h5/.keras file nor an .onnx file")
    with NpzFile(path, "a minifer model file (minifer.save)") as archive:  # the path as given
        header = _read_header(archive)
        weights = archive.without(MODEL_KEY)
        model = _build(archive, header, weights.shapes)
        if "compile" in header:  # compiled as it was saved, as Keras's files are (optimizer slots: checkpoints)
            try:
                model.compile(**header["compile"])
            except BAD_CONFIG_ERRORS as e:
                raise archive.error(f"its compile settings cannot be applied ({type(e).__name__}: {e})") from e
        assign_weights(model, weights, repr(str(path)))
    model.metadata = header.get("metadata", {})
    return model


def _read_header(archive):
    """The JSON header, read only after its member's header says it is a small byte string."""
    check_kind(archive.path, archive.shapes, "model")  # a weights file or checkpoint has no architecture
    header = archive.json(MODEL_KEY, "its config", MAX_CONFIG_BYTES)
    if not isinstance(header, dict) or header.get("format_version") not in READS:
        version = header.get("format_version") if isinstance(header, dict) else None
        raise ValueError(f"{archive.path!r} has model format {version}, this minifer reads {READS}")
    problem = (header_problem(header.get("compile", {}), "compile", dict)
               or metadata_problem(header.get("metadata", {})))
    if problem:
        raise archive.error(f"its header's {problem}")
    return _upgraded(header) if header["format_version"] == 1 else header


def _upgraded(header):
    """A format-1 header as format 2. Format 1 took every model's uint8 input as pixels scaled to
    [0, 1] (``predict`` used the metadata's ``input_range`` instead): format 2 says that on the
    model's own inputs, so a model saved before keeps taking its arrays as it did."""
    metadata = header.get("metadata") if isinstance(header.get("metadata"), dict) else {}
    pixel_range = metadata.get("input_range") or [0, 1]
    config = header["model"]["config"] if isinstance(header.get("model"), dict) else None
    if isinstance(config, dict) and "input_layers" not in config:  # a Sequential: it makes its own input
        config["pixel_range"] = pixel_range
    elif isinstance(config, dict):
        for entry in config.get("layers", []):
            if isinstance(entry, dict) and entry.get("class_name") == InputLayer.__name__:
                entry["config"]["pixel_range"] = pixel_range
    return header


def header_problem(value, name, kind):
    return None if isinstance(value, kind) else f"{name} is {json.dumps(value)[:80]}, not a JSON {kind.__name__}"


def metadata_problem(metadata):
    """What is wrong with a header's ``metadata``, or None: a JSON object whose ``class_names`` (if
    any) are distinct names and whose ``input_range`` (if any) is two finite numbers, low below high."""
    problem = header_problem(metadata, "metadata", dict)
    if problem:
        return problem
    for key, check in (("class_names", class_names_problem), ("input_range", input_range_problem)):
        if key in metadata and check(metadata[key]):
            return f"metadata {key} {check(metadata[key])}"
    return None


def class_names_problem(names):
    """Why ``names`` cannot name a model's outputs, or None: each must be a distinct, non-empty string."""
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        return f"{str(names)[:80]} is not a list of non-empty names"
    repeated = sorted({n for n in names if names.count(n) > 1})
    return f"repeat {', '.join(repeated)}: each output needs its own name" if repeated else None


def input_range_problem(bounds):
    """Why ``bounds`` is not a pixel range, or None: two finite numbers, the first below the second."""
    if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in bounds)
            and bounds[0] < bounds[1]):
        return f"is {str(bounds)[:80]}, not two finite numbers LOW,HIGH with LOW below HIGH"
    return None


def _build(archive, header, shapes):
    """The model of ``header``, each weight checked against the file's arrays before it is made,
    so a small file cannot declare a huge model; a config that cannot be built is the file's fault."""
    def check(name, shape):
        if shapes.get(name) != shape:
            found = f"shape {shapes[name]}" if name in shapes else "no such array"
            raise archive.error(f"its config makes weight {name!r} of shape {shape}, the file has {found}")

    try:
        with guard_weights(check):
            return layer_from_config(header["model"])
    except FileFormatError:
        raise
    except BAD_CONFIG_ERRORS as e:
        raise archive.error(f"its model config cannot be built ({type(e).__name__}: {e})") from e
