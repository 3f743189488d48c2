"""Reading image files as grey uint8 arrays, and resizing them to 48x48.

Pillow decodes every common format; this module turns its failures into
:class:`DataError` messages that name the image, and handles the 16-bit greys some
scanned datasets use, which Pillow's ``convert('L')`` would clip to white.
"""
import os
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps

from .errors import DataError

MAX_PIXELS = 64 * 10**6  # 8000x8000: at most 256 MB decoded (RGBA) before shrinking
MAX_SIDE = 1024  # longest side read: RetinaFace's smallest anchor is 16 px here, and 48x48 crops need no more
# what Pillow raises for a damaged file: mostly OSError and ValueError, but its format plugins raise
# more (a DDS or BLP of an unknown kind NotImplementedError, a broken APNG SyntaxError, struct.error)
DECODE_ERRORS = (Image.DecompressionBombError, OSError, ValueError, SyntaxError, RuntimeError, EOFError, struct.error,
                 LookupError, TypeError, ArithmeticError, AttributeError)

EXIF_ORIENTATION = 0x0112
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff",
                    ".pgm", ".ppm", ".webp", ".tga")


def is_image_file(name):
    """True for a visible file whose extension is a known image format."""
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def read_image(path, mode="L", upright=False):
    """``(pixels, scale)``: the image at ``path`` as uint8, 2-D grey for mode "L" or (H, W, 3) for
    "RGB", and the factor from its pixels back to the file's; DataError naming the file if it is
    empty or unreadable. ``upright=True`` applies the EXIF orientation a camera recorded (a phone
    photo taken sideways is stored sideways), so pixels and scale are the upright photo's.

    The size in the file's header is checked before decoding: an image over
    :data:`MAX_PIXELS` is refused (a 160 KB PNG can declare 13000x13000), and one wider
    or taller than :data:`MAX_SIDE` is shrunk while it is decoded, so what is kept and
    later searched for faces stays small.
    """
    try:
        if os.path.getsize(path) == 0:
            raise DataError(f"{path}: image file is empty")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # bounded below
            with Image.open(path) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise DataError(f"{path}: image is {im.width}x{im.height}, more than "
                                    f"{MAX_PIXELS // 10**6} million pixels")
                width, height = im.size
                im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)  # no-op when small
                if upright:
                    if im.getexif().get(EXIF_ORIENTATION) in (5, 6, 7, 8):  # turned a quarter: sides swap
                        width = height
                    im = ImageOps.exif_transpose(im)
                if im.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: scale, do not clip
                    a = np.asarray(im, dtype=np.float64)
                    pixels = np.clip(a * (255.0 / max(a.max(), 1.0)), 0, 255).astype(np.uint8)
                    if mode == "RGB":
                        pixels = np.repeat(pixels[..., None], 3, axis=-1)
                else:
                    pixels = np.asarray(im.convert(mode))
    except DataError:
        raise
    except DECODE_ERRORS as e:
        raise DataError(f"{path}: cannot be read as an image ({type(e).__name__}: {e})") from e
    if pixels.size == 0:
        raise DataError(f"{path}: image has no pixels")
    return pixels, width / pixels.shape[1]


def read_grey(path):
    """The image at ``path`` as a 2-D uint8 grey array (``read_image``'s limits and errors)."""
    return read_image(path, "L")[0]


def resize(grey, size=48):
    """Resize a 2-D uint8 image to ``size`` x ``size`` (area-averaging when shrinking)."""
    if grey.shape == (size, size):
        return grey
    im = Image.fromarray(grey)
    shrinking = grey.shape[0] > size and grey.shape[1] > size
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return np.asarray(im.resize((size, size), method))
