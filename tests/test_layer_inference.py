"""Every layer class, built with arguments other than its defaults, predicts (its inference step,
folded where it absorbs the BatchNormalization after it) exactly what its own call computes.

A new layer class fails ``test_every_layer_class_is_covered`` until it has a case in
``layer_cases.py``, so no argument can be honoured by the layer's call and ignored by ``predict``."""
import numpy
import pytest

from layer_cases import CASE_IDS, CASES, SHAPE, case_model, layer_classes


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
