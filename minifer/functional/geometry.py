"""Window geometry (padding and output size), exactly as Keras/TensorFlow define it, plus the
explicit padding and ceil mode of PyTorch's and ONNX's pools.

"same": out = ceil(in / stride); the total padding max((out-1)*stride + k - in, 0)
is split with the extra pixel at the bottom/right (PyTorch would put it top/left).
"valid": out = floor((in - k) / stride) + 1, no padding.
Explicit ((top, bottom), (left, right)): out = floor((in + before + after - k) / stride) + 1.
``ceil_mode`` (pools, with "valid" or explicit padding) rounds that division up, dropping a last
window that would start past the input and its leading padding (PyTorch's and ONNX's rule); the
windows it adds overhang the bottom/right, where the output is padded further.
"""
import numbers

MAX_SIZE = 1 << 24  # a size or padding no real layer has: a larger one is a damaged file, not a model


def check_padding(padding):
    """``padding`` in lower case ("SAME" is "same", as Keras reads it), or a ValueError."""
    if not isinstance(padding, str) or padding.lower() not in ("same", "valid"):
        raise ValueError(f'padding must be "same" or "valid", got {padding!r}')
    return padding.lower()


def explicit_pads(padding, what="padding"):
    """((top, bottom), (left, right)) from Keras's int, (rows, cols) or ((top, bottom), (left, right))."""
    pair = (padding, padding) if isinstance(padding, numbers.Integral) else padding
    try:
        pads = tuple((p, p) if isinstance(p, numbers.Integral) else tuple(p) for p in pair)
    except TypeError:
        pads = ()
    if len(pads) != 2 or not all(len(p) == 2 and all(whole_size(v) for v in p) for p in pads):
        raise ValueError(f"{what} must be an int, (rows, cols) or ((top, bottom), (left, right)) of sizes from 0 "
                         f"to {MAX_SIZE}, got {padding!r}")
    return tuple(tuple(int(v) for v in p) for p in pads)


def check_pool_padding(padding, ceil_mode=False):
    """A pool's ``padding``: "same", "valid", or explicit pads (as ``explicit_pads`` reads them);
    ``ceil_mode`` only with the latter two ("same" rounds up already)."""
    padding = check_padding(padding) if isinstance(padding, str) else explicit_pads(padding)
    if ceil_mode and padding == "same":
        raise ValueError('ceil_mode takes "valid" or explicit padding: "same" rounds up already')
    return padding


def whole_size(value, low=0):
    """Whether ``value`` is a whole number from ``low`` to ``MAX_SIZE`` (a bool is not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and low <= value <= MAX_SIZE


def per_axis(padding):
    """One entry per spatial axis: the padding name, or that axis's (before, after)."""
    return [padding, padding] if isinstance(padding, str) else list(padding)


def conv_output_length(size, kernel, stride, padding, ceil_mode=False):
    """Output length of one axis; ``padding`` is "same", "valid" or this axis's (before, after)."""
    if isinstance(padding, str) and check_padding(padding) == "same":
        return -(-size // stride)
    before, after = (0, 0) if isinstance(padding, str) else padding
    span = size + before + after - kernel
    if span < 0:
        return 0
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    return out - 1 if ceil_mode and (out - 1) * stride >= size + before else out


def same_padding(size, kernel, stride):
    """(before, after) padding of one spatial axis for "same"."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_amounts(in_hw, kernel, strides, padding, ceil_mode=False):
    """((top, bottom), (left, right)) for an NHWC input of spatial size ``in_hw``: with explicit
    padding, ``ceil_mode``'s overhang is added after it."""
    if isinstance(padding, str):
        padding = check_padding(padding)
        if padding == "valid" and not ceil_mode:
            return (0, 0), (0, 0)
        if padding == "same":
            return tuple(same_padding(n, k, s) for n, k, s in zip(in_hw, kernel, strides))
    pads = []
    for n, k, s, axis in zip(in_hw, kernel, strides, per_axis(padding)):
        before, after = (0, 0) if isinstance(axis, str) else axis
        if n is None and not ceil_mode:  # no overhang to add, and none to know (a size left open)
            pads.append((before, after))
            continue
        out = conv_output_length(n, k, s, (before, after), ceil_mode)
        pads.append((before, after + max((out - 1) * s + k - (n + before + after), 0)))
    return tuple(pads)


def as_pair(value, name="value"):
    """Keras accepts an int or a pair for kernel_size, strides and pool_size; each at least 1."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                                 for v in pair):
        raise ValueError(f"{name} must be a positive int or a pair of positive ints, got {value!r}")
    return tuple(int(v) for v in pair)


def window_geometry(in_hw, window, strides, padding, what=None, ceil_mode=False):
    """((top, bottom), (left, right)) padding and the (Ho, Wo) output size of a sliding window:
    the one computation convolution and pooling share, layers and functions alike. Given
    ``what`` ("kernel", "pool"), a window with no output position is a ValueError naming it."""
    pads = pad_amounts(in_hw, window, strides, padding, ceil_mode)
    out_hw = tuple(conv_output_length(n, k, s, p, ceil_mode)
                   for n, k, s, p in zip(in_hw, window, strides, per_axis(padding)))
    if what and min(out_hw) < 1:
        raise ValueError(f"{what} {window} is larger than the {padding!r} input {tuple(in_hw)}")
    return pads, out_hw
