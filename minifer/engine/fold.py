"""``fold_batchnorm``: an inference copy of a model with each BatchNormalization folded into the
layer before it.

In inference a batch norm after a convolution, ``(conv(x) + b - mean) * gamma / sqrt(var + eps)
+ beta``, is itself that convolution with its kernel scaled per output channel and a new bias:
one pass over memory and one kernel less per batch norm (ARCH-1 has twelve). A batch norm is
folded when its input comes from a Conv2D, PointwiseConv2D, SeparableConv2D, DepthwiseConv2D or
Dense layer called once, with no activation, whose output nothing else reads; the others stay.
The copy is a new model with its own weights (computed in float64); training the original
leaves it as it was, so fold again after training.
"""
import copy

import numpy

from ..io.config import is_ref, model_config, model_from_config

FOLDABLE = ("Conv2D", "PointwiseConv2D", "SeparableConv2D", "DepthwiseConv2D", "Dense")


def fold_batchnorm(model):
    config = model_config(model)
    folds = {bn.name: producer.name for bn, producer in foldable(model).items()}
    producers = set(folds.values())
    rename = {(bn, 0, 0): [producer, 0, 0] for bn, producer in folds.items()}
    layers = []
    for entry in config["layers"]:
        name = entry["config"]["name"]
        if name in folds:
            continue
        entry = copy.deepcopy(entry)
        if name in producers:
            entry["config"]["use_bias"] = True
        entry["inbound_nodes"] = [_renamed(call, rename) for call in entry["inbound_nodes"]]
        layers.append(entry)
    folded = model_from_config({**config, "name": f"{model.name}_folded", "layers": layers,
                                "output_layers": _renamed(config["output_layers"], rename)})
    bn_of = {producer: bn for bn, producer in folds.items()}
    for layer in folded.layers:
        weights = model.get_layer(layer.name).get_weights()
        if layer.name in bn_of:
            weights = folded_weights(model.get_layer(layer.name), weights, model.get_layer(bn_of[layer.name]))
        layer.set_weights(weights)
    return folded


def _renamed(item, rename):
    if is_ref(item):
        return list(rename.get(tuple(item), item))
    return [_renamed(sub, rename) for sub in item]


def foldable(model):
    """{BatchNormalization layer: the layer it folds into} for every batch norm of ``model`` that
    folds: called once, on the output of a FOLDABLE layer called once, without activation,
    whose output nothing else reads (``fold_batchnorm`` and the inference plan share this rule)."""
    folds = {}
    for node in model._nodes:
        bn = node.layer
        if type(bn).__name__ != "BatchNormalization" or len(model.model_nodes(bn)) != 1 or len(node.inbound) != 1:
            continue
        tensor = node.inbound[0]
        producer = tensor.layer
        if (type(producer).__name__ in FOLDABLE and len(model.model_nodes(producer)) == 1
                and model._uses[tensor] == 1 and getattr(producer, "activation", None) in (None, "linear")):
            folds[bn] = producer
    return folds


def bn_affine(bn):
    """(scale, shift) in float64: ``bn`` in inference is x * scale + shift per channel."""
    gamma, beta, mean, var = (numpy.asarray(w, numpy.float64) for w in bn.get_weights())
    scale = gamma / numpy.sqrt(var + bn.epsilon)
    return scale, beta - mean * scale


def folded_weights(producer, weights, bn):
    """The producer's weights with ``bn`` folded in: its last kernel scaled per output channel, a bias."""
    scale, shift = bn_affine(bn)
    kernels = weights[:-1] if producer.use_bias else list(weights)
    bias = numpy.asarray(weights[-1], numpy.float64) if producer.use_bias else 0.0
    last = numpy.asarray(kernels[-1], numpy.float64)
    if type(producer).__name__ == "DepthwiseConv2D":  # output channel c*M + m of kernel (kh, kw, C, M)
        last = last * scale.reshape(last.shape[2:])
    else:
        last = last * scale
    dtype = kernels[-1].dtype
    return kernels[:-1] + [last.astype(dtype), (bias * scale + shift).astype(dtype)]
