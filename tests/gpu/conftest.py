"""Every test here needs a real GPU: without CuPy, a driver or a device, the folder is skipped with the reason."""
import pytest


def _why_not():
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as exc:  # CuPy missing, no driver, or no device
        return f"no usable GPU: {exc}"
    return None


REASON = _why_not()


def pytest_collection_modifyitems(items):
    if REASON is None:
        return
    for item in items:
        if "/tests/gpu/" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=REASON))
