"""``minifer.io.onnx_read.read_onnx`` against damaged and hostile files: declared sizes are checked
against the bytes present before anything is allocated, external data is read only from the
model's own folder, subgraphs, cycles and dangling values are refused, deep chains load without
recursion, and every error names the file. Also what the face detector (issue 22) reads: arrays
and nodes, no protobuf."""
import os

import numpy
import pytest

from onnx_oracle import onnx
from capped import assert_ok, run_capped  # noqa: E402
from minifer.io.onnx_read import OnnxFormatError, read_onnx  # noqa: E402

helper, TensorProto = onnx.helper, onnx.TensorProto


def model_with(initializers=(), nodes=None, inputs=None, outputs=None):
    nodes = nodes if nodes is not None else [helper.make_node("Add", ["x", initializers[0].name], ["y"], name="add")]
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])]
    outputs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])]
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def saved(model, path):
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def refused(path, pattern):
    with pytest.raises(OnnxFormatError, match=pattern) as caught:
        read_onnx(path)
    assert str(path) in str(caught.value)


def test_the_graph_comes_as_arrays_and_nodes_in_order(tmp_path):
    weight = onnx.numpy_helper.from_array(numpy.arange(2, dtype=numpy.float32), "w")
    nodes = [helper.make_node("Relu", ["a"], ["y"], name="second"), helper.make_node("Add", ["x", "w"], ["a"],
                                                                                     name="first")]
    graph = read_onnx(saved(model_with([weight], nodes), tmp_path / "m.onnx"))
    assert [n.name for n in graph.nodes] == ["first", "second"]  # each after what it reads
    numpy.testing.assert_array_equal(graph.initializers["w"], [0, 1])
    assert graph.inputs[0].shape == (None, 2) and graph.inputs[0].dtype == numpy.float32
    assert graph.opsets == {"": 17} and graph.outputs[0].name == "y"


def test_a_tensor_declaring_more_than_its_bytes_is_refused_before_allocating(tmp_path):
    """40 GB declared, 16 bytes present, in a process capped at 1 GiB."""
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[100000, 100000], raw_data=b"\0" * 16)
    path = saved(model_with([huge]), tmp_path / "huge.onnx")
    result = run_capped(f"""
        from minifer.io.onnx_read import OnnxFormatError, read_onnx
        try:
            read_onnx({str(path)!r})
        except OnnxFormatError as e:
            assert "declares shape (100000, 100000)" in str(e) and "holds 16 bytes" in str(e), e
        else:
            raise SystemExit("read")
    """)
    assert_ok(result)


def test_typed_values_that_disagree_with_the_shape_and_negative_sizes_are_refused(tmp_path):
    short = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 2], float_data=[1.0, 2.0, 3.0])
    refused(saved(model_with([short]), tmp_path / "a.onnx"), r"declares shape \(2, 2\) \(4 values\) but holds 3")
    negative = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-2, 2])
    refused(saved(model_with([negative]), tmp_path / "b.onnx"), "negative size")
    strings = TensorProto(name="w", data_type=TensorProto.STRING, dims=[1], string_data=[b"hi"])
    refused(saved(model_with([strings]), tmp_path / "c.onnx"), "element type STRING")


def external(location, offset=0, length=8):
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        tensor.external_data.add(key=key, value=value)
    return tensor


def test_external_data_beside_the_model_is_read(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"junk" + numpy.array([1.5, -2.0], numpy.float32).tobytes())
    graph = read_onnx(saved(model_with([external("weights.bin", offset=4)]), tmp_path / "m.onnx"))
    numpy.testing.assert_array_equal(graph.initializers["w"], [1.5, -2.0])


