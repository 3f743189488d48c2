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

from ..io.config import model_config, model_from_config

FOLDABLE = ("Conv2D", "PointwiseConv2D", "SeparableConv2D", "DepthwiseConv2D", "Dense")


def fold_batchnorm(model):
    config = model_config(model)
    folds = _foldable(config)  # batch norm name -> producer name
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
            weights = _folded_weights(model.get_layer(layer.name), weights, model.get_layer(bn_of[layer.name]))
        layer.set_weights(weights)
    return folded


def _is_ref(item):
    return isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)


def _refs(item):
    return [item] if _is_ref(item) else [r for sub in item for r in _refs(sub)]


def _renamed(item, rename):
    if _is_ref(item):
        return list(rename.get(tuple(item), item))
    return [_renamed(sub, rename) for sub in item]


def _foldable(config):
    entries = {e["config"]["name"]: e for e in config["layers"]}
    readers = {}
    for entry in config["layers"]:
        for ref in _refs(entry["inbound_nodes"]):
            readers[tuple(ref)] = readers.get(tuple(ref), 0) + 1
    for ref in _refs(config["output_layers"]):
        readers[tuple(ref)] = readers.get(tuple(ref), 0) + 1
    folds = {}
    for entry in config["layers"]:
        calls = entry["inbound_nodes"]
        if entry["class_name"] != "BatchNormalization" or len(calls) != 1 or not _is_ref(calls[0]):
            continue
        producer = entries[calls[0][0]]
        if (producer["class_name"] in FOLDABLE and len(producer["inbound_nodes"]) == 1
                and readers[tuple(calls[0])] == 1 and producer["config"].get("activation") in (None, "linear")):
            folds[entry["config"]["name"]] = calls[0][0]
    return folds


def _folded_weights(producer, weights, bn):
    """The producer's weights with ``bn`` folded in: its last kernel scaled per output channel, a bias."""
    gamma, beta, mean, var = (numpy.asarray(w, numpy.float64) for w in bn.get_weights())
    scale = gamma / numpy.sqrt(var + bn.epsilon)
    kernels = weights[:-1] if producer.use_bias else list(weights)
    bias = numpy.asarray(weights[-1], numpy.float64) if producer.use_bias else 0.0
    last = numpy.asarray(kernels[-1], numpy.float64)
    if type(producer).__name__ == "DepthwiseConv2D":  # output channel c*M + m of kernel (kh, kw, C, M)
        last = last * scale.reshape(last.shape[2:])
    else:
        last = last * scale
    dtype = kernels[-1].dtype
    return kernels[:-1] + [last.astype(dtype), ((bias - mean) * scale + beta).astype(dtype)]
