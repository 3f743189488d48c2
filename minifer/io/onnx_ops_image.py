"""ONNX's image operators as minifer layers: Conv (grouped, depthwise, dilated, padded any way),
MaxPool and AveragePool, the global pools, BatchNormalization, LRN, Resize and Pad.

Their input is taken in minifer's NHWC order (``Importer.nhwc``). ONNX's explicit pads become
Keras's "same" where they are the same pixels, else a ZeroPadding2D before a "valid" convolution
(pools take explicit padding themselves); SAME_UPPER is Keras's "same" exactly.
"""
import numpy

from .. import layers as L
from ..functional.geometry import same_padding
from ..functional.resize import upsampling_taps
from ..functional.shape import PAD_MODES
from .onnx_context import Sym
from .onnx_ops_shape import ints

WINDOW = {"auto_pad": "NOTSET", "kernel_shape": None, "pads": None, "strides": None, "dilations": None}


def window(importer, node, a, x, kernel, explicit=False):
    """(strides, dilations, padding) of a 2-D sliding window: padding "same", "valid" or explicit
    (kept explicit with ``explicit``, where "same" would mean otherwise)."""
    if len(kernel) != 2:
        raise importer.refuse(node, f"slides a window of {len(kernel)} dimensions; minifer's are 2-D", "kernel_shape")
    strides, dilations = (tuple(a[k] or (1, 1)) for k in ("strides", "dilations"))
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    sizes = importer.onnx_shape(x)[2:]
    auto = a["auto_pad"]
    if auto in ("SAME_UPPER", "VALID"):
        return strides, dilations, auto.split("_")[0].lower()
    if auto == "SAME_LOWER":  # the extra pixel before, not after
        if None in sizes:
            raise importer.refuse(node, "is SAME_LOWER on an input of unknown size", "auto_pad")
        pads = tuple(same_padding(n, k, s)[::-1] for n, k, s in zip(sizes, spans, strides))
    elif auto == "NOTSET":
        p = ints(importer, node, a["pads"] or [0, 0, 0, 0], "pads")
        if len(p) != 4 or min(p) < 0:
            raise importer.refuse(node, f"is {p}; minifer takes four pads of 0 or more", "pads")
        pads = ((p[0], p[2]), (p[1], p[3]))
    else:
        raise importer.refuse(node, f"is {auto!r}", "auto_pad")
    if pads == ((0, 0), (0, 0)):
        return strides, dilations, "valid"
    sized = all(n is not None and same_padding(n, k, s) == p for n, k, s, p in zip(sizes, spans, strides, pads))
    any_size = strides == (1, 1) and all(same_padding(1, k, 1) == p for k, p in zip(spans, pads))
    if not explicit and (sized or any_size):  # the pixels Keras's "same" pads
        return strides, dilations, "same"
    return strides, dilations, pads


