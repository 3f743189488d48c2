"""ARCH-1 training step and inference throughput (images/s), minifer next to PyTorch on the CPU.

    python benchmarks/train_step.py [--batch 256] [--repeats 7] [--threads N] [--models arch1,...]

A training step is forward, cross-entropy, backward and an Adam update, at batch 256 on
48x48x1 inputs; inference is a forward pass in inference mode without a graph. Both
libraries run float32 in the same process on the same thread count (``--threads``, default all
cores; see ``_common.py``), and every figure is the median of ``--repeats`` runs after a
warm-up. The networks carry no L2 penalty here (PyTorch's twins have none); dropout stays.
Prints a markdown table with the minifer/PyTorch ratio. On a GPU: ``gpu_train.py``.
"""
import argparse
import sys

from _common import cpu_name, load_torch, median_s, set_threads, torch_arch

THREADS = set_threads(sys.argv)

import numpy  # noqa: E402  (after set_threads: OpenBLAS reads its thread count on import)

from minifer import Tensor, models, no_grad  # noqa: E402
from minifer import functional as F  # noqa: E402
from minifer.optimizers import Adam  # noqa: E402


def minifer_throughput(name, batch, repeats):
    """(parameters, training images/s, inference images/s) of minifer's ``name``."""
    model = models.get(name, l2=None)
    rng = numpy.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, 48, 48, 1), dtype=numpy.float32))
    labels = rng.integers(0, 7, batch)
    params, adam = model.trainable_weights, Adam(1e-3)

    def train():
        loss = F.cross_entropy(model(x, training=True, logits=True), labels)
        loss.backward()
        adam.step(params)
        adam.zero_grad(params)

    def infer():
        with no_grad():
            model(x)

    return model.count_params(), batch / median_s(train, repeats), batch / median_s(infer, repeats)


def torch_throughput(torch, name, batch, repeats):
    model = torch_arch(torch, name)
    x, labels = torch.randn(batch, 1, 48, 48), torch.randint(0, 7, (batch,))
    adam = torch.optim.Adam(model.parameters(), 1e-3)
    trainable = sum(p.numel() for p in model.parameters())
    bn_stats = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))

    def train():
        model.train()
        adam.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), labels).backward()
        adam.step()

    def infer():
        model.eval()
        with torch.no_grad():
            model(x)

    return trainable + bn_stats, batch / median_s(train, repeats), batch / median_s(infer, repeats)


def throughput_table(names, batch, repeats):
    """Markdown rows: parameters and images/s of each network, minifer beside PyTorch."""
    torch = load_torch(THREADS)
    rows = ["| Network | Parameters | Train img/s minifer | Train img/s PyTorch | ratio "
            "| Inference img/s minifer | Inference img/s PyTorch | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        params, train, infer = minifer_throughput(name, batch, repeats)
        t_params, t_train, t_infer = torch_throughput(torch, name, batch, repeats) if torch else (None, None, None)
        if t_params is not None and t_params != params:
            raise RuntimeError(f"{name}: PyTorch twin has {t_params} parameters, minifer {params}")
        ratio = (lambda a, b: f"{a / b:.2f}x" if b else "-")
        fmt = (lambda v: f"{v:.0f}" if v else "-")
        rows.append(f"| {name.upper().replace('ARCH', 'ARCH-')} | {params:,} | {train:.0f} | {fmt(t_train)} | "
                    f"{ratio(train, t_train)} | {infer:.0f} | {fmt(t_infer)} | {ratio(infer, t_infer)} |")
    return rows


def header(batch, repeats):
    torch = load_torch(THREADS)
    version = f"PyTorch {torch.__version__}" if torch else "PyTorch not installed"
    return (f"{cpu_name()}, {THREADS} thread(s), batch {batch}, float32, median of {repeats}; "
            f"NumPy {numpy.__version__}, {version}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--models", default="arch1")
    args = parser.parse_args()
    print(header(args.batch, args.repeats) + "\n")
    print("\n".join(throughput_table(args.models.split(","), args.batch, args.repeats)))


if __name__ == "__main__":
    main()
