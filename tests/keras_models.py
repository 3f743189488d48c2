"""The two small models the Keras-file tests write and read: between them every layer type minifer
has, in a functional graph (residual Add, Concatenate) and a Sequential stack.

tests/data/keras3_written.npz was made once from the first two (weights from ``randomize``):
minifer wrote them, Keras 3.15.1 loaded them, predicted on the stored inputs and saved them again
in its own .keras and .h5 formats; the file holds those inputs, Keras's outputs and Keras's files.
``since_fixture`` holds the Keras layers and arguments minifer gained after that file was made
(issue 26): no Keras run has read its file, so only minifer's round trip checks it.
"""
import numpy as np

import minifer
from minifer import layers as L
from minifer.layers import fresh_names


def functional():
    with fresh_names():
        x = minifer.Input((8, 8, 3))
        a = L.Conv2D(4, 3, padding="same", kernel_regularizer=0.01)(x)
        a = L.BatchNormalization()(a)
        b = L.SeparableConv2D(4, 3, padding="same")(x)
        c = L.Add()([a, b])
        c = L.ZeroPadding2D(((1, 0), (0, 1)))(c)
        c = L.AveragePooling2D(3, strides=2)(c)
        d = L.Conv2D(3, 1)(L.MaxPooling2D(2, padding="same")(x))
        d = L.Concatenate()([c, d])
        d = L.PReLU(shared_axes=[1, 2])(d)
        d = L.LeakyReLU(0.2)(L.ELU(0.5)(d))
        d = L.Rescaling(0.5, 0.1)(L.SpatialDropout2D(0.3)(d))
        d = L.DepthwiseConv2D(3, padding="same", activation="tanh")(d)
        g1 = L.GlobalMaxPooling2D()(d)
        g2 = L.GlobalAveragePooling2D()(L.Activation("swish")(d))
        g = L.Concatenate()([g1, g2])
        g = L.Flatten()(L.Reshape((2, 7))(g))
        g = L.Dropout(0.2)(L.Dense(6, activation="gelu")(g))
        g = L.Dense(5, activation="elu")(L.Dense(5, activation="selu")(g))
        g = L.Dense(4, activation="sigmoid")(L.Dense(4, activation="softplus")(g))
        g = L.ReLU()(g)
        out = L.Dense(3, activation="softmax")(g)
        m = minifer.Model(x, out)
    randomize(m)
    return m


def sequential():
    with fresh_names():
        m = minifer.Sequential([L.Conv2D(2, 3, activation="relu"), L.PointwiseConv2D(3), L.Flatten(),
                                L.Dense(4, activation="linear"), L.Softmax()], input_shape=(5, 5, 1))
    randomize(m)
    return m


def since_fixture():
    with fresh_names():
        x = minifer.Input((5, 6, 2))
        y = L.UpSampling2D((2, 1), interpolation="bilinear")(x)
        y = L.UpSampling2D(2)(y)
        y = L.Conv2D(4, 3, padding="same", dilation_rate=(2, 1), groups=2)(y)
        y = L.DepthwiseConv2D(3, dilation_rate=2, depth_multiplier=2)(y)
        y = L.SeparableConv2D(3, 2, dilation_rate=(1, 2), activation="hard_sigmoid")(y)
        y = L.Activation("hard_silu")(y)
        gate = L.Reshape((1, 1, 3))(L.Dense(3)(L.GlobalAveragePooling2D()(y)))
        y = L.Subtract()([L.Multiply()([y, gate]), y])
        y = L.Permute((2, 1, 3))(y)
        m = minifer.Model(x, y)
    randomize(m)
    return m


def example_input(model, seed=0):
    """A float32 batch of 2 for ``model``'s one input."""
    return np.random.default_rng(seed).uniform(-1, 1, (2, *model.input_shape[1:])).astype(np.float32)


def randomize(model, seed=0):
    """Move every weight off its initial value (BatchNorm's statistics included) so a mix-up would show."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        data = rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
        if w.name.endswith("moving_variance"):
            data = np.abs(data) + 0.5
        w.assign(data)
