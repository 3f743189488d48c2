"""``python -m minifer predict`` over many files: rows appended as they come, a run killed at any
moment resumed without a row lost or written twice, an output folder never mixing two runs, and
memory bounded by what is decoded ahead, not by the number of inputs."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy
import pytest

import minifer
from minifer.cli import main
from minifer.predict import CascadeDetector, Face, PredictionRun, RunSpec
from minifer.predict.inputs import walk
from minifer.predict.prefetch import prefetch
from predict_inputs import astronaut, small_model, tiled_photos

Image = pytest.importorskip("PIL.Image")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return minifer.save(small_model(), tmp_path_factory.mktemp("model") / "m.npz")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tiled_photos(tmp_path_factory.mktemp("inputs") / "photos", 24)


def lines(out):
    return (out / "predictions.jsonl").read_text().splitlines()


def predict(*args):
    return main(["predict", "--detector", "cascade", *map(str, args)])


def test_a_run_killed_mid_write_resumes_with_every_row_once(folder, model_path, tmp_path):
    whole = tmp_path / "whole"
    assert predict(folder, "--model", model_path, "--out", whole, "--batch", "2") == 0
    expected = sorted(lines(whole))
    assert len(expected) >= 24  # a row per photo at least
    cut = tmp_path / "cut"
    command = [sys.executable, "-m", "minifer", "predict", "--detector", "cascade", str(folder), "--model", model_path,
               "--out", str(cut),
               "--batch", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (cut / "predictions.jsonl").exists() and len(lines(cut)) >= 4:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(lines(cut))
    assert 4 <= written < len(expected), "the run was not killed mid-run"
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    assert sorted(lines(cut)) == expected
    assert len((cut / "predictions.csv").read_text().splitlines()) == len(expected) + 1


def test_a_partial_last_line_is_dropped_and_its_input_redone(folder, model_path, tmp_path):
    out = tmp_path / "out"
    photos = sorted(folder.iterdir())[:3]
    assert predict(*photos, "--model", model_path, "--out", out) == 0
    whole = lines(out)
    with open(out / "predictions.jsonl", "w") as f:  # the last row half written, as a kill mid-write leaves it
        f.write("\n".join(whole[:-1]) + "\n" + whole[-1][:25])
    assert predict(*photos, "--model", model_path, "--out", out) == 0
    assert lines(out) == whole
    csv = (out / "predictions.csv").read_text().splitlines()
    assert len(csv) == len(whole) + 1 and csv[-1].startswith(str(photos[-1]))


def test_the_csv_is_rebuilt_when_a_kill_fell_between_the_two_files(folder, model_path, tmp_path):
    out = tmp_path / "out"
    photos = sorted(folder.iterdir())[:2]
    assert predict(*photos, "--model", model_path, "--out", out) == 0
    table = (out / "predictions.csv").read_text()
    (out / "predictions.csv").write_text("\n".join(table.splitlines()[:-1]) + "\n")  # one row short
    assert predict(*photos, "--model", model_path, "--out", out) == 0
    assert (out / "predictions.csv").read_text() == table


def test_another_model_or_setting_is_refused_and_fresh_starts_over(folder, model_path, tmp_path, capsys):
    out = tmp_path / "out"
    photo = sorted(folder.iterdir())[0]
    assert predict(photo, "--model", model_path, "--out", out, "--annotate") == 0
    (old_picture,) = (out / "annotated").iterdir()
    other = minifer.save(small_model(classes=3), tmp_path / "other.npz")
    for args, says in (([model_path, "--margin", "0.3"], "margin: 0.2 then, 0.3 now"),
                       ([other], "model_sha256")):
        with pytest.raises(SystemExit) as exit_:
            predict(photo, "--model", *args, "--out", out, "--annotate")
        assert exit_.value.code == 2 and says in capsys.readouterr().err
    assert predict(photo, "--model", other, "--out", out, "--fresh") == 0
    assert not old_picture.exists()  # the first run's picture does not pass for the second run's
    (row,) = map(json.loads, lines(out))
    assert list(row["probabilities"]) == ["class_0", "class_1", "class_2"] and "annotated" not in row
    assert json.loads((out / "run.json").read_text())["model_file"] == str(other)


def test_rows_left_by_something_else_are_not_appended_to(folder, model_path, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "predictions.json").write_text("[]")  # an older minifer's output
    with pytest.raises(SystemExit):
        predict(sorted(folder.iterdir())[0], "--model", model_path, "--out", out)
    assert "holds predictions.json with no run.json" in capsys.readouterr().err
    assert predict(sorted(folder.iterdir())[0], "--model", model_path, "--out", out, "--fresh") == 0
    assert not (out / "predictions.json").exists()


def test_an_output_folder_inside_the_inputs_is_not_walked(folder, model_path, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for photo in sorted(folder.iterdir())[:2]:
        (inputs / photo.name).write_bytes(photo.read_bytes())
    out = inputs / "out"
    assert predict(inputs, "--model", model_path, "--out", out, "--annotate") == 0
    assert len(list((out / "annotated").iterdir())) == 2
    assert [item.file for item in walk([inputs], skip=out)] == [str(p) for p in walk_order(inputs)]
    assert predict(inputs, "--model", model_path, "--out", out, "--annotate") == 0
    assert len(lines(out)) == 2  # its own PNGs were not taken for new inputs


def walk_order(folder):
    return [Path(e.path) for e in os.scandir(folder) if e.is_file()]


def test_decoding_ahead_holds_at_most_the_queue_bound():
    made, seen = [], []

    def produce():
        for i in range(200):
            made.append(i)
            yield i

    for item in prefetch(produce(), 4):
        time.sleep(0.001)
        seen.append(item)
        assert len(made) - len(seen) <= 4 + 1  # the queue, and the one the thread holds
    assert seen == list(range(200))


def test_a_failing_producer_raises_in_the_consumer_and_stopping_early_stops_it():
    def broken():
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(prefetch(broken(), 2))
    before = threading.active_count()
    for _ in zip(range(3), prefetch(iter(range(10**9)), 2)):
        pass
    assert threading.active_count() == before


def test_a_sideways_phone_photo_is_read_upright(model_path, tmp_path):
    """EXIF orientation 6 (the camera held sideways): the boxes are in the upright photo's pixels."""
    upright = numpy.pad(astronaut(320), ((0, 0), (0, 160), (0, 0)))  # 320 high, 480 wide
    Image.fromarray(upright).save(tmp_path / "upright.png")
    stored = Image.fromarray(numpy.ascontiguousarray(numpy.rot90(upright, 1)))  # what the sensor stored
    exif = stored.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    stored.save(tmp_path / "sideways.png", exif=exif)
    result = {name: minifer.predict_faces(tmp_path / name, model_path, detector=CascadeDetector())["faces"]
              for name in ("upright.png", "sideways.png")}
    assert result["upright.png"] and result["sideways.png"] == result["upright.png"]


