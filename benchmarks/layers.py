"""Forward + backward time of each layer of the paper's ARCH-1 at its real shapes, next to PyTorch.

    python benchmarks/layers.py --batch 256 --repeats 5 [--threads N]

Both libraries run float32 on the CPU in the same process, on the same data, in training mode,
with the input requiring a gradient (so every layer computes dx as well as its weight
gradients). Times are the median of ``--repeats`` runs after one warm-up. ``--threads``
(default: all cores) goes to PyTorch and, through OPENBLAS/OMP/MKL_NUM_THREADS set before
NumPy loads, to NumPy's BLAS. On a machine shared with other work, OpenBLAS's spinning
threads make single GEMMs vary tenfold; ``--threads 1`` gives steadier numbers there.
The last line is the peak extra memory (tracemalloc, which sees NumPy's allocations) of one
Conv2D forward + backward. Prints a markdown table.
"""
import argparse
import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS and PyTorch threads")
    parser.add_argument("--no-torch", action="store_true", help="time minifer only")
    return parser.parse_args(argv)


if __name__ == "__main__":  # thread counts must be in the environment before NumPy loads its BLAS
    ARGS = _parse(None)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy  # noqa: E402

from minifer import Tensor  # noqa: E402
from minifer import layers as L  # noqa: E402

# (label, input H, W, C, minifer layer factory, torch module factory(C) or None)
CASES = [
    ("Conv2D 3x3", (48, 48, 1), lambda: L.Conv2D(8, 3, padding="same", use_bias=False), ("conv", 8, 3, 1, False)),
    ("Conv2D 3x3", (48, 48, 8), lambda: L.Conv2D(8, 3, padding="same", use_bias=False), ("conv", 8, 3, 1, False)),
    ("Conv2D 3x3", (48, 48, 8), lambda: L.Conv2D(16, 3, padding="same", use_bias=False), ("conv", 16, 3, 1, False)),
    ("Conv2D 3x3", (48, 48, 16), lambda: L.Conv2D(16, 3, padding="same", use_bias=False), ("conv", 16, 3, 1, False)),
    ("BatchNormalization", (48, 48, 16), lambda: L.BatchNormalization(), ("bn",)),
    ("MaxPooling2D 2", (48, 48, 16), lambda: L.MaxPooling2D(2), ("pool",)),
    ("SeparableConv2D 3x3", (24, 24, 16), lambda: L.SeparableConv2D(32, 3, padding="same", use_bias=False),
     ("sep", 32)),
    ("SeparableConv2D 3x3", (24, 24, 32), lambda: L.SeparableConv2D(32, 3, padding="same", use_bias=False),
     ("sep", 32)),
    ("Conv2D 1x1", (24, 24, 16), lambda: L.Conv2D(16, 1, padding="same", use_bias=False), ("conv", 16, 1, 1, False)),
    ("Conv2D 1x1 stride 2", (24, 24, 16), lambda: L.Conv2D(32, 1, strides=2, padding="same", use_bias=False),
     ("conv", 32, 1, 2, False)),
    ("Conv2D 3x3", (12, 12, 32), lambda: L.Conv2D(64, 3, padding="same"), ("conv", 64, 3, 1, True)),
    ("Conv2D 3x3", (12, 12, 64), lambda: L.Conv2D(64, 3, padding="same"), ("conv", 64, 3, 1, True)),
    ("Conv2D 3x3", (6, 6, 64), lambda: L.Conv2D(128, 3, padding="same"), ("conv", 128, 3, 1, True)),
    ("Conv2D 3x3", (6, 6, 128), lambda: L.Conv2D(128, 3, padding="same"), ("conv", 128, 3, 1, True)),
    ("Conv2D 3x3", (6, 6, 128), lambda: L.Conv2D(7, 3, padding="same"), ("conv", 7, 3, 1, True)),
    ("Dense", (1152,), lambda: L.Dense(512), ("dense", 512)),
]


