"""ARCH-1 inference latency at batch 1, 8, 32 and 256: minifer, minifer with its BatchNorms folded
(``model.fold_batchnorm()``), and PyTorch eval under ``no_grad``, in one process.

    python benchmarks/latency.py [--threads N] [--repeats 21] [--batches 1,8,32,256] [--model arch1]

Every figure is the median of ``--repeats`` calls after a warm-up, on the same random
48x48x1 float32 images; the ratio is PyTorch's time over minifer's (above 1: minifer faster).
"""
import argparse
import sys

from _common import cpu_name, load_torch, median_s, set_threads, torch_arch

THREADS = set_threads(sys.argv)

import numpy  # noqa: E402  (after set_threads: OpenBLAS reads its thread count on import)

from minifer import Tensor, models, no_grad  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--batches", default="1,8,32,256")
    parser.add_argument("--model", default="arch1")
    args = parser.parse_args()
    torch = load_torch(THREADS)
    model = models.get(args.model, l2=None)
    folded = model.fold_batchnorm()
    twin = torch_arch(torch, args.model).eval() if torch else None
    version = f"PyTorch {torch.__version__}" if torch else "PyTorch not installed"
    print(f"{cpu_name()}, {THREADS} thread(s), {args.model}, float32, median of {args.repeats}; "
          f"NumPy {numpy.__version__}, {version}\n")
    print("| batch | minifer ms | minifer folded ms | PyTorch ms | PyTorch / minifer folded |")
    print("|---:|---:|---:|---:|---:|")
    rng = numpy.random.default_rng(0)
    for batch in (int(b) for b in args.batches.split(",")):
        x = rng.random((batch, 48, 48, 1), dtype=numpy.float32)
        xt = Tensor(x)
        with no_grad():
            ours = median_s(lambda: model(xt), args.repeats)
            ours_folded = median_s(lambda: folded(xt), args.repeats)
        theirs = None
        if torch:
            xx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
            with torch.no_grad():
                theirs = median_s(lambda: twin(xx), args.repeats)
        torch_cols = f"{theirs * 1e3:.2f} | {theirs / ours_folded:.2f}x" if theirs else "- | -"
        print(f"| {batch} | {ours * 1e3:.2f} | {ours_folded * 1e3:.2f} | {torch_cols} |", flush=True)


if __name__ == "__main__":
    main()
