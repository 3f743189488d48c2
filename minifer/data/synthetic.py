"""Procedural grey faces in FER2013's seven classes: the offline default dataset.

Each face is drawn in its own coordinates (u right, v down, in half image widths)
from smooth masks -- an oval, hair, eyes, brows, nose and mouth -- whose shapes carry
the expression: angry brows slant down to the nose over a tight mouth; disgust
lowers the brows, wrinkles the nose and lifts one side of the upper lip; fear raises
the inner brows over wide eyes and a stretched open mouth; happy is a wide smile
with narrowed eyes; sad lifts the inner brows over a down-turned mouth; surprise
arches the brows high over wide eyes and a round open mouth; neutral is flat.
Identity (face size, skin, eye spacing, hair), pose (rotation, shift, scale),
expression intensity, lighting, contrast, noise and occluding patches all vary, so
the class is only visible through local shapes at varying places: hard for a linear
model on raw pixels, learnable by a small CNN (see benchmarks/synthetic_difficulty.py).
Everything is vectorised over a chunk of faces, and every random number comes from
one ``np.random.default_rng(seed)``, so a seed always gives the same faces.
"""
import numpy as np

from .classes import FER2013_CLASSES

SIDE = 48
_CHUNK = 512

# Per class (FER2013 order): brow raise, inner-brow lift, brow arch, eye opening,
# mouth curve (+ smile), mouth opening, mouth width, nose wrinkle, upper-lip lift.
_EXPRESSIONS = np.array([
    # raise  inner  arch  eyes  curve  open  width wrinkle lip
    [-0.06, -0.55, 0.00, 0.65, -0.15, 0.00, 0.70, 0.0, 0.0],  # angry
    [-0.04, -0.20, 0.00, 0.55, -0.20, 0.03, 0.90, 1.0, 1.0],  # disgust
    [0.06, 0.45, 0.00, 1.55, -0.10, 0.08, 1.20, 0.0, 0.0],    # fear
    [0.01, 0.00, 0.02, 0.60, 0.55, 0.03, 1.15, 0.0, 0.0],     # happy
    [0.02, 0.55, 0.00, 0.75, -0.50, 0.00, 0.90, 0.0, 0.0],    # sad
    [0.11, 0.00, 0.05, 1.65, 0.00, 0.16, 0.55, 0.0, 0.0],     # surprise
    [0.00, 0.00, 0.00, 1.00, 0.00, 0.00, 1.00, 0.0, 0.0],     # neutral
], np.float32)
_NEUTRAL = _EXPRESSIONS[FER2013_CLASSES.index("neutral")]


