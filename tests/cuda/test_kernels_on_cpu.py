"""minifer's CUDA C kernels, run on the CPU through the g++ harness, against NumPy references.

Outputs start as NaN (or -7 for argmax) so an element the kernel never writes fails, and the
small launch (3 blocks of 32 threads) makes every kernel go round its grid-stride loop.
"""
import glob
import os

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from harness import load_module

KERNELS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "minifer",
                                        "kernels", "cuda", "*.cu")))
GRID, BLOCK = (3,), (32,)
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
dtypes = pytest.mark.parametrize("dtype", [np.float32, np.float64])


def launch(dtype, name, *args):
    """Call kernel `name` with array arguments as given and Python ints as numpy.int32."""
    args = tuple(np.int32(a) if isinstance(a, int) else a for a in args)
    load_module(KERNELS, dtype).get_function(name)(GRID, BLOCK, args)


def out_size(size, k, s, padding):
    """(output size, leading pad) by TensorFlow's rule."""
    if padding == "same":
        out = -(-size // s)
        return out, max((out - 1) * s + k - size, 0) // 2
    return (size - k) // s + 1, 0


@st.composite
def geometry(draw):
    """A conv/pool geometry with a non-empty output: dict of the kernels' int arguments."""
    N, C = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    H, W = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["same", "valid"]))
    HO, PT = out_size(H, KH, SH, padding)
    WO, PL = out_size(W, KW, SW, padding)
    assume(HO > 0 and WO > 0)
    return dict(N=N, H=H, W=W, C=C, KH=KH, KW=KW, SH=SH, SW=SW, PT=PT, PL=PL, HO=HO, WO=WO)


def padded(x, g, fill=0.0):
    """x (N,H,W,C) padded so that every window of geometry g lies inside."""
    bottom = max((g["HO"] - 1) * g["SH"] + g["KH"] - g["H"] - g["PT"], 0)
    right = max((g["WO"] - 1) * g["SW"] + g["KW"] - g["W"] - g["PL"], 0)
    return np.pad(x, ((0, 0), (g["PT"], bottom), (g["PL"], right), (0, 0)), constant_values=fill)


def taps(g):
    """(i, j, slices) for every tap: xp[slices] is the (N,HO,WO,C) block that tap reads."""
    for i in range(g["KH"]):
        for j in range(g["KW"]):
            yield i, j, (slice(None), slice(i, i + (g["HO"] - 1) * g["SH"] + 1, g["SH"]),
                         slice(j, j + (g["WO"] - 1) * g["SW"] + 1, g["SW"]), slice(None))


def crop(xp, g):
    return xp[:, g["PT"]:g["PT"] + g["H"], g["PL"]:g["PL"] + g["W"], :]


def ints(g, *names):
    return [g[n] for n in names]


CONV = ("N", "H", "W", "C", "KH", "KW", "SH", "SW", "PT", "PL", "HO", "WO")


