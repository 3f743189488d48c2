"""3x3 convolutions through im2col with the patches built in bands of one image's rows (what
``minifer/kernels/cpu/im2col.py`` does where an image's patches overflow ``COLS_BUDGET``) beside
whole images (the earlier rule, ``BAND_PIXELS`` set past any image), on ARCH-1's training shapes
and on RetinaFace's 64-channel maps of one photo.

    python benchmarks/conv_bands.py [--threads 1] [--repeats 5]

The two rules run alternately in one process on the same arrays; each figure is the median of
``--repeats`` calls.
"""
import argparse
import statistics
import sys
import time

from _common import contention, cpu_clock, cpu_name, set_threads

THREADS = set_threads(sys.argv)

import numpy  # noqa: E402  (after set_threads)

from minifer.kernels.cpu import im2col  # noqa: E402

# name: (input NHWC, filters)
CASES = {"ARCH-1 48x48, 64 channels, batch 64": ((64, 48, 48, 64), 64),
         "48x48, 128 channels, batch 32": ((32, 48, 48, 128), 128),
         "24x24, 128 channels, batch 64": ((64, 24, 24, 128), 128),
         "RetinaFace stride 8 of 640x480 (80x60)": ((1, 60, 80, 64), 64),
         "RetinaFace stride 8 of 960x640 (120x80)": ((1, 80, 120, 64), 64),
         "RetinaFace stride 8 of 1920x1280 (240x160)": ((1, 160, 240, 64), 64)}
WHOLE = 1 << 62  # BAND_PIXELS past any image: every image whole


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    start, rng, banded = cpu_clock(), numpy.random.default_rng(0), im2col.BAND_PIXELS
    print(f"{cpu_name()}, {args.threads} thread(s), medians of {args.repeats}\n")
    print("| shape | whole images | bands | whole / bands |\n|---|---|---|---|")
    for name, (shape, filters) in CASES.items():
        x = rng.standard_normal(shape, dtype=numpy.float32)
        w = rng.standard_normal((3, 3, shape[3], filters), dtype=numpy.float32)
        times = {WHOLE: [], banded: []}
        for _ in range(args.repeats):
            for rule in times:
                im2col.BAND_PIXELS = rule
                begin = time.perf_counter()
                im2col.im2col_conv(x, ((1, 1), (1, 1)), w, (1, 1), shape[1:3])
                times[rule].append(time.perf_counter() - begin)
        whole, bands = (statistics.median(times[rule]) * 1000 for rule in (WHOLE, banded))
        print(f"| {name} | {whole:.1f} ms | {bands:.1f} ms | {whole / bands:.2f}x |")
    im2col.BAND_PIXELS = banded
    print("\n" + contention(start))


if __name__ == "__main__":
    main()
