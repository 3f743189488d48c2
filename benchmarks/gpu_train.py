"""GPU epoch time of ARCH-1..4 beside PyTorch CUDA eager, separable vs standard convolution on the
GPU, and kernel launches per training step; run by ``gpu_check.sh`` on a GPU machine.

    python benchmarks/gpu_train.py [--images 28709] [--batch 256] [--epochs 2] [--models arch1,...] [--out DIR]

An epoch is FER2013's 28,709 random 48x48x1 images at batch 256, shuffled, held on the GPU by
both libraries, with Adam and the loss read back every step (``loss.item()`` in PyTorch, as
``fit`` does). Each figure is the median of ``--epochs`` epochs after one warm-up epoch, both
libraries in the same process. Layer figures synchronise the device around every timed call.
Launches are counted with PyTorch's profiler (CUPTI sees CuPy's kernels as well as its own).
Writes ``gpu_table.md`` under ``--out`` and prints it.
"""
import argparse
import os
import statistics
import sys
import time

import numpy
from _common import torch_arch  # puts the checkout on sys.path

import minifer  # noqa: E402
from minifer import layers as L  # noqa: E402

SHAPES = [(24, 24, 16, 32), (24, 24, 32, 32), (12, 12, 32, 64), (6, 6, 64, 128)]  # H, W, C in, F out


def minifer_epochs(name, x, y, batch, epochs):
    """Median seconds per epoch of minifer's ``name`` on GPU-resident images."""
    model = minifer.models.get(name, l2=None)
    model.compile(minifer.optimizers.Adam(1e-3))
    times = []
    for epoch in range(epochs + 1):  # the first is the warm-up (kernel compilation, memory pool)
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, seed=epoch)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]), model


def torch_epochs(torch, name, x, y, batch, epochs):
    model = torch_arch(torch, name).cuda()
    adam = torch.optim.Adam(model.parameters(), 1e-3)
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        for idx in torch.randperm(len(y), device="cuda").split(batch):
            adam.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            adam.step()
            loss.item()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]), model


def launches(torch, step):
    """(CUDA kernels launched by one call of ``step``, the 5 slowest kernels as text)."""
    from torch.profiler import ProfilerActivity, profile
    step()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    totals = {}
    for e in kernels:
        totals[e.name] = totals.get(e.name, 0.0) + e.device_time_total
    slowest = sorted(totals.items(), key=lambda kv: -kv[1])[:5]
    return len(kernels), "; ".join(f"{name[:60]} {us / 1e3:.2f} ms" for name, us in slowest)


def epoch_table(torch, names, images, batch, epochs):
    import cupy
    rng = numpy.random.default_rng(0)
    x_host = rng.integers(0, 256, (images, 48, 48, 1), dtype=numpy.uint8)
    y_host = rng.integers(0, 7, images)
    x_gpu, x_torch = cupy.asarray(x_host), torch.from_numpy(x_host).cuda().permute(0, 3, 1, 2).float() / 255
    y_torch = torch.from_numpy(y_host).cuda()
    rows = ["| Network | minifer s/epoch | PyTorch s/epoch | minifer / PyTorch time | launches/step minifer "
            "| launches/step PyTorch |", "|---|---:|---:|---:|---:|---:|"]
    notes = []
    for name in names:
        ours, model = minifer_epochs(name, x_gpu, y_host, batch, epochs)
        theirs, twin = torch_epochs(torch, name, x_torch, y_torch, batch, epochs)
        xb, yb = minifer.Tensor(cupy.asarray(x_host[:batch], dtype=cupy.float32) / 255), y_host[:batch]
        ours_n, ours_slow = launches(torch, lambda: model.train_on_batch(xb, yb))
        adam = torch.optim.Adam(twin.parameters(), 1e-3)

        def torch_step():
            adam.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(twin(x_torch[:batch]), y_torch[:batch]).backward()
            adam.step()

        theirs_n, theirs_slow = launches(torch, torch_step)
        rows.append(f"| {name.upper().replace('ARCH', 'ARCH-')} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f}x "
                    f"| {ours_n} | {theirs_n} |")
        notes.append(f"- {name} slowest kernels, minifer: {ours_slow}\n- {name} slowest kernels, PyTorch: {theirs_slow}")
    return rows, notes


def layer_table(torch, batch, repeats=20):
    import cupy
    sync = cupy.cuda.Device().synchronize

    def median(run):
        run()
        sync()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            sync()
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    rows = ["| Input -> F | FLOP ratio | minifer Conv2D ms | minifer Separable ms | minifer speed-up "
            "| PyTorch Conv2D ms | PyTorch Separable ms | PyTorch speed-up |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    nn = torch.nn
    for h, w, c, f in SHAPES:
        x = cupy.random.standard_normal((batch, h, w, c), dtype=cupy.float32)
        xt = torch.randn(batch, c, h, w, device="cuda", requires_grad=True)
        ours, theirs = {}, {}
        for kind in ("Conv2D", "SeparableConv2D"):
            layer = (L.Conv2D if kind == "Conv2D" else L.SeparableConv2D)(f, 3, padding="same", use_bias=False)
            xm = minifer.Tensor(x, requires_grad=True)
            ours[kind] = median(lambda: layer(xm, training=True).sum().backward())
            twin = (nn.Conv2d(c, f, 3, padding=1, bias=False) if kind == "Conv2D" else
                    nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), nn.Conv2d(c, f, 1, bias=False)))
            twin = twin.cuda()
            theirs[kind] = median(lambda: twin(xt).sum().backward())
        ratio = (9 * c * f) / (9 * c + c * f)
        rows.append(f"| {h}x{w}x{c} -> {f} | {ratio:.1f}x | {ours['Conv2D'] * 1e3:.2f} | "
                    f"{ours['SeparableConv2D'] * 1e3:.2f} | {ours['Conv2D'] / ours['SeparableConv2D']:.2f}x | "
                    f"{theirs['Conv2D'] * 1e3:.2f} | {theirs['SeparableConv2D'] * 1e3:.2f} | "
                    f"{theirs['Conv2D'] / theirs['SeparableConv2D']:.2f}x |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=28709)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs (after one warm-up)")
    parser.add_argument("--models", default="arch1,arch2,arch3,arch4")
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    import cupy
    import torch
    minifer.set_device("gpu")
    device = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    header = (f"{device}; CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, CuPy {cupy.__version__}, "
              f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}); {args.images} images 48x48x1, batch "
              f"{args.batch}, float32, median of {args.epochs} epochs after a warm-up")
    rows, notes = epoch_table(torch, args.models.split(","), args.images, args.batch, args.epochs)
    layers = layer_table(torch, args.batch)
    text = "\n".join([header, "", *rows, "", *notes, "", "Separable vs standard, forward + backward, batch "
                      f"{args.batch}:", "", *layers]) + "\n"
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu_table.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
