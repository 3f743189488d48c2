"""A run's output folder: its settings, its rows as they come, and what a resume finds there.

``run.json`` records the settings that shape the rows (model file and checksum, classes, input
range, margin, frame rate, detector); a run pointed at a folder whose record differs is refused
rather than mixed in, and ``fresh=True`` first deletes the earlier run's files (its rows and the
pictures they name). Rows are appended whole to ``predictions.jsonl`` and ``predictions.csv`` and
flushed per chunk; a resume first cuts a partial last line (a kill mid-write), rebuilds the CSV if
it and the JSONL disagree, and keeps 8 bytes per input done (``inputs.input_key``), plus the rows
of the videos that were cut short, so memory does not grow with the rows.
"""
import csv
import json
import os
from array import array
from pathlib import Path

import numpy as np

from ..io import atomic_write
from .inputs import input_key
from .rows import encode, header, marks_done
from .tracks import VideoTrack

RUN = "run.json"
JSONL = "predictions.jsonl"
CSV = "predictions.csv"
LEGACY = "predictions.json"  # written by minifer before the JSONL: another run's record
PICTURE_FIELDS = ("annotated", "timeline")


class OutputError(Exception):
    """An output folder the run cannot use; the message says why and what to do."""


class ResultsFolder:
    """``settings`` must match the folder's record to resume; ``notes`` are recorded beside them, for
    people (the model file's path: the same model moved elsewhere is the same model)."""

    def __init__(self, folder, settings, class_names, fresh=False, notes=None):
        self.folder, self.class_names = Path(folder), list(class_names)
        self._claim(json.loads(json.dumps(settings)), fresh, notes or {})
        self._done, self.partial, rows = self._scan()
        self._sync_csv(rows)
        self._jsonl = open(self.folder / JSONL, "ab")
        self._csv = open(self.folder / CSV, "ab")

    def is_done(self, key):
        at = np.searchsorted(self._done, np.uint64(key))
        return bool(at < len(self._done) and self._done[at] == key)

    def append(self, rows):
        """Write ``rows`` as whole lines and flush: a kill loses nothing already appended."""
        lines, table = encode(rows, self.class_names)
        self._jsonl.write(lines)
        self._jsonl.flush()
        self._csv.write(table)
        self._csv.flush()

    def close(self):
        self._jsonl.close()
        self._csv.close()

    def _claim(self, settings, fresh, notes):
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file, not a folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"{folder} cannot be made ({error.strerror})") from None
        if fresh:
            self._clear()
        theirs = [name for name in (JSONL, CSV, LEGACY) if (folder / name).exists()]
        recorded = self._recorded()
        if recorded is None and theirs:
            raise OutputError(f"{folder} holds {', '.join(theirs)} with no {RUN} saying how they were made; "
                              "pass --fresh to delete them and start over, or choose another --out")
        if recorded is not None and recorded != settings:
            changed = "; ".join(f"{k}: {recorded.get(k)!r} then, {settings.get(k)!r} now"
                                for k in sorted(set(recorded) | set(settings)) if recorded.get(k) != settings.get(k))
            raise OutputError(f"{folder} holds predictions made with other settings ({changed}); run with the "
                              "same settings to resume, pass --fresh to delete them and start over, "
                              "or choose another --out")
        if recorded is None:
            try:
                with atomic_write(folder / RUN, "w") as f:
                    json.dump({"settings": settings, **notes}, f, indent=1)
            except OSError as error:
                raise OutputError(f"{folder} cannot be written to ({error.strerror or error})") from None

    def _recorded(self):
        path = self.folder / RUN
        if not path.exists():
            return None
        try:
            recorded = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise OutputError(f"{path} cannot be read ({error}); pass --fresh to start over") from None
        if not isinstance(recorded, dict) or not isinstance(recorded.get("settings"), dict):
            raise OutputError(f"{path} is not a run record; pass --fresh to start over")
        return recorded["settings"]

    def _clear(self):
        """Delete an earlier run's rows and the pictures they name inside the folder."""
        inside = self.folder.resolve()
        for row in _rows(self.folder / JSONL, strict=False):
            for field in PICTURE_FIELDS:
                picture = (self.folder / str(row.get(field, ""))).resolve()
                if row.get(field) and picture.is_relative_to(inside) and picture.is_file():
                    picture.unlink()
        for name in (JSONL, CSV, LEGACY, RUN):
            (self.folder / name).unlink(missing_ok=True)

    def _scan(self):
        """(sorted keys of the inputs done, {key: VideoTrack} of videos cut short, rows read)."""
        keys, partial, count = array("Q"), {}, 0
        for row in _rows(self.folder / JSONL, strict=True):
            count += 1
            key = input_key(row["file"], row.get("size"), row.get("mtime_ns"))
            if marks_done(row):
                keys.append(key)
                partial.pop(key, None)
            else:
                if key not in partial:
                    partial[key] = VideoTrack(self.class_names)
                partial[key].add(row)
        return np.unique(np.frombuffer(keys, np.uint64)), partial, count

    def _sync_csv(self, rows):
        """The CSV as the JSONL's rows: rebuilt when a kill fell between the two appends."""
        path = self.folder / CSV
        _cut_partial_line(path)
        try:
            with open(path, newline="") as f:
                table = csv.reader(f)
                if next(table, None) == next(csv.reader([header(self.class_names).decode()])) and \
                        sum(1 for _ in table) == rows:
                    return
        except (OSError, csv.Error, UnicodeDecodeError):
            pass
        with atomic_write(path, "wb") as f:
            f.write(header(self.class_names))
            for row in _rows(self.folder / JSONL, strict=False):
                f.write(encode([row], self.class_names)[1])


def _rows(path, strict):
    """The rows of a JSONL file, one at a time (none if it is missing). ``strict`` first drops a
    partial last line and refuses any other line that is not a row; otherwise such lines are passed."""
    if not path.exists():
        return
    if strict:
        _cut_partial_line(path)
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if isinstance(row, dict) and isinstance(row.get("file"), str):
                yield row
            elif strict:
                raise OutputError(f"{path}:{number}: not a row of predictions; pass --fresh to start over")


def _cut_partial_line(path, block=1 << 16):
    """Truncate ``path`` after its last newline: what a kill mid-write left is not a row."""
    if not path.exists():
        return
    with open(path, "r+b") as f:
        end = position = f.seek(0, os.SEEK_END)
        while position > 0:
            start = max(0, position - block)
            f.seek(start)
            newline = f.read(position - start).rfind(b"\n")
            if newline >= 0:
                position = start + newline + 1
                break
            position = start
        if position < end:
            f.truncate(position)
