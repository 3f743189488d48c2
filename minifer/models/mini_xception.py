"""mini-Xception (Arriaga, Ploeger and Valdenegro 2017), the usual small FER baseline: 58,423 parameters.

Two valid 3x3 Conv(8) stems, then four residual modules (16, 32, 64, 128 filters) whose
shortcut is a strided 1x1 Conv + BN and whose main path is two SeparableConv2D + BN with a
3x3/2 max-pool, then a 3x3 Conv to the classes, global average pooling and softmax. As in
the authors' code, ``l2`` regularises the stem kernels and the separable kernels (here explicitly
depthwise and pointwise), not the shortcuts or the classifier; the default is the library's
``DEFAULT_L2``, and ``l2="paper"`` gives the authors' 0.01.
"""
from ..graph import Input
from ..layers import (Activation, Add, BatchNormalization, Conv2D, GlobalAveragePooling2D, MaxPooling2D,
                      SeparableConv2D, fresh_names)
from ..engine import Model
from .arch import DEFAULT_L2, PIXELS, regularization


def mini_xception(input_shape=(64, 64, 1), num_classes=7, l2=DEFAULT_L2, name="mini_xception"):
    l2 = regularization(l2, 0.01)
    with fresh_names():
        inputs = x = Input(input_shape, pixel_range=PIXELS)
        for _ in range(2):
            x = Conv2D(8, 3, use_bias=False, kernel_regularizer=l2)(x)
            x = Activation("relu")(BatchNormalization()(x))
        for filters in (16, 32, 64, 128):
            shortcut = Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(x)
            shortcut = BatchNormalization()(shortcut)
            x = _separable(filters, l2)(x)
            x = Activation("relu")(BatchNormalization()(x))
            x = BatchNormalization()(_separable(filters, l2)(x))
            x = MaxPooling2D(3, strides=2, padding="same")(x)
            x = Add()([x, shortcut])
        x = GlobalAveragePooling2D()(Conv2D(num_classes, 3, padding="same")(x))
        return Model(inputs, Activation("softmax", name="predictions")(x), name=name)


def _separable(filters, l2):
    return SeparableConv2D(filters, 3, padding="same", use_bias=False, depthwise_regularizer=l2,
                           pointwise_regularizer=l2)
