"""minifer models as Keras configs: Keras 2's (for ``.h5``) and Keras 3's (for ``.keras``).

minifer's layers take Keras's argument names, so a layer's config mostly passes through; a
layer that Keras spells otherwise says how (``Layer.keras_config``: minifer's PointwiseConv2D is
a 1x1 Conv2D to Keras, LeakyReLU's slope is ``alpha`` in Keras 2). What is spelled here is what
every layer shares: the InputLayer's shape key, regularizer objects and how a call names its
inputs (Keras 2: ``[layer, node, tensor, kwargs]``; Keras 3: a serialized Keras tensor carrying
its shape and ``keras_history``). An input's ``pixel_range`` is written as Keras spells pixel
scaling, a Rescaling layer after the input: the Keras model then takes pixels 0-255 (as floats
or uint8), which minifer's own file also takes; float images already scaled must be given to
the minifer model instead.
"""
from ..layers import InputLayer, Rescaling
from .config import is_ref, model_config, renamed_refs


def keras_model_config(model, keras3):
    """The ``model_config`` Keras writes, for a minifer Model or Sequential (a model whose config
    lists no input layers: it makes its own)."""
    for layer in model.layers:
        if not layer.defines_with_call("keras_config"):
            raise ValueError(f"{type(layer).__name__} layer '{layer.name}' changes the call of the class it extends, "
                             "so it cannot be written as that class; Keras files hold minifer's own layers only")
    if "input_layers" not in model.get_config():
        first = model.inputs[0].layer
        entries = [_input_entry(first, keras3), *_pixels(first, keras3)]
        entries += [_entry(layer, keras3) for layer in model.layers]
        return _wrap("Sequential", "keras", {"name": model.name, "trainable": True, "layers": entries}, keras3)
    config, shapes = model_config(model), _tensor_specs(model)
    rename = {(t.layer.name, 0, 0): [_pixels_name(t.layer), 0, 0] for t in model.inputs if t.layer.pixel_range}
    shapes.update({tuple(new): shapes[old] for old, new in rename.items()})
    layers = []
    for layer, entry in zip(model.layers, config["layers"]):
        if isinstance(layer, InputLayer):
            layers += [_input_entry(layer, keras3)] + [{**pixels, "name": pixels["config"]["name"],
                                                        "inbound_nodes": [_call([layer.name, 0, 0], shapes, keras3)]}
                                                       for pixels in _pixels(layer, keras3)]
            continue
        calls = [_call(renamed_refs(refs, rename), shapes, keras3) for refs in entry["inbound_nodes"]]
        layers.append({**_entry(layer, keras3), "name": layer.name, "inbound_nodes": calls})
    config["output_layers"] = renamed_refs(config["output_layers"], rename)
    ends = {key: _ends(config[key], keras3) for key in ("input_layers", "output_layers")}
    return _wrap("Functional", "keras.src.models.functional",
                 {"name": model.name, "trainable": True, "layers": layers, **ends}, keras3)


def _wrap(class_name, module, config, keras3):
    if keras3:
        return {"module": module, "class_name": class_name, "config": config,
                "registered_name": class_name if class_name == "Functional" else None}
    return {"class_name": class_name, "config": config}


def _tensor_specs(model):
    """(layer name, node index, tensor index) -> (shape, dtype) for every tensor of the graph."""
    specs = {}
    for layer in model.layers:
        for i, node in enumerate(model.model_nodes(layer)):
            for t in node.outputs:
                specs[(layer.name, i, t.index)] = (list(t.shape), str(t.dtype))
    return specs


def _input_entry(layer, keras3):
    shape = list(layer.batch_input_shape)
    config = {"batch_shape" if keras3 else "batch_input_shape": shape, "dtype": layer.dtype,
              "sparse": False, "name": layer.name}
    entry = {"class_name": "InputLayer", "config": config, "name": layer.name, "inbound_nodes": []}
    return {"module": "keras.layers", **entry, "registered_name": None} if keras3 else entry


def _pixels(layer, keras3):
    """The Rescaling entry that writes an input's ``pixel_range`` ([] where it declares none)."""
    if layer.pixel_range is None:
        return []
    low, high = layer.pixel_range
    return [_entry(Rescaling((high - low) / 255, low, name=_pixels_name(layer)), keras3)]


def _pixels_name(layer):
    return f"{layer.name}_pixels"


def _entry(layer, keras3):
    class_name, config = keras_layer_config(layer, keras3)
    if keras3:
        return {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}
    return {"class_name": class_name, "config": config}


def keras_layer_config(layer, keras3):
    """(class name, config) of a minifer layer in Keras's spelling."""
    class_name, config = layer.keras_config(keras3)
    config = dict(config)
    if "activation" in config and config["activation"] is None:
        config["activation"] = "linear"
    for key, value in config.items():
        if key.endswith("_regularizer") and isinstance(value, dict):
            config[key] = ({"module": "keras.regularizers", "class_name": "L2", "config": value,
                            "registered_name": None} if keras3
                           else {"class_name": "L1L2", "config": {"l1": 0.0, "l2": value["l2"]}})
    return class_name, config


def _call(refs, shapes, keras3):
    single = is_ref(refs)
    refs = [refs] if single else refs
    if not keras3:
        return [[*ref, {}] for ref in refs]
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"shape": shapes[tuple(r)][0], "dtype": shapes[tuple(r)][1], "keras_history": list(r)}}
               for r in refs]
    return {"args": [tensors[0] if single else tensors], "kwargs": {}}


def _ends(refs, keras3):
    if is_ref(refs):
        return list(refs) if keras3 else [list(refs)]
    return [list(r) for r in refs]
