"""ONNX Runtime beside minifer: an ARCH-n PyTorch twin exported by ``torch.onnx``, and minifer's own
model written by ``minifer.save(model, "m.onnx")``, each run by onnxruntime.

Optional: ``pip install onnxruntime onnx onnxscript`` (PyTorch's exporter needs onnx and onnxscript;
minifer's needs onnx). Without them ``versions()`` is None and the benchmarks print "-". ONNX
Runtime's graph optimizer folds the BatchNorms into the convolutions, so its figure compares with
minifer's predict (whose inference plan folds them too; minifer's file has them folded already).
"""
import importlib.util
import logging
import warnings

PACKAGES = ("onnxruntime", "onnx", "onnxscript")


def versions(packages=PACKAGES):
    """'ONNX Runtime X (onnx Y)', or None when one of ``packages`` is not installed."""
    if any(importlib.util.find_spec(name) is None for name in packages):
        return None
    import onnx
    import onnxruntime
    return f"ONNX Runtime {onnxruntime.__version__} (onnx {onnx.__version__})"


def export(torch, twin, path):
    """Write ``twin`` (put in eval mode) to ``path`` with a dynamic batch axis, input named "x".
    The exporter's progress lines and warnings are silenced: they would break the markdown."""
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(twin.eval(), (torch.zeros(2, 1, 48, 48),), path, input_names=["x"], dynamo=True,
                          dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)


def session(path, threads):
    """An InferenceSession on the CPU with ``threads`` intra-op threads, like the other libraries;
    one inter-op thread and sequential execution, so no second pool competes for the cores."""
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def check(torch, twin, sess, tol=1e-4):
    """Raise unless the session's logits match ``twin``'s within ``tol``: a timing of a model that
    computes something else is worthless."""
    x = torch.randn(8, 1, 48, 48)
    with torch.no_grad():
        expected = twin.eval()(x).numpy()
    error = abs(sess.run(None, {"x": x.numpy()})[0] - expected).max()
    if not error <= tol:
        raise RuntimeError(f"ONNX Runtime's logits differ from PyTorch's by {error:.3g} (> {tol})")
    return error


def minifer_export(model, path, threads, tol=1e-4):
    """A checked session of minifer's own ONNX file of ``model`` (written to ``path``), or None without
    onnx and onnxruntime. Raises where it does not compute minifer's predict within ``tol``."""
    if versions(("onnxruntime", "onnx")) is None:
        return None
    import numpy
    import minifer
    minifer.save(model, path)
    sess = session(path, threads)
    entry = sess.get_inputs()[0]
    x = numpy.random.default_rng(1).random((8, *entry.shape[1:]), dtype=numpy.float32)
    error = abs(sess.run(None, {entry.name: x})[0] - model.predict_on_batch(x)).max()
    if not error <= tol:
        raise RuntimeError(f"ONNX Runtime on minifer's file differs from minifer's predict by {error:.3g} (> {tol})")
    return sess
