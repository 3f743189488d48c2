"""Running an ONNX file with work nobody here wrote: onnxruntime for float32, and the onnx package's
reference evaluator for float64 (onnxruntime has no float64 convolution on the CPU). Tests that
import this skip, with the reason, where either package is missing."""
import numpy
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX tests need the onnx package (pip install 'minifer[onnx]')")
onnxruntime = pytest.importorskip("onnxruntime", reason="ONNX tests need onnxruntime, their oracle")
from onnx.reference import ReferenceEvaluator  # noqa: E402


def session(path):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # the suite shares two cores
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(path, feeds, reference=False):
    """The file's outputs for ``feeds`` ({input name: array}), as a list: onnxruntime's, or the
    reference evaluator's."""
    if reference:
        return ReferenceEvaluator(str(path)).run(None, feeds)
    return session(path).run(None, feeds)


def feeds_for(model, batch, seed=0, dtype=None):
    """{input layer name: a batch of standard normal values} for each of ``model``'s inputs."""
    rng = numpy.random.default_rng(seed)
    return {t.layer.name: rng.standard_normal((batch, *t.shape[1:])).astype(dtype or t.dtype)
            for t in model.inputs}
