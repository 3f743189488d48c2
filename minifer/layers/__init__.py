"""Layers with Keras's names, arguments, defaults and weight layouts."""
from . import activations, initializers, regularizers
from .activations import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax
from .base import Layer, ShapeError
from .names import fresh_names
from .conv import Conv2D, DepthwiseConv2D, PointwiseConv2D, SeparableConv2D
from .core import Add, Dense, Dropout, Multiply, Scale, Subtract
from .input import InputLayer
from .normalization import BatchNormalization, LocalResponseNormalization
from .pooling import AveragePooling2D, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D
from .reshaping import (Concatenate, CropLike, Padding2D, Permute, Rescaling, Reshape, SpatialDropout2D,
                        UpSampling2D, ZeroPadding2D)

__all__ = ["Activation", "Add", "BatchNormalization", "activations", "initializers", "regularizers", "Conv2D", "Dense", "DepthwiseConv2D", "Dropout",
           "Flatten", "GlobalAveragePooling2D", "InputLayer", "Layer", "MaxPooling2D", "PointwiseConv2D", "ReLU",
           "SeparableConv2D", "ShapeError", "Softmax", "fresh_names", "get",
           "AveragePooling2D", "Concatenate", "ELU", "GlobalMaxPooling2D", "LeakyReLU", "PReLU", "Rescaling",
           "Reshape", "SpatialDropout2D", "UpSampling2D", "ZeroPadding2D", "LocalResponseNormalization", "Multiply",
           "Padding2D", "Permute", "Scale", "Subtract", "CropLike"]


def get(class_name):
    """The Layer class (Model and Sequential included) a saved config's ``class_name`` names."""
    try:
        return Layer.registry[class_name]
    except KeyError:
        raise ValueError(f"unknown layer class {class_name!r}; known: {', '.join(sorted(Layer.registry))}") from None
