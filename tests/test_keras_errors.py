"""Every way a Keras file can be wrong gives an error that names the file and what is wrong."""
import json
import sys

import numpy
import pytest

h5py = pytest.importorskip("h5py")

import keras_models  # noqa: E402
import minifer  # noqa: E402
from minifer.io.keras_config import KerasFormatError  # noqa: E402
from keras2_files import keras2_entry, sequential_weights, write_keras2  # noqa: E402


def model_with(tmp_path, entry):
    layers = [keras2_entry("InputLayer", "input_1", {"batch_input_shape": [None, 4], "dtype": "float32"}, inbound=[]),
              {**entry, "inbound_nodes": [[["input_1", 0, 0, {}]]]}]
    config = {"class_name": "Model", "config": {"name": "m", "layers": layers, "input_layers": [["input_1", 0, 0]],
                                                "output_layers": [[entry["name"], 0, 0]]}}
    path = tmp_path / "model.h5"
    write_keras2(path, config, [])
    return path


def test_an_unknown_layer_class_names_the_class_the_layer_and_the_file(tmp_path):
    path = model_with(tmp_path, keras2_entry("Conv3D", "my_conv", {"filters": 2}))
    with pytest.raises(KerasFormatError, match=r"model\.h5.*'my_conv'.*'Conv3D'"):
        minifer.load(path)


def test_a_lambda_layer_is_refused_and_its_code_never_runs(tmp_path):
    path = model_with(tmp_path, keras2_entry("Lambda", "sneaky", {"function": ["4wEAAAAAAAAA", None, None],
                                                                   "function_type": "lambda"}))
    with pytest.raises(KerasFormatError, match=r"model\.h5.*'sneaky'.*Lambda.*never runs code"):
        minifer.load(path)


def test_an_argument_minifer_does_not_implement_is_refused_not_dropped(tmp_path):
    path = model_with(tmp_path, keras2_entry("Dense", "odd", {"units": 2, "data_format": "channels_first"}))
    with pytest.raises(KerasFormatError, match=r"model\.h5.*'odd'.*data_format='channels_first'"):
        minifer.load(path)


def test_a_capped_relu_loads_and_computes_as_keras_does(tmp_path):
    """Keras's ReLU(max_value=6, negative_slope=0.1, threshold=0.5): refused before, computed now."""
    path = model_with(tmp_path, keras2_entry("ReLU", "capped", {"max_value": 6.0, "negative_slope": 0.1,
                                                               "threshold": 0.5}))
    x = numpy.array([[-2.0, 0.4, 3.0, 9.0]], dtype="float32")
    expected = [[-0.25, -0.01, 3.0, 6.0]]  # 0.1 * (x - 0.5) below the threshold, x above it, 6 at most
    numpy.testing.assert_allclose(minifer.load(path).predict(x, verbose=0), expected, rtol=1e-6)


def test_a_truncated_hdf5_file(tmp_path):
    path = minifer.save(keras_models.functional(), tmp_path / "cut.h5")
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])
    with pytest.raises(KerasFormatError, match=r"cut\.h5.*(truncated|cannot read)"):
        minifer.load(path)


@pytest.mark.parametrize("name", ["notes.h5", "notes.keras", "notes.bin"])
def test_a_file_that_is_not_hdf5(tmp_path, name):
    path = tmp_path / name
    path.write_text("this is not a model\n")
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        minifer.load(path)


def test_a_weights_only_file_given_to_load(tmp_path):
    write_keras2(tmp_path / "weights.h5", None, sequential_weights(), full=False)
    with pytest.raises(KerasFormatError, match=r"weights\.h5.*no model_config.*weights-only.*load_weights"):
        minifer.load(tmp_path / "weights.h5")


