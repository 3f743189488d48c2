"""Run minifer's CUDA C kernels on the CPU, called exactly like ``cupy.RawKernel``.

g++ compiles the same ``.cu`` sources as C++ (``cuda_on_cpu.h`` supplies the CUDA dialect),
plus one generated launcher per ``extern "C" __global__`` kernel that walks the grid
serially. Every call is checked the way a GPU never checks: argument count and C types
against the kernel's signature (a bare Python int for an ``int`` parameter is the classic
silent bug), guard zones around every array (out-of-bounds writes), const arrays untouched.

    mod = load_module(["minifer/kernels/cuda/im2col.cu"], numpy.float32)
    mod.get_function("im2col")((3,), (32,), (x, cols, numpy.int32(N), ...))
"""
import atexit
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from typing import NamedTuple

import numpy as np

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cuda_on_cpu.h")
GUARD = 64        # elements of guard zone before and after every array
SENTINEL = 0xA5   # byte pattern of the guard zones
CXXFLAGS = ["-x", "c++", "-std=c++17", "-O1", "-Wall", "-Werror", "-shared", "-fPIC"]

_SIGNATURE = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)')
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_SCALARS = {"int": np.int32, "long long": np.int64, "float": np.float32, "double": np.float64}
_CTYPES = {np.int32: ctypes.c_int, np.int64: ctypes.c_longlong,
           np.float32: ctypes.c_float, np.float64: ctypes.c_double}
_C_NAME = {np.float32: "float", np.float64: "double"}
_modules = {}   # hash of (header, scalar type, flags, sources) -> Module: compile once per process
_build_dir = None


class Param(NamedTuple):
    name: str
    base: str       # "scalar_t", "int", "long long", "float" or "double"
    pointer: bool
    const: bool

    @property
    def ctype(self):
        return ("const " if self.const else "") + self.base + ("*" if self.pointer else "")


def parse_kernels(source):
    """{kernel name: [Param]} for every ``extern "C" __global__ void`` in a CUDA C source."""
    kernels = {}
    for match in _SIGNATURE.finditer(_COMMENT.sub(" ", source)):
        params = []
        for text in filter(str.strip, match.group(2).split(",")):
            tokens = [t for t in re.findall(r"\w+|\*", text) if t != "__restrict__"]
            base = " ".join(t for t in tokens[:-1] if t not in ("const", "*"))
            if base != "scalar_t" and base not in _SCALARS:
                raise ValueError(f"{match.group(1)}: unsupported parameter type in {text.strip()!r}")
            params.append(Param(tokens[-1], base, "*" in tokens, "const" in tokens))
        kernels[match.group(1)] = params
    return kernels


def load_module(paths, dtype):
    """Compile the .cu files at ``paths`` with ``scalar_t`` = ``dtype`` (cached per process)."""
    global _build_dir
    dtype = np.dtype(dtype).type
    sources = [open(p).read() for p in paths]
    digest = hashlib.sha256()
    for text in [open(HEADER).read(), _C_NAME[dtype], *CXXFLAGS, *sources]:
        digest.update(text.encode() + b"\0")
    key = digest.hexdigest()[:20]
    if key not in _modules:
        if _build_dir is None:
            _build_dir = tempfile.mkdtemp(prefix="minifer-cuda-on-cpu-")
            atexit.register(shutil.rmtree, _build_dir, True)
        kernels = {}
        for text in sources:
            kernels.update(parse_kernels(text))
        _modules[key] = Module(_build(key, paths, kernels, _C_NAME[dtype]), kernels, dtype)
    return _modules[key]


def _build(key, paths, kernels, scalar):
    lines = [f'#include "{os.path.abspath(p)}"' for p in paths]
    for name, params in kernels.items():
        decl = "".join(f", {p.ctype} {p.name}" for p in params)
        call = ", ".join(p.name for p in params)
        lines.append(f'extern "C" void launch_{name}(int gx, int gy, int gz, int bx, int by, int bz{decl})'
                     f" {{ walk_grid(gx, gy, gz, bx, by, bz, [&] {{ {name}({call}); }}); }}")
    cpp = os.path.join(_build_dir, f"{key}.cpp")
    lib = os.path.join(_build_dir, f"{key}.so")
    with open(cpp, "w") as f:
        f.write("\n".join(lines) + "\n")
    cmd = ["g++", *CXXFLAGS, "-include", HEADER, f"-Dscalar_t={scalar}", cpp, "-o", lib]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"g++ failed:\n{done.stderr}")
    return ctypes.CDLL(lib)


