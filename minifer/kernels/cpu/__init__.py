"""The CPU kernel set: NumPy kernels tuned for few cores (flat shifts, blocked passes, a thread pool).

Every kernel set offers the same names (``minifer/kernels/__init__.py`` lists them); the
functions in ``minifer.functional`` call them through ``kernels.kernels_for(array)``.
"""
from .batchnorm import batch_norm_backward, batch_norm_forward, channel_affine
from .columns import column_sum as channel_sum
from .conv import CONV_PATHS, conv2d_backward, conv2d_forward, conv2d_path
from .depthwise import depthwise_backward, depthwise_forward
from .elementwise import relu_backward, relu_forward
from .parallel import num_threads, set_num_threads
from .pooling import max_pool_backward, max_pool_forward

name = "cpu"

__all__ = ["CONV_PATHS", "batch_norm_backward", "batch_norm_forward", "channel_affine", "channel_sum",
           "conv2d_backward", "conv2d_forward", "conv2d_path", "depthwise_backward", "depthwise_forward",
           "max_pool_backward", "max_pool_forward", "num_threads", "relu_backward", "relu_forward",
           "set_num_threads"]