class FixedDetector:
    """A detector giving a score and landmarks, as a CNN detector does (in the photo's pixels)."""

    def __call__(self, image):
        return [Face((10, 20, 40, 40), 0.875, ((30.0, 25.0), (50.0, 25.0)))]


def test_any_detector_plugs_in_and_its_scores_and_landmarks_reach_the_rows(model_path, tmp_path):
    Image.fromarray(numpy.asarray(Image.fromarray(astronaut(128)).resize((256, 256)))).save(tmp_path / "a.png")
    big = Image.fromarray(astronaut(128)).resize((2048, 2048))  # read shrunk by 2 to 1024
    big.save(tmp_path / "big.png")
    spec = RunSpec(model_path, detector=FixedDetector())
    PredictionRun([tmp_path / "a.png", tmp_path / "big.png"], tmp_path / "out", spec).execute(echo=lambda _: None)
    small, large = map(json.loads, lines(tmp_path / "out"))
    assert small["score"] == 0.875 and small["box"] == [10, 20, 40, 40]
    assert small["landmarks"] == [[30.0, 25.0], [50.0, 25.0]]
    assert large["box"] == [20, 40, 80, 80] and large["landmarks"] == [[60.0, 50.0], [100.0, 50.0]]
    assert json.loads((tmp_path / "out" / "run.json").read_text())["settings"]["detector"]["name"].endswith(
        "FixedDetector")
