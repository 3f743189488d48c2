"""Predictions over many files: the process that walks the inputs, has their chunks computed (here,
or on a Dask cluster), and writes the rows in input order as they come.

Memory follows the chunk, not the run: inputs are found lazily, a bounded number of chunks is out
at once, and the output folder keeps 8 bytes per input done. A video's segments are written as they
come; after its last one this process draws its timeline (and annotated copy) and writes the row
that marks it done. The rows written never depend on where a chunk was computed.
"""
import hashlib
import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .. import plot
from ..io import atomic_write
from .annotated_video import write_annotated_video
from .compute import predictor_for, run_chunk
from .detectors import describe
from .inputs import input_key, walk
from .plan import chunks
from .results import ResultsFolder
from .rows import marks_done, picture_name, summary, video_row
from .tracks import VideoTrack
from .video import VideoError, probe

SETTINGS_VERSION = 1


@dataclass
class Counts:
    """What a run did: inputs read (photos, and videos with a frame), sampled frames, faces, inputs
    that could not be read, inputs skipped as done by an earlier run."""
    photos: int = 0
    videos: int = 0
    frames: int = 0
    faces: int = 0
    unreadable: int = 0
    skipped: int = 0

    @property
    def read(self):
        return self.photos + self.videos


class PredictionRun:
    """``PredictionRun(paths, out, spec).execute()``: rows for every input under ``paths`` not done
    yet in the folder ``out``. Setting up loads the model and claims the folder (ValueError, OSError
    or ``results.OutputError`` for a model or folder that cannot be used)."""

    def __init__(self, paths, out, spec, batch=32, fresh=False, annotate_video=False):
        self.paths, self.out, self.spec, self.batch = list(paths), Path(out), spec, batch
        self.annotate_video = annotate_video
        self.predictor = predictor_for(spec)
        self.class_names = self.predictor.class_names
        self.results = ResultsFolder(out, self.settings(), self.class_names, fresh,
                                     notes={"model_file": os.path.abspath(spec.model)})
        self.tracks, self.counts = dict(self.results.partial), Counts()
        self.ended = set()  # videos a segment found shorter than declared: plan no more segments

    def settings(self):
        """What shapes the rows, recorded in the folder: a resume with other settings is refused."""
        digest = hashlib.sha256()
        with open(self.spec.model, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return {"format": SETTINGS_VERSION, "model_sha256": digest.hexdigest(), "classes": self.class_names,
                "input_range": list(self.predictor.input_range), "margin": self.spec.margin, "fps": self.spec.fps,
                "detector": describe(self.spec.detector), "annotate": self.spec.annotate,
                "annotate_video": self.annotate_video}

    def execute(self, workers=None, scheduler=None, echo=None, progress=None):
        """Run to the end; ``workers`` or ``scheduler`` (an address) compute on Dask. ``echo(line)``
        gets a line per photo and per video (default: printed above the progress bar, which shows
        on a terminal, or where ``progress`` is True). Returns Counts."""
        echo = echo or (lambda line: tqdm.write(line, file=sys.stdout))
        work = chunks(walk(self.paths, skip=self.out), self._skip, self._resume_slot, self.spec.fps, self.batch,
                      ended=self.ended.__contains__)
        try:
            with _computer(workers, scheduler) as compute, _Progress(self, progress) as bar:
                for result in compute(work, self.spec):
                    self._write(result, echo)
                    bar.update(result.images)
        finally:
            self.results.close()
        return self.counts

    def _skip(self, key):
        done = self.results.is_done(key)
        self.counts.skipped += done
        return done

    def _resume_slot(self, key):
        return self.tracks[key].next_slot(self.spec.fps) if key in self.tracks else 0

    def _write(self, result, echo):
        for name, png in result.pictures.items():
            _write_file(self.out / name, png)
        rows = []
        for group in result.groups:
            rows += group
            self.counts.faces += sum("box" in row for row in group)
            if marks_done(group[0]):
                self.counts.unreadable += "error" in group[0]
                self.counts.photos += "error" not in group[0]
                echo(summary(group))
                continue
            self.counts.frames += 1
            key = input_key(group[0]["file"], group[0]["size"], group[0]["mtime_ns"])
            track = self.tracks.setdefault(key, VideoTrack(self.class_names))
            for row in group:
                track.add(row)
        for segment, report in result.segments:
            track = self.tracks.setdefault(segment.input.key, VideoTrack(self.class_names))
            track.report(report)
            if report.ended and not segment.final:
                self.ended.add(segment.input.key)
            if segment.final:
                self.ended.discard(segment.input.key)
                row = self._finish_video(segment, self.tracks.pop(segment.input.key))
                rows.append(row)
                echo(summary([row]))
        self.results.append(rows)

    def _finish_video(self, segment, track):
        item = segment.input
        if track.times:
            self.counts.videos += 1
        else:
            self.counts.unreadable += 1
        timeline = picture_name(item.file, "timelines", ".png")
        (self.out / timeline).parent.mkdir(exist_ok=True)
        plot.emotion_timeline(track.times, track.probabilities, self.class_names, self.out / timeline,
                              title=f"{os.path.basename(item.file)}: {len(track.times)} frames at {self.spec.fps:g}/s")
        error, annotated = track.problem(segment.info.duration, self.spec.fps, segment.info.rate), None
        if self.annotate_video and track.times:
            annotated = picture_name(item.file, "videos", ".mp4")
            (self.out / annotated).parent.mkdir(exist_ok=True)
            error = write_annotated_video(item.file, self.out / annotated, track.times, track.faces) or error
        return video_row(item, len(track.times), segment.info.duration, timeline, annotated, error)


def _write_file(path, data):
    path.parent.mkdir(exist_ok=True)
    with atomic_write(path, "wb") as f:
        f.write(data)


@contextmanager
def _computer(workers, scheduler):
    """``compute(chunks, spec)`` -> ChunkResults in order: in this process, or on Dask."""
    if not (workers or scheduler):
        yield lambda work, spec: (run_chunk(chunk, spec) for chunk in work)
        return
    from .cluster import dask_client, ordered_results
    with dask_client(workers, scheduler) as client:
        yield lambda work, spec: ordered_results(client, work, spec)


class _Progress:
    """A progress bar in images (photos and sampled frames), with a rate from the start and an ETA
    once a second walk, on a thread, has counted the images still to do."""

    def __init__(self, job, enabled):
        self.total, self.stop = None, threading.Event()
        self.bar = tqdm(unit="image", desc="predict", file=sys.stderr, disable=None if enabled is None else not enabled,
                        dynamic_ncols=True)
        if not self.bar.disable:
            threading.Thread(target=self._count, args=(job.paths, job.out, job.results.is_done, job.spec.fps),
                             name="minifer-count", daemon=True).start()

    def _count(self, paths, out, is_done, fps):
        total = 0
        for item in walk(paths, skip=out):
            if self.stop.is_set():
                return
            if is_done(item.key):
                continue
            try:
                total += (probe(item.file).slots(fps) or 1) if item.video and item.error is None else 1
            except VideoError:
                total += 1
        self.total = total

    def update(self, images):
        if self.total is not None and self.bar.total is None:
            self.bar.total = self.total
        self.bar.update(images)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.bar.close()
