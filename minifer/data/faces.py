"""Face detection and cropping with scikit-image's bundled LBP frontal-face cascade.

Photos of any size become the 48x48 grey crops the models expect: detect the face,
widen the box by a margin (expressions reach the forehead and chin), optionally level
the eyes, crop and resize.  Detection runs on a copy shrunk to at most
``DETECT_SIDE`` pixels, which is ~10x faster on 640x490 CK+ frames and finds the same
faces, since the cascade's smallest window is 24 pixels anyway.
"""
from functools import lru_cache

import numpy as np
from PIL import Image

from .images import resize

DETECT_SIDE = 320
MAX_EYE_TILT_DEGREES = 25.0
MAX_OVERLAP = 0.4  # intersection over union above which two boxes are one face (RetinaFace's own setting)


@lru_cache(maxsize=1)
def _cascade():
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade
    return Cascade(lbp_frontal_face_cascade_filename())


def to_grey_uint8(image):
    """Grey uint8 2-D version of a grey/RGB(A), uint8/float image.

    uint8 colour goes through Pillow's ``convert('L')``, exactly as image files do in
    :func:`~minifer.data.images.read_grey`, so a photo gives the same crop either way.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.dtype == np.uint8:
        return np.asarray(Image.fromarray(np.ascontiguousarray(image[..., :3])).convert("L"))
    if image.ndim == 3:
        image = image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return to_uint8(image)


def to_uint8(image):
    """``image`` as uint8 pixels: as it is if uint8, else floats in [0, 1] (no value above 1, as
    ``minifer.data`` reads them) or in [0, 255], rounded and clipped."""
    if image.dtype == np.uint8:
        return image
    image = np.asarray(image, np.float64)
    return np.clip(np.rint(image * (255.0 if image.max(initial=0) <= 1.0 else 1.0)), 0, 255).astype(np.uint8)


def detect_faces(image, min_neighbours=4):
    """Face boxes ``(top, left, height, width)`` in ``image``'s pixels, largest first.

    An empty list when no face is found (or the image is under 24 pixels).
    """
    from skimage.transform import rescale
    grey = to_grey_uint8(image).astype(np.float64) / 255.0
    scale = min(1.0, DETECT_SIDE / max(grey.shape))
    small = rescale(grey, scale, anti_aliasing=True) if scale < 1.0 else grey
    if min(small.shape) < 24:
        return []
    found = _cascade().detect_multi_scale(
        img=small, scale_factor=1.15, step_ratio=1, min_size=(24, 24),
        max_size=small.shape, min_neighbor_number=min_neighbours)
    boxes = np.array([[f["r"], f["c"], f["height"], f["width"]] for f in found], np.float64).reshape(-1, 4)
    corners = np.concatenate([boxes[:, 1::-1], boxes[:, 1::-1] + boxes[:, :1:-1]], axis=1)
    keep = suppress_overlaps(corners, boxes[:, 2] * boxes[:, 3])  # windows at two scales on one face
    return [tuple(int(round(v / scale)) for v in boxes[i]) for i in keep]


def suppress_overlaps(corners, scores, max_overlap=MAX_OVERLAP):
    """Indices of the boxes to keep, highest score first: greedily, each box whose intersection over
    union with a box kept before it exceeds ``max_overlap`` is dropped (non-maximum suppression).
    ``corners`` (K, 4) are x1, y1, x2, y2."""
    corners, scores = np.asarray(corners, np.float64), np.asarray(scores, np.float64)
    area = np.maximum(corners[:, 2] - corners[:, 0], 0) * np.maximum(corners[:, 3] - corners[:, 1], 0)
    order, keep = np.argsort(-scores, kind="stable"), []
    while order.size:
        first, rest = order[0], order[1:]
        keep.append(int(first))
        low = np.maximum(corners[first, :2], corners[rest, :2])
        high = np.minimum(corners[first, 2:], corners[rest, 2:])
        inter = np.prod(np.maximum(high - low, 0), axis=1)
        union = area[first] + area[rest] - inter
        order = rest[inter <= max_overlap * union]
    return keep


def _square_crop(grey, centre_row, centre_col, side):
    """A ``side`` x ``side`` crop centred on a point, edge-padded where it leaves the image."""
    side = max(int(round(side)), 1)
    top = int(round(centre_row - side / 2))
    left = int(round(centre_col - side / 2))
    pad = max(0, -top, -left, top + side - grey.shape[0], left + side - grey.shape[1])
    padded = np.pad(grey, pad, mode="edge") if pad else grey
    return padded[top + pad:top + pad + side, left + pad:left + pad + side]


def estimate_eye_tilt(face):
    """Best-effort eye-line angle in degrees (positive: the image-right eye is lower).

    Takes the strongest small dark spot (black top-hat, then smoothed) in each upper
    quarter of a face crop as an eye: the top-hat ignores hair and broad shadows.
    Returns None when the result is implausible (too tilted, eyes too close/far).
    """
    from scipy.ndimage import gaussian_filter, grey_closing
    h, w = face.shape
    face = face.astype(np.float64)
    dark_spots = face - grey_closing(face, size=(max(3, w // 8),) * 2)
    band = gaussian_filter(dark_spots[int(0.25 * h):int(0.5 * h)], w / 30)
    eyes = []
    for lo, hi in ((int(0.15 * w), int(0.45 * w)), (int(0.55 * w), int(0.85 * w))):
        r, c = np.unravel_index(np.argmin(band[:, lo:hi]), band[:, lo:hi].shape)
        eyes.append((r, c + lo))
    (r1, c1), (r2, c2) = eyes
    angle = np.degrees(np.arctan2(r2 - r1, c2 - c1))
    distance = np.hypot(r2 - r1, c2 - c1)
    if abs(angle) > MAX_EYE_TILT_DEGREES or not 0.25 * w <= distance <= 0.75 * w:
        return None
    return float(angle)


def crop_face(image, margin=0.2, size=48, align=False, box=None, eyes=None):
    """Grey ``size`` x ``size`` uint8 crop of the largest face, or None if none is found.

    ``margin`` widens the (square) box by that fraction of its side on every side.
    ``align=True`` rotates the face so the eyes are level when
    :func:`estimate_eye_tilt` finds them plausibly, and leaves it as is otherwise.
    ``box`` skips detection; ``eyes``, the (x, y) of the image-left then the image-right eye
    (a detector's landmarks), levels them: the face is turned by the line between them.
    """
    grey = to_grey_uint8(image)
    if box is None:
        boxes = detect_faces(grey)
        if not boxes:
            return None
        box = boxes[0]
    top, left, height, width = box
    centre_row, centre_col = top + height / 2, left + width / 2
    side = max(height, width) * (1 + 2 * margin)
    if align or eyes is not None:
        tilt = (estimate_eye_tilt(_square_crop(grey, centre_row, centre_col, max(height, width))) if eyes is None
                else float(np.degrees(np.arctan2(eyes[1][1] - eyes[0][1], eyes[1][0] - eyes[0][0]))))
        if tilt is not None and abs(tilt) > 1.0:
            from skimage.transform import rotate
            context = _square_crop(grey, centre_row, centre_col, side * 1.5)
            levelled = rotate(context, tilt, mode="edge", preserve_range=True)
            c = levelled.shape[0] / 2
            face = _square_crop(levelled, c, c, side)
            return resize(np.clip(np.rint(face), 0, 255).astype(np.uint8), size)
    return resize(_square_crop(grey, centre_row, centre_col, side), size)


def centre_crop(image, size=48):
    """The central square of ``image``, grey and resized: the no-face fallback."""
    grey = to_grey_uint8(image)
    h, w = grey.shape
    return resize(_square_crop(grey, h / 2, w / 2, min(h, w)), size)


def face_crop_or_centre(image, margin=0.2, align=False, size=48):
    """``(crop, found)``: the face crop, or the centre crop and False when none is found."""
    face = crop_face(image, margin=margin, size=size, align=align)
    if face is None:
        return centre_crop(image, size), False
    return face, True
