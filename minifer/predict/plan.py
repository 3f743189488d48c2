"""A run's work in chunks, in input order, made as the inputs are found.

A chunk is up to ``batch`` photos (inputs that cannot be read ride along, to become their error
rows), or one segment of a video: ``batch`` sample slots, so an hour of video is many chunks that
several workers share and a resume restarts from the segment it lost. Inputs already done are
skipped, and a video cut short starts again at its first slot not written. A video's segments are
planned from the length its header declares, and no further once one has met the end of the file:
a damaged header claiming years costs a few empty segments, not years of them.
"""
from dataclasses import dataclass, replace
from typing import Optional

from .inputs import Input
from .video import VideoError, VideoInfo, probe


@dataclass(frozen=True)
class Segment:
    """Sample slots ``[first, last)`` of a video; the final one (``last`` None) reads to the end."""
    input: Input
    first: int
    last: Optional[int]
    info: VideoInfo

    @property
    def final(self):
        return self.last is None


def chunks(inputs, is_done, resume_slot, fps, batch, ended=lambda key: False):
    """Lists of photos (``Input``) or of one ``Segment``, for the inputs not ``is_done(key)``;
    ``resume_slot(key)`` is the first slot of a video still to do, ``ended(key)`` whether one of its
    segments has met the end of the file."""
    photos = []
    for item in inputs:
        if is_done(item.key):
            continue
        if item.error is None and item.video:
            if photos:
                yield photos
                photos = []
            try:
                info = probe(item.file)
            except VideoError as error:
                photos.append(replace(item, error=str(error)))
                continue
            yield from ([segment] for segment in segments(item, info, fps, batch, resume_slot(item.key),
                                                          lambda: ended(item.key)))
        else:
            photos.append(item)
            if len(photos) == batch:
                yield photos
                photos = []
    if photos:
        yield photos


def segments(item, info, fps, batch, first=0, ended=lambda: False):
    """The video's segments from slot ``first``: ``batch`` slots each, the last open-ended, which
    comes early once ``ended()``."""
    total = info.slots(fps)
    while total is not None and first + batch < total and not ended():
        yield Segment(item, first, first + batch, info)
        first += batch
    yield Segment(item, first, None, info)
