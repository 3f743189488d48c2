"""Stateless differentiable operations on Tensors (NHWC images)."""
from .activation import elu, gelu, hard_sigmoid, hard_swish, leaky_relu, prelu, relu, selu, sigmoid, softplus, swish, tanh
from .conv import conv2d, depthwise_conv2d
from .core import clip, dense, dropout, flatten
from .geometry import conv_output_length
from .loss import cross_entropy, one_hot
from .normalization import batch_norm, population_statistics
from .pooling import avg_pool2d, global_average_pool2d, global_max_pool2d, max_pool2d
from .resize import upsample2d
from .local_response import local_response_norm
from .shape import concatenate, pad2d, permute, rescale, spatial_dropout2d, zero_pad2d
from .softmax import log_softmax, softmax

__all__ = ["batch_norm", "clip", "conv2d", "conv_output_length", "cross_entropy", "dense",
           "depthwise_conv2d", "dropout", "flatten", "global_average_pool2d", "log_softmax",
           "max_pool2d", "one_hot", "population_statistics", "relu", "softmax",
           "avg_pool2d", "concatenate", "elu", "gelu", "hard_sigmoid", "hard_swish", "global_max_pool2d", "leaky_relu", "local_response_norm", "pad2d", "permute", "prelu", "rescale",
           "selu", "sigmoid", "softplus", "spatial_dropout2d", "swish", "tanh", "upsample2d", "zero_pad2d"]
