"""What the predict tests run on: a small random-weight emotion model, photos and videos made here
from real photos (scikit-image's) and minifer's synthetic faces, and a detector that kills its
process once (for the Dask worker that dies mid-chunk). Nothing is downloaded."""
import itertools
import os
import signal
from dataclasses import dataclass

import numpy
from PIL import Image

import minifer
from minifer import layers as L
from minifer.data import synthetic_faces
from minifer.layers import fresh_names
from minifer.predict import CascadeDetector


def small_model(classes=7, size=32, metadata=None, pixel_range=None):
    with fresh_names():
        model = minifer.Sequential([L.Conv2D(4, 3, strides=2, activation="relu"), L.GlobalAveragePooling2D(),
                                    L.Dense(classes, activation="softmax")], input_shape=(size, size, 1),
                                   pixel_range=pixel_range)
    if metadata:
        model.metadata = metadata
    return model


def astronaut(side=160):
    """The astronaut photo shrunk to ``side`` pixels: the cascade finds her face (~30 px) in 30 ms."""
    from skimage import data
    return numpy.asarray(Image.fromarray(data.astronaut()).resize((side, side)))


def tiled_photos(folder, count, side=160):
    """``count`` distinct photos: the astronaut beside tiles of other real photos, shifted per photo."""
    from skimage import data
    others = [numpy.asarray(Image.fromarray(p).convert("RGB").resize((side, side)))
              for p in (data.coffee(), data.chelsea(), data.camera())]
    folder.mkdir(parents=True, exist_ok=True)
    face = astronaut(side)
    for i in range(count):
        tile = numpy.concatenate([face, others[i % 3]], axis=1)
        Image.fromarray(numpy.roll(tile, 3 * i, axis=1)).save(folder / f"photo_{i:03d}.jpg", quality=90)
    return folder


def video_frames(count, side=160):
    """Frames of a face that moves, then synthetic faces, then a coffee cup (no face), then the face
    again: the face and the synthetic faces a third each, then the cup and the face a sixth each."""
    from skimage import data
    face = astronaut(side)
    synthetic = synthetic_faces(count, seed=1)[0][..., 0]
    cup = numpy.asarray(Image.fromarray(data.coffee()).resize((side, side)))
    for i in range(count):
        if count // 3 <= i < 2 * count // 3:
            grey = numpy.asarray(Image.fromarray(synthetic[i]).resize((side, side)))
            yield numpy.repeat(grey[..., None], 3, axis=-1)
        elif 2 * count // 3 <= i < 5 * count // 6:
            yield cup
        else:
            yield numpy.roll(face, 2 * i, axis=1)


def write_video(path, frames, rate=25, codec="libx264", rotation=None):
    import av
    frames = iter(frames)
    first = next(frames)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = first.shape[1], first.shape[0], "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for frame in itertools.chain([first], frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(numpy.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


_calls = itertools.count()


@dataclass(frozen=True)
class DyingDetector:
    """The cascade, except that the process calling it the ``after``-th time kills itself (SIGKILL),
    once across all processes: the marker file records that it happened."""
    marker: str
    after: int = 2

    def __call__(self, image):
        if next(_calls) == self.after:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return CascadeDetector()(image)

    def settings(self):
        return CascadeDetector().settings()  # the rows are the cascade's
