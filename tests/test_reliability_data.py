"""Data readers under hostile input: bounded memory, every problem a DataError naming the file,
and ``skip_bad`` skipping (and counting) every kind of bad entry. docs/reliability.md lists them."""
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from capped import assert_ok, run_capped
from minifer.data import (DataError, LoadReport, load_ckplus, load_ferplus, load_image_folder,
                          load_splits, write_fer2013_csv)
from minifer.data.images import read_grey

MAX_MESSAGES, MAX_SIDE = 20, 1024  # the documented bounds (docs/reliability.md)

pytestmark = pytest.mark.filterwarnings("ignore::minifer.data.DataWarning")


def png(width, height, rows=None):
    """A grey PNG of ``width`` x ``height`` made without Pillow; ``rows=None`` leaves out the
    pixel data (a header that only declares the size)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    data = b"" if rows is None else zlib.compress(rows, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def class_folder(root, name="happy", n_good=2):
    folder = root / name
    folder.mkdir(parents=True)
    for k in range(n_good):
        Image.fromarray(np.full((48, 48), 10 * k, np.uint8)).save(folder / f"good{k}.png")
    return folder


# -- memory bounds ----------------------------------------------------------------------------

def test_a_csv_of_millions_of_bad_lines_is_counted_not_kept(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_bytes(b"emotion,pixels,Usage\n" + b"x\n" * 2_500_000)  # 5 MB
    result = run_capped(f"""
        from minifer.data import DataError, LoadReport, load_fer2013
        report = LoadReport()
        x, y = load_fer2013({str(path)!r}, skip_bad=True, report=report)
        assert len(y) == 0 and report.n_skipped == 2_500_000 and len(report.skipped) == 20, report.n_skipped
        try:
            load_fer2013({str(path)!r})
            raise SystemExit("no error")
        except DataError as e:
            assert "line 2: has 1 comma-separated fields" in str(e), e
    """, timeout=60)
    assert_ok(result)
    caches = list(tmp_path.glob(".fer2013.csv.*.npz"))
    assert len(caches) == 1 and caches[0].stat().st_size < 100_000  # was 1.1 GB for a 5 MB file


def test_skipped_rows_are_counted_with_only_the_first_messages_kept(tmp_path):
    images = np.zeros((3, 48, 48, 1), np.uint8)
    write_fer2013_csv(tmp_path / "fer2013.csv", images, [0, 1, 2], ["Training", "PublicTest", "PrivateTest"])
    with open(tmp_path / "fer2013.csv", "ab") as f:
        f.write(b"9,1 2,Training\n" * (MAX_MESSAGES + 5))
    report = LoadReport()
    x, _ = load_fer2013_skipping(tmp_path / "fer2013.csv", report)
    assert len(x) == 3 and report.n_skipped == MAX_MESSAGES + 5 and len(report.skipped) == MAX_MESSAGES
    assert "line 5: emotion is '9'" in report.skipped[0]
    again = LoadReport()
    load_fer2013_skipping(tmp_path / "fer2013.csv", again)  # from the cache: the same counts
    assert again.from_cache and again.n_skipped == report.n_skipped and again.skipped == report.skipped


def load_fer2013_skipping(path, report):
    from minifer.data import load_fer2013
    return load_fer2013(path, skip_bad=True, report=report)


def test_a_huge_png_is_refused_before_decoding(tmp_path):
    folder = class_folder(tmp_path / "faces")
    (folder / "huge.png").write_bytes(png(13000, 13000, bytes(13001 * 13000)))  # 160 KB, 169 Mpixel
    result = run_capped(f"""
        from minifer.data import LoadReport, load_image_folder
        report = LoadReport()
        x, y = load_image_folder({str(tmp_path / 'faces')!r}, skip_bad=True, cache=False, report=report)
        assert len(y) == 2 and report.n_skipped == 1, report
        assert "huge.png: image is 13000x13000, more than 64 million pixels" in report.skipped[0]
    """, timeout=60)
    assert_ok(result)


def test_a_large_photo_is_shrunk_while_it_is_read(tmp_path):
    Image.fromarray(np.full((1500, 4000), 128, np.uint8)).save(tmp_path / "wide.png")
    grey = read_grey(tmp_path / "wide.png")
    assert max(grey.shape) == MAX_SIDE and grey.shape == (384, 1024) and (grey == 128).all()


# -- skip_bad skips everything bad ------------------------------------------------------------

def test_decompression_bombs_dangling_and_looping_links_are_bad_entries(tmp_path):
    folder = class_folder(tmp_path)
    (folder / "bomb.png").write_bytes(png(20000, 20000))  # Pillow's own DecompressionBombError
    (folder / "dangling.png").symlink_to(tmp_path / "not-fetched-yet.png")  # a partial git-annex/DVC copy
    (folder / "loop.png").symlink_to(folder / "loop.png")
    (folder / "folder.png").mkdir()
    with pytest.raises(DataError, match="bomb.png: "):
        load_image_folder(tmp_path, detect_faces=False, cache=False)
    report = LoadReport()
    _, y = load_image_folder(tmp_path, detect_faces=False, skip_bad=True, report=report)
    assert len(y) == 2 and report.n_skipped == 4
    for name, problem in [("bomb.png", "decompression bomb"), ("dangling.png", "No such file"),
                          ("folder.png", "Is a directory"), ("loop.png", "Too many levels of symbolic links")]:
        assert any(f"{name}: " in m and problem in m for m in report.skipped), (name, report.skipped)
    x, y = load_image_folder(tmp_path, detect_faces=False, skip_bad=True, report=report)  # cached
    assert len(y) == 2 and report.n_skipped == 8 and report.from_cache


def test_an_unreadable_class_folder_is_a_bad_entry(tmp_path, monkeypatch):
    class_folder(tmp_path, "happy")
    locked = class_folder(tmp_path, "sad")
    listdir = os.listdir

    def refuse(path="."):  # root reads anything, so permissions cannot make this case in a test
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied")
        return listdir(path)

    monkeypatch.setattr(os, "listdir", refuse)
    with pytest.raises(DataError, match=r"sad: cannot be listed \(Permission denied\)"):
        load_image_folder(tmp_path, detect_faces=False, cache=False)
    report = LoadReport()
    _, y = load_image_folder(tmp_path, detect_faces=False, skip_bad=True, cache=False, report=report)
    assert list(y) == [0, 0] and report.n_skipped == 1


def test_the_cache_of_symlinked_class_folders_follows_their_files(tmp_path):
    store = class_folder(tmp_path / "store", "happy", n_good=1)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "happy").symlink_to(store)
    assert len(load_image_folder(tmp_path / "data", detect_faces=False)[1]) == 1
    Image.new("L", (48, 48)).save(store / "new.png")
    report = LoadReport()
    assert len(load_image_folder(tmp_path / "data", detect_faces=False, report=report)[1]) == 2
    assert not report.from_cache
    (store / "loop").symlink_to(tmp_path / "data")  # a link loop ends too
    assert len(load_image_folder(tmp_path / "data", detect_faces=False)[1]) == 2


def write_original_ckplus(root, codes):
    """The original CK+ layout with one sequence of 3 frames per label text."""
    for k, code in enumerate(codes):
        frames = root / "cohn-kanade-images" / f"S{k + 10:03d}" / "001"
        labels = root / "Emotion" / f"S{k + 10:03d}" / "001"
        frames.mkdir(parents=True)
        labels.mkdir(parents=True)
        for f in range(3):
            Image.new("L", (64, 64), 100).save(frames / f"S{k + 10:03d}_001_{f:08d}.png")
        label = labels / f"S{k + 10:03d}_001_00000002_emotion.txt"
        if code == "dir":
            label.mkdir()
        else:
            label.write_text(f"   {code}\n")
    return root


@pytest.mark.parametrize("code", ["nan", "inf", "-inf", "1e400", "dir"])
def test_ckplus_label_files_that_are_not_codes_are_named_and_skippable(tmp_path, code):
    write_original_ckplus(tmp_path, ["5.0000000e+00", code])
    with pytest.raises(DataError, match=r"S011/001/S011_001_00000002_emotion\.txt"):
        load_ckplus(tmp_path, cache=False)
    report = LoadReport()
    _, y = load_ckplus(tmp_path, skip_bad=True, cache=False, report=report)
    assert list(y) == [4, 4, 4] and report.n_skipped == 1


# -- files and messages -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_a_csv_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    path = {"device": "/dev/zero", "fifo": tmp_path / "fer2013.csv", "folder": tmp_path / "sub" / "x.csv"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    if kind == "folder":
        path.mkdir(parents=True)
    result = run_capped(f"""
        from minifer.data.fer2013_csv import read_csv_table
        from minifer.data import DataError
        from pathlib import Path
        try:
            read_csv_table(Path({str(path)!r}))
        except DataError as e:
            assert "is not a regular file" in str(e) and {str(path)!r} in str(e), e
        else:
            raise SystemExit("no error")
    """, timeout=20)
    assert_ok(result)


def test_ferplus_vote_overflow_names_the_file_and_line(tmp_path):
    write_fer2013_csv(tmp_path / "fer2013.csv", np.zeros((1, 48, 48, 1), np.uint8), [0], ["Training"])
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    (tmp_path / "fer2013new.csv").write_text(f"{header}\nTraining,fer0.png,{'9' * 25},0,0,0,0,0,0,0,0,0\n")
    with pytest.raises(DataError, match=r"fer2013new\.csv line 2: vote counts"):
        load_ferplus(tmp_path / "fer2013.csv", tmp_path / "fer2013new.csv")


def test_a_training_only_copy_is_refused_at_load_time(tmp_path):
    images = np.zeros((6, 48, 48, 1), np.uint8)
    write_fer2013_csv(tmp_path / "train.csv", images, [0, 1, 2, 3, 4, 5], layout="train")
    with pytest.raises(DataError, match=r"train\.csv has 6 Training, 0 validation and 0 test rows"):
        load_splits("fer2013", tmp_path / "train.csv")


def damaged(fmt, at, value):
    """A small image saved by Pillow as ``fmt`` with one byte changed: found by fuzzing, each makes a
    Pillow plugin raise what it raises for a damaged file of its kind."""
    import io
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8))
    buffer = io.BytesIO()
    if fmt == "APNG":
        image.save(buffer, "PNG", save_all=True, append_images=[image])
    else:
        (image.convert("P") if fmt == "BLP" else image).save(buffer, fmt)
    data = bytearray(buffer.getvalue())
    data[at] = value
    return bytes(data)


@pytest.mark.parametrize("fmt, at, value, raised", [("DDS", 80, 17, "NotImplementedError"),
                                                    ("BLP", 8, 226, "BLPFormatError"),
                                                    ("APNG", 94, 30, "SyntaxError")])
def test_any_error_pillow_raises_for_a_damaged_image_is_a_bad_entry(tmp_path, fmt, at, value, raised):
    folder = class_folder(tmp_path / "data")
    bad = folder / "damaged.png"  # named like an image, as a renamed or half-copied file is
    bad.write_bytes(damaged(fmt, at, value))
    with pytest.raises(DataError, match=raised) as error:
        read_grey(bad)
    assert str(bad) in str(error.value)
    report = LoadReport()
    x, _ = load_image_folder(tmp_path / "data", detect_faces=False, skip_bad=True, cache=False, report=report)
    assert len(x) == 2 and report.n_skipped == 1 and str(bad) in report.skipped[0]


def test_a_pixel_field_with_a_trailing_space_is_one_bad_row_not_a_lost_file(tmp_path):
    """2,303 numbers and a space have the 2,303 spaces of a good row: the fast path took them, and
    reshaping the chunk failed for the whole file."""
    path = tmp_path / "fer2013.csv"
    write_fer2013_csv(path, np.zeros((3, 48, 48, 1), np.uint8), [0, 1, 2], ["Training"] * 3)
    lines = path.read_bytes().split(b"\n")
    good = lines[1].split(b",")[1]
    lines[2] = b'1,"' + good.split(b" ", 1)[1] + b' ",Training'  # 2,303 numbers, a trailing space, quoted
    lines[3] = b'2,"' + good + b' ",Training'  # 2,304 numbers and a trailing space: a good row
    path.write_bytes(b"\n".join(lines))
    report = LoadReport()
    from minifer.data import load_fer2013
    x, y = load_fer2013(path, skip_bad=True, cache=False, report=report)
    assert list(y) == [0, 2] and report.n_skipped == 1 and "line 3: has 2303 pixel values" in report.skipped[0]


def test_the_ferplus_reader_keeps_rows_not_the_file(tmp_path):
    import tracemalloc
    from minifer.data.ferplus import read_ferplus_votes
    header = b"Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
    path = tmp_path / "fer2013new.csv"
    path.write_bytes(header + b"\n" * 2_000_000 + b"Training,fer0.png,4,0,0,1,0,0,0,0,5,0\n")
    tracemalloc.start()
    try:
        usage, names, votes, lines = read_ferplus_votes(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert names == ["fer0.png"] and lines == [2_000_002] and votes.tolist()[0][0] == 4
    assert peak < 1_000_000, peak  # reading it whole took 20 MB here, 4.9 GB for 300 MB of blank lines
