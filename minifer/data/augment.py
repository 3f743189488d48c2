"""Keras-style random image augmentation as ONE affine resampling of the whole batch.

``ImageAugmenter`` draws, per image, a rotation, shift, zoom and flip with the meanings
of Keras's ``ImageDataGenerator`` (the paper's augmentation), folds them into one 2x3
matrix per image, and resamples every pixel of every image at once with bilinear
interpolation.  A per-image loop over ``scipy.ndimage.affine_transform`` costs
~1 ms per 48x48 image; one vectorised gather costs a fraction of that, and because it
is written over ``xp`` (NumPy or CuPy, whichever holds the batch) it runs on the GPU
unchanged.  Random numbers always come from the NumPy ``rng`` on the host (then
``xp.asarray``), so a seed gives the same augmentation on either device.

Conventions (all in pixels of the (row, col) image):
  * rotation ``theta`` degrees turns the content counter-clockwise, like ``np.rot90``
    and Keras;
  * a shift ``(dy, dx)`` moves the content down/right by that many pixels (Keras
    moves it by minus its draw; the ranges are symmetric, so the distributions agree);
  * zoom ``(zy, zx)`` scales the *sampling* grid like Keras: above 1 zooms out;
  * the flip mirrors left-right after the other transforms, as Keras does.
"""
import numpy as np

from ..backend import get_xp

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


def affine_matrices(height, width, theta=0.0, shift_y=0.0, shift_x=0.0, zoom_y=1.0,
                    zoom_x=1.0, flip=False):
    """(n, 2, 3) float64 matrices mapping output (row, col, 1) to input (row, col).

    All arguments broadcast to per-image arrays of length n.  The transforms act about
    the image centre ((h-1)/2, (w-1)/2), so a 90-degree turn of a square image is exact.
    """
    theta, shift_y, shift_x, zoom_y, zoom_x, flip = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(a, np.float64)) for a in
          (theta, shift_y, shift_x, zoom_y, zoom_x, flip)))
    n = theta.shape[0]
    cos, sin = np.cos(np.deg2rad(theta)), np.sin(np.deg2rad(theta))
    rotation = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
    mirror = np.where(flip != 0, -1.0, 1.0)
    scale = np.zeros((n, 2, 2))
    scale[:, 0, 0], scale[:, 1, 1] = zoom_y, zoom_x * mirror
    linear = rotation @ scale
    offset = rotation @ np.stack([-shift_y, -shift_x], -1)[..., None]
    centre = np.array([(height - 1) / 2, (width - 1) / 2])[:, None]
    translation = offset + centre - linear @ centre
    return np.concatenate([linear, translation], axis=2)


def _fold(index, size, mode, xp):
    """Map integer sample indices outside [0, size) back inside, per fill mode."""
    if mode == "reflect":  # half-sample symmetric: d c b a | a b c d | d c b a
        index = index % (2 * size)
        return xp.where(index >= size, 2 * size - 1 - index, index)
    if mode == "wrap":  # periodic: a b c d | a b c d | a b c d
        return index % size
    return xp.minimum(index, size - 1)  # nearest/constant: coordinates already clamped


def affine_resample(batch, matrices, fill_mode="nearest", cval=0.0):
    """Bilinearly resample a float (N, H, W, C) batch: ``out[n, r, c] = batch[n, A_n(r, c)]``.

    ``matrices`` (N, 2, 3), or (1, 2, 3) for all images, map output to input
    coordinates (see :func:`affine_matrices`).
    Samples outside the image follow ``fill_mode`` (scipy.ndimage semantics for
    nearest/reflect/constant; ``wrap`` is truly periodic, as Keras documents it).
    """
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, not {fill_mode!r}")
    xp = get_xp(batch)
    n, h, w, c = batch.shape
    m = xp.broadcast_to(xp.asarray(matrices, dtype=xp.float32), (n, 2, 3))
    m = m[:, :, :, None, None]  # (n, 2, 3, 1, 1): broadcasts against (h, 1) and (1, w)
    rows = xp.arange(h, dtype=xp.float32)[:, None]
    cols = xp.arange(w, dtype=xp.float32)[None, :]
    src_r = m[:, 0, 0] * rows + m[:, 0, 1] * cols + m[:, 0, 2]  # (n, h, w)
    src_c = m[:, 1, 0] * rows + m[:, 1, 1] * cols + m[:, 1, 2]
    if fill_mode == "constant":  # like scipy: no interpolation past the edge pixels
        eps = 1e-4  # float32 rounding of coordinates that are exactly on the edge
        outside = (src_r < -eps) | (src_r > h - 1 + eps) | (src_c < -eps) | (src_c > w - 1 + eps)
    if fill_mode in ("nearest", "constant"):
        # Bilinear sampling at a clamped coordinate equals edge replication, and
        # clamping 2 float arrays is cheaper than folding 4 index arrays.
        src_r, src_c = xp.clip(src_r, 0, h - 1), xp.clip(src_c, 0, w - 1)
    r0, c0 = xp.floor(src_r), xp.floor(src_c)
    fr, fc = (src_r - r0)[..., None], (src_c - c0)[..., None]
    r0, c0 = r0.astype(xp.int32), c0.astype(xp.int32)
    # Flat indices into the (n*h*w, c) batch; int32 is ample (a 256x48x48 batch is 590k).
    base = (xp.arange(n, dtype=xp.int32) * (h * w))[:, None, None]
    row_lo = base + _fold(r0, h, fill_mode, xp) * w
    row_hi = base + _fold(r0 + 1, h, fill_mode, xp) * w
    col_lo, col_hi = _fold(c0, w, fill_mode, xp), _fold(c0 + 1, w, fill_mode, xp)
    flat = batch.reshape(n * h * w, c)
    top = xp.take(flat, row_lo + col_lo, axis=0)
    top += (xp.take(flat, row_lo + col_hi, axis=0) - top) * fc
    bottom = xp.take(flat, row_hi + col_lo, axis=0)
    bottom += (xp.take(flat, row_hi + col_hi, axis=0) - bottom) * fc
    top += (bottom - top) * fr
    if fill_mode == "constant":
        top[outside] = cval
    return top


