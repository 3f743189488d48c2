"""Keras files without TensorFlow: minifer's writer and reader on each other, on files Keras 3
wrote (tests/data/keras3_written.npz), and on Keras 2 layouts written here with h5py."""
import json
import pathlib

import numpy
import pytest

h5py = pytest.importorskip("h5py")

import keras_models  # noqa: E402
from keras2_files import keras2_entry, sequential_weights, write_keras2  # noqa: E402
import minifer  # noqa: E402
from minifer import layers as L  # noqa: E402
from minifer.layers import fresh_names  # noqa: E402

NEW_LAYERS = {"InputLayer", "AveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "Reshape", "Concatenate",
              "LeakyReLU", "PReLU", "ELU", "SpatialDropout2D", "Rescaling"}
NEW_ACTIVATIONS = {"sigmoid", "tanh", "elu", "selu", "softplus", "swish", "gelu", "linear"}
MAKERS = {"functional": keras_models.functional, "sequential": keras_models.sequential,
          "since_fixture": keras_models.since_fixture}
KERAS_RAN = ("functional", "sequential")  # the models whose files Keras 3 read (tests/data/keras3_written.npz)


def fixture():
    return numpy.load(pathlib.Path(__file__).parent / "data" / "keras3_written.npz")


def layers_of(model):
    return list(model.layers) + ([model.inputs[0].layer] if isinstance(model, minifer.Sequential) else [])


def test_the_round_trip_models_hold_every_layer_type_and_activation():
    models = [make() for make in MAKERS.values()]
    classes = {type(layer).__name__ for m in models for layer in layers_of(m)}
    activations = {getattr(layer, "activation", None) for m in models for layer in m.layers}
    assert NEW_LAYERS <= classes and NEW_ACTIVATIONS <= activations
    minifers = {name for name in L.__all__ if isinstance(getattr(L, name), type)
                and issubclass(getattr(L, name), L.Layer) and name != "Layer"}
    assert minifers - KERAS_LACKS <= classes  # every layer minifer has that Keras has too


KERAS_LACKS = {"Padding2D", "LocalResponseNormalization", "Scale",  # ONNX's layers (issue 26)
               "CropLike"}  # RetinaFace's feature pyramid (issue 22)


@pytest.mark.parametrize("make", [lambda: L.Padding2D(1, "reflect"), lambda: L.LocalResponseNormalization(3),
                                  lambda: L.Scale((2,)), lambda: L.CropLike()])
def test_a_layer_keras_lacks_is_refused_when_writing_a_keras_file(tmp_path, make):
    layer = make()
    assert type(layer).__name__ in KERAS_LACKS
    x = minifer.Input((4, 4, 2))
    model = minifer.Model(x, layer([L.UpSampling2D(2)(x), x] if isinstance(layer, L.CropLike) else x))
    with pytest.raises(ValueError, match=f"{type(layer).__name__} layer '{layer.name}' has no Keras counterpart"):
        minifer.save(model, tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("extension", [".h5", ".keras"])
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_minifer_writes_keras_files_and_reads_them_back_exactly(tmp_path, kind, extension):
    model = MAKERS[kind]()
    x = fixture()[f"{kind}_input"] if kind in KERAS_RAN else keras_models.example_input(model)
    path = minifer.save(model, tmp_path / f"model{extension}")
    back = minifer.load(path)
    assert type(back) is type(model)
    assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]
    assert [type(layer).__name__ for layer in back.layers] == [
        type(layer).__name__.replace("PointwiseConv2D", "Conv2D") for layer in model.layers]
    for mine, theirs in zip(model.weights, back.weights):
        numpy.testing.assert_array_equal(mine.data, theirs.data)
    numpy.testing.assert_array_equal(back.predict(x), model.predict(x))


@pytest.mark.parametrize("kind", KERAS_RAN)
def test_a_file_minifer_writes_predicts_what_keras_predicted_from_one(kind, tmp_path):
    """Keras 3.15.1 loaded minifer's .keras file of this model once and stored its outputs; the file
    written today, read back, must predict the same. (Whether Keras still reads today's file needs
    Keras: this catches a writer that loses or changes what the model computes.)"""
    data = fixture()
    model = minifer.load(minifer.save(MAKERS[kind](), tmp_path / "model.keras"))
    numpy.testing.assert_allclose(model.predict(data[f"{kind}_input"]), data[f"{kind}_keras_output"],
                                  rtol=0, atol=1e-6)


@pytest.mark.parametrize("extension", ["keras", "h5"])
@pytest.mark.parametrize("kind", KERAS_RAN)
def test_files_keras_3_wrote_load_and_predict_as_keras_did(tmp_path, kind, extension):
    data = fixture()
    path = tmp_path / f"keras_wrote.{extension}"
    path.write_bytes(data[f"{kind}_{extension}_file"].tobytes())
    model = minifer.load(path)
    numpy.testing.assert_allclose(model.predict(data[f"{kind}_input"]), data[f"{kind}_keras_output"],
                                  rtol=0, atol=1e-6)


