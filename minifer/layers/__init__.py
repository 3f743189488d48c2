"""Layers with Keras's names, arguments, defaults and weight layouts."""
from .base import Layer, ShapeError, fresh_names
from .conv import Conv2D, DepthwiseConv2D, PointwiseConv2D, SeparableConv2D
from .core import Activation, Add, Dense, Dropout, ReLU, Softmax
from .normalization import BatchNormalization
from .pooling import Flatten, GlobalAveragePooling2D, MaxPooling2D

__all__ = ["Activation", "Add", "BatchNormalization", "Conv2D", "Dense", "DepthwiseConv2D", "Dropout",
           "Flatten", "GlobalAveragePooling2D", "Layer", "MaxPooling2D", "PointwiseConv2D", "ReLU",
           "SeparableConv2D", "ShapeError", "Softmax", "fresh_names"]


def get(class_name):
    """The layer class of a saved config's ``class_name``."""
    if class_name not in __all__ or class_name in ("Layer", "ShapeError", "fresh_names"):
        raise ValueError(f"unknown layer class {class_name!r}")
    return globals()[class_name]