def test_weights_for_a_different_graph_name_the_layers_and_shapes(tmp_path):
    write_keras2(tmp_path / "weights.h5", None, sequential_weights(), full=False)
    model = keras_models.functional()
    before = [w.data.copy() for w in model.weights]
    with pytest.raises(KerasFormatError, match=r"(?s)weights\.h5.*different graph.*conv2d_1 \[\(3, 3, 1, 2\), "
                                               r"\(2,\)\].*model:.*conv2d \[\(3, 3, 3, 4\), \(4,\)\]"):
        model.load_weights(tmp_path / "weights.h5")
    assert all(numpy.array_equal(b, w.data) for b, w in zip(before, model.weights))  # nothing changed


def test_weights_of_the_wrong_shape_in_a_full_model_file(tmp_path):
    path = minifer.save(keras_models.sequential(), tmp_path / "m.h5")
    with h5py.File(path, "r+") as f:
        group = f["model_weights/dense"]
        del group["dense/bias"]
        group.create_dataset("dense/bias", data=numpy.zeros(7, "float32"))
    with pytest.raises(KerasFormatError, match=r"m\.h5.*layer 'dense'.*\(4,\).*\(7,\)"):
        minifer.load(path)


def test_a_missing_h5py_says_how_to_install_it(tmp_path, monkeypatch):
    path = minifer.save(keras_models.sequential(), tmp_path / "m.h5")
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    with pytest.raises(ImportError, match=r"minifer\[keras\]"):
        minifer.load(path)


def test_a_keras_zip_without_weights(tmp_path):
    import zipfile
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": []}}))
    with pytest.raises(KerasFormatError, match=r"m\.keras.*no model\.weights\.h5"):
        minifer.load(tmp_path / "m.keras")


def test_a_small_file_declaring_a_huge_model_is_refused_before_allocating(tmp_path):
    path = model_with(tmp_path, keras2_entry("Dense", "huge", {"units": 10 ** 7}))
    with pytest.raises(KerasFormatError, match=r"model\.h5.*declares more weight values than the file holds"):
        minifer.load(path)


def test_a_model_nested_as_a_layer_is_refused(tmp_path):
    path = model_with(tmp_path, keras2_entry("Sequential", "inner", {"layers": []}))
    with pytest.raises(KerasFormatError, match=r"model\.h5.*'inner' is a whole Sequential model"):
        minifer.load(path)


def test_a_keras_1_file_is_refused_with_what_to_do(tmp_path):
    path = minifer.save(keras_models.sequential(), tmp_path / "old.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["keras_version"] = "1.2.2"
    with pytest.raises(KerasFormatError, match=r"old\.h5.*Keras 1\.2\.2.*Keras 2 first"):
        minifer.load(path)


def test_keras_3_weights_for_a_different_graph(tmp_path):
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", data=numpy.zeros((3, 3), "float32"))
        f.create_dataset("layers/conv3d/vars/0", data=numpy.zeros((2,), "float32"))
    with pytest.raises(KerasFormatError, match=r"w\.weights\.h5.*'conv2d'.*layers/conv2d/vars.*different graph"):
        keras_models.sequential().load_weights(tmp_path / "w.weights.h5")


@pytest.mark.parametrize("pool", [lambda: minifer.layers.MaxPooling2D(3, 2, padding=1),
                                  lambda: minifer.layers.MaxPooling2D(3, 2, ceil_mode=True),
                                  lambda: minifer.layers.AveragePooling2D(3, 2, padding=1, count_include_pad=True)])
@pytest.mark.parametrize("extension", [".h5", ".keras"])
def test_a_pool_keras_cannot_express_is_refused_when_writing_and_no_file_is_left(tmp_path, pool, extension):
    x = minifer.Input((8, 8, 2))
    model = minifer.Model(x, pool()(x))
    with pytest.raises(ValueError, match=r"'(max|average)_pooling2d\w*' has explicit padding, ceil_mode"):
        minifer.save(model, tmp_path / f"m{extension}")
    assert list(tmp_path.iterdir()) == []
