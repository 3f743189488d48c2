"""A video's sampled frames as its rows come in: what its timeline is drawn from, what its annotated
copy draws, and where a resume picks it up.

Rows of one frame share its ``time``; the largest face (``face`` 1) stands for the frame on the
timeline, and a frame with no face is a gap (NaN). Compact arrays keep an hour at a few samples per
second within a few megabytes.
"""
import math
from array import array

import numpy as np


class VideoTrack:
    def __init__(self, class_names):
        self.class_names = list(class_names)
        self.times = array("d")
        self._probabilities = array("d")
        self.faces = []  # per frame: [(box, label)]
        self.last_time = None  # the last frame decoded in this run, sampled or not
        self.errors = []

    def add(self, row):
        """Take one of the video's frame rows."""
        if not self.times or row["time"] != self.times[-1]:
            self.times.append(row["time"])
            self._probabilities.extend([math.nan] * len(self.class_names))
            self.faces.append([])
        if "box" in row:
            self.faces[-1].append((tuple(row["box"]), row["label"]))
            if row["face"] == 1:
                for i, name in enumerate(self.class_names):
                    self._probabilities[i - len(self.class_names)] = row["probabilities"][name]

    def report(self, report):
        """Take what decoding one of the video's segments met (``video.Report``)."""
        if report.last_time is not None:
            self.last_time = max(report.last_time, self.last_time or report.last_time)
        if report.error:
            self.errors.append(report.error)

    @property
    def probabilities(self):
        """(frames, classes): the largest face's probabilities per sampled frame, NaN where none."""
        return np.frombuffer(self._probabilities, np.float64).reshape(len(self.times), len(self.class_names))

    def next_slot(self, fps):
        """The first sample slot after the frames already written (0 for none)."""
        return math.floor(self.times[-1] * fps) + 1 if self.times else 0

    def problem(self, duration, fps, rate):
        """The video's row ``error``: a decoding error, or frames ending well before the declared length."""
        read_until = max([t for t in (self.last_time, self.times[-1] if self.times else None) if t is not None],
                         default=None)
        read = f"{len(self.times)} frame(s) sampled up to {read_until or 0:.2f} s"
        if self.errors:
            return f"{self.errors[0]}; {read}"
        slack = 1 / fps + (2 / rate if rate else 0.1)
        if duration is not None and (read_until is None or duration - read_until > slack):
            return f"damaged or truncated: {read} of {duration:.2f} s declared"
        return None