class Module:
    """What ``cupy.RawModule`` offers here: ``get_function(name)``."""

    def __init__(self, lib, kernels, dtype):
        self.lib, self.kernels, self.dtype = lib, kernels, dtype

    def get_function(self, name):
        if name not in self.kernels:
            raise KeyError(f"no kernel {name!r}; have {sorted(self.kernels)}")
        return Kernel(name, self.kernels[name], self.dtype, getattr(self.lib, f"launch_{name}"))


def _describe(arg):
    if isinstance(arg, np.ndarray):
        return f"ndarray of {arg.dtype}" + ("" if arg.flags.c_contiguous else " (not C-contiguous)")
    return f"{type(arg).__module__}.{type(arg).__name__}"


class Kernel:
    """One kernel, called like ``cupy.RawKernel``: ``kernel(grid, block, args)``."""

    def __init__(self, name, params, dtype, launch):
        self.name, self.params, self.dtype = name, params, dtype
        self._types = [dtype if p.base == "scalar_t" else _SCALARS[p.base] for p in params]
        launch.argtypes = [ctypes.c_int] * 6 + [
            ctypes.c_void_p if p.pointer else _CTYPES[t] for p, t in zip(params, self._types)]
        launch.restype = None
        self._launch = launch

    def __call__(self, grid, block, args):
        args = tuple(args)
        if len(args) != len(self.params):
            raise TypeError(f"{self.name}: takes {len(self.params)} arguments, got {len(args)}")
        for p, want, arg in zip(self.params, self._types, args):
            if p.pointer:
                ok = (isinstance(arg, np.ndarray) and arg.dtype == want and arg.flags.c_contiguous
                      and (p.const or arg.flags.writeable))
                expected = f"a C-contiguous{'' if p.const else ', writeable'} ndarray of {np.dtype(want)}"
            else:
                ok, expected = type(arg) is want, f"numpy.{np.dtype(want)}"
            if not ok:
                raise TypeError(f"{self.name}: parameter '{p.name}' ({p.ctype}) expects {expected}, "
                                f"got {_describe(arg)}")
        dims = _dims(grid, "grid") + _dims(block, "block")
        guarded, c_args = [], []
        for p, arg in zip(self.params, args):
            if p.pointer:
                buf = np.empty(arg.size + 2 * GUARD, arg.dtype)
                buf.view(np.uint8)[:] = SENTINEL
                buf[GUARD:GUARD + arg.size] = arg.reshape(-1)
                guarded.append((p, arg, buf))
                c_args.append(buf.ctypes.data + GUARD * arg.itemsize)
            else:
                c_args.append(arg.item())
        self._launch(*dims, *c_args)
        for p, arg, buf in guarded:
            raw, edge = buf.view(np.uint8), GUARD * arg.itemsize
            if (raw[:edge] != SENTINEL).any() or (raw[-edge:] != SENTINEL).any():
                raise AssertionError(f"{self.name}: out-of-bounds write around argument '{p.name}'")
            body = buf[GUARD:GUARD + arg.size]
            if p.const:
                if body.tobytes() != arg.tobytes():
                    raise AssertionError(f"{self.name}: const argument '{p.name}' was modified")
            else:
                arg.reshape(-1)[:] = body


def _dims(dims, what):
    """A grid or block tuple of 1-3 positive ints, padded with 1s to three."""
    dims = tuple(dims)
    if not 1 <= len(dims) <= 3 or not all(isinstance(d, (int, np.integer)) and d >= 1 for d in dims):
        raise ValueError(f"{what} must be a tuple of 1-3 positive ints, got {dims}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))
