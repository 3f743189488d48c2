"""ONNX files read into minifer (``minifer.load("m.onnx")``): what minifer writes comes back computing
the same, the result is an ordinary model (summary, fit, saving), and what cannot be honoured is
refused naming the node, operator and attribute, with nothing half-built."""
import numpy
import pytest

from onnx_oracle import feeds_for, onnx, run
import minifer  # noqa: E402
from minifer import layers as L  # noqa: E402
from minifer.io.onnx_context import OnnxImportError  # noqa: E402
from layer_cases import CASE_IDS, case_model  # noqa: E402

helper = onnx.helper
# what minifer writes but cannot read back: opset 17 has no GELU (it is written through Erf), a
# thresholded ReLU is written with Greater and Where, wrapping and CropLike are written with Slice
WRITTEN_NOT_READ = {("Dense", 1): "Erf", ("ReLU", 2): "Greater", ("ReLU", 3): "Greater", ("Padding2D", 2): "Slice",
                    ("CropLike", 0): "Slice", ("CropLike", 1): "Slice"}


@pytest.mark.parametrize("name, index", CASE_IDS)
def test_what_minifer_writes_it_reads_back_computing_the_same(tmp_path, name, index):
    model = case_model(name, index)
    path = minifer.save(model, tmp_path / "m.onnx")
    if (name, index) in WRITTEN_NOT_READ:
        with pytest.raises(OnnxImportError, match=f"\\({WRITTEN_NOT_READ[name, index]}\\)"):
            minifer.load(path)
        return
    back = minifer.load(path)
    x = feeds_for(model, 5)["input_1"]
    numpy.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    if not any(isinstance(layer, L.Permute) for layer in model.layers):
        # the door's Transpose and the convolutions' NHWC order cancel: no Permute is added
        assert not any(isinstance(layer, L.Permute) for layer in back.layers)


@pytest.mark.parametrize("name, index", [("Dense", 1), ("Padding2D", 2)])
def test_gelu_and_wrapping_read_back_from_a_later_opset(tmp_path, name, index):
    """Opset 20 has a GELU operator and 19 Pad's "wrap": written so, minifer reads them back."""
    model = case_model(name, index)
    back = minifer.load(minifer.save(model, tmp_path / "m.onnx", opset=20))
    x = feeds_for(model, 5)["input_1"]
    numpy.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    numpy.testing.assert_allclose(run(tmp_path / "m.onnx", {"input_1": x})[0], model.predict(x, verbose=0),
                                  rtol=1e-5, atol=1e-5)


def image_model():
    """A small CNN written by onnx's helper in ONNX's own layout: NCHW in, NCHW and (N, 3) out."""
    rng = numpy.random.default_rng(0)
    weights = {"w": rng.standard_normal((4, 2, 3, 3)), "b": rng.standard_normal(4), "s": rng.uniform(0.5, 1.5, 4),
               "z": rng.standard_normal(4), "m": rng.standard_normal(4), "v": rng.uniform(0.5, 1.5, 4),
               "fc": rng.standard_normal((4, 3)), "fb": rng.standard_normal(3)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("BatchNormalization", ["c", "s", "z", "m", "v"], ["n"], name="bn"),
             helper.make_node("Relu", ["n"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER",
                              name="pool"),
             helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fc", "fb"], ["y"], name="fc")]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                                             ["N", 2, 9, 8])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 3]),
                               helper.make_tensor_value_info("p", onnx.TensorProto.FLOAT, ["N", 4, 5, 4])],
                              [onnx.numpy_helper.from_array(a.astype(numpy.float32), k) for k, a in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_an_imported_model_is_an_ordinary_minifer_model(tmp_path):
    """Arrays as onnxruntime takes them (NCHW, whole-number floats not refused as pixels); summary,
    fit, and saving to minifer's and Keras's formats."""
    path = tmp_path / "small.onnx"
    onnx.save(image_model(), str(path))
    model = minifer.load(path)
    x = numpy.random.default_rng(1).integers(0, 255, (6, 2, 9, 8)).astype(numpy.float32)  # 0-255, as they are
    expected = run(path, {"x": x})
    for mine, theirs in zip(model.predict(x, verbose=0), expected):
        numpy.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-3)
    assert model.input_shape == (None, 2, 9, 8) and model.output_shape == [(None, 3), (None, 4, 5, 4)]
    assert "Conv2D" in model.summary(print_fn=lambda line: None)
    for saved in ("m.npz", "m.keras"):
        back = minifer.load(minifer.save(model, tmp_path / saved))
        numpy.testing.assert_array_equal(back.predict(x, verbose=0)[0], model.predict(x, verbose=0)[0])
    head = minifer.Model(model.input, model.outputs[0])  # the classifier, sharing the imported layers
    head.compile("adam", loss="mse")
    target = numpy.zeros((6, 3), numpy.float32)
    before = head.evaluate(x / 255, target, verbose=0)
    head.fit(x / 255, target, epochs=5, verbose=0)
    assert head.evaluate(x / 255, target, verbose=0) < before


def graph_of(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def tensor(name, shape, kind=onnx.TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, kind, shape)


def refused(tmp_path, model, pattern):
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path)) if not isinstance(model, bytes) else path.write_bytes(model)
    with L.fresh_names():
        with pytest.raises(OnnxImportError, match=pattern) as caught:
            minifer.load(path)
        assert L.Dense(1).name == "dense"  # nothing half-built took a layer name
    assert str(path) in str(caught.value)


