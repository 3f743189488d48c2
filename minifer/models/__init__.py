"""Ready-made networks: the paper's ARCH-1..4 and mini-Xception, by function or by name; and
RetinaFace-MobileNet0.25, the face detector of ``minifer.predict``."""
from .arch import DEFAULT_L2, PAPER_DROPOUT, PAPER_L2, arch1, arch2, arch3, arch4
from .mini_xception import mini_xception
from .retinaface import retinaface, retinaface_from_onnx

BUILDERS = {"arch1": arch1, "arch2": arch2, "arch3": arch3, "arch4": arch4, "mini_xception": mini_xception}

__all__ = ["BUILDERS", "DEFAULT_L2", "PAPER_DROPOUT", "PAPER_L2", "arch1", "arch2", "arch3", "arch4", "get",
           "mini_xception", "retinaface", "retinaface_from_onnx"]


def get(name, /, **kwargs):
    """Build the network called ``name`` ("arch1".."arch4", "mini_xception") with ``kwargs``."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(BUILDERS)}") from None
    return builder(**kwargs)
