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


def cpu_clock():
    """(wall s, CPU s used by every process, CPU s used by this one and its finished children)
    from /proc/stat, or None off Linux: ``contention`` compares two readings."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return None
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
    t = os.times()
    return time.perf_counter(), busy, t.user + t.system + t.children_user + t.children_system


def contention(start):
    """A closing line: how much CPU other processes took since ``cpu_clock()`` gave ``start``. On
    this 2-core machine one busy core is enough to slow PyTorch's OpenMP threads a hundredfold
    (a forward pass waits at each barrier for a descheduled thread), so a run with a large figure
    here does not measure the libraries."""
    end = cpu_clock()
    if not (start and end):
        return ""
    wall, others = end[0] - start[0], (end[1] - start[1]) - (end[2] - start[2])
    return (f"Other processes used {max(others, 0):.1f} CPU-s during this {wall:.0f} s run "
            f"({max(others, 0) / wall:.0%} of one core on average).")


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


def minifer_steps(name, batch):
    """(parameters, training step, inference call) of minifer's ``name`` on random 48x48x1 data: the
    step that train_step.py times and _memory.py measures. A training step is forward,
    cross-entropy, backward and an Adam update, without L2 (the twins have none), dropout kept;
    inference is ``predict_on_batch``, what ``predict`` runs per batch (its inference plan:
    BatchNorms folded, the images split over the threads). minifer is imported here, not at the
    top, so that NumPy loads after ``set_threads`` and a PyTorch-only process never loads it."""
    import numpy
    from minifer import Tensor, models
    from minifer import functional as F
    from minifer.optimizers import Adam

    model = models.get(name, l2=None)
    rng = numpy.random.default_rng(0)
    images = rng.standard_normal((batch, 48, 48, 1), dtype=numpy.float32)
    x = Tensor(images)
    labels = rng.integers(0, 7, batch)
    params, adam = model.trainable_weights, Adam(1e-3)

    def train():
        loss = F.cross_entropy(model(x, training=True, logits=True), labels)
        loss.backward()
        adam.step(params)
        adam.zero_grad(params)

    return model.count_params(), train, lambda: model.predict_on_batch(images)


def torch_steps(torch, name, batch):
    """The same for ``name``'s PyTorch twin; its parameter count adds BatchNorm's running statistics,
    which minifer counts as (non-trainable) parameters."""
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

    return trainable + bn_stats, train, infer


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
