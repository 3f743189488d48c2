"""minifer: a small, readable deep-learning library on NumPy and CuPy.

The package reads bottom-up, each folder importing only from those below it (see
docs/architecture.md): backend, random -> kernels -> autograd -> functional -> layers ->
graph -> io -> training -> engine, with data, models, plot, predict and cli as leaves nothing
in the core imports. Importing minifer starts no thread and loads no image, plotting or progress
library; the leaves load on first use (``minifer.data``, ``minifer.models``, ``minifer.plot``).
"""
import importlib
import sys

from . import functional, layers, random
from .autograd import Tensor, no_grad
from .backend import DeviceError, get_device, set_device
from .engine import Model, Sequential
from .graph import Input
from .io import load, load_model, save  # load_model: Keras's name for load
from .io.config import clone_model, model_from_json
from .kernels.cpu import num_threads, set_num_threads
from .layers import initializers, regularizers
from .training import callbacks, losses, metrics, optimizers, utils

__version__ = "0.1.0"

# Keras's public module names for modules that live deeper here: ``from minifer.optimizers import Adam``
for _module in (callbacks, initializers, losses, metrics, optimizers, regularizers, utils):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module
sys.modules[f"{__name__}.optimizers.schedules"] = optimizers.schedules  # keras.optimizers.schedules

_LEAVES = ("data", "models", "plot", "cli", "predict", "distributed")


def __getattr__(name):
    """``minifer.data``, ``minifer.models``, ``minifer.plot``, ``minifer.distributed``, ``minifer.predict_faces``:
    imported on first use."""
    if name in _LEAVES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "predict_faces":
        return importlib.import_module(f"{__name__}.predict").predict_faces
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DeviceError", "Input", "Model", "Sequential", "Tensor", "callbacks", "clone_model", "model_from_json", "get_device", "functional", "initializers", "layers", "load", "load_model",
           "losses", "metrics", "no_grad", "num_threads", "optimizers", "random", "regularizers", "save", "set_device", "set_num_threads", "utils"]