def test_the_h5_file_follows_keras_2s_layout(tmp_path):
    model = keras_models.functional()
    path = minifer.save(model, tmp_path / "m.h5")
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Functional"
        first = config["config"]["layers"][0]
        assert first["class_name"] == "InputLayer" and first["config"]["batch_input_shape"] == [None, 8, 8, 3]
        add = next(e for e in config["config"]["layers"] if e["class_name"] == "Add")
        assert all(len(ref) == 4 for ref in add["inbound_nodes"][0])  # [layer, node, tensor, kwargs]
        group = f["model_weights"]
        conv = group["conv2d"]
        names = [n.decode() for n in conv.attrs["weight_names"]]
        assert names == ["conv2d/kernel", "conv2d/bias"]
        numpy.testing.assert_array_equal(conv[names[0]][()], model.get_layer("conv2d").kernel.data)


# -- Keras 2 files as older Keras wrote them: bytes strings, Keras 2 names -------------------

def old_sequential_config():
    """Keras 2.0's Sequential: a bare list of layers, the first carrying batch_input_shape."""
    conv = {"filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
            "dilation_rate": [1, 1], "activation": "relu", "use_bias": True, "batch_input_shape": [None, 5, 5, 1],
            "dtype": "float32", "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0}},
            "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}},
            "kernel_constraint": None, "bias_constraint": None, "activity_regularizer": None}
    layers = [keras2_entry("Conv2D", "conv2d_1", conv),
              keras2_entry("LeakyReLU", "leaky_re_lu_1", {"alpha": 0.1}),
              keras2_entry("Flatten", "flatten_1", {}),
              keras2_entry("Dense", "dense_1", {"units": 3, "activation": "softmax", "use_bias": True})]
    return {"class_name": "Sequential", "config": [{k: v for k, v in e.items()} for e in layers]}


def same_model_in_minifer(weights):
    with fresh_names():
        model = minifer.Sequential([L.Conv2D(2, 3, activation="relu"), L.LeakyReLU(0.1), L.Flatten(),
                                    L.Dense(3, activation="softmax")], input_shape=(5, 5, 1))
    for layer, (_, arrays) in zip([model.layers[0], model.layers[3]], weights):
        layer.set_weights([a for _, a in arrays])
    return model


def test_an_old_keras_2_sequential_file_with_bytes_strings_loads(tmp_path):
    weights = sequential_weights()
    write_keras2(tmp_path / "old.h5", old_sequential_config(), weights)
    model = minifer.load(tmp_path / "old.h5")
    assert [type(layer).__name__ for layer in model.layers] == ["Conv2D", "LeakyReLU", "Flatten", "Dense"]
    assert model.layers[1].negative_slope == 0.1 and model.layers[0].kernel_regularizer.l2 == 0.01
    x = numpy.random.default_rng(0).standard_normal((4, 5, 5, 1)).astype("float32")
    numpy.testing.assert_allclose(model.predict(x), same_model_in_minifer(weights).predict(x), rtol=1e-6)


def test_a_keras_2_functional_file_with_a_residual_add_loads(tmp_path):
    rng = numpy.random.default_rng(1)
    kernel = rng.standard_normal((1, 1, 2, 2)).astype("float32")
    layers = [keras2_entry("InputLayer", "input_1", {"batch_input_shape": [None, 3, 3, 2], "dtype": "float32",
                                                     "sparse": False}, inbound=[]),
              keras2_entry("Conv2D", "conv", {"filters": 2, "kernel_size": [1, 1], "use_bias": False,
                                              "activation": "linear"}, inbound=["input_1"]),
              keras2_entry("Add", "add_1", {}, inbound=["conv", "input_1"]),
              keras2_entry("Activation", "act", {"activation": "sigmoid"}, inbound=["add_1"])]
    config = {"class_name": "Model", "config": {"name": "m", "layers": layers, "input_layers": [["input_1", 0, 0]],
                                                "output_layers": [["act", 0, 0]]}}
    write_keras2(tmp_path / "f.h5", config, [("conv", [("kernel", kernel)])])
    model = minifer.load(tmp_path / "f.h5")
    x = rng.standard_normal((2, 3, 3, 2)).astype("float32")
    expected = 1 / (1 + numpy.exp(-(x @ kernel[0, 0] + x)))
    numpy.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)


def test_a_keras_file_with_dilated_and_grouped_convolutions_loads(tmp_path):
    """Keras's dilation_rate and groups were refused before minifer had them; now they are computed."""
    rng = numpy.random.default_rng(2)
    kernel = rng.standard_normal((3, 3, 2, 4)).astype("float32")
    layers = [keras2_entry("InputLayer", "input_1", {"batch_input_shape": [None, 7, 7, 4], "dtype": "float32"},
                           inbound=[]),
              keras2_entry("Conv2D", "conv", {"filters": 4, "kernel_size": [3, 3], "use_bias": False, "groups": 2,
                                              "dilation_rate": [2, 2], "activation": "linear", "padding": "valid"},
                           inbound=["input_1"])]
    config = {"class_name": "Model", "config": {"name": "m", "layers": layers, "input_layers": [["input_1", 0, 0]],
                                                "output_layers": [["conv", 0, 0]]}}
    write_keras2(tmp_path / "d.h5", config, [("conv", [("kernel", kernel)])])
    conv = minifer.load(tmp_path / "d.h5").get_layer("conv")
    assert conv.groups == 2 and conv.dilation_rate == (2, 2)
    numpy.testing.assert_array_equal(conv.kernel.numpy(), kernel)


