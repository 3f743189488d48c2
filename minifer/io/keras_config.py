"""Keras model configs (Keras 2 and 3 spellings) as minifer configs, so ``layer_from_config`` rebuilds them.

Keras writes every constructor argument, including many minifer has no use for at inference
(constraints, dtype policies, initializer objects). An argument is kept when the minifer class
takes it; one whose value would change the computation (channels-first data, a noise shape) is
refused rather than dropped. What one class spells its own way (Keras 2's
LeakyReLU ``alpha``, Keras 3's InputLayer ``batch_shape``, BatchNormalization's ``axis=3``) its
own constructor reads, so nothing here is written for one class. Layers are found by class name in
``Layer.registry``; a Lambda layer is refused because running it would mean executing code
stored in the file.
"""
import inspect
import warnings

from ..layers import InputLayer, Layer, initializers
from ..layers.input import dtype_name
from .config import is_ref

REFUSED = {"Lambda": "it holds Python code, and minifer never runs code from a file",
           "TFOpLambda": "it holds a TensorFlow operation, not a layer",
           "SlicingOpLambda": "it holds a TensorFlow operation, not a layer"}
MODEL_CLASSES = ("Model", "Functional", "Sequential")

# values that change the computation, which minifer does not implement: key -> values that are fine
_MUST_BE = {"data_format": (None, "channels_last"), "noise_shape": (None,), "keepdims": (None, False),
            "renorm": (None, False)}


class KerasFormatError(ValueError):
    """A Keras file minifer cannot read; the message names the file and what is wrong."""


def minifer_model_config(keras_config, where):
    """``{"class_name", "config"}`` for minifer's ``layer_from_config`` from a Keras ``model_config``."""
    class_name, config = keras_config.get("class_name"), keras_config.get("config")
    if class_name == "Sequential":
        return {"class_name": "Sequential", "config": _sequential(config, where)}
    if class_name in ("Model", "Functional"):
        return {"class_name": "Model", "config": _functional(config, where)}
    raise KerasFormatError(f"{where}: the model is a {class_name!r}, not a Keras Sequential or functional Model")


def _functional(config, where):
    layers = [{"class_name": entry["class_name"], "config": minifer_layer(entry, where),
               "inbound_nodes": [_call(node, where) for node in entry.get("inbound_nodes", [])]}
              for entry in config["layers"]]
    return {"name": config.get("name", "model"), "layers": layers,
            "input_layers": _refs(config["input_layers"]), "output_layers": _refs(config["output_layers"])}


def _sequential(config, where):
    entries = config["layers"] if isinstance(config, dict) else config  # Keras 2.0/2.1 wrote a bare list
    name = config.get("name", "sequential") if isinstance(config, dict) else "sequential"
    shape, dtype, layers = None, "float32", []
    for entry in entries:
        conf = entry["config"]
        batch_shape = conf.get("batch_input_shape", conf.get("batch_shape"))
        if batch_shape is not None and shape is None:
            shape, dtype = batch_shape[1:], dtype_name(conf.get("dtype"))
        if entry["class_name"] != InputLayer.__name__:
            layers.append({"class_name": entry["class_name"], "config": minifer_layer(entry, where)})
    if shape is None and isinstance(config, dict) and config.get("build_input_shape"):
        shape = config["build_input_shape"][1:]
    return {"name": name, "layers": layers, "input_shape": shape, "dtype": dtype}


def _call(node, where):
    """One call's input references ``[layer, node, tensor]`` (one, or a list for Add and Concatenate)."""
    if isinstance(node, dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": {...}}
        first = node["args"][0]
        if isinstance(first, list):
            return [_history(t, where) for t in first]
        return _history(first, where)
    return _refs([r[:3] for r in node])  # Keras 2: [[layer, node, tensor, kwargs], ...]


def _history(tensor, where):
    try:
        return list(tensor["config"]["keras_history"])
    except (KeyError, TypeError):
        raise KerasFormatError(f"{where}: a layer is called on {str(tensor)[:80]}, not on a Keras tensor") from None


def _refs(refs):
    """Keras lists inputs/outputs as [[layer, node, tensor], ...] (Keras 3 may write one bare reference)."""
    if refs and is_ref(refs):
        return list(refs)
    refs = [list(r) for r in refs]
    return refs[0] if len(refs) == 1 else refs


def minifer_layer(entry, where):
    """One Keras layer entry's config as the keyword arguments of the minifer class of that name."""
    class_name, config = entry["class_name"], dict(entry["config"])
    name = config.get("name", entry.get("name", "?"))
    if class_name in REFUSED:
        raise KerasFormatError(f"{where}: layer '{name}' is a {class_name}, refused: {REFUSED[class_name]}")
    if class_name in MODEL_CLASSES:
        raise KerasFormatError(f"{where}: layer '{name}' is a whole {class_name} model used as a layer; minifer "
                               "reads flat graphs only (rebuild it with the inner model's layers called directly)")
    cls = Layer.registry.get(class_name)
    if cls is None:
        raise KerasFormatError(f"{where}: layer '{name}' has class {class_name!r}, which minifer does not have "
                               f"(it has {', '.join(sorted(set(Layer.registry) - set(MODEL_CLASSES)))})")
    for key, fine in _MUST_BE.items():
        if key in config and _plain(config[key]) not in fine:
            raise KerasFormatError(f"{where}: {class_name} layer '{name}' has {key}={config[key]!r}, "
                                   f"which minifer does not implement")
    if not issubclass(cls, InputLayer):  # weights follow the input's dtype, as minifer's own models do
        config.pop("dtype", None)
    for key in list(config):
        if key.endswith("_initializer"):
            config[key] = _initializer(config[key])
        elif key.endswith("_regularizer"):
            config[key] = _regularizer(config[key], name, where)
        elif key == "activation" and not isinstance(config[key], (str, type(None))):
            raise KerasFormatError(f"{where}: layer '{name}' has a custom activation {config[key]!r}")
    accepted = _accepted(cls)
    return {key: _plain(value) for key, value in config.items() if key in accepted and value is not None}


def _accepted(cls):
    """Every keyword the class's constructors take, up its chain of ``**kwargs`` to Layer."""
    names = set()
    for klass in cls.__mro__:
        if klass is object or "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self"}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _initializer(value):
    """A name minifer knows, else None (the default): a loaded model's weights come from the file."""
    if isinstance(value, dict):
        value = value.get("class_name", "")
        value = "glorot_uniform" if value == "VarianceScaling" else value
    name = "".join("_" + c.lower() if c.isupper() else c for c in str(value)).lstrip("_")
    return name if name in initializers._BY_NAME else None


def _regularizer(value, name, where):
    if not isinstance(value, dict):
        return value
    config = value.get("config", value)
    if config.get("l1"):
        warnings.warn(f"{where}: layer '{name}' has an L1 penalty, which minifer does not train with; kept L2 only")
    l2 = config.get("l2") or 0.0
    return {"l2": float(l2)} if l2 else None