def test_external_data_outside_the_models_folder_is_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\1" * 8)
    for location in ("../secret.bin", str(tmp_path / "secret.bin"), "/dev/zero"):
        refused(saved(model_with([external(location)]), folder / "m.onnx"), "outside the model's folder")
    os.symlink(tmp_path / "secret.bin", folder / "link.bin")  # a link inside pointing outside
    refused(saved(model_with([external("link.bin")]), folder / "m.onnx"), "outside the model's folder")
    (folder / "sub").mkdir()
    refused(saved(model_with([external("sub")]), folder / "m.onnx"), "not a file in the model's folder")
    (folder / "short.bin").write_bytes(b"\1" * 6)
    refused(saved(model_with([external("short.bin")]), folder / "m.onnx"), "the file has 6 bytes")
    (folder / "w.bin").write_bytes(b"\1" * 64)
    refused(saved(model_with([external("w.bin", length=64)]), folder / "m.onnx"), "declares length 64")


def test_cycles_dangling_values_and_values_made_twice_are_refused(tmp_path):
    cycle = [helper.make_node("Relu", ["b"], ["a"], name="one"), helper.make_node("Relu", ["a"], ["b"], name="two"),
             helper.make_node("Add", ["x", "a"], ["y"], name="out")]
    refused(saved(model_with(nodes=cycle), tmp_path / "a.onnx"), r"cycle \(node 'one' \(Relu\)")
    dangling = [helper.make_node("Add", ["x", "ghost"], ["y"], name="add")]
    refused(saved(model_with(nodes=dangling), tmp_path / "b.onnx"), r"node 'add' \(Add\) reads 'ghost', which nothing")
    twice = [helper.make_node("Relu", ["x"], ["y"], name="r1"), helper.make_node("Relu", ["x"], ["y"], name="r2")]
    refused(saved(model_with(nodes=twice), tmp_path / "c.onnx"), "makes 'y', which is made elsewhere too")


def field(number, payload):
    """A protobuf length-delimited field: key, length, payload."""
    def varint(n):
        out = b""
        while True:
            out, n = out + bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)]), n >> 7
            if not n:
                return out
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def test_subgraphs_are_refused_and_deep_nesting_never_exhausts_the_stack(tmp_path):
    leaf = helper.make_graph([helper.make_node("Relu", ["x"], ["z"])], "leaf", [],
                             [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 2])])
    flat = model_with(nodes=[helper.make_node("If", ["c"], ["y"], name="if", then_branch=leaf, else_branch=leaf)],
                      inputs=[helper.make_tensor_value_info("c", TensorProto.BOOL, [])])
    refused(saved(flat, tmp_path / "if.onnx"), r"node 'if' \(If\) attribute 'else_branch' holds a subgraph")
    graph = b""  # a graph whose node's attribute holds a graph whose node's ..., 5000 deep, written by hand
    for _ in range(5000):  # GraphProto.node = 1, NodeProto.attribute = 5, AttributeProto.g = 6
        graph = field(1, field(5, field(1, b"g") + field(6, graph)))
    path = tmp_path / "deep.onnx"
    path.write_bytes(field(7, graph))  # ModelProto.graph = 7
    refused(path, "protobuf could not parse it")


def test_a_long_chain_reads_in_order_without_recursion(tmp_path):
    nodes = [helper.make_node("Relu", [f"v{i}" if i else "x"], [f"v{i + 1}" if i < 9999 else "y"], name=f"r{i}")
             for i in reversed(range(10000))]  # written last-first: the reader orders them
    graph = read_onnx(saved(model_with(nodes=nodes), tmp_path / "long.onnx"))
    assert [n.name for n in graph.nodes[:2]] == ["r0", "r1"] and len(graph.nodes) == 10000


@pytest.mark.parametrize("content", [b"", b"not a protobuf at all \xff\xfe", None])
def test_garbage_truncated_and_empty_files_name_the_file(tmp_path, content):
    path = tmp_path / "bad.onnx"
    if content is None:  # a real model cut in half
        whole = model_with([onnx.numpy_helper.from_array(numpy.ones(2, numpy.float32), "w")]).SerializeToString()
        content = whole[:len(whole) // 2]
    path.write_bytes(content)
    refused(path, "not an ONNX model")
