"""Every kernel source compiles with NVRTC for the GPUs we run on, with CuPy's own options,
for both scalar types, without spilling registers; and compile errors carry the line.
No device is needed (nor touched)."""
import glob
import os

import pytest

pytest.importorskip("cupy")
import nvrtc  # noqa: E402  (tests/cuda/nvrtc.py)
from harness import parse_kernels  # noqa: E402

try:
    nvrtc.version()
except Exception as exc:  # the NVRTC library is missing or cannot load
    pytest.skip(f"NVRTC not available: {exc}", allow_module_level=True)

KERNELS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "minifer",
                                        "kernels", "cuda", "*.cu")))


@pytest.mark.parametrize("scalar", ["float", "double"])
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("path", KERNELS, ids=os.path.basename)
def test_kernel_compiles_without_spills(path, arch, scalar):
    source = open(path).read()
    cubin, log = nvrtc.compile_cubin(source, os.path.basename(path), arch, scalar)
    assert cubin
    report = nvrtc.ptxas_report(log)
    assert set(report) == set(parse_kernels(source)), log
    for name, (_, stores, loads) in report.items():
        assert (stores, loads) == (0, 0), f"{name} spills registers for {arch}, {scalar}:\n{log}"


def test_compile_error_names_the_line():
    source = '#define scalar_t float\nextern "C" __global__ void bad(scalar_t* y)\n{ y[0] = undefined_name; }\n'
    expected = r'bad\.cu\(3\): error: identifier "undefined_name" is undefined'
    with pytest.raises(nvrtc.CompileException, match=expected):
        nvrtc.compile_cubin(source, "bad.cu")
