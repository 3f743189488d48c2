"""Activations by Keras name, for layers' ``activation=`` argument and ``Activation``."""
from .. import functional as F

_BY_NAME = {
    "linear": lambda x: x,
    "relu": F.relu,
    "softmax": F.softmax,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "swish": F.swish,
    "silu": F.swish,  # Keras 3's name for swish
    "gelu": F.gelu,
    "leaky_relu": F.leaky_relu,
}


def get(identifier):
    if identifier is None:
        identifier = "linear"
    try:
        return _BY_NAME[identifier]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {identifier!r}; known: {sorted(_BY_NAME)}") from None
