"""A stand-in for CuPy on a machine without a GPU, for one purpose: running tests/gpu here.

Arrays are NumPy's; ``RawModule`` compiles minifer's .cu kernels with g++ through the harness
(tests/cuda/harness.py); the runtime reports one device; ``cupyx.distributed``'s NCCL calls are
made over MPI (fake_gpu/cupyx/distributed.py). So the GPU path's Python (set_device,
Model.to, the CUDA kernel set, tests/gpu itself) runs end to end, and a test that would fail on
a GPU for a Python reason fails here first. It proves nothing about CUDA itself: that is the
GPU run's (docs/gpu.md).
"""
import os
import sys
import types

import numpy as _np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import load_module  # noqa: E402

__version__ = "fake (NumPy + g++)"
ndarray = _np.ndarray
random = _np.random


def __getattr__(name):
    return getattr(_np, name)


def asnumpy(array):
    return _np.asarray(array)


class RawModule:
    def __init__(self, code, options=()):
        from minifer.kernels.cuda import SOURCES
        self.module = load_module(list(SOURCES), _np.float32 if "-Dscalar_t=float" in options else _np.float64)

    def get_function(self, name):
        return self.module.get_function(name)


class _Runtime:
    CUDARuntimeError = RuntimeError

    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def runtimeGetVersion():
        return 0

    @staticmethod
    def getDeviceProperties(index):
        return {"name": b"fake GPU (NumPy + g++)"}


class _Device:
    def __init__(self, index=0):
        self.id = index

    def use(self):
        pass

    def synchronize(self):
        pass


cuda = types.SimpleNamespace(runtime=_Runtime, Device=_Device, set_allocator=lambda allocator: None)