def normal(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@dtypes
@given(g=geometry(), seed=st.integers(0, 2**32 - 1))
def test_im2col_and_col2im(dtype, g, seed):
    rng = np.random.default_rng(seed)
    N, H, W, C, HO, WO = ints(g, "N", "H", "W", "C", "HO", "WO")
    rows, K = N * HO * WO, g["KH"] * g["KW"] * C
    x = normal(rng, (N, H, W, C), dtype)
    cols = np.full((rows, K), np.nan, dtype)
    launch(dtype, "im2col", x, cols, *ints(g, *CONV))
    want = np.stack([padded(x, g)[s] for _, _, s in taps(g)], axis=3)  # (N,HO,WO,KH*KW,C)
    np.testing.assert_array_equal(cols, want.reshape(rows, K))

    cols = normal(rng, (rows, K), dtype)
    dx = np.full((N, H, W, C), np.nan, dtype)
    launch(dtype, "col2im", cols, dx, *ints(g, *CONV))
    dxp = padded(np.zeros((N, H, W, C)), g)
    blocks = cols.astype(np.float64).reshape(N, HO, WO, g["KH"], g["KW"], C)
    for i, j, s in taps(g):
        dxp[s] += blocks[:, :, :, i, j, :]
    np.testing.assert_allclose(dx, crop(dxp, g), **TOL[dtype])


DEPTHWISE = ("N", "H", "W", "C", "M", "KH", "KW", "SH", "SW", "PT", "PL", "HO", "WO")


@dtypes
@given(g=geometry(), M=st.integers(1, 2), seed=st.integers(0, 2**32 - 1))
def test_depthwise(dtype, g, M, seed):
    g = dict(g, M=M)
    rng = np.random.default_rng(seed)
    N, H, W, C, KH, KW, HO, WO = ints(g, "N", "H", "W", "C", "KH", "KW", "HO", "WO")
    x, w = normal(rng, (N, H, W, C), dtype), normal(rng, (KH, KW, C, M), dtype)
    g_out = normal(rng, (N, HO, WO, C * M), dtype)
    xp, w64, g64 = padded(x.astype(np.float64), g), w.astype(np.float64), g_out.astype(np.float64)

    y = np.full((N, HO, WO, C * M), np.nan, dtype)
    launch(dtype, "depthwise_forward", x, w, y, *ints(g, *DEPTHWISE))
    want = sum(xp[s][..., None] * w64[i, j] for i, j, s in taps(g))
    np.testing.assert_allclose(y, want.reshape(y.shape), **TOL[dtype])

    dx = np.full((N, H, W, C), np.nan, dtype)
    launch(dtype, "depthwise_backward_input", g_out, w, dx, *ints(g, *DEPTHWISE))
    dxp = np.zeros_like(xp)
    g5 = g64.reshape(N, HO, WO, C, M)
    for i, j, s in taps(g):
        dxp[s] += (g5 * w64[i, j]).sum(-1)
    np.testing.assert_allclose(dx, crop(dxp, g), **TOL[dtype])

    R = N * HO * WO
    patches = np.stack([xp[s].reshape(R, C) for _, _, s in taps(g)], axis=1)  # (R, KH*KW, C)
    products = patches[..., None] * g5.reshape(R, 1, C, M)                       # (R, KH*KW, C, M)
    for chunks in sorted({1, 2, 3, R, R + 2}):
        partial = np.full((chunks, KH * KW * C * M), np.nan, dtype)
        launch(dtype, "depthwise_backward_weight", x, g_out, partial, *ints(g, *DEPTHWISE), chunks)
        want = np.stack([products[k * R // chunks:(k + 1) * R // chunks].sum(0).reshape(-1)
                         for k in range(chunks)])
        np.testing.assert_allclose(partial, want, **TOL[dtype])


POOL = CONV  # same int arguments, with PH, PW in the place of KH, KW


def pool_reference(x, g):
    """(y, argmax) by TensorFlow's rule: first maximum in row-major window order, the first
    NaN if any, and padding never wins (not even against -inf)."""
    def windows(a, fill):  # (N,HO,WO,taps,C)
        a = padded(a, g, fill)
        return np.stack([a[s] for _, _, s in taps(g)], axis=3)
    values, inside = windows(x.astype(np.float64), -np.inf), windows(np.ones(x.shape, bool), False)
    arg = np.argmax(values, axis=3)  # the first maximum; np.argmax picks the first NaN too
    chosen_inside = np.take_along_axis(inside, arg[:, :, :, None], axis=3)[:, :, :, 0]
    arg = np.where(chosen_inside, arg, np.argmax(inside, axis=3))  # all -inf: first pixel
    return np.take_along_axis(values, arg[:, :, :, None], axis=3)[:, :, :, 0], arg


@dtypes
@given(g=geometry(), seed=st.integers(0, 2**32 - 1), special=st.sampled_from([0.0, -np.inf, np.nan]),
       rate=st.sampled_from([0.2, 0.8]))
def test_max_pool(dtype, g, seed, special, rate):
    rng = np.random.default_rng(seed)
    N, H, W, C, HO, WO = ints(g, "N", "H", "W", "C", "HO", "WO")
    x = rng.integers(-2, 3, (N, H, W, C)).astype(dtype)  # small integers: many ties
    x[rng.random(x.shape) < rate] = special
    y = np.full((N, HO, WO, C), np.nan, dtype)
    argmax = np.full((N, HO, WO, C), -7, np.int32)
    launch(dtype, "max_pool_forward", x, y, argmax, *ints(g, *POOL))
    want_y, want_arg = pool_reference(x, g)
    np.testing.assert_array_equal(argmax, want_arg)
    np.testing.assert_array_equal(y, want_y)

    grad = normal(rng, (N, HO, WO, C), dtype)
    grad.reshape(-1)[rng.integers(grad.size)] = rng.choice([np.inf, np.nan])  # must not spread
    dx = np.full((N, H, W, C), np.nan, dtype)
    launch(dtype, "max_pool_backward", grad, argmax, dx, *ints(g, *POOL))
    dxp = padded(np.zeros((N, H, W, C)), g)
    for i, j, s in taps(g):
        dxp[s] += np.where(want_arg == i * g["KW"] + j, grad, 0)
    np.testing.assert_allclose(dx, crop(dxp, g), **TOL[dtype])


def test_max_pool_by_hand():
    """One 1x4 window over a 1x3 row with one padding pixel on the left (tap 0): the first of
    equal maxima wins, the first NaN beats everything, and padding loses even to -inf."""
    g = dict(N=1, H=1, W=3, C=1, KH=1, KW=4, SH=1, SW=1, PT=0, PL=1, HO=1, WO=1)
    for row, want_y, want_arg in [([1, 3, 3], 3, 2), ([5, np.nan, np.nan], np.nan, 2),
                                  ([-np.inf] * 3, -np.inf, 1)]:
        y, arg = np.zeros((1, 1, 1, 1), np.float32), np.zeros((1, 1, 1, 1), np.int32)
        launch(np.float32, "max_pool_forward", np.array(row, np.float32).reshape(1, 1, 3, 1),
               y, arg, *ints(g, *POOL))
        np.testing.assert_array_equal(y.ravel(), [want_y])
        assert arg.item() == want_arg
