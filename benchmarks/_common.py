"""What the throughput benchmarks share: thread setup, timing, and PyTorch twins of ARCH-1..4.

Thread counts must be fixed before NumPy is imported (OpenBLAS reads them once), so each
benchmark calls ``set_threads`` first. NumPy's BLAS follows ``OPENBLAS_NUM_THREADS`` /
``OMP_NUM_THREADS`` (threadpoolctl is not a dependency); PyTorch gets ``torch.set_num_threads``.
minifer's thread pool (``minifer/kernels/cpu/parallel.py``) reads the same count and splits its
kernels' blocks over that many threads, with OpenBLAS on one thread while a split runs.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def set_threads(argv):
    """Read ``--threads N`` (default: all cores) and export it to BLAS before NumPy loads."""
    threads = os.cpu_count() or 1
    if "--threads" in argv:
        threads = int(argv[argv.index("--threads") + 1])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    return threads


def median_s(run, repeats):
    """Median wall time of ``repeats`` calls after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def load_torch(threads):
    """PyTorch with ``threads`` threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def torch_arch(torch, name, num_classes=7):
    """ARCH-1..4 in PyTorch (NCHW, same layers and parameter counts, Keras's BN epsilon/momentum;
    "same" 3x3 padding is symmetric at stride 1, so padding=1 matches Keras)."""
    nn = torch.nn

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    def cbr(cin, cout, bias=False, pool=False):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=bias), bn(cout)] + ([nn.MaxPool2d(2)] if pool else []) + [nn.ReLU()]

    def sep(cin, cout):
        return [nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=False)]

    class Separable(nn.Module):  # ARCH-1/2 trunk: stem, separable branch + residual branch
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(*cbr(1, 8), *cbr(8, 8), *cbr(8, 16),
                                      nn.Conv2d(16, 16, 3, padding=1, bias=False), bn(16), nn.MaxPool2d(2), nn.ReLU())
            self.sep = nn.Sequential(*sep(16, 32), bn(32), nn.ReLU(), *sep(32, 32), bn(32), nn.MaxPool2d(2))
            self.res = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), bn(16), nn.Conv2d(16, 32, 1, stride=2, bias=False), bn(32))
            self.tail = nn.Sequential(*cbr(32, 64, True), *cbr(64, 64, True, True), *cbr(64, 128, True), *cbr(128, 128, True))

        def forward(self, x):
            x = self.stem(x)
            return self.tail(torch.relu(self.sep(x) + self.res(x)))

    def plain():  # ARCH-3/4 trunk
        widths, pools, layers, cin = [8, 8, 16, 16, 16, 32, 32, 64, 64, 128, 128], {4, 6, 8}, [], 1
        for i, f in enumerate(widths):
            layers += cbr(cin, f, pool=i in pools)
            cin = f
        return nn.Sequential(*layers)

    class GapHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(128, num_classes, 3, padding=1)

        def forward(self, x):
            return self.conv(x).mean((2, 3))  # logits; the softmax is in the loss

    def dense_head():
        return nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1152, 512), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, num_classes))

    trunk = Separable() if name in ("arch1", "arch2") else plain()
    head = GapHead() if name in ("arch1", "arch3") else dense_head()
    return nn.Sequential(trunk, head)
