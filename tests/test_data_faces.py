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
