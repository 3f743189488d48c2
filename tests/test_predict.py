"""Photo -> emotions: ``minifer.predict_faces`` and ``python -m minifer predict`` on a folder of mixed
files, with a small random-weight model (the fer model's own test is test_keras_fer.py)."""
import json

import numpy
import pytest

import minifer
from minifer import layers as L
from minifer.cli import main
from minifer.layers import fresh_names
from minifer.predict import CascadeDetector, Predictor
from predict_inputs import small_model

skimage_data = pytest.importorskip("skimage.data")
Image = pytest.importorskip("PIL.Image")


def read_rows(out):
    """{file name: [rows]} of a run's predictions.jsonl."""
    rows = {}
    for line in (out / "predictions.jsonl").read_text().splitlines():
        row = json.loads(line)
        rows.setdefault(pathlib_name(row["file"]), []).append(row)
    return rows


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Faces, no face, corrupt, empty, grey, RGBA, large, and a file that is not an image at all."""
    folder = tmp_path_factory.mktemp("photos")
    astronaut = skimage_data.astronaut()
    Image.fromarray(astronaut).save(folder / "face.png")
    Image.fromarray(skimage_data.camera()).save(folder / "grey_no_face.png")
    Image.fromarray(numpy.dstack([astronaut, numpy.full(astronaut.shape[:2], 180, numpy.uint8)])).save(
        folder / "face_rgba.png")
    Image.fromarray(astronaut).resize((2400, 2400)).save(folder / "face_large.jpg", quality=70)
    Image.fromarray(skimage_data.coffee()).save(folder / "no_face.jpg")
    (folder / "corrupt.jpg").write_bytes((folder / "no_face.jpg").read_bytes()[:400])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def run(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    model_path = minifer.save(small_model(), out / "model.npz")
    code = main(["predict", "--detector", "cascade", str(photos), "--model", model_path, "--out", str(out / "result"),
                 "--input-range", "-1,1", "--annotate"])
    return code, out / "result", model_path


def test_predict_on_a_mixed_folder_reports_every_file(run, photos):
    code, out, _ = run
    assert code == 0
    rows = read_rows(out)
    assert set(rows) == {"face.png", "grey_no_face.png", "face_rgba.png", "face_large.jpg", "no_face.jpg",
                         "corrupt.jpg", "empty.png"}  # notes.txt is not an image: not searched
    assert len(rows["face.png"]) == len(rows["face_rgba.png"]) == 1
    for name in ("face.png", "face_rgba.png", "face_large.jpg"):
        face = rows[name][0]  # the largest (the large JPEG's artefacts may add a false one)
        assert face["face"] == 1 and len(face["box"]) == 4
        assert set(face) == {"file", "size", "mtime_ns", "face", "box", "probabilities", "label", "annotated"}
        assert list(face["probabilities"]) == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
        assert abs(sum(face["probabilities"].values()) - 1) < 1e-4
        assert face["label"] == max(face["probabilities"], key=face["probabilities"].get)
    assert rows["face.png"][0]["box"] == [64, 176, 99, 99]
    # found in a copy shrunk from 2400 to 1024 pixels, reported in the file's pixels
    numpy.testing.assert_allclose(rows["face_large.jpg"][0]["box"], [64 * 4.6875, 176 * 4.6875, 99 * 4.6875,
                                                                     99 * 4.6875], rtol=0.08)
    for name in ("grey_no_face.png", "no_face.jpg"):
        assert [r.get("note") for r in rows[name]] == ["no face found"] and "box" not in rows[name][0]
    assert "cannot be read as an image" in rows["corrupt.jpg"][0]["error"]
    assert "image file is empty" in rows["empty.png"][0]["error"]
    for name, entries in rows.items():
        for row in entries:
            info = (photos / name).stat()
            assert (row["size"], row["mtime_ns"]) == (info.st_size, info.st_mtime_ns)
            assert ("annotated" in row) == ("error" not in row)
            if "annotated" in row:
                assert Image.open(out / row["annotated"]).size[0] > 100


def pathlib_name(path):
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def test_predict_prints_one_line_per_image(photos, tmp_path, capsys):
    model_path = minifer.save(small_model(), tmp_path / "m.npz")
    main(["predict", "--detector", "cascade", str(photos / "face.png"), str(photos / "corrupt.jpg"),
          "--model", model_path, "--out", str(tmp_path / "o")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{photos / 'face.png'}: 1 face(s): ")
    assert lines[1].startswith(f"{photos / 'corrupt.jpg'}: error: cannot be read as an image")
    assert lines[2].startswith("1 input(s) read (1 photo(s), 0 video(s), 0 frame(s)), 1 face(s), 1 unreadable")


def test_the_library_call_gives_what_the_command_wrote(run, photos):
    _, out, model_path = run
    faces = [{k: row[k] for k in ("box", "probabilities", "label")} for row in read_rows(out)["face.png"]]
    result = minifer.predict_faces(photos / "face.png", model_path, input_range=(-1, 1), detector=CascadeDetector())
    assert result == {"file": str(photos / "face.png"), "faces": faces}
    from_array = minifer.predict_faces(skimage_data.astronaut(), minifer.load(model_path), input_range=(-1, 1),
                                      detector=CascadeDetector())
    assert from_array["faces"] == faces


def test_a_model_file_carries_its_class_names_and_input_range(tmp_path, photos):
    model = small_model(classes=3, metadata={"class_names": ["calm", "glad", "cross"]}, pixel_range=(-1, 1))
    path = minifer.save(model, tmp_path / "m.npz")
    predictor = Predictor(path)
    assert predictor.class_names == ["calm", "glad", "cross"] and predictor.input_range == (-1.0, 1.0)
    crops = numpy.array([[[0, 255]]], numpy.uint8)
    numpy.testing.assert_array_equal(predictor.scale(crops)[..., 0], [[[-1.0, 1.0]]])
    (face,) = minifer.predict_faces(photos / "face.png", path, detector=CascadeDetector())["faces"]
    assert list(face["probabilities"]) == ["calm", "glad", "cross"]


def test_a_format_1_file_keeps_the_input_range_it_was_saved_with(tmp_path):
    """Format 1 scaled every model's uint8 input to [0, 1], and predict read metadata["input_range"]:
    loaded now, the model's input declares that range, so it takes its arrays as it did."""
    path = minifer.save(small_model(classes=3), tmp_path / "m.npz")
    with numpy.load(path) as archive:
        members = {k: archive[k] for k in archive.files}
    header = json.loads(members["__minifer_model__"].tobytes())
    assert header["format_version"] == 2 and "pixel_range" not in header["model"]["config"]
    for metadata, expected in (({}, (0.0, 1.0)), ({"input_range": [-1, 1]}, (-1.0, 1.0))):
        old = {**header, "format_version": 1, "metadata": metadata}
        numpy.savez(path, **{**members, "__minifer_model__": numpy.frombuffer(json.dumps(old).encode(), numpy.uint8)})
        loaded = minifer.load(path)
        assert loaded.inputs[0].layer.pixel_range == expected and Predictor(path).input_range == expected
        pixels = numpy.full((1, 32, 32, 1), 255, numpy.uint8)
        numpy.testing.assert_allclose(loaded.predict(pixels, verbose=0),
                                      loaded.predict(numpy.full((1, 32, 32, 1), expected[1], numpy.float32), verbose=0))


def test_class_names_must_match_the_outputs(tmp_path, photos, capsys):
    path = minifer.save(small_model(classes=3), tmp_path / "m.npz")
    with pytest.raises(SystemExit):
        main(["predict", "--detector", "cascade", str(photos / "face.png"), "--model", path, "--classes", "a,b"])
    assert "2 class names (a, b) for a model with 3 outputs" in capsys.readouterr().err
    assert Predictor(path).class_names == ["class_0", "class_1", "class_2"]


def test_a_missing_model_file_is_a_usage_error(tmp_path, photos, capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--detector", "cascade", str(photos / "face.png"), "--model", str(tmp_path / "nope.h5")])
    assert "nope.h5" in capsys.readouterr().err


def test_three_channel_models_get_the_grey_face_in_every_channel():
    with fresh_names():
        model = minifer.Sequential([L.Flatten(), L.Dense(7, activation="softmax")], input_shape=(8, 8, 3))
    x = Predictor(model).scale(numpy.full((1, 8, 8), 51, numpy.uint8))
    assert x.shape == (1, 8, 8, 3) and numpy.allclose(x, 0.2)
