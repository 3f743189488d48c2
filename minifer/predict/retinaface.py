"""RetinaFace-MobileNet0.25 as the predict pipeline's face detector (the default; docs/predict.md).

The network (``minifer.models.retinaface``) scores two square anchors per pixel of its stride-8, 16
and 32 maps (16 and 32, 64 and 128, 256 and 512 pixels wide) and predicts each anchor's box and five
landmarks as offsets from it; here the anchors are laid out, the offsets decoded (centre offsets
scaled by 0.1 of the anchor, sizes by exp(0.2 x), the training's variances), anchors scoring below
the threshold dropped and overlapping boxes merged (non-maximum suppression, IoU 0.4). The photo
goes in at its own size: no resizing, so a face of 10 pixels is found in a photo of any size.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..data.faces import MAX_OVERLAP, suppress_overlaps, to_uint8
from ..models.retinaface import preprocess
from .detectors import Face
from .retinaface_wheel import REQUIREMENT, load_retinaface, retinaface_weights

SCORE_THRESHOLD = 0.5  # the face probability an anchor needs (docs/predict.md: faces found and false boxes)
STRIDES = (8, 16, 32)
ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))
CENTRE_VARIANCE, SIZE_VARIANCE = 0.1, 0.2


@dataclass(frozen=True)
class RetinaFaceDetector:
    """Faces whose probability is at least ``score_threshold``, merged where they overlap by more
    than ``max_overlap`` (intersection over union); the weights from minifer's cache
    (``retinaface_weights()``: fetched on the first face search if missing). Picklable and hashable,
    so a Dask worker loads the network once and runs it as this process would."""
    score_threshold: float = SCORE_THRESHOLD
    max_overlap: float = MAX_OVERLAP

    def __call__(self, image):
        rgb = as_rgb(image)
        height, width = rgb.shape[:2]
        offsets, scores, marks = network(str(retinaface_weights())).predict_on_batch(preprocess(rgb))
        return decode(offsets[0], scores[0, :, 1], marks[0], height, width, self.score_threshold, self.max_overlap)

    def settings(self):
        return {"name": "retinaface", "weights": f"{REQUIREMENT} (RetinaFace-MobileNet0.25)",
                "score_threshold": self.score_threshold, "max_overlap": self.max_overlap}


@lru_cache(maxsize=2)
def network(weights):
    """The network with ``weights`` loaded, once per process."""
    return load_retinaface(weights)


def as_rgb(image):
    """An RGB uint8 (H, W, 3) view or copy of a grey, RGB or RGBA image, uint8 or float (in [0, 1] if
    no value exceeds 1, as ``minifer.data`` reads floats, else in [0, 255])."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"a face detector takes a grey, RGB or RGBA image, got an array of shape {image.shape}")
    return to_uint8(np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3])


@lru_cache(maxsize=8)
def anchors(height, width):
    """(A, 4) anchors (centre x, centre y, width, height) in pixels, in the network's output order:
    stride 8 then 16 then 32; row by row, pixel by pixel; the smaller size first."""
    levels = []
    for stride, sizes in zip(STRIDES, ANCHOR_SIZES):
        rows, columns = -(-height // stride), -(-width // stride)
        y, x = np.meshgrid((np.arange(rows) + 0.5) * stride, (np.arange(columns) + 0.5) * stride, indexing="ij")
        centres = np.repeat(np.stack([x.ravel(), y.ravel()], axis=1), len(sizes), axis=0)
        side = np.tile(np.asarray(sizes, np.float64), rows * columns)[:, None]
        levels.append(np.concatenate([centres, side, side], axis=1))
    return np.concatenate(levels)


def decode(offsets, scores, marks, height, width, score_threshold=SCORE_THRESHOLD, max_overlap=MAX_OVERLAP):
    """The :class:`Face` records (largest first) of one image's outputs: (A, 4) box offsets, (A,)
    face probabilities and (A, 10) landmark offsets for an image of ``height`` x ``width``."""
    prior = anchors(height, width)
    if len(prior) != len(scores):
        raise ValueError(f"{len(scores)} anchors scored for a {height}x{width} image, which has {len(prior)}")
    kept = np.nonzero(scores >= score_threshold)[0]
    prior, offsets, scores = prior[kept], offsets[kept].astype(np.float64), scores[kept].astype(np.float64)
    centre = prior[:, :2] + offsets[:, :2] * CENTRE_VARIANCE * prior[:, 2:]
    size = prior[:, 2:] * np.exp(offsets[:, 2:] * SIZE_VARIANCE)
    corners = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    points = prior[:, None, :2] + marks[kept].reshape(-1, 5, 2) * CENTRE_VARIANCE * prior[:, None, 2:]
    faces = []
    for i in suppress_overlaps(corners, scores, max_overlap):
        left, top, right, bottom = np.rint(np.clip(corners[i], 0, [width, height, width, height])).astype(int)
        if bottom > top and right > left:
            faces.append(Face((int(top), int(left), int(bottom - top), int(right - left)), float(scores[i]),
                              tuple((float(x), float(y)) for x, y in points[i])))
    return sorted(faces, key=lambda face: face.box[2] * face.box[3], reverse=True)
