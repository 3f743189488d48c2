"""Stateless differentiable operations on Tensors (NHWC images)."""
from .activation import log_softmax, relu, softmax
from .conv import conv2d, depthwise_conv2d
from .core import clip, dense, dropout, flatten
from .geometry import conv_output_length
from .loss import cross_entropy, one_hot
from .normalization import batch_norm
from .pooling import global_average_pool2d, max_pool2d

__all__ = ["batch_norm", "clip", "conv2d", "conv_output_length", "cross_entropy", "dense",
           "depthwise_conv2d", "dropout", "flatten", "global_average_pool2d", "log_softmax",
           "max_pool2d", "one_hot", "relu", "softmax"]
