"""Raw-array kernels, one set per backend; nothing here knows Tensors.

A kernel set offers the names in ``KERNELS``: ``cpu`` for NumPy arrays, a ``CudaKernels`` over
CuPy for CuPy arrays (made on first use). An op asks ``kernels_for(array)`` for the set that
runs on its input's arrays and calls its pair of kernels: forward, and backward from what
forward saved. ``numpy_kernels(kernel_set)`` runs NumPy arrays through another set inside a
block: the tests run the CUDA set, its ``.cu`` kernels compiled by g++, on the CPU that way.
"""
import contextlib
import threading

import numpy

from ..backend import get_xp
from . import cpu
from .cuda import CudaKernels, cupy_loader

KERNELS = ("conv2d_path", "conv2d_forward", "conv2d_backward", "depthwise_forward", "depthwise_backward",
           "max_pool_forward", "max_pool_backward", "batch_norm_forward", "batch_norm_backward",
           "channel_affine", "channel_sum", "relu_forward", "relu_backward", "pad", "split_batch")

_cuda = []  # the CUDA set, made on first use
_local = threading.local()  # .numpy: the set NumPy arrays run through on this thread (numpy_kernels)


def kernels_for(array):
    """The kernel set for ``array``'s kind of array."""
    xp = get_xp(array)
    if xp is numpy:
        return getattr(_local, "numpy", cpu)
    if not _cuda:
        _cuda.append(CudaKernels(xp, cupy_loader))
    return _cuda[0]


@contextlib.contextmanager
def numpy_kernels(kernel_set):
    """NumPy arrays run through ``kernel_set`` inside this block, on this thread (another thread's
    model keeps the CPU set); the set before is put back after."""
    previous, _local.numpy = getattr(_local, "numpy", cpu), kernel_set
    try:
        yield kernel_set
    finally:
        _local.numpy = previous
