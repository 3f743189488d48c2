"""Whole networks nobody here wrote: the onnx package's bundled "light" models (the ONNX model zoo's
SqueezeNet, ResNet-50, ShuffleNet, DenseNet-121, Inception v1 and v2, VGG-19, AlexNet, ZFNet-512,
as Caffe2 exported them, opset 9) with their weights, which the package leaves out, drawn from a
seeded generator. minifer loads each and predicts what onnxruntime computes, within 1e-4 of the
largest output, for the class scores and for the logits before the final softmax (random weights
can make a softmax one-hot, which would hide a difference). The three largest run with ``-m slow``.
"""
import pathlib

import numpy
import pytest

from onnx_oracle import onnx, session
import minifer  # noqa: E402

LIGHT = pathlib.Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
MODELS = ["squeezenet", "resnet50", "shufflenet", "densenet121", "inception_v1", "inception_v2",
          pytest.param("vgg19", marks=pytest.mark.slow), pytest.param("bvlc_alexnet", marks=pytest.mark.slow),
          pytest.param("zfnet512", marks=pytest.mark.slow)]


def with_random_weights(name, seed=0):
    """The light model with each ConstantOfShape-made weight replaced by seeded random values (scaled by
    fan-in; BatchNorm variances positive), and the final softmax's input as a second output."""
    model = onnx.load(str(LIGHT / f"light_{name}.onnx"))
    rng = numpy.random.default_rng(seed)
    shapes = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    weights, nodes = [], []
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = shapes[node.input[0]]
            variance = any(key in node.output[0] for key in ("_rv", "_riv", "var"))
            values = rng.uniform(0.5, 1.5, shape).astype(numpy.float32) if variance else \
                rng.standard_normal(shape, numpy.float32) / numpy.float32(numpy.sqrt(max(numpy.prod(shape[1:]), 1)))
            weights.append(onnx.numpy_helper.from_array(values, node.output[0]))
        else:
            nodes.append(node)
    used = {name for node in nodes for name in node.input}
    kept = [t for t in model.graph.initializer if t.name in used] + weights
    data = [v for v in model.graph.input if v.name not in shapes and v.name not in {w.name for w in weights}]
    softmax = [n for n in nodes if n.op_type == "Softmax"]
    outputs = list(model.graph.output) + [onnx.helper.make_tensor_value_info(softmax[-1].input[0],
                                                                            onnx.TensorProto.FLOAT, None)
                                          for _ in softmax[-1:]]
    graph = onnx.helper.make_graph(nodes, name, data, outputs, kept)
    return onnx.helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)


@pytest.mark.parametrize("name", MODELS)
def test_light_model_with_random_weights_matches_onnxruntime(tmp_path, name):
    path = tmp_path / f"{name}.onnx"
    onnx.save(with_random_weights(name), str(path))
    model = minifer.load(path)
    oracle = session(path)
    entry = oracle.get_inputs()[0]
    x = numpy.random.default_rng(1).standard_normal(entry.shape).astype(numpy.float32)
    expected = oracle.run(None, {entry.name: x})
    got = model.predict(x, verbose=0)
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        assert mine.shape == theirs.shape
        numpy.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-4 * float(numpy.abs(theirs).max()))
