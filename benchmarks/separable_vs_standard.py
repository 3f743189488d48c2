"""SeparableConv2D against Conv2D at the paper's shapes, then ARCH-1..4 (the paper's Table 5), measured.

    python benchmarks/separable_vs_standard.py [--batch 256] [--repeats 5] [--threads N]

On the CPU; ``gpu_train.py`` measures the same layers (and the epoch times) on a GPU.

Layer level: each 3x3 "same" Conv2D beside the SeparableConv2D with the same input and output
(no bias), forward and forward + backward (input gradient included), minifer and PyTorch in the
same process on the same data and thread count. FLOPs count each multiply-add as 2: a forward
pass costs 2*H*W*9*C*F per image for Conv2D and 2*H*W*(9*C + C*F) for SeparableConv2D;
forward + backward counts 3x the forward (the input and the weight gradient each cost one
forward). Times are medians of ``--repeats`` after a warm-up. Network level: parameters and
training / inference images/s of ARCH-1..4 (see ``train_step.py``). Prints markdown tables.
"""
import argparse
import sys

from _common import load_torch, median_s, set_threads

THREADS = set_threads(sys.argv)

import numpy  # noqa: E402

from minifer import Tensor  # noqa: E402
from minifer import layers as L  # noqa: E402
from train_step import header, throughput_table  # noqa: E402

SHAPES = [(24, 24, 16, 32), (24, 24, 32, 32), (12, 12, 32, 64), (6, 6, 64, 128)]  # H, W, C in, F out


def flops_per_image(kind, h, w, c, f):
    return 2 * h * w * (9 * c * f if kind == "Conv2D" else 9 * c + c * f)


def minifer_times(kind, x, f, repeats):
    layer = (L.Conv2D if kind == "Conv2D" else L.SeparableConv2D)(f, 3, padding="same", use_bias=False)
    xt = Tensor(x, requires_grad=True)
    y = layer(xt, training=True)
    grad = numpy.ones(y.shape, dtype=numpy.float32)

    def both():
        xt.grad = None
        layer(xt, training=True).backward(grad)

    return median_s(lambda: layer(xt, training=True), repeats), median_s(both, repeats), layer.count_params()


def torch_times(torch, kind, x, f, repeats):
    c = x.shape[-1]
    nn = torch.nn
    if kind == "Conv2D":
        layer = nn.Conv2d(c, f, 3, padding=1, bias=False)
    else:
        layer = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), nn.Conv2d(c, f, 1, bias=False))
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().requires_grad_()
    grad = torch.ones_like(layer(xt))

    def both():
        xt.grad = None
        layer(xt).backward(grad)

    return median_s(lambda: layer(xt), repeats), median_s(both, repeats)


def layer_tables(batch, repeats):
    torch = load_torch(THREADS)
    rng = numpy.random.default_rng(0)
    detail = ["| Input -> F | Layer | Params | MFLOP/img fwd | Fwd ms | Fwd img/s | Fwd GFLOP/s | Fwd+bwd ms "
              "| Fwd+bwd img/s | Fwd+bwd GFLOP/s | PyTorch fwd ms | PyTorch fwd+bwd ms | minifer/PyTorch fwd+bwd speed |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    speedup = ["| Input -> F | FLOP ratio Conv/Sep | minifer speed-up fwd | minifer speed-up fwd+bwd "
               "| PyTorch speed-up fwd | PyTorch speed-up fwd+bwd |", "|---|---:|---:|---:|---:|---:|"]
    for h, w, c, f in SHAPES:
        x = rng.standard_normal((batch, h, w, c), dtype=numpy.float32)
        shape = f"{h}x{w}x{c} -> {f}"
        times = {}
        for kind in ("Conv2D", "SeparableConv2D"):
            fwd, both, params = minifer_times(kind, x, f, repeats)
            t_fwd, t_both = torch_times(torch, kind, x, f, repeats) if torch else (None, None)
            times[kind] = (fwd, both, t_fwd, t_both)
            flop = flops_per_image(kind, h, w, c, f)
            torch_cols = f"{t_fwd * 1e3:.1f} | {t_both * 1e3:.1f} | {t_both / both:.2f}x" if torch else "- | - | -"
            detail.append(f"| {shape} | {kind} | {params:,} | {flop / 1e6:.1f} | {fwd * 1e3:.1f} | {batch / fwd:,.0f} | "
                          f"{flop * batch / fwd / 1e9:.1f} | {both * 1e3:.1f} | {batch / both:,.0f} | "
                          f"{3 * flop * batch / both / 1e9:.1f} | {torch_cols} |")
        conv, sep = times["Conv2D"], times["SeparableConv2D"]
        ratio = flops_per_image("Conv2D", h, w, c, f) / flops_per_image("SeparableConv2D", h, w, c, f)
        torch_cols = f"{conv[2] / sep[2]:.2f}x | {conv[3] / sep[3]:.2f}x" if torch else "- | -"
        speedup.append(f"| {shape} | {ratio:.1f}x | {conv[0] / sep[0]:.2f}x | {conv[1] / sep[1]:.2f}x | {torch_cols} |")
    return detail, speedup


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args()
    print(header(args.batch, args.repeats) + "\n")
    detail, speedup = layer_tables(args.batch, args.repeats)
    print("\n".join(detail) + "\n\n" + "\n".join(speedup) + "\n")
    print("\n".join(throughput_table(["arch1", "arch2", "arch3", "arch4"], [args.batch], args.repeats)))


if __name__ == "__main__":
    main()
