"""tests/cuda/harness.py and nvrtc.py are importable as `harness` and `nvrtc`; the harness's tests
skip, with the reason, where there is no g++ to compile the kernels for the CPU."""
import os
import shutil
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)


def pytest_collection_modifyitems(items):
    if shutil.which("g++"):
        return
    skip = pytest.mark.skip(reason="g++ is not installed: the CUDA-on-CPU harness compiles the kernels with it")
    for item in items:
        if os.path.dirname(str(item.fspath)) == HERE and not str(item.fspath).endswith("test_nvrtc.py"):
            item.add_marker(skip)
