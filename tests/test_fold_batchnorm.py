"""model.fold_batchnorm(): the same predictions (float32 tolerance) with fewer layers."""
import numpy
import pytest

import minifer
from minifer import layers as L
from models_under_test import with_statistics


def batchnorms(model):
    return sum(isinstance(layer, L.BatchNormalization) for layer in model.layers)


@pytest.mark.parametrize("build, folded_away", [(minifer.models.arch1, 12), (minifer.models.arch3, 11),
                                                (minifer.models.mini_xception, 14)])
def test_folded_networks_predict_the_same(build, folded_away):
    model = with_statistics(build(), seed=1)
    x = numpy.random.default_rng(2).integers(0, 256, (3, *model.input_shape[1:]), dtype=numpy.uint8)
    folded = model.fold_batchnorm()
    assert batchnorms(model) - batchnorms(folded) == folded_away
    assert folded.count_params() < model.count_params()
    numpy.testing.assert_allclose(folded(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-6)


def test_depthwise_and_dense_fold_and_a_shared_output_stays():
    inputs = minifer.Input((6, 6, 2))
    d = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False)(inputs)
    d = L.BatchNormalization()(d)
    c = L.Conv2D(3, 3, padding="same")(d)
    kept = L.BatchNormalization()(c)  # c is also read by Add: this one must stay
    h = L.Add()([kept, c])
    h = L.Dense(4)(L.Flatten()(h))
    out = L.Softmax()(L.BatchNormalization()(h))
    model = with_statistics(minifer.Model(inputs, out), seed=3)
    folded = model.fold_batchnorm()
    assert batchnorms(folded) == 1
    x = numpy.random.default_rng(4).random((5, 6, 6, 2)).astype(numpy.float32)
    numpy.testing.assert_allclose(folded(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-6)


def test_a_sequential_folds_too():
    """Regression: a Sequential's config listed no input layer, so folding raised a KeyError."""
    with L.fresh_names():
        model = minifer.Sequential([L.Conv2D(3, 3, use_bias=False), L.BatchNormalization(), L.ReLU(), L.Flatten(),
                                    L.Dense(2), L.BatchNormalization()], input_shape=(5, 5, 2))
    model = with_statistics(model, seed=3)
    x = numpy.random.default_rng(4).standard_normal((3, 5, 5, 2)).astype(numpy.float32)
    folded = model.fold_batchnorm()
    assert batchnorms(folded) == 0
    numpy.testing.assert_allclose(folded(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-6)
