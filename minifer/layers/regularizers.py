"""Weight penalties added to the training loss, with Keras's convention.

``L2(l2)`` adds ``l2 * sum(w ** 2)`` (no factor 1/2), so Keras's L2(0.2) means the same here.
"""


class L2:
    def __init__(self, l2=0.01):
        self.l2 = float(l2)

    def __call__(self, weight):
        return (weight * weight).sum() * self.l2

    def get_config(self):
        return {"l2": self.l2}

    def __repr__(self):
        return f"L2({self.l2})"


def get(identifier):
    """None, an L2 instance, a number (taken as L2(number)), "l2", or a saved config."""
    if identifier is None or isinstance(identifier, L2):
        return identifier
    if isinstance(identifier, (int, float)):
        return L2(identifier)
    if identifier == "l2":
        return L2()
    if isinstance(identifier, dict) and set(identifier) == {"l2"}:
        return L2(**identifier)
    raise ValueError(f"unknown regularizer {identifier!r}")


def serialize(regularizer):
    return None if regularizer is None else regularizer.get_config()
