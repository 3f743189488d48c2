"""Face detectors as the predict pipeline sees them: a callable from an RGB uint8 image to its faces.

A detector returns, largest first, either plain boxes ``(top, left, height, width)`` in the image's
pixels or :class:`Face` records that add a confidence and landmarks; nothing else in the pipeline
knows which detector runs: RetinaFace (``retinaface.py``, the default) and scikit-image's cascade
(here) are passed the same way.
A detector's ``settings()`` (a JSON-able dict) is recorded with a run's results, so a resume with
another detector is refused rather than mixed in.
"""
from dataclasses import dataclass
from typing import NamedTuple, Optional, Tuple

from ..data import detect_faces


class Face(NamedTuple):
    """One detection: ``box`` (top, left, height, width) in the image's pixels; ``score`` the
    detector's confidence and ``landmarks`` its (x, y) points, where it gives them. The first two
    landmarks are the eyes, image-left then image-right: the face is turned to level them before
    the emotion model sees it."""
    box: Tuple[int, int, int, int]
    score: Optional[float] = None
    landmarks: Optional[Tuple[Tuple[float, float], ...]] = None


def as_faces(found):
    """A detector's answer as :class:`Face` records: boxes become faces without score or landmarks."""
    return [item if isinstance(item, Face) else Face(tuple(int(v) for v in item)) for item in found]


@dataclass(frozen=True)
class CascadeDetector:
    """scikit-image's LBP frontal-face cascade (``minifer.data.detect_faces``): boxes only, no scores,
    windows overlapping on one face merged.
    ``min_neighbours`` is how many overlapping windows a face needs (more: fewer false boxes)."""
    min_neighbours: int = 4

    def __call__(self, image):
        return detect_faces(image, min_neighbours=self.min_neighbours)

    def settings(self):
        return {"name": "cascade", "min_neighbours": self.min_neighbours}


def describe(detector):
    """What a run records of its detector: its own ``settings()``, else its class's name."""
    settings = getattr(detector, "settings", None)
    return settings() if callable(settings) else {"name": f"{type(detector).__module__}.{type(detector).__qualname__}"}
