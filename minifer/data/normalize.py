"""Input scaling: [0, 1], or a per-dataset mean/std recorded with the model.

A model trained on standardised inputs is only usable with the same mean and std,
so :class:`Normalizer` stores them as a JSON-able dict to save beside the weights.
"""
from ..backend import get_xp
from ..layers.input import scale_pixels


class Normalizer:
    """``(x - mean) / std`` with one mean and std over all pixels of the fitted set.

    Fit on the *training* images only (scaled to [0, 1] first if uint8), so the
    validation and test sets see the statistics a deployed model will see.
    """

    def __init__(self, mean=0.0, std=1.0):
        self.mean, self.std = float(mean), float(std)

    def fit(self, x):
        x = _unit(x)
        xp = get_xp(x)
        self.mean = float(xp.mean(x, dtype=xp.float64))
        self.std = float(xp.std(x, dtype=xp.float64)) or 1.0
        return self

    def __call__(self, x):
        x = _unit(x)
        xp = get_xp(x)
        return (x - xp.float32(self.mean)) / xp.float32(self.std)

    def to_dict(self):
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, d):
        return cls(d["mean"], d["std"])


def _unit(x):
    """uint8 pixels in [0, 1]; anything else as float32, as given."""
    return scale_pixels(x) if x.dtype == "uint8" else x.astype("float32", copy=False)
