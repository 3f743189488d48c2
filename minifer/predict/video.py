"""Video files decoded with PyAV (the ``video`` extra, whose wheels carry FFmpeg), sampled on a grid.

Sample slot ``k`` covers the times ``[k / fps, (k + 1) / fps)`` and takes the first frame that falls
in it (every frame, when the video has fewer frames per second than ``fps``). A frame's slot comes
from its own timestamp (``time``, the float written with its rows), so decoding a range of slots
after a seek, as a resume and a cluster's segments do, picks the very frames a whole pass would.
Frames are turned upright (the display rotation phones record) and shrunk like photos to at most
``MAX_SIDE`` pixels; boxes are reported in the upright frame's pixels at the stream's size.
"""
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

import numpy as np

from ..data.images import MAX_SIDE
from ..io.extras import optional_module


class VideoError(Exception):
    """A video that cannot be opened or has no picture; the message is its row's ``error``."""


def pyav():
    """The ``av`` module (PyAV), or VideoError saying how to install it."""
    return optional_module("av", "videos", "video", VideoError)


def _reason(error):
    return str(getattr(error, "strerror", None) or error)


@dataclass(frozen=True)
class VideoInfo:
    """What a video's header declares: its length in seconds and average frame rate (None if unknown)."""
    duration: Optional[float]
    rate: Optional[float]

    def slots(self, fps):
        """How many sample slots the declared length holds (None if the length is unknown)."""
        return None if self.duration is None else max(math.ceil(self.duration * fps), 1)


def probe(path):
    """The :class:`VideoInfo` of the video at ``path``; VideoError if it cannot be opened."""
    av = pyav()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError("has no video stream")
            stream = container.streams.video[0]
            if stream.duration:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = container.duration / 1e6 if container.duration else None
            rate = stream.average_rate or stream.guessed_rate
            return VideoInfo(duration, float(rate) if rate else None)
    except av.FFmpegError as error:
        raise VideoError(f"cannot be read as a video ({_reason(error)})") from None


@dataclass(frozen=True)
class Frame:
    """A sampled frame: its slot, number (its time at the stream's average rate) and time in seconds,
    the upright RGB pixels, and the factor from them back to the upright frame's size."""
    slot: int
    index: int
    time: float
    rgb: np.ndarray = field(repr=False)
    scale: float


@dataclass
class Report:
    """What decoding a range of slots met: frames sampled, the last frame's time (sampled or not),
    whether the file ended before the range did, the error decoding stopped at."""
    sampled: int = 0
    last_time: Optional[float] = None
    ended: bool = False
    error: Optional[str] = None


def sample_frames(path, fps, first=0, last=None, report=None):
    """Frames sampled at ``fps`` in slots ``[first, last)`` (to the end for None), in time order.
    Decoding stops at the first error, which goes into ``report`` with what was read before it."""
    av = pyav()
    report = Report() if report is None else report
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError("has no video stream")
            stream = container.streams.video[0]
            origin, base = stream.start_time or 0, stream.time_base
            rate = float(stream.average_rate or stream.guessed_rate or 0)
            if first:
                container.seek(origin + int(Fraction(first) / Fraction(fps) / base), stream=stream, backward=True)
            taken = None
            for decoded in container.decode(stream):
                if decoded.pts is None:
                    continue
                time = float((decoded.pts - origin) * base)
                slot = math.floor(time * fps)
                if slot < first:  # decoded from the key frame before the range
                    continue
                if last is not None and slot >= last:
                    return
                report.last_time = time
                if slot == taken:
                    continue
                taken = slot
                rgb, scale = upright_pixels(decoded)
                report.sampled += 1
                yield Frame(slot, round(time * rate) if rate else slot, time, rgb, scale)
            report.ended = True
    except av.FFmpegError as error:
        report.error = f"cannot be decoded past {report.last_time or 0:.2f} s ({_reason(error)})"
    except VideoError as error:
        report.error = str(error)


def upright_pixels(decoded):
    """``(rgb, scale)``: the frame turned by its display rotation, shrunk to at most MAX_SIDE."""
    width, height = decoded.width, decoded.height
    shrink = min(1.0, MAX_SIDE / max(width, height))
    size = {"width": max(1, round(width * shrink)), "height": max(1, round(height * shrink))}
    rgb = decoded.to_ndarray(format="rgb24", interpolation="AREA", **size) if shrink < 1 else \
        decoded.to_ndarray(format="rgb24")
    turns = round((decoded.rotation or 0) / 90) % 4  # counterclockwise quarter turns
    rgb = np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb
    upright_width = height if turns % 2 else width
    return rgb, upright_width / rgb.shape[1]
