"""The part of cupyx minifer uses, over SciPy (see ../cupy.py)."""
from . import scipy  # noqa: F401
