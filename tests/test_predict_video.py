"""Videos: decoded with PyAV and sampled at --fps, a row per sampled frame, a timeline per video, an
annotated copy on request, a damaged or truncated file reported with what was read, and segments
(a resume's, a cluster's) picking exactly the frames a whole pass picks. Videos are made here, with
PyAV, from a real photo and synthetic faces."""
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

import minifer
from minifer.cli import main
from predict_inputs import astronaut, small_model, video_frames, write_video

av = pytest.importorskip("av", reason="the video extra (PyAV) is not installed")
Image = pytest.importorskip("PIL.Image")
from minifer.predict.plan import segments  # noqa: E402
from minifer.predict.video import Report, probe, sample_frames  # noqa: E402

FRAMES, RATE = 75, 25  # 3 seconds
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    write_video(folder / "clip.mp4", video_frames(FRAMES), RATE)
    write_video(folder / "clip.mkv", video_frames(FRAMES), RATE)
    whole = (folder / "clip.mkv").read_bytes()
    (folder / "cut.mkv").write_bytes(whole[:len(whole) // 2])  # cut mid-stream: frames up to there decode
    whole = (folder / "clip.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(whole[:len(whole) // 2])  # its index is at the end: nothing opens
    return folder


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return minifer.save(small_model(), tmp_path_factory.mktemp("model") / "m.npz")


def test_sampling_takes_the_first_frame_of_each_slot(videos):
    frames = list(sample_frames(videos / "clip.mp4", 4))
    assert [f.slot for f in frames] == list(range(12))
    assert [f.index for f in frames] == [0, 7, 13, 19, 25, 32, 38, 44, 50, 57, 63, 69]  # ceil(k * 25 / 4)
    numpy.testing.assert_allclose([f.time for f in frames], [i / RATE for i in [f.index for f in frames]])
    assert frames[0].rgb.shape == (160, 160, 3) and frames[0].scale == 1
    # the first frame is the astronaut as written (within the codec's loss)
    assert numpy.abs(frames[0].rgb.astype(int) - astronaut()).mean() < 6
    # faster than the video: every frame, once
    assert [f.index for f in sample_frames(videos / "clip.mp4", 60)] == list(range(FRAMES))


def test_segments_decode_the_same_frames_as_a_whole_pass(videos):
    info = probe(videos / "clip.mp4")
    assert info.duration == 3.0 and info.rate == 25 and info.slots(4) == 12
    parts = list(segments(None, info, 4, batch=5))
    assert [(s.first, s.last) for s in parts] == [(0, 5), (5, 10), (10, None)]
    pieced = [f for s in parts for f in sample_frames(videos / "clip.mp4", 4, s.first, s.last)]
    whole = list(sample_frames(videos / "clip.mp4", 4))
    assert [f.time for f in pieced] == [f.time for f in whole]
    assert all(numpy.array_equal(a.rgb, b.rgb) for a, b in zip(pieced, whole))


def test_a_truncated_video_reports_what_was_read(videos):
    report = Report()
    frames = list(sample_frames(videos / "cut.mkv", 4, report=report))
    assert 0 < len(frames) < 12 and report.sampled == len(frames) and report.last_time < 2.5
    assert probe(videos / "cut.mkv").duration == 3.0  # the header still says 3 s


def test_predict_on_videos_writes_frame_rows_a_timeline_and_an_annotated_copy(videos, model_path, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["predict", "--detector", "cascade", str(videos), "--model", model_path, "--out", str(out),
                 "--fps", "4", "--annotate-video", "--batch", "5"]) == 0
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    ends = {r["file"].rsplit("/", 1)[-1]: r for r in rows if "frame" not in r}
    assert set(ends) == {"clip.mp4", "clip.mkv", "cut.mkv", "cut.mp4"}
    assert "cannot be read as a video" in ends["cut.mp4"]["error"]
    cut = ends["cut.mkv"]
    assert cut["error"].startswith("damaged or truncated:") and f"{cut['frames']} frame(s) sampled" in cut["error"]
    assert 0 < cut["frames"] < 12 and "of 3.00 s declared" in cut["error"]
    clip = ends["clip.mp4"]
    assert clip["frames"] == 12 and clip["duration"] == 3.0 and "error" not in clip
    frames = [r for r in rows if r["file"] == clip["file"] and "frame" in r]
    assert sorted({r["frame"] for r in frames}) == [0, 7, 13, 19, 25, 32, 38, 44, 50, 57, 63, 69]
    with_face = {r["frame"] for r in frames if "box" in r}
    assert {0, 7, 13, 19, 63, 69} <= with_face and not with_face & {50, 57}  # the astronaut; the cup
    assert [r.get("note") for r in frames if r["frame"] in (50, 57)] == ["no face found"] * 2
    assert all(("box" in r) != ("note" in r) for r in frames)
    assert frames.index(next(r for r in frames if r["frame"] == 7)) > 0  # rows in time order
    timeline = Image.open(out / clip["timeline"])
    assert timeline.size[0] > 600 and timeline.size[1] > 200
    with av.open(str(out / clip["annotated"])) as copy:
        decoded = [f.to_ndarray(format="rgb24") for f in copy.decode(video=0)]
    assert len(decoded) == FRAMES and decoded[0].shape == (160, 160, 3)
    plain = next(iter(sample_frames(videos / "clip.mp4", 4))).rgb
    assert numpy.abs(decoded[0].astype(int) - plain).max() > 100  # a box drawn on the face
    assert "clip.mp4: video, 12 frame(s) sampled" in capsys.readouterr().out


def test_a_video_cut_short_by_a_kill_resumes_at_its_first_missing_segment(videos, model_path, tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    args = [str(videos / "clip.mkv"), "--model", model_path, "--fps", "4", "--batch", "5"]
    assert main(["predict", "--detector", "cascade", *args, "--out", str(whole)]) == 0
    expected = (whole / "predictions.jsonl").read_text().splitlines()
    frame_rows = [line for line in expected if '"frame"' in line]
    first_segment = [line for line in frame_rows if json.loads(line)["time"] < 5 / 4]
    assert 0 < len(first_segment) < len(frame_rows)
    cut.mkdir()
    for name in ("run.json", "predictions.csv"):
        (cut / name).write_bytes((whole / name).read_bytes())
    (cut / "predictions.jsonl").write_text("\n".join(first_segment) + "\n")  # killed after the first chunk
    assert main(["predict", "--detector", "cascade", *args, "--out", str(cut)]) == 0
    assert (cut / "predictions.jsonl").read_text().splitlines() == expected
    assert (cut / "predictions.csv").read_text() == (whole / "predictions.csv").read_text()


def test_a_phone_video_is_turned_upright(tmp_path):
    """A display rotation of -90 (shown turned a quarter clockwise): frames come out upright."""
    upright = numpy.pad(astronaut(), ((0, 0), (0, 96), (0, 0)))  # 160 high, 256 wide
    stored = [numpy.ascontiguousarray(numpy.rot90(upright, 1))] * 5  # what the phone stored: 256 high
    write_video(tmp_path / "phone.mp4", stored, rotation=-90)
    (frame,) = sample_frames(tmp_path / "phone.mp4", 1)
    assert frame.rgb.shape == (160, 256, 3)
    assert numpy.abs(frame.rgb.astype(int) - upright).mean() < 6


def claim_duration(mkv, seconds):
    """The same Matroska file with its header's Duration (milliseconds, a big-endian double) replaced."""
    data = mkv.read_bytes()
    at = data.find(b"\x44\x89\x88")  # the Duration element's ID and an 8-byte size
    assert at > 0 and struct.unpack(">d", data[at + 3:at + 11]) == (FRAMES / RATE * 1000,)
    return data[:at + 3] + struct.pack(">d", seconds * 1000) + data[at + 11:]


def test_a_header_claiming_years_costs_seconds(videos, model_path, tmp_path):
    """Segments are planned from the declared length only until one meets the end of the file."""
    liar = tmp_path / "liar.mkv"
    liar.write_bytes(claim_duration(videos / "clip.mkv", 10**9))  # 30 years at --fps 2: 60 million slots
    assert probe(liar).duration == 10**9
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "minifer", "predict", "--detector", "cascade", str(liar),
                           "--model", model_path, "--out", str(out), "--batch", "4"],
                          env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    row = json.loads((out / "predictions.jsonl").read_text().splitlines()[-1])
    assert row["frames"] == 6 and row["error"] == ("damaged or truncated: 6 frame(s) sampled up to 2.96 s "
                                                   "of 1000000000.00 s declared")