def conv(importer, node):
    a = importer.attributes(node, {**WINDOW, "group": 1})
    x = importer.nhwc(node, importer.sym(node))
    w, b = importer.constant(node, 1, "weights"), importer.constant(node, 2, "bias")
    if w.ndim != 4:
        raise importer.refuse(node, f"has weights of shape {w.shape}; minifer's convolutions are 2-D")
    filters, per_group, kh, kw = w.shape
    if a["kernel_shape"] is not None and list(a["kernel_shape"]) != [kh, kw]:
        raise importer.refuse(node, f"is {a['kernel_shape']}, but the weights are {kh}x{kw}", "kernel_shape")
    strides, dilations, padding = window(importer, node, a, x, (kh, kw))
    group, channels = a["group"], x.tensor.shape[-1]
    if channels != per_group * group or filters % group:
        raise importer.refuse(node, f"has {group} groups of weights {w.shape} for {channels} input channels", "group")
    if not isinstance(padding, str):
        x = Sym(importer.call(node, L.ZeroPadding2D, x, suffix="_pad", padding=padding), "nhwc")
        padding = "valid"
    common = dict(strides=strides, padding=padding, dilation_rate=dilations, use_bias=b is not None)
    bias = [] if b is None else [b]
    if per_group == 1 and group > 1:  # one channel per group: a depthwise convolution
        kernel = w.reshape(group, filters // group, kh, kw).transpose(2, 3, 0, 1)
        return Sym(importer.call(node, L.DepthwiseConv2D, x, [kernel] + bias, kernel_size=(kh, kw),
                                 depth_multiplier=filters // group, depthwise_initializer="zeros", **common), "nhwc")
    return Sym(importer.call(node, L.Conv2D, x, [w.transpose(2, 3, 1, 0)] + bias, filters=filters,
                             kernel_size=(kh, kw), groups=group, kernel_initializer="zeros", **common), "nhwc")


def pool(importer, node):
    average = node.op_type == "AveragePool"
    extra = {"count_include_pad": 0} if average else {"storage_order": 0}
    a = importer.attributes(node, {**WINDOW, "ceil_mode": 0, **extra})
    x = importer.nhwc(node, importer.sym(node))
    kernel = tuple(a["kernel_shape"] or ())
    counted = average and bool(a["count_include_pad"])  # "same" leaves its padding out of the means
    strides, dilations, padding = window(importer, node, a, x, kernel, explicit=counted)
    if dilations != (1, 1):
        raise importer.refuse(node, f"is {list(dilations)}; minifer's pools are not dilated", "dilations")
    ceil_mode = bool(a["ceil_mode"]) and padding != "same"  # "same" rounds up already
    if counted and padding == "same":
        raise importer.refuse(node, "counts SAME padding in the means; minifer counts explicit padding only",
                              "count_include_pad")
    config = {"count_include_pad": bool(a["count_include_pad"])} if average else {}
    layer_class = L.AveragePooling2D if average else L.MaxPooling2D
    return Sym(importer.call(node, layer_class, x, pool_size=kernel, strides=strides, padding=padding,
                             ceil_mode=ceil_mode, **config), "nhwc")


def global_pool(importer, node):
    """minifer's global pools give (N, C); ONNX's keep (N, C, 1, 1): an NHWC (N, 1, 1, C)."""
    importer.attributes(node, {})
    x = importer.nhwc(node, importer.sym(node))
    layer_class = L.GlobalAveragePooling2D if node.op_type == "GlobalAveragePool" else L.GlobalMaxPooling2D
    y = importer.call(node, layer_class, x)
    return Sym(importer.call(node, L.Reshape, Sym(y, "same"), suffix="_keepdims", target_shape=(1, 1, -1)), "nhwc")


def channels_last(importer, node, x):
    """``x`` with its channels (ONNX's axis 1) last: an image in NHWC, or (N, C) as it is."""
    rank = len(x.tensor.shape)
    if rank == 2:
        return importer.same(x, node)
    if rank == 4:
        return importer.nhwc(node, x)
    raise importer.refuse(node, f"normalises axis 1 of a value of rank {rank}; minifer's layer takes images and "
                                "(N, C) values")


def batch_norm(importer, node):
    a = importer.attributes(node, {"epsilon": 1e-5, "momentum": 0.9, "training_mode": 0, "spatial": 1,
                                   "is_test": None, "consumed_inputs": None})
    if a["training_mode"]:
        raise importer.refuse(node, "is set: batch statistics, not the running ones", "training_mode")
    if a["spatial"] != 1:
        raise importer.refuse(node, "is 0: statistics per pixel, not per channel", "spatial")
    x = channels_last(importer, node, importer.sym(node))
    weights = [importer.constant(node, i, what) for i, what in ((1, "scale"), (2, "bias"), (3, "mean"),
                                                                  (4, "variance"))]
    return Sym(importer.call(node, L.BatchNormalization, x, weights, momentum=a["momentum"], epsilon=a["epsilon"]),
               x.layout)


def lrn(importer, node):
    a = importer.attributes(node, {"size": None, "alpha": 1e-4, "beta": 0.75, "bias": 1.0})
    x = importer.nhwc(node, importer.sym(node))
    return Sym(importer.call(node, L.LocalResponseNormalization, x, **a), "nhwc")


def onnx_nearest(in_size, factor, coordinates, rounding):
    """The input row ONNX's nearest Resize reads for each output row (its formulas, in NumPy)."""
    out = numpy.arange(in_size * factor, dtype=numpy.float64)
    source = {"half_pixel": (out + 0.5) / factor - 0.5, "asymmetric": out / factor,
              "pytorch_half_pixel": (out + 0.5) / factor - 0.5 if in_size * factor > 1 else 0 * out,
              "tf_half_pixel_for_nn": (out + 0.5) / factor,
              "align_corners": out * (in_size - 1) / max(in_size * factor - 1, 1)}[coordinates]
    picked = {"round_prefer_floor": numpy.ceil(source - 0.5), "round_prefer_ceil": numpy.floor(source + 0.5),
              "floor": numpy.floor(source), "ceil": numpy.ceil(source)}[rounding]
    return numpy.clip(picked, 0, in_size - 1).astype(numpy.intp)


def resize(importer, node):
    """Whole-number upscaling, where ONNX's modes read the pixels UpSampling2D reads."""
    a = importer.attributes(node, {"mode": "nearest", "coordinate_transformation_mode": "half_pixel",
                                   "nearest_mode": "round_prefer_floor", "cubic_coeff_a": -0.75, "exclude_outside": 0,
                                   "extrapolation_value": 0.0, "antialias": 0, "axes": None,
                                   "keep_aspect_ratio_policy": "stretch"})
    x = importer.nhwc(node, importer.sym(node))
    dims = importer.onnx_shape(x)
    scales = importer.constant(node, 2 if importer.opset >= 11 else 1, "scales")
    sizes = importer.constant(node, 3, "sizes") if importer.opset >= 11 else None
    if a["axes"] is not None or a["keep_aspect_ratio_policy"] != "stretch":
        raise importer.refuse(node, "is set; minifer resizes the two spatial axes by given factors only", "axes")
    if scales is not None and scales.size:
        factors = [float(s) for s in scales]
    elif sizes is not None and None not in dims[2:]:
        factors = [1.0, 1.0] + [s / n for s, n in zip(ints(importer, node, sizes, "sizes")[2:], dims[2:])]
    else:
        raise importer.refuse(node, "has neither scales nor sizes minifer can work out at load time")
    if len(factors) != 4 or factors[:2] != [1.0, 1.0] or any(f < 1 or f != int(f) for f in factors[2:]):
        raise importer.refuse(node, f"scales by {factors}; minifer upsamples images by whole factors only")
    factors = tuple(int(f) for f in factors[2:])
    mode, coordinates = a["mode"], a["coordinate_transformation_mode"]
    if mode == "nearest":
        if coordinates not in ("half_pixel", "asymmetric", "pytorch_half_pixel", "tf_half_pixel_for_nn",
                               "align_corners") or any(
                not numpy.array_equal(onnx_nearest(n, f, coordinates, a["nearest_mode"]),
                                      upsampling_taps(n, f, "nearest")[0][0]) for f in factors for n in range(1, 17)):
            raise importer.refuse(node, f"is {coordinates!r} with nearest_mode {a['nearest_mode']!r}, which does not "
                                        "repeat each pixel", "coordinate_transformation_mode")
        interpolation = "nearest"
    elif mode == "linear" and coordinates in ("half_pixel", "pytorch_half_pixel"):
        interpolation = "bilinear"
    else:
        raise importer.refuse(node, f"is {mode!r} with {coordinates!r}; minifer resizes by nearest neighbour, or "
                                    "linearly between half-pixel centres", "mode")
    return Sym(importer.call(node, L.UpSampling2D, x, size=factors, interpolation=interpolation), "nhwc")


def pad(importer, node):
    if importer.opset < 11:
        a = importer.attributes(node, {"mode": "constant", "pads": None, "paddings": None, "value": 0.0})
        pads, value, axes = a["pads"] or a["paddings"], a["value"], None
    else:
        a = importer.attributes(node, {"mode": "constant"})
        pads, value = importer.constant(node, 1, "pads"), importer.constant(node, 2, "constant_value", 0.0)
        axes = importer.constant(node, 3, "axes")
    x = importer.nhwc(node, importer.sym(node))
    pads = ints(importer, node, pads, "pads")
    axes = [ax % 4 for ax in ints(importer, node, axes, "axes")] if axes is not None else [0, 1, 2, 3]
    before, after = dict(zip(axes, pads[:len(axes)])), dict(zip(axes, pads[len(axes):]))
    if any(before.get(ax, 0) or after.get(ax, 0) for ax in (0, 1)) or min(pads, default=0) < 0:
        raise importer.refuse(node, f"pads {pads} on axes {axes}; minifer pads height and width by 0 or more only")
    padding = ((before.get(2, 0), after.get(2, 0)), (before.get(3, 0), after.get(3, 0)))
    value = float(numpy.asarray(value).reshape(-1)[0]) if numpy.size(value) else 0.0
    if a["mode"] == "constant" and value == 0:
        return Sym(importer.call(node, L.ZeroPadding2D, x, padding=padding), "nhwc")
    if a["mode"] not in PAD_MODES:
        raise importer.refuse(node, f"is {a['mode']!r}", "mode")
    return Sym(importer.call(node, L.Padding2D, x, padding=padding, mode=a["mode"], value=value), "nhwc")


OPERATORS = {"Conv": conv, "MaxPool": pool, "AveragePool": pool, "GlobalAveragePool": global_pool,
             "GlobalMaxPool": global_pool, "BatchNormalization": batch_norm, "LRN": lrn, "Resize": resize,
             "Pad": pad}
