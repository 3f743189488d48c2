"""``python -m minifer`` under hostile input: a model declaring a huge input, a photo of absurd
proportions, flags that would fail later or write nonsense, an --out that cannot be written, a
MINIFER_DEVICE that cannot be used. Each is one clear line, never a traceback or a blow-up;
docs/reliability.md lists these promises."""
import json
import os
import subprocess
import sys

import numpy
import pytest

import minifer
from capped import assert_ok, run_capped
from minifer.cli import main
from predict_inputs import small_model

skimage_data = pytest.importorskip("skimage.data")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def face(tmp_path_factory):
    path = tmp_path_factory.mktemp("photo") / "face.png"
    Image.fromarray(skimage_data.astronaut()).save(path)
    return path


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return minifer.save(small_model(), tmp_path_factory.mktemp("model") / "model.npz")


def predict_capped(*args, cwd):
    return run_capped(f"""
        import sys
        from minifer.cli import main
        sys.exit(main({list(map(str, args))!r}))
    """, timeout=300, cwd=cwd)


def test_a_model_declaring_a_huge_input_is_refused_before_predicting(tmp_path, face):
    path = minifer.save(small_model(size=50000), tmp_path / "huge.npz")  # a conv and a pooling: no weight grows
    assert os.path.getsize(path) < 5000
    result = predict_capped("predict", "--detector", "cascade", face, "--model", path, "--out", tmp_path / "out",
                            cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "takes 50000x50000 faces" in result.stderr and "at most 1024" in result.stderr


def test_a_photo_of_absurd_proportions_costs_nothing_and_the_others_are_predicted(tmp_path, face, model_path):
    thin = tmp_path / "thin.png"
    Image.fromarray(numpy.zeros((1, 100000), numpy.uint8)).save(thin)
    assert os.path.getsize(thin) < 1000
    result = predict_capped("predict", "--detector", "cascade", thin, face, "--model", model_path,
                            "--out", tmp_path / "out", "--annotate", cwd=tmp_path)
    assert_ok(result)
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    by_file = {os.path.basename(r["file"]): r for r in rows}
    assert "label" in by_file["face.png"] and by_file["thin.png"].get("note") == "no face found"
    assert Image.open(tmp_path / "out" / by_file["thin.png"]["annotated"]).width < 3000  # not 4,096 inches


@pytest.mark.parametrize("flag, value, message", [
    ("--margin", "nan", "margin"), ("--margin", "inf", "margin"), ("--margin", "1e6", "margin"),
    ("--margin", "-3", "margin"), ("--input-range", "0,inf", "finite"), ("--input-range", "nan,1", "finite"),
    ("--classes", "a,a,a,a,a,a,a", "a repeated"), ("--classes", ",,,,,,", "none empty")])
def test_flags_that_would_fail_later_or_write_nonsense_are_usage_errors(tmp_path, face, model_path, capsys, flag,
                                                                        value, message):
    with pytest.raises(SystemExit) as stop:
        main(["predict", "--detector", "cascade", str(face), "--model", model_path, "--out", str(tmp_path / "out"),
              f"{flag}={value}"])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("out, message", [("a_file", "is a file, not a folder"),
                                          ("a_file/sub", "cannot be made")])
def test_an_out_that_cannot_be_written_is_a_usage_error(tmp_path, face, model_path, capsys, out, message):
    (tmp_path / "a_file").write_text("mine")
    with pytest.raises(SystemExit) as stop:
        main(["predict", "--detector", "cascade", str(face), "--model", model_path, "--out", str(tmp_path / out)])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "mine"


def test_a_full_disk_while_writing_is_one_line(tmp_path, face, model_path, monkeypatch):
    def full(self, rows):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("minifer.predict.results.ResultsFolder.append", full)
    with pytest.raises(SystemExit) as stop:
        main(["predict", "--detector", "cascade", str(face), "--model", model_path, "--out", str(tmp_path / "out")])
    assert "No space left on device" in str(stop.value.code) and "resumes" in str(stop.value.code)


def gpu_works():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@pytest.mark.skipif(gpu_works(), reason="a GPU is here: MINIFER_DEVICE=gpu works")
@pytest.mark.parametrize("command", [[sys.executable, "-m", "minifer", "summary", "arch1"],
                                     [sys.executable, os.path.join(os.path.dirname(__file__), "..", "examples",
                                                                   "train.py"), "--out", "run"]])
def test_minifer_device_gpu_without_a_gpu_is_one_clean_line(tmp_path, command):
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "MINIFER_DEVICE": "gpu"})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "MINIFER_DEVICE" in result.stderr and ("CuPy" in result.stderr or "driver" in result.stderr)
    assert not (tmp_path / "run").exists()  # no run folder before the device works