def median_ms(run, repeats):
    run()  # warm-up: builds weights, touches memory
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def minifer_step(layer, x, grad):
    def run():
        x.grad = None
        for w in layer.weights:
            w.grad = None
        layer(x, training=True).backward(grad)
    return run


def torch_module(torch, spec, channels):
    """The same layer in PyTorch (NCHW). Keras "same" equals symmetric padding k//2 for these
    odd kernels at stride 1, and needs no padding for the 1x1 stride-2 conv on an even size."""
    nn = torch.nn
    kind = spec[0]
    if kind == "conv":
        _, filters, k, stride, bias = spec
        return nn.Conv2d(channels, filters, k, stride=stride, padding=k // 2, bias=bias)
    if kind == "sep":
        return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                             nn.Conv2d(channels, spec[1], 1, bias=False))
    if kind == "bn":
        return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)
    if kind == "pool":
        return nn.MaxPool2d(2)
    if kind == "dense":
        return nn.Linear(channels, spec[1])
    raise ValueError(kind)


def torch_step(torch, module, x, grad):
    def run():
        x.grad = None
        module.zero_grad(set_to_none=True)
        module(x).backward(grad)
    return run


def nchw(a):
    return numpy.ascontiguousarray(a.transpose(0, 3, 1, 2)) if a.ndim == 4 else a


def peak_conv_memory(batch):
    """Peak bytes NumPy allocates beyond the input during one Conv2D 48x48x16->16 forward + backward."""
    rng = numpy.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, 48, 48, 16), dtype=numpy.float32), requires_grad=True)
    grad = rng.standard_normal((batch, 48, 48, 16), dtype=numpy.float32)
    layer = L.Conv2D(16, 3, padding="same", use_bias=False)
    layer(x)  # build outside the measurement
    tracemalloc.start()
    layer(x, training=True).backward(grad)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, x.data.nbytes


def main(args):

    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            print("(PyTorch not installed: minifer only)")
    rng = numpy.random.default_rng(0)
    print(f"batch {args.batch}, median of {args.repeats}, float32, forward + backward (training mode), "
          f"{os.cpu_count()} CPUs, {args.threads} BLAS/torch threads, "
          f"load average before {os.getloadavg()[0]:.1f} (other processes skew the times)\n")
    print("| layer | input -> output | minifer ms | torch ms | minifer / torch |")
    print("|---|---|---:|---:|---:|")
    total_ours = total_theirs = 0.0
    for label, in_shape, make, spec in CASES:
        x_np = rng.standard_normal((args.batch, *in_shape), dtype=numpy.float32)
        layer = make()
        out_shape = layer(Tensor(x_np)).shape
        grad_np = rng.standard_normal(out_shape, dtype=numpy.float32)
        ours = median_ms(minifer_step(layer, Tensor(x_np, requires_grad=True), grad_np), args.repeats)
        total_ours += ours
        theirs_text = ratio_text = "-"
        if torch is not None:
            module = torch_module(torch, spec, in_shape[-1])
            tx = torch.tensor(nchw(x_np), requires_grad=True)
            theirs = median_ms(torch_step(torch, module, tx, torch.from_numpy(nchw(grad_np))), args.repeats)
            total_theirs += theirs
            theirs_text, ratio_text = f"{theirs:.1f}", f"{ours / theirs:.1f}x"
        shape = lambda s: "x".join(map(str, s[1:]))  # noqa: E731
        print(f"| {label} | {shape((0, *in_shape))} -> {shape(out_shape)} | {ours:.1f} | {theirs_text} | {ratio_text} |")
    if torch is not None:
        print(f"| **total** | | **{total_ours:.0f}** | **{total_theirs:.0f}** | **{total_ours / total_theirs:.1f}x** |")
    peak, input_bytes = peak_conv_memory(args.batch)
    print(f"\nPeak extra memory, Conv2D 48x48x16->16 forward + backward at batch {args.batch}: "
          f"{peak / 2 ** 20:.0f} MiB (input alone: {input_bytes / 2 ** 20:.0f} MiB)")


if __name__ == "__main__":
    main(ARGS)