class ImageAugmenter:
    """Random rotation/shift/zoom/flip with Keras ``ImageDataGenerator`` meanings.

    ``rotation_range`` r: degrees uniform in [-r, r].  ``width_shift_range`` and
    ``height_shift_range`` s: below 1 a fraction of the width/height, else pixels,
    uniform in [-s, s] (Keras draws integer pixel ranges from a discrete set; here
    they are continuous).  ``zoom_range`` z or (lo, hi): zoom factors drawn
    independently for rows and columns in [1-z, 1+z].  ``horizontal_flip``: mirror
    half of the images.  ``fill_mode``: nearest, constant (``cval``), reflect or wrap.
    """

    def __init__(self, rotation_range=0, width_shift_range=0., height_shift_range=0.,
                 zoom_range=0., horizontal_flip=False, fill_mode="nearest", cval=0.):
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {FILL_MODES}, not {fill_mode!r}")
        self.rotation_range = float(rotation_range)
        self.width_shift_range = float(width_shift_range)
        self.height_shift_range = float(height_shift_range)
        if np.isscalar(zoom_range):
            zoom_range = (1 - zoom_range, 1 + zoom_range)
        self.zoom_range = tuple(float(z) for z in zoom_range)
        self.horizontal_flip = bool(horizontal_flip)
        self.fill_mode = fill_mode
        self.cval = float(cval)

    @property
    def is_identity(self):
        return (self.rotation_range == 0 and self.width_shift_range == 0
                and self.height_shift_range == 0 and self.zoom_range == (1.0, 1.0)
                and not self.horizontal_flip)

    def random_matrices(self, n, height, width, rng):
        """Draw n images' transforms from ``rng`` (np.random.Generator) as (n, 2, 3)."""
        def shift(limit, size):
            pixels = rng.uniform(-limit, limit, n) if limit else np.zeros(n)
            return pixels * size if limit < 1 else pixels
        theta = rng.uniform(-self.rotation_range, self.rotation_range, n) \
            if self.rotation_range else np.zeros(n)
        dy = shift(self.height_shift_range, height)
        dx = shift(self.width_shift_range, width)
        if self.zoom_range != (1.0, 1.0):
            zoom = rng.uniform(*self.zoom_range, size=(2, n))
        else:
            zoom = np.ones((2, n))
        flip = rng.random(n) < 0.5 if self.horizontal_flip else np.zeros(n, bool)
        return affine_matrices(height, width, theta, dy, dx, zoom[0], zoom[1], flip)

    def __call__(self, batch, rng):
        """Augment an (N, H, W, C) batch in its own units and dtype (uint8 pixels stay uint8, rounded,
        as torchvision's transforms keep them; the model's input scales them at its door);
        returned unchanged if nothing is enabled."""
        if self.is_identity:
            return batch
        n, h, w, _ = batch.shape
        pixels = batch.dtype.kind != "f"
        out = affine_resample(batch.astype(np.float32) if pixels else batch, self.random_matrices(n, h, w, rng),
                              self.fill_mode, self.cval)
        if not pixels:
            return out
        xp, limits = get_xp(out), np.iinfo(batch.dtype)
        return xp.clip(xp.rint(out), limits.min, limits.max).astype(batch.dtype)