def test_an_operator_minifer_lacks_is_refused_naming_node_and_operator(tmp_path):
    model = graph_of([helper.make_node("Relu", ["x"], ["r"], name="first"),
                      helper.make_node("Cos", ["r"], ["y"], name="cosine")],
                     [tensor("x", ["N", 4])], [tensor("y", ["N", 4])])
    refused(tmp_path, model, r"node 'cosine' \(Cos\) is an operator minifer does not map")


def test_an_attribute_minifer_cannot_honour_is_refused_naming_it(tmp_path):
    w = onnx.numpy_helper.from_array(numpy.ones((2, 2, 3, 3), numpy.float32), "w")
    model = graph_of([helper.make_node("Conv", ["x", "w"], ["y"], name="c", auto_pad="SAME_LOWER")],
                     [tensor("x", ["N", 2, None, None])], [tensor("y", ["N", 2, None, None])], [w])
    refused(tmp_path, model, r"node 'c' \(Conv\) attribute 'auto_pad' is SAME_LOWER on an input of unknown size")
    model = graph_of([helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[2, 2], dilations=[2, 2])],
                     [tensor("x", ["N", 2, 6, 6])], [tensor("y", ["N", 2, 4, 4])])
    refused(tmp_path, model, r"node 'p' \(MaxPool\) attribute 'dilations' is \[2, 2\]")
    model = graph_of([helper.make_node("Relu", ["x"], ["y"], name="r", unheard_of=3)],
                     [tensor("x", ["N", 2])], [tensor("y", ["N", 2])])
    refused(tmp_path, model, r"node 'r' \(Relu\) attribute 'unheard_of' is not an attribute minifer knows")


def test_weights_their_node_contradicts_are_refused(tmp_path):
    w = onnx.numpy_helper.from_array(numpy.ones((4, 2, 3, 3), numpy.float32), "w")
    b = onnx.numpy_helper.from_array(numpy.ones(3, numpy.float32), "b")  # 3 biases for 4 filters
    model = graph_of([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="c")], [tensor("x", ["N", 2, 5, 5])],
                     [tensor("y", ["N", 4, 3, 3])], [w, b])
    refused(tmp_path, model, r"weights do not fit the layers they map onto: Conv2D 'c'")


def test_a_custom_domain_and_a_constant_output_are_refused(tmp_path):
    model = graph_of([helper.make_node("Gelu", ["x"], ["y"], name="ms", domain="com.microsoft")],
                     [tensor("x", ["N", 2])], [tensor("y", ["N", 2])])
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    refused(tmp_path, model, r"node 'ms' \(Gelu\) is in operator domain 'com.microsoft'")
    model = graph_of([helper.make_node("Shape", ["x"], ["y"], name="s")], [tensor("x", ["N", 2])],
                     [tensor("y", [2], onnx.TensorProto.INT64)])
    refused(tmp_path, model, r"graph output 'y' does not depend on the model's inputs")


def test_a_file_older_than_opset_7_is_refused_saying_so(tmp_path):
    model = graph_of([helper.make_node("Relu", ["x"], ["y"])], [tensor("x", ["N", 2])], [tensor("y", ["N", 2])],
                     opset=6)
    refused(tmp_path, model, "uses ONNX opset 6; minifer reads opset 7 and later")


def test_the_batch_size_travels_through_shape_arithmetic_into_a_reshape(tmp_path):
    """RetinaFace's heads: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1], [2])), any batch."""
    ints = lambda name, values: onnx.numpy_helper.from_array(numpy.asarray(values, numpy.int64), name)  # noqa: E731
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1", "two"], ["target"], axis=0),
             helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
             helper.make_node("Reshape", ["t", "target"], ["y"])]
    model = graph_of(nodes, [tensor("x", ["N", 4, 3, 5])], [tensor("y", ["N", None, 2])],
                     [ints("zero", 0), ints("axes", [0]), ints("minus1", [-1]), ints("two", [2])])
    path = tmp_path / "heads.onnx"
    onnx.save(model, str(path))
    loaded = minifer.load(path)
    for batch in (1, 3):
        x = numpy.random.default_rng(batch).standard_normal((batch, 4, 3, 5)).astype(numpy.float32)
        numpy.testing.assert_array_equal(loaded.predict(x, verbose=0), run(path, {"x": x})[0])
    arithmetic = graph_of(nodes[:2] + [helper.make_node("Mul", ["n", "two"], ["y"], name="twice")],
                          [tensor("x", ["N", 4])], [tensor("y", [1], onnx.TensorProto.INT64)],
                          [ints("zero", 0), ints("two", [2])])
    refused(tmp_path, arithmetic, r"node 'twice' \(Mul\) computes with the batch size")
