"""Face detection and cropping on scikit-image's astronaut photo."""
import numpy as np
import pytest
from skimage import data
from skimage.transform import rotate

from minifer.data import crop_face, detect_faces, estimate_eye_tilt


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()  # 512x512 RGB; the face spans about rows 20-200, cols 140-320


def test_astronaut_face_is_found_where_it_is(astronaut):
    boxes = detect_faces(astronaut)
    assert boxes, "no face found"
    areas = [h * w for _, _, h, w in boxes]
    assert areas == sorted(areas, reverse=True)
    top, left, height, width = boxes[0]
    assert 20 <= top and top + height <= 200 and 140 <= left and left + width <= 320
    assert height >= 60  # the face, not a detail of it


def test_crop_face_is_grey_48_and_centred_on_the_face(astronaut):
    crop = crop_face(astronaut, margin=0.2)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    top, left, height, width = detect_faces(astronaut)[0]
    grey = crop_face(astronaut, margin=0.0, box=(top, left, height, width), size=height)
    from minifer.data.faces import to_grey_uint8
    np.testing.assert_array_equal(grey, to_grey_uint8(astronaut)[top:top + height, left:left + width])


def test_no_face_gives_none():
    assert detect_faces(np.full((200, 200), 128, np.uint8)) == []
    assert crop_face(np.full((200, 200), 128, np.uint8)) is None
    assert detect_faces(np.zeros((10, 10))) == []


def test_margin_crops_pad_at_the_border():
    image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    crop = crop_face(image, margin=0.5, box=(0, 0, 4, 4), size=8)
    assert crop.shape == (8, 8)
    assert crop[0, 0] == image[0, 0]  # edge-replicated, not black


def test_eye_tilt_of_two_dark_spots():
    face = np.full((100, 100), 220.0)
    face[33:38, 28:33] = 20  # left eye
    face[43:48, 68:73] = 20  # right eye, 10 rows lower, 40 columns right
    assert estimate_eye_tilt(face) == pytest.approx(np.degrees(np.arctan2(10, 40)), abs=2)


@pytest.mark.parametrize("angle", [-10, 10])
def test_eye_tilt_follows_a_rotated_astronaut(astronaut, angle):
    from minifer.data.faces import _square_crop, to_grey_uint8

    def tilt(image):
        top, left, h, w = detect_faces(image)[0]
        return estimate_eye_tilt(_square_crop(to_grey_uint8(image), top + h / 2, left + w / 2, max(h, w)))
    turned = rotate(astronaut, angle, preserve_range=True).astype(np.uint8)  # counter-clockwise
    assert tilt(turned) == pytest.approx(tilt(astronaut) - angle, abs=3)
    aligned = crop_face(turned, align=True)
    assert aligned.shape == (48, 48)


def test_windows_at_two_scales_on_one_face_are_one_box():
    """matplotlib's Grace Hopper photo: the cascade finds her face at two scales, overlapping by an
    intersection over union of 0.61; it is one face."""
    cbook = pytest.importorskip("matplotlib.cbook")
    from PIL import Image
    grace = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    (top, left, height, width), = detect_faces(grace)
    assert 100 <= top <= 160 and 130 <= left <= 180 and height >= 180


def test_overlap_suppression_keeps_the_best_of_each_cluster():
    from minifer.data.faces import suppress_overlaps
    corners = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 0, 30, 10], [0, 0, 4, 4], [21, 0, 31, 10]]
    # the second overlaps the first by an IoU of 0.68; the third is apart; the fourth, in the corner of the
    # second, overlaps it by 0.08; the fifth overlaps the third by 0.82
    assert suppress_overlaps(corners, [0.9, 0.95, 0.5, 0.3, 0.2]) == [1, 2, 3]
    assert suppress_overlaps(corners, [0.9, 0.95, 0.5, 0.3, 0.2], max_overlap=0.05) == [1, 2]
    assert suppress_overlaps(np.zeros((0, 4)), []) == []


def test_eyes_given_level_the_crop():
    """A dark bar tilted by 20 degrees comes out level when its two ends are given as the eyes."""
    image = np.full((200, 200), 200, np.uint8)
    rows = (100 + np.tan(np.radians(20)) * (np.arange(60, 140) - 100)).round().astype(int)
    for column, row in zip(range(60, 140), rows):
        image[row - 2:row + 3, column] = 0
    eyes = ((60, rows[0]), (139, rows[-1]))
    crop = crop_face(image, margin=0.0, box=(50, 50, 100, 100), size=100, eyes=eyes)
    dark_rows = np.nonzero(crop[:, 30:70] < 100)[0]
    assert dark_rows.max() - dark_rows.min() <= 7  # level: the bar's 5 rows, give or take
    tilted = crop_face(image, margin=0.0, box=(50, 50, 100, 100), size=100)
    assert np.ptp(np.nonzero(tilted[:, 30:70] < 100)[0]) > 15
