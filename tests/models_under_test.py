"""Small models and data the tests share: quadrant images a small CNN learns in a few steps, and
BatchNormalizations given statistics far from their initial ones."""
import numpy

import minifer
from minifer import layers as L

NUM_CLASSES = 3


def quadrant_data(n, seed):
    """8x8 images whose class is the bright quadrant (0, 1 or 2), with noise: easy but not trivial."""
    rng = numpy.random.default_rng(seed)
    y = rng.integers(0, NUM_CLASSES, n)
    x = rng.integers(0, 90, (n, 8, 8, 1))
    for i, c in enumerate(y):
        r, col = divmod(int(c), 2)
        x[i, r * 4:r * 4 + 4, col * 4:col * 4 + 4] += 120
    return x.astype(numpy.uint8), y


def small_model(seed=0, l2=None, dropout=0.0):
    minifer.random.seed(seed)
    with L.fresh_names():
        inputs = minifer.Input((8, 8, 1), pixel_range=(0, 1))
        h = L.Conv2D(6, 3, padding="same", use_bias=False, kernel_regularizer=l2)(inputs)
        h = L.BatchNormalization()(h)
        h = L.ReLU()(h)
        h = L.MaxPooling2D()(h)
        h = L.Flatten()(h)
        h = L.Dropout(dropout)(h)
        outputs = L.Dense(NUM_CLASSES, activation="softmax")(h)
        model = minifer.Model(inputs, outputs)
    model.compile(minifer.optimizers.Adam(0.01), metrics=["accuracy"])
    return model


def with_statistics(model, seed):
    """Give every BatchNormalization non-trivial gamma, beta and moving statistics."""
    rng = numpy.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, c), rng.normal(0, 0.5, c), rng.normal(0, 0.5, c),
                               rng.uniform(0.5, 2, c)])
    return model
