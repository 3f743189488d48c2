"""``python -m minifer predict``: arguments that cannot work are usage errors (exit status 2, no
traceback), the exit status is 1 only when nothing could be read, and odd photos keep the annotated
figure a bounded picture."""
import os

import numpy
import pytest

import minifer
from minifer.cli import main
from predict_inputs import astronaut, small_model

Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return minifer.save(small_model(), tmp_path_factory.mktemp("model") / "m.npz")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photo") / "face.png"
    Image.fromarray(astronaut()).save(path)
    return path


@pytest.mark.parametrize("flag, value, says", [
    ("--margin", "nan", "expected a finite number"), ("--margin", "inf", "expected a finite number"),
    ("--margin", "1e6", "expected from 0 to 1"), ("--margin", "-3", "expected from 0 to 1"),
    ("--input-range", "0,inf", "expected a finite number"), ("--input-range", "1,0", "LOW must be below HIGH"),
    ("--input-range", "0,1,2", "expected LOW,HIGH"),
    ("--classes", "a,a,a", "a repeated"), ("--classes", ",,,,", "with none empty"),
    ("--fps", "0", "expected above 0"), ("--fps", "nan", "expected a finite number"),
    ("--batch", "0", "expected from 1"), ("--batch", "2.5", "expected a whole number"),
    ("--workers", "0", "expected from 1"),
])
def test_bad_values_are_usage_errors(flag, value, says, photo, model_path, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "--detector", "cascade", str(photo), "--model", model_path, "--out", str(tmp_path / "o"),
              f"{flag}={value}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and says in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_an_output_that_is_a_file_or_cannot_be_made_is_a_usage_error(photo, model_path, tmp_path, capsys):
    a_file = tmp_path / "taken.txt"
    a_file.write_text("mine")
    for out, says in ((a_file, "is a file, not a folder"), (a_file / "sub", "cannot be made")):
        with pytest.raises(SystemExit) as exit_:
            main(["predict", "--detector", "cascade", str(photo), "--model", model_path, "--out", str(out)])
        assert exit_.value.code == 2 and says in capsys.readouterr().err
    assert a_file.read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_output_folder_is_a_usage_error(photo, model_path, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["predict", "--detector", "cascade", str(photo), "--model", model_path, "--out", str(locked)])
        assert exit_.value.code == 2 and "cannot be written to" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_nothing_to_read_exits_1_and_a_partial_failure_exits_0(photo, model_path, tmp_path, capsys):
    assert main(["predict", "--detector", "cascade", str(tmp_path / "nothere.jpg"), "--model", model_path,
                 "--out", str(tmp_path / "a")]) == 1
    captured = capsys.readouterr()
    assert "nothere.jpg: error: not found" in captured.out and "nothing could be read" in captured.err
    (tmp_path / "empty").mkdir()
    assert main(["predict", "--detector", "cascade", str(tmp_path / "empty"), "--model", model_path,
                 "--out", str(tmp_path / "b")]) == 1
    assert main(["predict", "--detector", "cascade", str(photo), str(tmp_path / "nothere.jpg"), "--model", model_path,
                 "--out", str(tmp_path / "c")]) == 0
    # run again: everything is done already, which is not a failure
    assert main(["predict", "--detector", "cascade", str(photo), "--model", model_path,
                 "--out", str(tmp_path / "c")]) == 0
    assert "1 done before" in capsys.readouterr().out


def test_a_100000x1_photo_makes_a_bounded_figure(model_path, tmp_path):
    Image.fromarray(numpy.full((1, 100000, 3), 128, numpy.uint8)).save(tmp_path / "line.png")
    out = tmp_path / "out"
    assert main(["predict", "--detector", "cascade", str(tmp_path / "line.png"), "--model", model_path,
                 "--out", str(out), "--annotate"]) == 0
    (picture,) = (out / "annotated").iterdir()
    width, height = Image.open(picture).size
    assert width <= 12 * 120 + 200 and height <= 4 * 120 + 200  # inches at 120 dpi, plus the title's margin
