"""ARCH-1 training step and inference throughput (images/s), minifer next to PyTorch on the CPU.

    python benchmarks/train_step.py [--batches 32,64,256] [--repeats 7] [--threads N]
                                    [--models arch1,arch3] [--no-memory]

A training step is forward, cross-entropy, backward and an Adam update, on 48x48x1 inputs at
each of ``--batches``; inference is ``predict_on_batch`` (what ``predict`` runs per batch). Both
libraries run float32 in the same process on the same thread count (``--threads``, default all
cores; see ``_common.py``), and every figure is the median of ``--repeats`` runs after a
warm-up. The networks carry no L2 penalty here (PyTorch's twins have none); dropout stays.
Prints a markdown table with the minifer/PyTorch ratio and each library's peak RSS over three
training steps, measured in a fresh process per library (``_memory.py``): "1138 (+1097)" is the
peak and, in brackets, its rise over the RSS after imports and setup, the step's own memory
(PyTorch's import alone is about 250 MiB more than NumPy's, so the bracket is the fair
comparison). On a GPU: ``gpu_train.py``.
"""
import argparse
import sys

from _common import (contention, cpu_clock, cpu_name, load_torch, median_s, minifer_steps, set_threads,
                     torch_steps)
from _memory import cell, measure

THREADS = set_threads(sys.argv)

import numpy  # noqa: E402  (after set_threads: OpenBLAS reads its thread count on import)


def throughput(steps, batch, repeats):
    """(parameters, training images/s, inference images/s) from ``*_steps``'s triple."""
    params, train, infer = steps
    return params, batch / median_s(train, repeats), batch / median_s(infer, repeats)


def throughput_table(names, batches, repeats, memory=False):
    """Markdown rows: parameters, images/s and (with ``memory``) a training step's peak RSS of each
    network at each batch size, minifer beside PyTorch."""
    torch = load_torch(THREADS)
    rows = ["| Network | Batch | Parameters | Train img/s minifer | Train img/s PyTorch | ratio "
            "| Inference img/s minifer | Inference img/s PyTorch | ratio "
            "| Train peak RSS MiB minifer | Train peak RSS MiB PyTorch |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        for batch in batches:
            params, train, infer = throughput(minifer_steps(name, batch), batch, repeats)
            t_params, t_train, t_infer = throughput(torch_steps(torch, name, batch), batch, repeats) if torch \
                else (None, None, None)
            if t_params is not None and t_params != params:
                raise RuntimeError(f"{name}: PyTorch twin has {t_params} parameters, minifer {params}")
            mem = measure("minifer", "train", batch, THREADS, name) if memory else None
            t_mem = measure("torch", "train", batch, THREADS, name) if memory and torch else None
            ratio = (lambda a, b: f"{a / b:.2f}x" if b else "-")
            fmt = (lambda v: f"{v:.0f}" if v else "-")
            rows.append(f"| {name.upper().replace('ARCH', 'ARCH-')} | {batch} | {params:,} | {train:.0f} | "
                        f"{fmt(t_train)} | {ratio(train, t_train)} | {infer:.0f} | {fmt(t_infer)} | "
                        f"{ratio(infer, t_infer)} | {cell(mem)} | {cell(t_mem)} |")
    return rows


def header(batches, repeats):
    torch = load_torch(THREADS)
    version = f"PyTorch {torch.__version__}" if torch else "PyTorch not installed"
    return (f"{cpu_name()}, {THREADS} thread(s), batch {batches}, float32, median of {repeats}; "
            f"NumPy {numpy.__version__}, {version}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="256", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--models", default="arch1")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    args = parser.parse_args()
    clock = cpu_clock()
    batches = [int(b) for b in args.batches.split(",")]
    print(header(args.batches, args.repeats) + "\n")
    print("\n".join(throughput_table(args.models.split(","), batches, args.repeats, not args.no_memory)))
    print("\n" + contention(clock))


if __name__ == "__main__":
    main()
