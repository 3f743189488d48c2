"""Models as JSON-able configs and back, so a saved model rebuilds with no code.

A functional config lists every layer (class name, constructor config) with the calls it
makes: each call's inputs as references ``[layer name, node index, tensor index]`` (node
index counted over this model's calls of that layer), nested exactly as the call got them
(one reference, or a list for layers such as Add). Layers come back in the config's order;
a call waits until the tensors it needs exist, so shared layers rebuild too. Classes are
found by name in ``Layer.registry`` (Model and Sequential register themselves), so nothing
here imports the models it rebuilds.
"""
import heapq
import json

from .. import layers as _layers
from ..graph import source
from ..layers import InputLayer

MAX_CONFIG_BYTES = 1 << 24  # the most JSON a model file's config may be; thousands of layers are well under 1 MB
# what building from a bad config raises (a kernel size of 0 divides by zero, 1e30 filters overflow, a list
# nested 100,000 deep recurses): every loader turns these into its error naming the file
BAD_CONFIG_ERRORS = (LookupError, TypeError, ValueError, ArithmeticError, AttributeError, RuntimeError)


def model_config(model):
    """A functional model's config; a Sequential's too (its input layer, which it makes itself and does
    not list among its layers, listed first)."""
    layers = [t.layer for t in model.inputs if t.layer not in model.layers] + model.layers
    node_index = {node: i for layer in layers for i, node in enumerate(model.model_nodes(layer))}

    def ref(t):
        return [t.layer.name, node_index[t.node], t.index]

    def refs(tensors):
        return [ref(t) for t in tensors] if isinstance(tensors, list) else ref(tensors)

    entries = []
    for layer in layers:
        calls = [refs(node.inputs) for node in model.model_nodes(layer) if node.inputs is not None]
        entries.append({**layer_config(layer), "inbound_nodes": calls})
    return {"name": model.name, "layers": entries,
            "input_layers": refs(model.input), "output_layers": refs(model.output)}


def layer_config(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def layer_from_config(entry):
    return _layers.get(entry["class_name"]).from_config(entry["config"])


def model_from_json(text):
    """A model (or layer) from ``to_json()``'s text, with freshly initialised weights."""
    return layer_from_config(json.loads(text))


def clone_model(model):
    """Keras's ``clone_model``: the same architecture and layer names, new weights."""
    return layer_from_config(layer_config(model))


def model_from_config(config):
    """The functional model of ``config``: its calls made in passes over the layers in the config's
    order, each waiting until the tensors it needs exist. A call that must wait is woken when its
    tensor is made, in this pass if its layer comes later, else in the next, so a config listed in
    any order costs time in proportion to its size (a pass over every layer for every call made
    was quadratic: 4,000 layers listed backwards took 11 s)."""
    tensors = {}  # (layer name, node index, tensor index) -> symbolic tensor
    pending = []  # [layer, its calls not yet made]
    for entry in config["layers"]:
        layer = layer_from_config(entry)
        if isinstance(layer, InputLayer):
            tensors[(layer.name, 0, 0)] = source(layer)
        pending.append([layer, list(entry["inbound_nodes"])])
    waiting, made = {}, {}  # a tensor's key -> positions of the layers whose next call needs it
    this_pass, next_pass = list(range(len(pending))), []
    while this_pass:
        while this_pass:
            at = heapq.heappop(this_pass)
            layer, calls = pending[at]
            while calls:
                missing = _missing(calls[0], tensors)
                if missing is not None:
                    waiting.setdefault(missing, []).append(at)
                    break
                outputs = layer(_resolve(calls.pop(0), tensors))
                index = made[layer.name] = made.get(layer.name, -1) + 1
                for i, t in enumerate(outputs if isinstance(outputs, list) else [outputs]):
                    tensors[(layer.name, index, i)] = t
                    for woken in waiting.pop((layer.name, index, i), []):
                        heapq.heappush(this_pass if woken > at else next_pass, woken)
        this_pass, next_pass = next_pass, []
    stuck = [f"{layer.name} <- {calls[0]}" for layer, calls in pending if calls]
    if stuck:
        raise ValueError(f"model config '{config['name']}' refers to tensors no layer makes: {stuck}")
    return _layers.get("Model")(_resolve(config["input_layers"], tensors),
                                _resolve(config["output_layers"], tensors), name=config["name"])


def is_ref(item):
    """Whether ``item`` is one tensor reference ``[layer, node, tensor]`` rather than a list of them
    (a config's calls, inputs and outputs hold either)."""
    return isinstance(item[0], str)


def renamed_refs(item, rename):
    """``item`` (a reference or nested lists of them) with each reference in ``rename`` replaced."""
    if is_ref(item):
        return list(rename.get(tuple(item), item))
    return [renamed_refs(sub, rename) for sub in item]


def _missing(refs, tensors):
    """The key of the first tensor of ``refs`` not made yet, or None when all exist."""
    return next((key for key in map(tuple, [refs] if is_ref(refs) else refs) if key not in tensors), None)


def _resolve(refs, tensors):
    if is_ref(refs):
        return tensors[tuple(refs)]
    return [tensors[tuple(r)] for r in refs]