def test_keras_2_weights_only_file_loads_by_layer_order(tmp_path):
    weights = sequential_weights(seed=7)
    renamed = [(f"keras_{name}", arrays) for name, arrays in weights]  # names need not match: order does
    write_keras2(tmp_path / "w.h5", None, renamed, full=False)
    model = same_model_in_minifer(sequential_weights(seed=8))
    model.load_weights(tmp_path / "w.h5")
    x = numpy.ones((1, 5, 5, 1), "float32")
    numpy.testing.assert_allclose(model.predict(x), same_model_in_minifer(weights).predict(x), rtol=1e-6)


def test_minifer_model_files_carry_metadata_and_old_files_still_load(tmp_path):
    model = keras_models.sequential()
    old = minifer.load(minifer.save(model, tmp_path / "old.npz"))
    assert old.metadata == {}
    model.metadata = {"class_names": ["a", "b", "c", "d"], "input_range": [0, 1]}
    back = minifer.load(minifer.save(model, tmp_path / "new.npz"))
    assert back.metadata == model.metadata


def test_load_opens_the_path_it_is_given(tmp_path):
    model = keras_models.sequential()
    minifer.save(model, tmp_path / "model.npz")
    (tmp_path / "model.npz").rename(tmp_path / "model.bin")  # any name: the content decides
    assert isinstance(minifer.load(tmp_path / "model.bin"), minifer.Sequential)
    minifer.save(model, tmp_path / "k.h5")
    (tmp_path / "k.h5").rename(tmp_path / "k.weird")
    assert isinstance(minifer.load(tmp_path / "k.weird"), minifer.Sequential)


def test_keras_3_weights_file_loads_by_keras_3s_per_class_keys(tmp_path):
    """Keras 3's save_weights("w.weights.h5"): layers/<class in snake case, numbered>/vars/<i>."""
    source = keras_models.sequential()
    keys = ["conv2d", "conv2d_1", "flatten", "dense", "softmax"]  # the PointwiseConv2D is Keras's second Conv2D
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:
        f.create_group("vars")
        for layer, key in zip(source.layers, keys):
            group = f.create_group(f"layers/{key}/vars")
            for i, w in enumerate(layer.weights):
                group.create_dataset(str(i), data=w.data)
    model = keras_models.sequential()
    keras_models.randomize(model, seed=5)
    model.load_weights(tmp_path / "w.weights.h5")
    for mine, theirs in zip(model.weights, source.weights):
        numpy.testing.assert_array_equal(mine.data, theirs.data)


def test_save_weights_to_h5_writes_keras_2s_weights_only_layout(tmp_path):
    """Keras 3.15's load_weights read this layout from minifer once and predicted within 6e-8."""
    source = keras_models.functional()
    path = source.save_weights(tmp_path / "w.h5")
    with h5py.File(path, "r") as f:
        assert "model_config" not in f.attrs and "layer_names" in f.attrs
        assert [n.decode() for n in f.attrs["layer_names"]] == [layer.name for layer in source.layers]
    model = keras_models.functional()
    keras_models.randomize(model, seed=4)
    model.load_weights(path)
    for mine, theirs in zip(model.weights, source.weights):
        numpy.testing.assert_array_equal(mine.data, theirs.data)


@pytest.mark.parametrize("extension", ["h5", "keras"])
def test_an_inputs_pixel_range_travels_as_a_rescaling_layer(tmp_path, extension):
    """Keras spells pixel scaling as a Rescaling layer: written after the input, the loaded model maps
    uint8 faces as minifer's did (it had no such layer, so they went in as 0-255)."""
    model = minifer.models.arch1()
    faces = minifer.data.synthetic_faces(4, seed=1)[0]
    loaded = minifer.load(minifer.save(model, tmp_path / f"m.{extension}"))
    assert any(isinstance(layer, L.Rescaling) for layer in loaded.layers)
    numpy.testing.assert_allclose(loaded.predict(faces, verbose=0), model.predict(faces, verbose=0), atol=1e-6)
    stack = minifer.Sequential([L.Flatten(), L.Dense(3)], input_shape=(4, 4, 1), pixel_range=(-1, 1))
    pixels = numpy.random.default_rng(0).integers(0, 256, (2, 4, 4, 1)).astype(numpy.uint8)
    again = minifer.load(minifer.save(stack, tmp_path / f"s.{extension}"))
    numpy.testing.assert_allclose(again.predict(pixels, verbose=0), stack.predict(pixels, verbose=0), atol=1e-5)
