"""Compile CUDA C with NVRTC and CuPy's own options, without touching a GPU.

CuPy's ``compile_using_nvrtc`` asks the device for its architecture and fails where there is
none; the low-level binding (createProgram / compileProgram / getCUBIN) does not.
``assemble_cupy_compiler_options`` is private CuPy API (pinned: cupy-cuda13x 14.2.0).
"""
import os
import re

from cupy._core.core import assemble_cupy_compiler_options
from cupy.cuda import nvrtc as _nvrtc
from cupy.cuda.compiler import CompileException

KERNELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "minifer", "kernels", "cuda")  # windows.cuh

_PTXAS = re.compile(r"Function properties for (\w+)\n.*?(\d+) bytes spill stores, (\d+) bytes spill loads\n"
                    r".*?Used (\d+) registers")


def version():
    """NVRTC's (major, minor); raises where the library cannot be loaded."""
    return _nvrtc.getVersion()


def options(arch, scalar):
    return assemble_cupy_compiler_options((
        "-ftz=true", f"-arch={arch}", "--device-as-default-execution-space",
        f"-Dscalar_t={scalar}", "--ptxas-options=-v", f"-I{KERNELS}"))


def compile_cubin(source, name, arch="sm_90", scalar="float"):
    """(cubin bytes, compiler log with ptxas's report); CompileException carrying the log."""
    opts = options(arch, scalar)
    prog = _nvrtc.createProgram(source, name, [], [])
    try:
        try:
            _nvrtc.compileProgram(prog, opts)
        except _nvrtc.NVRTCError:
            raise CompileException(_nvrtc.getProgramLog(prog), source, name, opts) from None
        return _nvrtc.getCUBIN(prog), _nvrtc.getProgramLog(prog)
    finally:
        _nvrtc.destroyProgram(prog)


def ptxas_report(log):
    """{kernel: (registers, spill store bytes, spill load bytes)} from a ``-v`` ptxas log."""
    return {name: (int(regs), int(stores), int(loads))
            for name, stores, loads, regs in _PTXAS.findall(log)}
