"""The one place that knows NumPy from CuPy, and the CPU from the GPU.

Op code asks ``get_xp(*arrays)`` for the array module of its inputs and never imports
NumPy or CuPy itself, so the same code runs on both. Importing minifer never imports CuPy:
a CuPy array can only exist once CuPy is imported, which ``set_device("gpu")`` (or
``MINIFER_DEVICE=gpu``) does, checking first that CuPy, a driver and a device are there.
New weights are made on the current device; a model's inputs go to its weights' device.
"""
import os
import sys

import numpy

DEFAULT_DTYPE = numpy.float32
DEVICES = ("cpu", "gpu")
INSTALL = ('pip install "minifer[gpu]" (CuPy for CUDA 12, cupy-cuda12x), or "minifer[gpu-cuda13]" '
           "(cupy-cuda13x) for CUDA 13")

_device = None  # None: MINIFER_DEVICE, else "cpu", read on first use
_cupy_checked = None  # CuPy, once gpu() has found it working


class DeviceError(RuntimeError):
    """The GPU was asked for and cannot be used; the message says why and what to install."""


def _cupy():
    return sys.modules.get("cupy")


def get_xp(*arrays):
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    cupy = _cupy()
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return numpy


def to_numpy(array):
    """A NumPy copy (or view) of a NumPy or CuPy array."""
    cupy = _cupy()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return numpy.asarray(array)


def gpu():
    """CuPy, once it is known to work here; else a DeviceError saying what is missing."""
    global _cupy_checked
    if _cupy_checked is not None:
        return _cupy_checked
    try:
        import cupy
    except ImportError as error:
        raise DeviceError(f"the GPU backend needs CuPy, which is not installed ({error}): {INSTALL}") from None
    except Exception as error:  # CuPy is there but a CUDA library fails to load
        raise DeviceError(f"CuPy is installed but does not load ({error}); reinstall the CuPy package "
                          f"matching your CUDA version: {INSTALL}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError: no driver, or one too old for this CuPy
        raise DeviceError(f"CuPy is installed but no usable NVIDIA driver was found ({error}); install or update "
                          "the NVIDIA driver, or use the CPU (set_device('cpu'))") from None
    if count == 0:
        raise DeviceError("CuPy and a driver are installed but there is no CUDA device; use the CPU")
    _cupy_checked = cupy
    return cupy


def _check(device):
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    return device


def set_device(device):
    """Make new weights (and models built from now on) live on ``device``: "cpu" or "gpu"."""
    global _device
    if _check(device) == "gpu":
        gpu()
    _device = device


def get_device():
    """The current device: set_device's, else ``MINIFER_DEVICE``, else "cpu" (a bad or unusable
    ``MINIFER_DEVICE`` raises naming the variable)."""
    if _device is None:
        try:
            set_device(os.environ.get("MINIFER_DEVICE", "cpu").lower() or "cpu")
        except (DeviceError, ValueError) as error:
            raise type(error)(f"MINIFER_DEVICE: {error}") from None
    return _device


def device_of(array):
    return "cpu" if get_xp(array) is numpy else "gpu"


def to_device(array, device=None):
    """``array`` on ``device`` (default: the current one), copied only if it is elsewhere."""
    device = _check(device or get_device())
    if device == "cpu":
        return to_numpy(array)
    return gpu().asarray(array)
