"""Window geometry (padding and output size), exactly as Keras/TensorFlow define it.

"same": out = ceil(in / stride); the total padding max((out-1)*stride + k - in, 0)
is split with the extra pixel at the bottom/right (PyTorch would put it top/left).
"valid": out = floor((in - k) / stride) + 1, no padding.
"""
import numbers


def check_padding(padding):
    """``padding`` in lower case ("SAME" is "same", as Keras reads it), or a ValueError."""
    if not isinstance(padding, str) or padding.lower() not in ("same", "valid"):
        raise ValueError(f'padding must be "same" or "valid", got {padding!r}')
    return padding.lower()


def conv_output_length(size, kernel, stride, padding):
    if check_padding(padding) == "same":
        return -(-size // stride)
    return max((size - kernel) // stride + 1, 0)


def same_padding(size, kernel, stride):
    """(before, after) padding of one spatial axis for "same"."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_amounts(in_hw, kernel, strides, padding):
    """((top, bottom), (left, right)) for an NHWC input of spatial size ``in_hw``."""
    if check_padding(padding) == "valid":
        return (0, 0), (0, 0)
    return tuple(same_padding(n, k, s) for n, k, s in zip(in_hw, kernel, strides))


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


def window_geometry(in_hw, window, strides, padding, what=None):
    """((top, bottom), (left, right)) padding and the (Ho, Wo) output size of a sliding window:
    the one computation convolution and pooling share, layers and functions alike. Given
    ``what`` ("kernel", "pool"), a window with no output position is a ValueError naming it."""
    pads = pad_amounts(in_hw, window, strides, padding)
    out_hw = tuple(conv_output_length(n, k, s, padding) for n, k, s in zip(in_hw, window, strides))
    if what and min(out_hw) < 1:
        raise ValueError(f"{what} {window} is larger than the {padding!r} input {tuple(in_hw)}")
    return pads, out_hw
