"""A video's annotated copy (``--annotate-video``): every frame re-encoded with the boxes and labels
of the latest sampled frame, held until the next sample, at the size the faces were searched in.

It is drawn by the process that writes the rows, after the video's rows are known, from a second
decoding pass; the copy is an MP4 (H.264 where the FFmpeg build has it, else MPEG-4 Part 2) written
atomically, so a kill never leaves half a video under the final name.
"""
import bisect

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..io import atomic_write
from ..plot import FACE_COLOURS
from .video import pyav, upright_pixels


def write_annotated_video(source, target, times, faces):
    """Write ``source`` to ``target`` with ``faces[i]`` (``[(box, label)]``, boxes in the upright file's
    pixels) drawn from sample time ``times[i]`` on. Returns an error message if decoding stopped early."""
    av = pyav()
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    problem = None
    with av.open(str(source)) as container, atomic_write(target, "wb") as f, \
            av.open(f, "w", format="mp4") as output:
        stream = container.streams.video[0]
        origin, base = stream.start_time or 0, stream.time_base
        encoder = None
        try:
            for decoded in container.decode(stream):
                rgb, scale = upright_pixels(decoded)
                if encoder is None:
                    encoder = output.add_stream(codec, rate=stream.average_rate or stream.guessed_rate or 25)
                    encoder.width, encoder.height = rgb.shape[1] // 2 * 2, rgb.shape[0] // 2 * 2  # yuv420p: even
                    encoder.pix_fmt = "yuv420p"
                time = float(((decoded.pts or 0) - origin) * base)
                held = bisect.bisect_right(times, time) - 1
                picture = _draw(rgb, faces[held] if held >= 0 else [], scale)[:encoder.height, :encoder.width]
                for packet in encoder.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")):
                    output.mux(packet)
        except av.FFmpegError as error:
            problem = f"the annotated copy stops where decoding did ({error})"
        if encoder is not None:
            for packet in encoder.encode():
                output.mux(packet)
    return problem


def _draw(rgb, faces, scale):
    if not faces:
        return rgb
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    width = max(2, round(max(rgb.shape[:2]) / 300))
    try:
        font = ImageFont.load_default(size=max(10, rgb.shape[0] // 40))
    except TypeError:  # Pillow before 10.1: one size of bitmap font
        font = ImageFont.load_default()
    for i, (box, label) in enumerate(faces):
        top, left, height, breadth = (v / scale for v in box)
        colour = FACE_COLOURS[i % len(FACE_COLOURS)]
        draw.rectangle([left, top, left + breadth, top + height], outline=colour, width=width)
        text = f"{i + 1}: {label}"
        corner = (left, max(0, top - getattr(font, "size", 10) - 2))
        draw.rectangle(draw.textbbox(corner, text, font=font), fill=colour)
        draw.text(corner, text, fill="white", font=font)
    return np.asarray(image)
