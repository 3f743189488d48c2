"""What a worker does with a chunk: decode, find the faces, predict, and hand back rows.

The same function runs in the command's own process and on every Dask worker, so one process and a
cluster give the same rows. A worker never writes a file: annotated pictures come back as PNG bytes,
and the process that writes the rows writes them too, so a chunk redone after its worker died
writes nothing twice. The model is loaded once per process and kept for the chunks that follow.
"""
import io
import os
from dataclasses import dataclass, field
from typing import Optional, Tuple

from .. import plot
from ..backend import set_device
from ..data.errors import DataError
from .plan import Segment
from .predictor import DEFAULT_MARGIN, NonFiniteOutput, Predictor, in_file_pixels, read_photo
from .prefetch import prefetch
from .retinaface import RetinaFaceDetector
from .rows import error_row, image_rows, picture_name
from .video import Report, sample_frames

DECODED_AHEAD = 4  # decoded images waiting for the detector, at most


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to turn inputs into rows. ``model`` is a model file's path (every
    worker loads it), ``detector`` a picklable, hashable callable (``minifer.predict.detectors``; a
    frozen dataclass is both)."""
    model: str
    class_names: Optional[Tuple[str, ...]] = None
    input_range: Optional[Tuple[float, float]] = None
    margin: float = DEFAULT_MARGIN
    fps: float = 2.0
    detector: object = RetinaFaceDetector()
    annotate: bool = False
    device: str = "cpu"


@dataclass
class ChunkResult:
    """A chunk's rows, grouped per photo or sampled frame; its video segments with what decoding
    met; annotated pictures by their name in the output folder; how many images were decoded."""
    groups: list = field(default_factory=list)
    segments: list = field(default_factory=list)
    pictures: dict = field(default_factory=dict)
    images: int = 0


_loaded = {}


def predictor_for(spec):
    """The spec's Predictor, loaded on this process's first chunk and kept for the next ones."""
    if spec not in _loaded:
        _loaded.clear()
        set_device(spec.device)
        _loaded[spec] = Predictor(spec.model, spec.class_names, spec.input_range, detector=spec.detector)
    return _loaded[spec]


def run_chunk(units, spec):
    """The :class:`ChunkResult` of ``units`` (photos as ``inputs.Input``, or one ``plan.Segment``)."""
    predictor = predictor_for(spec)
    result = ChunkResult()
    for unit, image, outcome in prefetch(_decoded(units, spec.fps), DECODED_AHEAD):
        if isinstance(outcome, Report):
            result.segments.append((unit, outcome))
        elif outcome is not None:
            result.groups.append([error_row(unit, outcome)])
        else:
            rgb, scale, frame = image
            result.images += 1
            item, name = unit if frame is None else unit.input, None
            try:
                faces = predictor.faces(rgb, spec.margin)
            except NonFiniteOutput as error:  # that photo's or frame's answer: the others go on
                result.groups.append([error_row(item, str(error), frame)])
                continue
            if spec.annotate and frame is None:
                name = picture_name(item.file, "annotated", ".png")
                result.pictures[name] = _figure(rgb, faces, os.path.basename(item.file))
            result.groups.append(image_rows(item, in_file_pixels(faces, scale), frame, name))
    return result


def _decoded(units, fps):
    """``(unit, (rgb, scale, frame), None)`` per image, ``(unit, None, message)`` per input that cannot
    be read, and ``(segment, None, report)`` after a segment's frames."""
    for unit in units:
        if isinstance(unit, Segment):
            report = Report()
            for frame in sample_frames(unit.input.file, fps, unit.first, unit.last, report):
                yield unit, (frame.rgb, frame.scale, frame), None
            yield unit, None, report
        elif unit.error is not None:
            yield unit, None, unit.error
        else:
            try:
                rgb, scale = read_photo(unit.file)
            except (DataError, OSError) as error:  # read_photo's messages start with the path: the row has it
                yield unit, None, str(error).removeprefix(f"{unit.file}: ")
                continue
            yield unit, (rgb, scale, None), None


def _figure(rgb, faces, title):
    buffer = io.BytesIO()
    plot.faces_figure(rgb, faces, buffer, title=title)
    return buffer.getvalue()
