"""The paper's four networks (Chowanda 2021, Tables 1-4), with its layer names and parameter counts.

Built inside ``fresh_names()`` so every build is named as the tables are (conv2d ... conv2d_10,
batch_normalization_6 on the first separable convolution because the residual branch's layers
were made first). Activations are ``Activation`` layers as in the tables; the GAP networks end
in ``Activation("softmax", name="predictions")``, the dense ones in ``Dense(7, softmax,
name="prediction")`` (Table 2's names).

``l2`` (Keras convention, ``l2 * sum(w**2)`` added to the loss) regularises every kernel:
Conv2D kernels, both SeparableConv2D kernels (depthwise and pointwise) and Dense kernels,
classifier included; never biases or BatchNorm. The default is ``DEFAULT_L2`` (1e-4), the
one that trains; ``l2="paper"`` gives the paper's 0.2 (``PAPER_L2``), which it states without
saying where, and which keeps these networks near chance (docs/training.md). ``dropout`` follows each
hidden Dense of ARCH-2/4 (the paper shows no Dropout rows; after each hidden Dense is the
usual reading); the hidden Dense layers use ReLU (the tables show no separate activation).
"""
from ..graph import Input
from ..layers import (Activation, Add, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                      GlobalAveragePooling2D, MaxPooling2D, SeparableConv2D, fresh_names)
from ..engine import Model

DEFAULT_L2 = 1e-4
PAPER_L2 = 0.2
PAPER_DROPOUT = 0.5
PIXELS = (0, 1)  # the images the networks take: uint8 pixels are scaled to [0, 1] at the door


def regularization(l2, paper):
    """The L2 factor a builder uses: a number, None (none), or "paper" for the paper's value."""
    if l2 == "paper":
        return paper
    if l2 is not None and not isinstance(l2, (int, float)):
        raise ValueError(f'l2 must be a number, None or "paper", got {l2!r}')
    return l2


def arch1(input_shape=(48, 48, 1), num_classes=7, l2=DEFAULT_L2, name="arch1"):
    """Separable convolutions, a residual branch and global average pooling (293,951 parameters)."""
    with fresh_names():
        inputs, l2 = Input(input_shape, pixel_range=PIXELS), regularization(l2, PAPER_L2)
        x = _separable_trunk(inputs, l2)
        return Model(inputs, _gap_head(x, num_classes, l2), name=name)


def arch2(input_shape=(48, 48, 1), num_classes=7, l2=DEFAULT_L2, dropout=PAPER_DROPOUT, name="arch2"):
    """ARCH-1's trunk with a max-pool, Flatten and two Dense(512) head (1,142,463 parameters)."""
    with fresh_names():
        inputs, l2 = Input(input_shape, pixel_range=PIXELS), regularization(l2, PAPER_L2)
        x = _separable_trunk(inputs, l2)
        return Model(inputs, _dense_head(x, num_classes, l2, dropout), name=name)


def arch3(input_shape=(48, 48, 1), num_classes=7, l2=DEFAULT_L2, name="arch3"):
    """Eleven standard convolutions and global average pooling (306,831 parameters)."""
    with fresh_names():
        inputs, l2 = Input(input_shape, pixel_range=PIXELS), regularization(l2, PAPER_L2)
        x = _plain_trunk(inputs, l2)
        return Model(inputs, _gap_head(x, num_classes, l2), name=name)


def arch4(input_shape=(48, 48, 1), num_classes=7, l2=DEFAULT_L2, dropout=PAPER_DROPOUT, name="arch4"):
    """ARCH-3's trunk with ARCH-2's dense head (1,155,343 parameters)."""
    with fresh_names():
        inputs, l2 = Input(input_shape, pixel_range=PIXELS), regularization(l2, PAPER_L2)
        x = _plain_trunk(inputs, l2)
        return Model(inputs, _dense_head(x, num_classes, l2, dropout), name=name)


def _conv(filters, l2, kernel_size=3, strides=1, use_bias=False):
    return Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=use_bias,
                  kernel_regularizer=l2)


def _block(x, filters, l2, pool=False, use_bias=False):
    """Conv -> BatchNorm -> [MaxPool(2)] -> ReLU, the unit both trunks repeat."""
    x = BatchNormalization()(_conv(filters, l2, use_bias=use_bias)(x))
    if pool:
        x = MaxPooling2D(2)(x)
    return Activation("relu")(x)


def _separable_trunk(x, l2):
    for filters in (8, 8, 16):
        x = _block(x, filters, l2)
    a = _block(x, 16, l2, pool=True)  # 24x24x16
    # The residual branch's layers are made first: that is why Table 1 numbers them
    # conv2d_4/5, batch_normalization_4/5 and the separable branch's BN _6/_7.
    r = BatchNormalization()(_conv(16, l2, kernel_size=1)(a))
    r = BatchNormalization()(_conv(32, l2, kernel_size=1, strides=2)(r))  # 12x12x32
    s = a
    for pool in (False, True):
        s = SeparableConv2D(32, 3, padding="same", use_bias=False, depthwise_regularizer=l2,
                            pointwise_regularizer=l2)(s)
        s = BatchNormalization()(s)
        if pool:
            s = MaxPooling2D(2)(s)
        s = Activation("relu")(s)  # 12x12x32
    x = Activation("relu")(Add()([s, r]))
    for filters, pool in ((64, False), (64, True), (128, False), (128, False)):
        x = _block(x, filters, l2, pool=pool, use_bias=True)
    return x  # 6x6x128


def _plain_trunk(x, l2):
    for i, filters in enumerate((8, 8, 16, 16, 16, 32, 32, 64, 64, 128, 128)):
        x = _block(x, filters, l2, pool=i in (4, 6, 8))
    return x  # 6x6x128


def _gap_head(x, num_classes, l2):
    x = GlobalAveragePooling2D()(_conv(num_classes, l2, use_bias=True)(x))
    return Activation("softmax", name="predictions")(x)


def _dense_head(x, num_classes, l2, dropout):
    x = Flatten()(MaxPooling2D(2)(x))
    for _ in range(2):
        x = Dense(512, activation="relu", kernel_regularizer=l2)(x)
        if dropout:
            x = Dropout(dropout)(x)
    return Dense(num_classes, activation="softmax", kernel_regularizer=l2, name="prediction")(x)
