"""What minifer's composed convolutions cost: a dilated kernel spread out with zeros, a grouped
convolution run group by group (or as a depthwise one), against the plain convolution of the same
output and PyTorch's native dilated and grouped kernels.

    python benchmarks/composed_convs.py [--threads 1] [--repeats 9] [--batch 8]

Each row is one layer on a (batch, 56, 56, C) float32 input in inference (``predict_on_batch`` of a
one-layer model, its inference step) and forward + backward (``model(x)`` then ``backward``, as
fit runs it), the median of ``--repeats`` after a warm-up. Prints a markdown table and a closing
line saying how much CPU other processes took meanwhile.
"""
import argparse
import sys

from _common import contention, cpu_clock, cpu_name, load_torch, median_s, set_threads

THREADS = set_threads(sys.argv)

import numpy  # noqa: E402

import minifer  # noqa: E402
from minifer import Tensor  # noqa: E402
from minifer import layers as L  # noqa: E402

# (label, input channels, minifer layer, PyTorch Conv2d arguments (out, kernel, dilation, groups, padding))
CASES = [
    ("3x3, 32 -> 32", 32, lambda: L.Conv2D(32, 3, padding="same"), (32, 3, 1, 1, 1)),
    ("3x3 dilated 2 (a 5x5 window of zeros)", 32, lambda: L.Conv2D(32, 3, padding="same", dilation_rate=2),
     (32, 3, 2, 1, 2)),
    ("5x5, 32 -> 32 (the dilated one's work)", 32, lambda: L.Conv2D(32, 5, padding="same"), (32, 5, 1, 1, 2)),
    ("3x3, 64 -> 64", 64, lambda: L.Conv2D(64, 3, padding="same"), (64, 3, 1, 1, 1)),
    ("3x3, 64 -> 64 in 4 groups", 64, lambda: L.Conv2D(64, 3, padding="same", groups=4), (64, 3, 1, 4, 1)),
    ("1x1, 64 -> 64 in 4 groups", 64, lambda: L.Conv2D(64, 1, groups=4), (64, 1, 1, 4, 0)),
    ("3x3, 32 channels in 32 groups", 32, lambda: L.Conv2D(32, 3, padding="same", groups=32), (32, 3, 1, 32, 1)),
    ("DepthwiseConv2D 3x3, 32 channels", 32, lambda: L.DepthwiseConv2D(3, padding="same"), (32, 3, 1, 32, 1)),
]


def minifer_times(make, x, repeats):
    with L.fresh_names():
        inputs = minifer.Input(x.shape[1:])
        model = minifer.Model(inputs, make()(inputs))
    infer = median_s(lambda: model.predict_on_batch(x), repeats)
    xt = Tensor(x, requires_grad=True)

    def step():
        model(xt, training=True).sum().backward()
    return infer, median_s(step, repeats)


def torch_times(torch, spec, x, repeats):
    out, kernel, dilation, groups, padding = spec
    conv = torch.nn.Conv2d(x.shape[-1], out, kernel, padding=padding, dilation=dilation, groups=groups)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().requires_grad_()
    with torch.no_grad():
        infer = median_s(lambda: conv(xt), repeats)
    return infer, median_s(lambda: conv(xt).sum().backward(), repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    clock = cpu_clock()
    torch = load_torch(THREADS)
    print(f"{cpu_name()}, {THREADS} thread(s), batch {args.batch} of 56x56, float32, median of {args.repeats}; "
          f"NumPy {numpy.__version__}" + (f", PyTorch {torch.__version__}" if torch else "") + "\n")
    print("| layer | minifer predict ms | minifer fwd+bwd ms | PyTorch inference ms | PyTorch fwd+bwd ms |")
    print("|---|---:|---:|---:|---:|")
    rng = numpy.random.default_rng(0)
    for label, channels, make, spec in CASES:
        x = rng.standard_normal((args.batch, 56, 56, channels), dtype=numpy.float32)
        infer, train = minifer_times(make, x, args.repeats)
        theirs = torch_times(torch, spec, x, args.repeats) if torch else (None, None)
        ms = (lambda t: f"{t * 1e3:.1f}" if t else "-")
        print(f"| {label} | {ms(infer)} | {ms(train)} | {ms(theirs[0])} | {ms(theirs[1])} |", flush=True)
    print("\n" + contention(clock))


if __name__ == "__main__":
    main()
