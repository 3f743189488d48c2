"""Every layer class, built with arguments other than its defaults, predicts (its inference step,
folded where it absorbs the BatchNormalization after it) exactly what its own call computes.

A new layer class fails ``test_every_layer_class_is_covered`` until it has a case in
``layer_cases.py``, so no argument can be honoured by the layer's call and ignored by ``predict``."""
import numpy
import pytest

import minifer
from layer_cases import CASE_IDS, CASES, SHAPE, case_model, layer_classes, randomised
from minifer import layers as L


def test_every_layer_class_is_covered():
    assert layer_classes() - set(CASES) == set()


@pytest.mark.parametrize("name, index", CASE_IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_equals_the_layers_own_call(name, index, dtype):
    model = case_model(name, index, dtype)
    images = numpy.random.default_rng(1).standard_normal((5, *SHAPE)).astype(dtype)
    expected = model(images).numpy()  # the layers' own calls, in inference
    got = model.predict(images, verbose=0)
    assert got.dtype == dtype and got.shape == expected.shape
    tolerance = 2e-5 if dtype == "float32" else 1e-11
    numpy.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_a_subclass_that_changes_call_predicts_and_folds_by_its_own_call():
    """A user's ``class Doubled(Dense)`` inherits Dense's fast step and fold rule, written for Dense's
    call: predict and fold_batchnorm use its own call instead (they gave the parent's layer)."""
    class Doubled(L.Dense):
        def call(self, x, training=False):
            return super().call(x) * 2

    with L.fresh_names():
        x = minifer.Input((5,))
        model = randomised(minifer.Model(x, L.BatchNormalization()(Doubled(3)(x))), seed=4)
    data = numpy.random.default_rng(0).standard_normal((6, 5)).astype("float32")
    expected = model(data).numpy()
    numpy.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(model.fold_batchnorm()(data).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_zero_padding_pads_zeros_only():
    """A mode or value would be dropped by its Keras config on saving: refused where given."""
    with pytest.raises(TypeError):
        L.ZeroPadding2D(1, mode="reflect")
