"""Raw-array kernels, one set per backend; nothing here knows Tensors.

A kernel set offers the names in ``KERNELS`` (``cpu/`` is the NumPy set). An op asks
``kernels_for(array)`` for the set that runs on its input's arrays and calls its pair of
kernels: forward, and backward from what forward saved.
"""
from . import cpu

KERNELS = ("conv2d_path", "conv2d_forward", "conv2d_backward", "depthwise_forward", "depthwise_backward",
           "max_pool_forward", "max_pool_backward", "batch_norm_forward", "batch_norm_backward",
           "channel_affine", "channel_sum", "relu_forward", "relu_backward")


def kernels_for(array):
    """The kernel set for ``array``'s kind of array."""
    return cpu
