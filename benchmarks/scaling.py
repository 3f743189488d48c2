"""ARCH-1 training past one process: 1 process x 1 thread, 2 processes x 1 thread (``mpiexec``,
``fit(distribute=)``) and 1 process x 2 threads, side by side from one run, with the allreduce's
time and bytes per step.

    python benchmarks/scaling.py [--batch 256] [--steps 24] [--repeats 3]

Every configuration trains ARCH-1 (L2 1e-4, Adam) on synthetic 48x48 faces with a global batch of
``--batch`` images per step (two processes take half each), for ``--steps`` steps of one epoch
without precise BN, so only steps are timed. A step's time is the median gap between step ends
after two warm-up steps; a figure is the median of ``--repeats`` runs, the configurations
alternated run by run so that the machine's drift falls on all of them alike. The allreduce is
timed around MPI's call in the training step (one per step, the whole gradient in one buffer).
Needs mpi4py and mpiexec (``pip install -e ".[distributed]"``) for the two-process rows.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _common import contention, cpu_clock, cpu_name

import numpy  # noqa: E402  (a worker's thread counts come from its environment, set by the parent)

import minifer  # noqa: E402


def worker(args):
    """One process of one configuration: train, then (rank 0) write the timings as JSON."""
    comm = Timed(minifer.distributed.init())
    data = numpy.load(args.data)
    model = minifer.models.arch1()
    model.compile(minifer.optimizers.Adam(1e-3), metrics=["accuracy"])
    ends = StepEnds()
    model.fit(data["x"], data["y"], batch_size=args.batch // comm.size, epochs=1, steps_per_epoch=args.steps,
              precise_bn=False, verbose=0, callbacks=[ends], distribute=comm)
    if comm.is_chief:
        gaps = numpy.diff(ends.times)[2:]
        with open(args.out, "w") as f:
            json.dump({"step_s": float(numpy.median(gaps)), "allreduce_s": comm.median(), "bytes": comm.bytes}, f)


class Timed:
    """A communicator whose allreduce calls are timed; the step's own call is the largest (the
    whole gradient), the small ones sum the BatchNorm statistics at the epoch's end."""

    def __init__(self, comm):
        self.comm, self.calls = comm, []

    def __getattr__(self, name):
        return getattr(self.comm, name)

    def allreduce(self, array):
        start = time.perf_counter()
        out = self.comm.allreduce(array)
        self.calls.append((array.nbytes, time.perf_counter() - start))
        return out

    @property
    def bytes(self):
        return max((size for size, _ in self.calls), default=0)

    def median(self):
        steps = [seconds for size, seconds in self.calls if size == self.bytes][2:]
        return statistics.median(steps) if steps else 0.0


class StepEnds(minifer.callbacks.Callback):
    """Notes when each step ends."""

    def __init__(self):
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


CONFIGS = [("1 process x 1 thread", 1, 1), ("2 processes x 1 thread", 2, 1), ("1 process x 2 threads", 1, 2)]


def run_config(processes, threads, args, data, out):
    env = {**os.environ, "MINIFER_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, __file__, "--worker", "--data", data, "--out", out, "--batch", str(args.batch),
               "--steps", str(args.steps)]
    if processes > 1:
        command = [shutil.which("mpiexec"), "-n", str(processes)] + command
    subprocess.run(command, env=env, check=True)
    with open(out) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    configs = CONFIGS if shutil.which("mpiexec") else [c for c in CONFIGS if c[1] == 1]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "faces.npz")
        numpy.savez(data, **dict(zip("xy", minifer.data.synthetic_faces(args.batch * args.steps, seed=0))))
        clock = cpu_clock()
        runs = {name: [] for name, _, _ in configs}
        for repeat in range(args.repeats):
            for name, processes, threads in configs:
                runs[name].append(run_config(processes, threads, args, data, os.path.join(tmp, "out.json")))
        print(table(runs, args.batch))
        print(f"\nARCH-1, global batch {args.batch}, {args.steps} steps a run, medians of {args.repeats} runs, "
              f"{cpu_name()}, {os.cpu_count()} cores. {contention(clock)}")


def table(runs, batch):
    base = None
    rows = ["| configuration | images/s | vs 1 x 1 | step ms | allreduce ms | allreduce MiB | allreduce share |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for name, results in runs.items():
        step = statistics.median(r["step_s"] for r in results)
        reduce = statistics.median(r["allreduce_s"] for r in results)
        speed = batch / step
        base = base or speed
        megabytes = results[0]["bytes"] / 2 ** 20 if results[0]["bytes"] else 0
        rows.append(f"| {name} | {speed:.0f} | {speed / base:.2f}x | {step * 1e3:.0f} | "
                    f"{reduce * 1e3:.2f} | {megabytes:.2f} | {reduce / step:.1%} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
