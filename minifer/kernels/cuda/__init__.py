"""The CUDA kernel set: CUDA C where generic array code would be slow or copy too much.

im2col and its gather-style adjoint (col2im), depthwise convolution and max pooling run as
the CUDA C kernels beside this file (grid-stride loops, 64-bit indices, no atomics; the
backward gathers share windows.cuh); GEMMs go
to cuBLAS through ``xp.matmul``; batch normalisation, ReLU and sums are plain array code.

``CudaKernels(xp, load)`` is written against an array module and a loader of compiled kernels.
On a GPU they are CuPy and ``cupy_loader`` (``cupy.RawModule``, compiled once per process and
dtype); in the tests they are NumPy and the same ``.cu`` sources compiled by g++ and walked
serially on the CPU (tests/cuda/harness.py), so this dispatch, buffer and launch code runs
unchanged where there is no GPU.
"""
import os

import numpy

from ..windows import checked_path, pad_images, padded_empty

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = tuple(os.path.join(HERE, name) for name in ("im2col.cu", "depthwise.cu", "pooling.cu"))
C_TYPES = {numpy.dtype(numpy.float32): "float", numpy.dtype(numpy.float64): "double"}
BLOCK = 256  # threads per block
MAX_BLOCKS = 8192  # grid-stride loops cover the rest
WEIGHT_GRAD_THREADS = 65536  # about how many threads the depthwise weight gradient runs


def cupy_loader(paths, dtype):
    """A ``cupy.RawModule`` of the sources at ``paths`` with ``scalar_t`` = ``dtype``."""
    import cupy  # the optional GPU dependency, loaded on first GPU use

    source = "\n".join(open(path).read() for path in paths)
    return cupy.RawModule(code=source, options=(f"-Dscalar_t={C_TYPES[numpy.dtype(dtype)]}", f"-I{HERE}"))


def _ints(*values):
    """Kernel ``int`` arguments: numpy.int32, never a bare Python int (which CuPy passes as 64-bit)."""
    return tuple(numpy.int32(v) for v in values)


def _window_args(x_shape, window, strides, pads, out_hw, channels=None):
    """N, H, W, C[, M], KH, KW, SH, SW, PT, PL, HO, WO as the kernels take them."""
    n, h, w, c = x_shape
    multiplier = () if channels is None else (channels,)
    return _ints(n, h, w, c, *multiplier, *window, *strides, pads[0][0], pads[1][0], *out_hw)