def synthetic_faces(n, seed=0):
    """``n`` faces as ``(images (n,48,48,1) uint8, labels int64)``, classes balanced.

    ``seed`` is anything ``np.random.default_rng`` accepts (an int, or a tuple such as
    ``(seed, split)`` for independent splits).
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(FER2013_CLASSES)).astype(np.int64)
    params = _draw_params(rng, labels)
    images = np.empty((n, SIDE, SIDE, 1), np.uint8)
    for start in range(0, n, _CHUNK):
        part = {k: v[start:start + _CHUNK] for k, v in params.items()}
        images[start:start + _CHUNK, ..., 0] = _render(part, rng)
    return images, labels


def _draw_params(rng, labels):
    """Every per-face random quantity, as (n, 1, 1) float32 arrays ready to broadcast."""
    n = len(labels)
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731 (a local shorthand)
    intensity = u(0.55, 1.0)[:, None]
    expr = _NEUTRAL + intensity * (_EXPRESSIONS[labels] - _NEUTRAL)
    p = {
        "angle": np.deg2rad(u(-15, 15)), "scale": u(0.82, 1.12),
        "shift_x": u(-0.14, 0.14), "shift_y": u(-0.14, 0.14),
        "face_w": u(0.56, 0.70), "face_h": u(0.74, 0.90), "skin": u(0.40, 0.85),
        "background": u(0.0, 1.0), "hair": u(0.03, 0.45), "hair_line": u(-0.75, -0.45),
        "has_hair": (rng.random(n) < 0.75).astype(float),
        "eye_x": u(0.20, 0.30), "eye_y": u(-0.22, -0.10), "eye_r": u(0.07, 0.10),
        "brow_gap": u(0.12, 0.17), "brow_len": u(0.09, 0.13), "brow_w": u(0.025, 0.040),
        "mouth_y": u(0.36, 0.50), "mouth_w": u(0.17, 0.25), "lip_w": u(0.022, 0.035),
        "lip_side": rng.choice([-1.0, 1.0], n), "ink": u(0.45, 0.85),
        "light": u(0.0, 0.35), "light_dir": u(0, 2 * np.pi),
        "contrast": u(0.7, 1.2), "noise": u(0.01, 0.06),
        "occluded": (rng.random(n) < 0.35).astype(float), "occ_tone": u(0.0, 1.0),
        "occ_r0": u(0, SIDE - 8), "occ_c0": u(0, SIDE - 8),
        "occ_h": u(8, 18), "occ_w": u(8, 18),
    }
    for i, name in enumerate(("raise", "inner", "arch", "eyes", "curve", "open", "width",
                              "wrinkle", "lip")):
        p[name] = expr[:, i]
    return {k: np.asarray(v, np.float32)[:, None, None] for k, v in p.items()}


def _band(distance, width):
    """A soft stroke: 1 on the curve, falling linearly to 0 at ``width`` away."""
    return np.clip(1.0 - np.abs(distance) / width, 0.0, 1.0)


def _inside(r, softness=0.05):
    """Soft inside-mask of a shape whose normalised radius ``r`` is 1 on its edge."""
    return np.clip((1.0 - r) / softness + 0.5, 0.0, 1.0)


def _render(p, rng):
    """Render one chunk of faces to (m, 48, 48) uint8."""
    m = p["angle"].shape[0]
    grid = (np.arange(SIDE, dtype=np.float32) + 0.5) / SIDE * 2 - 1
    y, x = grid[None, :, None], grid[None, None, :]
    cos, sin = np.cos(p["angle"]), np.sin(p["angle"])
    dx, dy = x - p["shift_x"], y - p["shift_y"]
    u = (cos * dx + sin * dy) / p["scale"]
    v = (-sin * dx + cos * dy) / p["scale"]

    face = _inside(np.sqrt((u / p["face_w"]) ** 2 + (v / p["face_h"]) ** 2))
    head = _inside(np.sqrt((u / (p["face_w"] + 0.08)) ** 2 + (v / (p["face_h"] + 0.1)) ** 2))
    hair = p["has_hair"] * head * np.clip((p["hair_line"] - v) / 0.06 + 0.5, 0, 1)
    img = p["background"] * (1 - face) + p["skin"] * face
    img = img * (1 - hair) + p["hair"] * hair

    au = np.abs(u)  # both eyes, brows and nostrils are mirror images
    eye_h = p["eye_r"] * 0.5 * p["eyes"]
    eye = _inside(np.sqrt(((au - p["eye_x"]) / p["eye_r"]) ** 2 + ((v - p["eye_y"]) / eye_h) ** 2))
    pupil = _inside(np.sqrt((au - p["eye_x"]) ** 2 + (v - p["eye_y"]) ** 2) /
                    (0.45 * np.minimum(p["eye_r"], eye_h * 1.6)))
    sclera = 0.2 + 0.6 * np.clip(p["eyes"] - 1.0, 0, 0.6)  # wide eyes show their whites
    img = img * (1 - eye) + (img * (1 - sclera) + sclera) * eye
    img = img * (1 - pupil) + 0.05 * pupil

    t = (au - p["eye_x"]) / p["brow_len"]  # -1 at the inner end, +1 at the outer end
    brow_v = (p["eye_y"] - p["brow_gap"] - p["raise"] + p["inner"] * p["brow_len"] * t
              - p["arch"] * (1 - t ** 2))
    brow = _band(v - brow_v, p["brow_w"]) * _inside(np.abs(t), 0.15)

    width = p["mouth_w"] * p["width"]
    s = u / width
    lip_v = (p["mouth_y"] + p["curve"] * 0.1 * (1 - s ** 2)
             - p["lip"] * 0.07 * np.clip(s * p["lip_side"], 0, 1))
    lips = _band(v - lip_v, p["lip_w"]) * _inside(np.abs(s), 0.1)
    opening = _inside(np.sqrt((s / 0.85) ** 2 + ((v - lip_v) / (p["open"] + 1e-3)) ** 2))
    opening *= (p["open"] > 0.01)

    nose_top, nose_y = p["eye_y"] + 0.05, p["eye_y"] + 0.33
    bridge = _band(u, 0.02) * _inside(np.abs(v - (nose_top + nose_y) / 2) / ((nose_y - nose_top) / 2))
    nostrils = _inside(np.sqrt(((au - 0.06) / 0.035) ** 2 + ((v - nose_y) / 0.022) ** 2))
    wrinkles = p["wrinkle"] * _inside(au / 0.11) * (
        _band(v - (p["eye_y"] + 0.06), 0.018) + _band(v - (p["eye_y"] + 0.12), 0.018))

    ink = np.clip(brow + lips + opening + nostrils + 0.35 * bridge + 0.8 * wrinkles, 0, 1)
    img = img * (1 - p["ink"] * ink * face)

    img = img * (1 + p["light"] * (np.cos(p["light_dir"]) * x + np.sin(p["light_dir"]) * y))
    img = (img - 0.5) * p["contrast"] + 0.5
    rows, cols = np.arange(SIDE)[None, :, None], np.arange(SIDE)[None, None, :]
    patch = (p["occluded"] * (rows >= p["occ_r0"]) * (rows < p["occ_r0"] + p["occ_h"])
             * (cols >= p["occ_c0"]) * (cols < p["occ_c0"] + p["occ_w"]))
    img = img * (1 - patch) + p["occ_tone"] * patch
    img = img + p["noise"] * rng.standard_normal((m, SIDE, SIDE), dtype=np.float32)
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
