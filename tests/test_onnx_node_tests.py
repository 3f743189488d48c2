"""The ONNX project's own operator tests against minifer's importer: every single-operator case the
installed onnx package generates from ``onnx.backend.test.case.node`` for the operators minifer
maps (the 1.23 wheel no longer ships them as files) either loads and computes the expected
outputs within 1e-4, or is refused with an OnnxImportError and listed, with the reason, in
docs/onnx.md ("Node tests minifer refuses"). A case that crashes, computes something else, or
passes while listed as refused fails here, so the page stays true.

A node test's inputs are all graph inputs (its weights too). Each case is loaded as it is and,
where that is refused, once more with every input after the first written into the file as an
initializer, as a model file holds its weights.
"""
import functools
import pathlib
import re
import warnings

import numpy
import pytest

from onnx_oracle import onnx
import minifer  # noqa: E402
from minifer.io.onnx_context import OnnxImportError  # noqa: E402

OPERATORS = ("Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool BatchNormalization Gemm MatMul "
             "Relu LeakyRelu PRelu Elu Selu Sigmoid Tanh Softplus HardSigmoid HardSwish Gelu Clip Add Mul Sub Sum "
             "Concat Flatten Reshape Transpose Pad Resize Softmax LogSoftmax LRN Dropout Identity Shape Gather "
             "Unsqueeze Constant").split()  # issue 26's list
DOCS = pathlib.Path(__file__).parent.parent / "docs" / "onnx.md"


@functools.lru_cache(maxsize=1)
def cases():
    """{name: TestCase} of the single-node cases for OPERATORS."""
    from onnx.backend.test.case import node
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generators' own overflow warnings (Cast cases)
        found = node.collect_testcases(None)
    return {c.name: c for c in found if c.model is not None and len(c.model.graph.node) == 1
            and c.model.graph.node[0].op_type in OPERATORS}


def documented_refusals():
    """The case names docs/onnx.md lists under "Node tests minifer refuses"."""
    text = DOCS.read_text()
    section = text.split("## Node tests minifer refuses", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(test_\w+)`", section))


def with_weights_baked(model, inputs):
    """``model`` with every graph input after the first made an initializer holding its test data."""
    baked = onnx.ModelProto()
    baked.CopyFrom(model)
    first = baked.graph.input[0]
    for value, array in zip(list(baked.graph.input)[1:], inputs[1:]):
        baked.graph.initializer.append(onnx.numpy_helper.from_array(numpy.asarray(array), value.name))
    del baked.graph.input[:]
    baked.graph.input.append(first)
    return baked


def outcome(case, folder):
    """"pass", or the OnnxImportError's message; anything else (a crash, other numbers) raises."""
    inputs, expected = case.data_sets[0]
    attempts = [(case.model, inputs)] + ([(with_weights_baked(case.model, inputs), inputs[:1])]
                                         if len(inputs) > 1 else [])
    refusals = []
    for i, (model, feeds) in enumerate(attempts):
        path = folder / f"{case.name}_{i}.onnx"
        onnx.save(model, str(path))
        try:
            loaded = minifer.load(path)
        except OnnxImportError as e:
            assert str(path) in str(e)  # every refusal names the file
            refusals.append(str(e))
            continue
        got = loaded.predict(feeds if len(feeds) > 1 else feeds[0], verbose=0)
        for mine, theirs in zip(got if isinstance(got, list) else [got], expected):
            assert mine.shape == theirs.shape
            numpy.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-4)
        return "pass"
    return refusals[-1]


@pytest.mark.parametrize("name", sorted(cases()))
def test_each_case_computes_its_outputs_or_is_a_documented_refusal(name, tmp_path):
    result = outcome(cases()[name], tmp_path)
    if name in documented_refusals():
        assert result != "pass", f"{name} passes now: take it off docs/onnx.md's list"
    else:
        assert result == "pass", f"{name} is refused but not listed in docs/onnx.md: {result}"


def test_the_documented_list_names_real_cases_and_most_pass():
    assert documented_refusals() <= set(cases())
    assert len(cases()) - len(documented_refusals()) >= 150
