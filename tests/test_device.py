"""Devices without a GPU: the one clear error for each missing piece, and the CPU side of the API."""
import subprocess
import sys

import numpy as np
import pytest

import minifer
from minifer import backend


@pytest.fixture
def fresh_backend(monkeypatch):
    """Forget what set_device found, and put the device back after the test."""
    monkeypatch.setattr(backend, "_cupy_checked", None)
    monkeypatch.setattr(backend, "_device", None)


def test_without_cupy_the_error_says_what_to_install(fresh_backend, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` now raises ImportError
    with pytest.raises(minifer.DeviceError) as error:
        minifer.set_device("gpu")
    message = str(error.value)
    assert 'pip install "minifer[gpu]"' in message and "cupy-cuda12x" in message and "cupy-cuda13x" in message
    assert minifer.get_device() == "cpu"  # the failed switch changed nothing


def test_with_cupy_but_no_driver_the_error_says_so(fresh_backend):
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
        pytest.skip("a GPU is present")
    except cupy.cuda.runtime.CUDARuntimeError:
        pass
    with pytest.raises(minifer.DeviceError, match="no usable NVIDIA driver"):
        minifer.set_device("gpu")


def test_unknown_device_names_the_choices(fresh_backend):
    with pytest.raises(ValueError, match=r"device must be one of \('cpu', 'gpu'\), got 'tpu'"):
        minifer.set_device("tpu")


def test_minifer_device_environment_variable(tmp_path):
    probe = "import minifer; print(minifer.get_device()); minifer.models.arch1()"
    ok = subprocess.run([sys.executable, "-c", probe], env={"MINIFER_DEVICE": "cpu", "PATH": ""},
                        capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "cpu", ok.stderr
    wrong = subprocess.run([sys.executable, "-c", probe], env={"MINIFER_DEVICE": "tpu", "PATH": ""},
                           capture_output=True, text=True)
    assert wrong.returncode != 0 and "device must be one of" in wrong.stderr


def test_cpu_tensors_and_models_stay_where_they_are():
    t = minifer.Tensor(np.ones(3), requires_grad=True)
    assert t.device == "cpu" and t.to("cpu") is t
    model = minifer.models.arch1()
    assert model.device == "cpu" and model.to("cpu") is model
    assert isinstance(model.predict(np.zeros((1, 48, 48, 1), np.uint8)), np.ndarray)
