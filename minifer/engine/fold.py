"""``fold_batchnorm``: an inference copy of a model with each BatchNormalization folded into the
layer before it.

In inference a batch norm after a convolution, ``(conv(x) + b - mean) * gamma / sqrt(var + eps)
+ beta``, is itself that convolution with its kernel scaled per output channel and a new bias:
one pass over memory and one kernel less per batch norm (ARCH-1 has twelve). The layers say
what folds: a layer that is a per-channel affine map in inference (``inference_affine``: a
BatchNormalization) folds into the layer whose output it alone reads when that layer can absorb
it (``absorb_affine``: the convolutions and Dense, without an activation), each called once.
The copy is a new model with its own weights (computed in float64); training the original
leaves it as it was, so fold again after training.
"""
import copy

from ..io.config import model_config, model_from_config, renamed_refs


def fold_batchnorm(model):
    config = model_config(model)
    folds = foldable(model)
    absorbed = {producer.name: producer.absorb_affine(*affine) for producer, affine in folds.values()}
    rename = {(layer.name, 0, 0): [producer.name, 0, 0] for layer, (producer, _) in folds.items()}
    gone = {layer.name for layer in folds}
    layers = []
    for entry in config["layers"]:
        name = entry["config"]["name"]
        if name in gone:
            continue
        entry = copy.deepcopy(entry)
        if name in absorbed:
            entry["config"] = absorbed[name][0]
        entry["inbound_nodes"] = [renamed_refs(call, rename) for call in entry["inbound_nodes"]]
        layers.append(entry)
    folded = model_from_config({**config, "name": f"{model.name}_folded", "layers": layers,
                                "output_layers": renamed_refs(config["output_layers"], rename)})
    for layer in folded.layers:
        if layer.weights:
            layer.set_weights(absorbed[layer.name][1] if layer.name in absorbed else
                              model.get_layer(layer.name).get_weights())
    return folded


def foldable(model):
    """{layer: (the layer it folds into, its (scale, shift))} for every layer of ``model`` that folds
    (``fold_batchnorm`` and the inference plan share this rule)."""
    folds = {}
    for node in model._nodes:
        layer = node.layer
        affine = layer.inference_affine() if layer.defines_with_call("inference_affine") else None
        if affine is None or len(model.model_nodes(layer)) != 1 or len(node.inbound) != 1:
            continue
        tensor = node.inbound[0]
        producer = tensor.layer
        if (len(model.model_nodes(producer)) == 1 and model._uses[tensor] == 1
                and producer.defines_with_call("absorb_affine") and producer.absorb_affine(*affine) is not None):
            folds[layer] = (producer, affine)
    return folds
