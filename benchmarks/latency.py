"""ARCH-1 inference latency at batch 1, 8, 32 and 256: minifer's ``predict`` (its inference plan),
minifer through its layers, PyTorch eval under ``no_grad``, and ONNX Runtime on two files: the
PyTorch twin exported by ``torch.onnx``, and minifer's own model written by ``minifer.save``, in one
process.

    python benchmarks/latency.py [--threads N] [--repeats 21] [--batches 1,8,32,256] [--model arch1]
                                 [--no-memory]

Every figure is the median of ``--repeats`` calls after a warm-up, on the same random
48x48x1 float32 images. "minifer predict" is ``model.predict_on_batch(x)``, what ``predict`` runs
per batch (``minifer/engine/plan.py``); "minifer layers" is ``model(x)`` without a graph, the
path training's forward takes. The ratios are the other library's time over minifer predict's
(above 1: minifer faster). "ONNX Runtime" runs the PyTorch twin exported by ``torch.onnx``
(``_onnx.py``), checked against PyTorch's logits once; "ORT minifer file" runs minifer's own export
of the same model (NHWC in, BatchNorms folded), checked against minifer's predict once. A column is
"-" where onnxruntime, onnx or onnxscript is not installed. The peak RSS columns come from a fresh
process per library and batch
(``_memory.py``), three inference calls each: "205 (+161)" is the peak and, in brackets, its
rise over the RSS after imports and setup (PyTorch's import alone is about 250 MiB more than
NumPy's).
"""
import argparse
import os
import sys
import tempfile

import _onnx
from _common import contention, cpu_clock, cpu_name, load_torch, median_s, set_threads, torch_arch
from _memory import cell, measure

THREADS = set_threads(sys.argv)

import numpy  # noqa: E402  (after set_threads: OpenBLAS reads its thread count on import)

from minifer import Tensor, models, no_grad  # noqa: E402


def onnx_session(torch, twin, folder):
    """(exported file, checked session) of ``twin``, or (None, None) without ONNX Runtime."""
    if not (torch and _onnx.versions()):
        return None, None
    path = os.path.join(folder, "twin.onnx")
    _onnx.export(torch, twin, path)
    sess = _onnx.session(path, THREADS)
    _onnx.check(torch, twin, sess)
    return path, sess


def memory_cells(args, batch, torch, onnx_path, minifer_onnx):
    """The peak RSS cells of minifer predict, PyTorch and ONNX Runtime (both files) at ``batch``."""
    if args.no_memory:
        return "- | - | - | -"
    run = (lambda lib, **kw: cell(measure(lib, "infer", batch, THREADS, args.model, **kw)))
    return " | ".join([run("minifer"), run("torch") if torch else "-",
                       run("onnxruntime", onnx=onnx_path) if onnx_path else "-",
                       run("onnxruntime", onnx=minifer_onnx) if minifer_onnx else "-"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--batches", default="1,8,32,256")
    parser.add_argument("--model", default="arch1")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    args = parser.parse_args()
    clock = cpu_clock()
    torch = load_torch(THREADS)
    model = models.get(args.model, l2=None)
    twin = torch_arch(torch, args.model).eval() if torch else None
    versions = [f"PyTorch {torch.__version__}" if torch else "PyTorch not installed",
                _onnx.versions() or "ONNX Runtime not installed"]
    print(f"{cpu_name()}, {THREADS} thread(s), {args.model}, float32, median of {args.repeats}; "
          f"NumPy {numpy.__version__}, {', '.join(versions)}\n")
    print("| batch | minifer predict ms | minifer layers ms | PyTorch ms | ONNX Runtime ms | ORT minifer file ms "
          "| PyTorch / minifer | ONNX Runtime / minifer | ORT minifer file / minifer | peak RSS MiB minifer "
          "| peak RSS MiB PyTorch | peak RSS MiB ONNX Runtime | peak RSS MiB ORT minifer file |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rng = numpy.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        onnx_path, sess = onnx_session(torch, twin, folder)
        minifer_onnx = os.path.join(folder, "minifer.onnx")
        mine = _onnx.minifer_export(model, minifer_onnx, THREADS)
        for batch in (int(b) for b in args.batches.split(",")):
            x = rng.random((batch, 48, 48, 1), dtype=numpy.float32)
            xt = Tensor(x)
            ours = median_s(lambda: model.predict_on_batch(x), args.repeats)
            with no_grad():
                layers = median_s(lambda: model(xt), args.repeats)
            theirs = onnx = ours_in_ort = None
            if mine:
                feed = {mine.get_inputs()[0].name: x}
                ours_in_ort = median_s(lambda: mine.run(None, feed), args.repeats)
            if torch:
                xx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
                with torch.no_grad():
                    theirs = median_s(lambda: twin(xx), args.repeats)
            if sess:
                feed = {"x": xx.numpy()}
                onnx = median_s(lambda: sess.run(None, feed), args.repeats)
            ms = (lambda t: f"{t * 1e3:.2f}" if t else "-")
            ratio = (lambda t: f"{t / ours:.2f}x" if t else "-")
            print(f"| {batch} | {ms(ours)} | {ms(layers)} | {ms(theirs)} | {ms(onnx)} | {ms(ours_in_ort)} | "
                  f"{ratio(theirs)} | {ratio(onnx)} | {ratio(ours_in_ort)} | "
                  f"{memory_cells(args, batch, torch, onnx_path, minifer_onnx if mine else None)} |", flush=True)
    print("\n" + contention(clock))


if __name__ == "__main__":
    main()
