"""The CPU kernel set: NumPy kernels tuned for few cores (flat shifts, blocked passes, a thread pool).

Every kernel set offers the same names (``minifer/kernels/__init__.py`` lists them); the
functions in ``minifer.functional`` call them through ``kernels.kernels_for(array)``. Each
kernel runs with OpenBLAS on one thread while minifer's own pool is on (``parallel.py``).
"""
from . import batchnorm, columns, conv, depthwise, elementwise, pooling
from .parallel import num_threads, serial_blas, set_num_threads, split_batch
from .windows import pad_nhwc as pad

CONV_PATHS = conv.CONV_PATHS
conv2d_path = conv.conv2d_path
conv2d_forward = serial_blas(conv.conv2d_forward)
conv2d_backward = serial_blas(conv.conv2d_backward)
depthwise_forward = serial_blas(depthwise.depthwise_forward)
depthwise_backward = serial_blas(depthwise.depthwise_backward)
max_pool_forward = serial_blas(pooling.max_pool_forward)
max_pool_backward = serial_blas(pooling.max_pool_backward)
batch_norm_forward = serial_blas(batchnorm.batch_norm_forward)
batch_norm_backward = serial_blas(batchnorm.batch_norm_backward)
channel_affine = serial_blas(batchnorm.channel_affine)
channel_sum = serial_blas(columns.column_sum)
relu_forward = serial_blas(elementwise.relu_forward)
relu_backward = serial_blas(elementwise.relu_backward)

__all__ = ["CONV_PATHS", "batch_norm_backward", "batch_norm_forward", "channel_affine", "channel_sum",
           "conv2d_backward", "conv2d_forward", "conv2d_path", "depthwise_backward", "depthwise_forward",
           "max_pool_backward", "max_pool_forward", "num_threads", "pad", "relu_backward", "relu_forward",
           "set_num_threads", "split_batch"]