class CudaKernels:
    CONV_PATHS = ("gemm", "im2col")

    def __init__(self, xp, load):
        self.xp, self.load = xp, load
        self.modules = {}  # dtype -> compiled module
        self.fill = None  # a value to pre-fill kernel outputs with (tests use NaN: unwritten shows)

    # -- launching -------------------------------------------------------------------
    def launch(self, name, dtype, total, *args):
        dtype = numpy.dtype(dtype)
        if dtype not in self.modules:
            if dtype not in C_TYPES:
                raise TypeError(f"the CUDA kernels take float32 or float64 arrays, got {dtype}")
            self.modules[dtype] = self.load(SOURCES, dtype)
        blocks = max(1, min(-(-total // BLOCK), MAX_BLOCKS))
        self.modules[dtype].get_function(name)((blocks,), (BLOCK,), args)

    def empty(self, shape, dtype):
        if self.fill is None:
            return self.xp.empty(shape, dtype=dtype)
        dtype = numpy.dtype(dtype)
        return self.xp.full(shape, self.fill if dtype.kind == "f" else numpy.iinfo(dtype).min, dtype=dtype)

    def im2col(self, x, window, strides, pads, out_hw):
        n, _, _, c = x.shape
        cols = self.empty((n * out_hw[0] * out_hw[1], window[0] * window[1] * c), x.dtype)
        self.launch("im2col", x.dtype, cols.size, x, cols, *_window_args(x.shape, window, strides, pads, out_hw))
        return cols

    # -- convolution ---------------------------------------------------------------------
    def conv2d_path(self, x_shape, kernel, strides, path=None):
        if path is not None:
            return checked_path(path, self.CONV_PATHS, kernel, strides)
        return "gemm" if tuple(kernel) == (1, 1) and tuple(strides) == (1, 1) else "im2col"

    def conv2d_forward(self, x, w, b, strides, pads, out_hw, path):
        """(y, saved): one GEMM of the patches (or of the input itself, for "gemm"); saves x."""
        x = self.xp.ascontiguousarray(x)
        n, f = x.shape[0], w.shape[3]
        patches = x.reshape(-1, x.shape[3]) if path == "gemm" else self.im2col(x, w.shape[:2], strides, pads, out_hw)
        y = patches @ w.reshape(-1, f)
        if b is not None:
            y += b
        return y.reshape(n, *out_hw, f), x

    def conv2d_backward(self, g, saved, w, x_shape, w_shape, strides, pads, out_hw, path):
        """(dx, dw): dw rebuilds the patches (cheaper than keeping them), dx gathers them back."""
        kh, kw, c, f = w_shape
        g2 = self.xp.ascontiguousarray(g).reshape(-1, f)
        dx = dw = None
        if saved is not None:
            patches = saved.reshape(-1, c) if path == "gemm" else self.im2col(saved, (kh, kw), strides, pads, out_hw)
            dw = (patches.T @ g2).reshape(w_shape)
        if w is not None:
            dpatches = g2 @ w.reshape(-1, f).T
            if path == "gemm":
                dx = dpatches.reshape(x_shape)
            else:
                dx = self.empty(x_shape, g.dtype)
                self.launch("col2im", g.dtype, dx.size, dpatches, dx,
                            *_window_args(x_shape, (kh, kw), strides, pads, out_hw))
        return dx, dw

    def depthwise_forward(self, x, w, b, strides, pads, out_hw):
        x, w = self.xp.ascontiguousarray(x), self.xp.ascontiguousarray(w)
        kh, kw, c, m = w.shape
        y = self.empty((x.shape[0], *out_hw, c * m), x.dtype)
        self.launch("depthwise_forward", x.dtype, y.size, x, w, y,
                    *_window_args(x.shape, (kh, kw), strides, pads, out_hw, m))
        if b is not None:
            y += b
        return y, x

    def depthwise_backward(self, g, saved, w, x_shape, w_shape, strides, pads, out_hw):
        """(dx, dw); dw sums per-chunk partials (no atomics: the same result every run)."""
        kh, kw, c, m = w_shape
        g = self.xp.ascontiguousarray(g)
        args = _window_args(x_shape, (kh, kw), strides, pads, out_hw, m)
        dx = dw = None
        if w is not None:
            dx = self.empty(x_shape, g.dtype)
            self.launch("depthwise_backward_input", g.dtype, dx.size, g, self.xp.ascontiguousarray(w), dx, *args)
        if saved is not None:
            weights, rows = kh * kw * c * m, x_shape[0] * out_hw[0] * out_hw[1]
            chunks = max(1, min(rows, WEIGHT_GRAD_THREADS // weights))
            partial = self.empty((chunks, weights), g.dtype)
            self.launch("depthwise_backward_weight", g.dtype, partial.size, saved, g, partial, *args,
                        numpy.int32(chunks))
            dw = partial.sum(axis=0).reshape(w_shape)
        return dx, dw

    # -- pooling ----------------------------------------------------------------------------
    def max_pool_forward(self, x, pool, strides, pads, out_hw, keep_index):
        x = self.xp.ascontiguousarray(x)
        y = self.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
        argmax = self.empty(y.shape, numpy.int32)
        self.launch("max_pool_forward", x.dtype, y.size, x, y, argmax,
                    *_window_args(x.shape, pool, strides, pads, out_hw))
        return y, ((argmax, x.shape) if keep_index else None)

    def max_pool_backward(self, g, saved, pool, strides, pads, out_hw):
        argmax, x_shape = saved
        dx = self.empty(x_shape, g.dtype)
        self.launch("max_pool_backward", g.dtype, dx.size, self.xp.ascontiguousarray(g), argmax, dx,
                    *_window_args(x_shape, pool, strides, pads, out_hw))
        return dx

    # -- per-channel and elementwise ----------------------------------------------------------
    def batch_norm_forward(self, x, gamma, beta, epsilon):
        """(y, batch mean, biased batch variance, saved for backward)."""
        x2 = x.reshape(-1, x.shape[-1])
        count = x2.shape[0]
        mean = self.channel_sum(x2) / count
        xc = x2 - mean
        var = self.channel_sum(xc * xc) / count
        inv_std = 1.0 / self.xp.sqrt(var + epsilon)
        return (xc * (inv_std * gamma) + beta).reshape(x.shape), mean, var, (xc, inv_std)

    def batch_norm_backward(self, g, saved, gamma):
        xc, inv_std = saved
        g2 = g.reshape(xc.shape)
        count = g2.shape[0]
        dbeta = self.channel_sum(g2)
        dgamma = self.channel_sum(g2 * xc) * inv_std
        scale = gamma * inv_std
        dx = g2 * scale - xc * (scale * inv_std * dgamma / count) - scale * dbeta / count
        return dx.reshape(g.shape), dgamma, dbeta

    def channel_affine(self, x, scale, shift):
        return x * scale + shift

    def channel_sum(self, x2):
        """Column sums as a GEMV: accurate in float32 (BLAS/cuBLAS accumulate in blocks), and fast."""
        return self.xp.ones(x2.shape[0], dtype=x2.dtype) @ x2

    def pad(self, x, pads, value=0):
        if not any(any(p) for p in pads):  # as the CPU set: no copy for no padding
            return x
        out = padded_empty(x, pads)
        pad_images(x, pads, value, out, 0, x.shape[0])
        return out

    def split_batch(self, fn, n):
        """One range: the GPU's kernels are parallel already."""
        return [fn(0, n)]

    def relu_forward(self, x, keep_input):
        return self.xp.maximum(x, 0), (x if keep_input else None)  # NaN stays NaN

    def relu_backward(self, g, x):
        return g * (x > 0)  # the graph keeps x anyway: no mask kept from forward
