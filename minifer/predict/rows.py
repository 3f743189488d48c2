"""The rows a run writes: one JSON object per line of ``predictions.jsonl``, the same row as one line
of ``predictions.csv``.

Every row names its input (``file``, ``size``, ``mtime_ns``). A face's row adds, for a video, the
frame's ``frame`` number and ``time`` in seconds, then ``face`` (1 is the largest), ``box``
(top, left, height, width in the upright file's pixels), the detector's ``score`` and
``landmarks`` where it gives them, ``probabilities`` and ``label``. A photo or sampled frame with no
face gets one row with ``note``; an input that cannot be read one row with ``error``; a video, after
its frames, one row with ``frames`` (how many were sampled), ``duration`` and ``timeline`` (and an
``error`` when it was damaged or truncated). Every row but a video's frame rows marks its input done.
"""
import csv
import hashlib
import io
import json
import os

NO_FACE = "no face found"
FIXED = ("file", "size", "mtime_ns", "frame", "time", "face", "top", "left", "height", "width", "score", "label")
TAIL = ("frames", "duration", "timeline", "annotated", "note", "error")


def identity(item, frame=None):
    """What names a row's input (and, in a video, its frame)."""
    head = {"file": item.file, "size": item.size, "mtime_ns": item.mtime_ns}
    return head if frame is None else {**head, "frame": frame.index, "time": frame.time}


def image_rows(item, faces, frame=None, annotated=None):
    """The rows of one photo (``frame`` None) or one sampled video frame: a row per face, or a note."""
    head = identity(item, frame)
    extra = {"annotated": annotated} if annotated else {}
    if not faces:
        return [{**head, "note": NO_FACE, **extra}]
    return [{**head, "face": i, **face, **extra} for i, face in enumerate(faces, 1)]


def error_row(item, message, frame=None):
    """An input that cannot be read, or (``frame`` given) one video frame whose faces got no answer."""
    return {**identity(item, frame), "error": message}


def video_row(item, frames, duration, timeline, annotated=None, error=None):
    row = {**identity(item), "frames": frames, "duration": duration, "timeline": timeline}
    row.update({k: v for k, v in (("annotated", annotated), ("error", error)) if v})
    return row


def marks_done(row):
    """True for the rows that end an input (a video's frame rows do not)."""
    return "frame" not in row


def columns(class_names):
    return [*FIXED, *(f"p_{name}" for name in class_names), *TAIL]


def encode(rows, class_names):
    """``(jsonl, csv)`` bytes for ``rows``: whole lines, written together."""
    lines = "".join(json.dumps(row) + "\n" for row in rows)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    for row in rows:
        box = row.get("box") or [None] * 4
        probabilities = row.get("probabilities") or {}
        writer.writerow([_cell(row.get(name)) for name in FIXED[:6]] + [_cell(v) for v in box] +
                        [_cell(row.get("score")), _cell(row.get("label"))] +
                        [_cell(probabilities.get(name)) for name in class_names] +
                        [_cell(row.get(name)) for name in TAIL])
    return lines.encode(), table.getvalue().encode()


def header(class_names):
    table = io.StringIO()
    csv.writer(table, lineterminator="\n").writerow(columns(class_names))
    return table.getvalue().encode()


def _cell(value):
    return "" if value is None else value


def summary(rows):
    """The line printed for one photo's rows, or a video's last row."""
    first = rows[0]
    if "error" in first and "frames" not in first:
        return f"{first['file']}: error: {first['error']}"
    if "frames" in first:
        line = f"{first['file']}: video, {first['frames']} frame(s) sampled, timeline {first['timeline']}"
        return line + (f"; error: {first['error']}" if "error" in first else "")
    if "note" in first:
        return f"{first['file']}: {first['note']}"
    faces = "; ".join(f"{r['label']} {r['probabilities'][r['label']]:.2f} at {tuple(r['box'])}" for r in rows)
    return f"{first['file']}: {len(rows)} face(s): {faces}"


def picture_name(file, kind, suffix):
    """Where an input's picture goes in the output folder (``annotated/x_1a2b3c4d.png``): named by
    the input's stem and a hash of its path, so two ``x.jpg`` in different folders never collide and
    a resume writes the same name again."""
    stem = os.path.splitext(os.path.basename(file))[0]
    digest = hashlib.blake2b(file.encode("utf-8", "surrogateescape"), digest_size=4).hexdigest()
    return f"{kind}/{stem}_{digest}{suffix}"
