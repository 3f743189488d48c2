"""Every conv2d formulation (flat-shift GEMMs, im2col, 1x1 GEMM) and the flat-shift depthwise
convolution against plain per-tap references, in float64."""
import numpy as np
import pytest

from minifer import Tensor
from minifer import functional as F
from minifer.functional.geometry import conv_output_length, pad_amounts, window_geometry
from minifer.kernels.cpu import columns, conv, depthwise, parallel, shifts


def reference(x, w, g, stride, padding):
    """Forward and both gradients, one kernel tap at a time with einsum."""
    kh, kw, _, f = w.shape
    (top, bottom), (left, right) = pad_amounts(x.shape[1:3], (kh, kw), (stride, stride), padding)
    xpad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    ho, wo = (conv_output_length(n, k, stride, padding) for n, k in zip(x.shape[1:3], (kh, kw)))
    y = np.zeros((x.shape[0], ho, wo, f))
    dxpad, dw = np.zeros_like(xpad), np.zeros_like(w)
    for i in range(kh):
        for j in range(kw):
            tap = (slice(None), slice(i, i + stride * (ho - 1) + 1, stride), slice(j, j + stride * (wo - 1) + 1, stride))
            y += np.einsum("nhwc,cf->nhwf", xpad[tap], w[i, j])
            dxpad[tap] += np.einsum("nhwf,cf->nhwc", g, w[i, j])
            dw[i, j] = np.einsum("nhwc,nhwf->cf", xpad[tap], g)
    return y, dxpad[:, top:top + x.shape[1], left:left + x.shape[2]], dw


def run(x, w, b, g, stride, padding, path):
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride, padding, path=path)
    y.backward(g)
    return y.data, xt.grad, wt.grad, bt.grad


def run_in_small_blocks(x, w, b, g, stride, padding, path, rng):
    """The same kernel pair called with tiny ragged blocks: im2col chunks of a few bytes, shift
    GEMMs of 7 rows."""
    pads, out_hw = window_geometry(x.shape[1:3], w.shape[:2], (stride, stride), padding)
    if path == "shift":
        xpad = np.pad(x, ((0, 0), *pads, (0, 0)))
        y = np.ascontiguousarray(shifts.shift_conv(xpad, w, out_hw, rows=7)) + b
        dxpad, dw = shifts.shift_conv_backward(g, xpad, w, xpad.shape, w.shape, rows=7)
        (top, _), (left, _) = pads
        return y, dxpad[:, top:top + x.shape[1], left:left + x.shape[2]], dw
    budget = int(rng.integers(1, 2000))
    y, saved = conv.conv2d_forward(x, w, b, (stride, stride), pads, out_hw, path, budget=budget)
    dx, dw = conv.conv2d_backward(g, saved, w, x.shape, w.shape, (stride, stride), pads, out_hw, path, budget=budget)
    return y, dx, dw


@pytest.mark.parametrize("path", ["shift", "im2col", "gemm"])
@pytest.mark.parametrize("seed", range(12))
def test_conv2d_paths_match_reference(path, seed):
    rng = np.random.default_rng(seed)
    stride = int(rng.integers(1, 4)) if path == "im2col" else 1
    padding = ["same", "valid"][seed % 2]
    kh, kw = (int(k) for k in rng.integers(1, 4, size=2))
    if path == "gemm":
        kh = kw = 1
    n, c, f = int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    h, w_ = int(rng.integers(max(kh, 3), 9)), int(rng.integers(max(kw, 3), 9))
    x = rng.standard_normal((n, h, w_, c))
    w = rng.standard_normal((kh, kw, c, f))
    b = rng.standard_normal(f)
    ho, wo = (conv_output_length(s, k, stride, padding) for s, k in ((h, kh), (w_, kw)))
    g = rng.standard_normal((n, ho, wo, f))
    y, dx, dw, db = run(x, w, b, g, stride, padding, path)
    y_ref, dx_ref, dw_ref = reference(x, w, g, stride, padding)
    np.testing.assert_allclose(y, y_ref + b, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, g.sum(axis=(0, 1, 2)), rtol=1e-10)
    for got, want in zip(run_in_small_blocks(x, w, b, g, stride, padding, path, rng), (y_ref + b, dx_ref, dw_ref)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_an_unknown_path_is_refused():
    with pytest.raises(ValueError, match="conv2d path must be one of"):
        F.conv2d(Tensor(np.ones((1, 4, 4, 2))), Tensor(np.ones((3, 3, 2, 2))), path="winograd")


def test_shift_path_without_input_gradient():
    """The first layer's input needs no gradient: only dw is computed."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 4))
    wt = Tensor(w, requires_grad=True)
    y = F.conv2d(Tensor(x), wt, None, 1, "same", path="shift")
    g = rng.standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_allclose(wt.grad, reference(x, w, g, 1, "same")[2], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape, kernel, strides, expected", [
    ((256, 48, 48, 8), (3, 3), (1, 1), True),     # ARCH-1's 48x48 layers: few channels, big images
    ((256, 24, 24, 16), (3, 3), (1, 1), True),
    ((256, 48, 48, 1), (3, 3), (1, 1), False),    # one channel: im2col's patches are tiny
    ((256, 6, 6, 64), (3, 3), (1, 1), False),     # small images: the discarded border costs 78%
    ((256, 24, 24, 16), (1, 1), (1, 1), False),   # 1x1: a plain GEMM already
    ((256, 48, 48, 8), (3, 3), (2, 2), False),
])
def test_path_choice_on_one_thread(shape, kernel, strides, expected):
    before = parallel.num_threads()
    parallel.set_num_threads(1)
    try:
        assert shifts.use_shifts(shape, kernel, strides) is expected
        parallel.set_num_threads(2)  # small GEMMs do not scale over threads: im2col there
        assert shifts.use_shifts(shape, kernel, strides) is False
    finally:
        parallel.set_num_threads(before)


def reference_max_pool(x, g, pool, strides, padding):
    """Window by window: the first maximum (or first NaN) takes the value and the gradient."""
    (top, bottom), (left, right) = pad_amounts(x.shape[1:3], pool, strides, padding)
    xpad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)
    ho, wo = (conv_output_length(n, k, s, padding) for n, k, s in zip(x.shape[1:3], pool, strides))
    y, dxpad = np.empty((x.shape[0], ho, wo, x.shape[3])), np.zeros_like(xpad)
    for n in range(x.shape[0]):
        for r in range(ho):
            for c in range(wo):
                for ch in range(x.shape[3]):
                    win = xpad[n, r * strides[0]:r * strides[0] + pool[0], c * strides[1]:c * strides[1] + pool[1], ch]
                    i, j = divmod(int(np.argmax(win)), pool[1])  # argmax: first NaN, else first maximum
                    y[n, r, c, ch] = win[i, j]
                    dxpad[n, r * strides[0] + i, c * strides[1] + j, ch] += g[n, r, c, ch]
    return y, dxpad[:, top:top + x.shape[1], left:left + x.shape[2]]


@pytest.mark.parametrize("seed", range(40))
def test_max_pool_paths_match_reference(seed):
    """Non-overlapping pools take the reshape fast path, overlapping ones the windows path;
    integer-valued inputs make ties common, and some cases hold NaNs."""
    rng = np.random.default_rng(seed)
    pool = tuple(int(v) for v in rng.integers(1, 4, 2))
    strides = pool if seed % 3 else tuple(int(v) for v in rng.integers(1, 4, 2))
    padding = ["valid", "same"][seed % 2]
    x = rng.integers(-2, 3, (2, int(rng.integers(3, 8)), int(rng.integers(3, 8)), 3)).astype(np.float64)
    if seed % 4 == 0:
        x[rng.random(x.shape) < 0.1] = np.nan
    xt = Tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, pool, strides, padding)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    y_ref, dx_ref = reference_max_pool(x, g, pool, strides, padding)
    np.testing.assert_array_equal(y.data, y_ref)
    np.testing.assert_allclose(xt.grad, dx_ref, rtol=1e-12, atol=1e-12)  # overlaps sum in another order


def reference_depthwise(x, w, g, stride, padding):
    """Depthwise forward and both gradients, one channel and multiplier at a time."""
    kh, kw, c, m = w.shape
    (top, bottom), (left, right) = pad_amounts(x.shape[1:3], (kh, kw), (stride, stride), padding)
    xpad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    ho, wo = (conv_output_length(n, k, stride, padding) for n, k in zip(x.shape[1:3], (kh, kw)))
    y = np.zeros((x.shape[0], ho, wo, c * m))
    dxpad, dw = np.zeros_like(xpad), np.zeros_like(w)
    for i in range(kh):
        for j in range(kw):
            tap = (slice(None), slice(i, i + stride * (ho - 1) + 1, stride), slice(j, j + stride * (wo - 1) + 1, stride))
            for ch in range(c):
                for k in range(m):
                    y[..., ch * m + k] += xpad[tap][..., ch] * w[i, j, ch, k]
                    dxpad[tap + (ch,)] += g[..., ch * m + k] * w[i, j, ch, k]
                    dw[i, j, ch, k] = (xpad[tap][..., ch] * g[..., ch * m + k]).sum()
    return y, dxpad[:, top:top + x.shape[1], left:left + x.shape[2]], dw


@pytest.mark.parametrize("seed", range(16))
def test_depthwise_matches_reference(monkeypatch, seed):
    """Flat-shift depthwise: strides 1-3, both paddings, depth multiplier 1-2, with and without
    bias and input gradient, in blocks small enough to leave ragged ends."""
    rng = np.random.default_rng(100 + seed)
    monkeypatch.setattr(depthwise, "BLOCK", int(rng.integers(1, 40)))
    stride, m = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    padding = ["same", "valid"][seed % 2]
    kh, kw = (int(k) for k in rng.integers(1, 4, size=2))
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 5))
    h, w_ = int(rng.integers(max(kh, 3), 9)), int(rng.integers(max(kw, 3), 9))
    x, w = rng.standard_normal((n, h, w_, c)), rng.standard_normal((kh, kw, c, m))
    b = rng.standard_normal(c * m) if seed % 3 else None
    xt, wt = Tensor(x, requires_grad=seed % 4 != 0), Tensor(w, requires_grad=True)
    bt = Tensor(b, requires_grad=True) if b is not None else None
    y = F.depthwise_conv2d(xt, wt, bt, stride, padding)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    y_ref, dx_ref, dw_ref = reference_depthwise(x, w, g, stride, padding)
    np.testing.assert_allclose(y.data, y_ref + (b if b is not None else 0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(wt.grad, dw_ref, rtol=1e-10, atol=1e-10)
    if xt.requires_grad:
        np.testing.assert_allclose(xt.grad, dx_ref, rtol=1e-10, atol=1e-10)
    if bt is not None:
        np.testing.assert_allclose(bt.grad, g.sum(axis=(0, 1, 2)), rtol=1e-10)


@pytest.mark.parametrize("seed", range(8))
def test_batch_norm_blocks_match_reference(monkeypatch, seed):
    """Training and inference batch norm walk the data in blocks of whole rows: tiny, ragged
    blocks must give the textbook formulas (float64)."""
    rng = np.random.default_rng(200 + seed)
    monkeypatch.setattr(columns, "BLOCK", int(rng.integers(1, 50)))
    shape = (int(rng.integers(2, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(1, 6)))
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    gamma, beta = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    xt, gt, bt = (Tensor(a, requires_grad=True) for a in (x, gamma, beta))
    mean, var = Tensor(np.zeros(shape[-1])), Tensor(np.ones(shape[-1]))
    y = F.batch_norm(xt, gt, bt, mean, var, training=True, momentum=0.0)
    y.backward(g)
    mu, sigma2 = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    xhat = (x - mu) / np.sqrt(sigma2 + 1e-3)
    count = x.size // shape[-1]
    dxhat = g * gamma
    dx_ref = (dxhat - dxhat.mean(axis=(0, 1, 2)) - xhat * (dxhat * xhat).sum(axis=(0, 1, 2)) / count) / np.sqrt(sigma2 + 1e-3)
    np.testing.assert_allclose(y.data, xhat * gamma + beta, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(xt.grad, dx_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(gt.grad, (g * xhat).sum(axis=(0, 1, 2)), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bt.grad, g.sum(axis=(0, 1, 2)), rtol=1e-10, atol=1e-10)
    inferred = F.batch_norm(Tensor(x), gt, bt, mean, var, training=False)  # momentum 0: the batch's statistics
    np.testing.assert_allclose(inferred.data, xhat * gamma + beta, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("pool", [(2, 2), (3, 2)])
def test_max_pool_non_finite_gradient_reaches_only_the_first_maximum(pool):
    """A NaN or inf gradient goes to the winning position only, the rest of its window gets 0."""
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, (2, 6, 6, 3)).astype(np.float64)
    xt = Tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, pool)
    g = rng.standard_normal(y.shape)
    g[0, 0, 0, 0], g[1, 1, 1, 2] = np.nan, np.inf
    y.backward(g)
    np.testing.assert_allclose(xt.grad, reference_max_pool(x, g, pool, pool, "valid")[1])


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel", [(1, 1), (2, 2), (4, 3), (5, 5), (2, 5), (7, 7), (6, 1)])
def test_stride_one_input_gradient_as_a_convolution(padding, kernel):
    """im2col's stride-1 dx is a convolution of g with the turned kernel: every kernel size,
    even ones with uneven "same" padding, kernels larger than the image, tiny chunk budgets."""
    rng = np.random.default_rng(sum(kernel))
    for h, w_ in [(1, 1), (2, 3), (3, 2), (5, 5), (8, 7)]:
        pads, out_hw = window_geometry((h, w_), kernel, (1, 1), padding)
        if min(out_hw) < 1:
            continue
        x, w = rng.standard_normal((3, h, w_, 2)), rng.standard_normal((*kernel, 2, 3))
        g = rng.standard_normal((3, *out_hw, 3))
        y, saved = conv.conv2d_forward(x, w, None, (1, 1), pads, out_hw, "im2col", budget=37)
        dx, dw = conv.conv2d_backward(g, saved, w, x.shape, w.shape, (1, 1), pads, out_hw, "im2col", budget=37)
        for got, want in zip((y, dx, dw), reference(x, w, g, 1, padding)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        assert dx.flags.c_contiguous


@pytest.mark.parametrize("path, kernel, strides", [("shift", 3, 2), ("gemm", 3, 1), ("gemm", 1, 2)])
def test_a_path_outside_its_geometry_is_refused(path, kernel, strides):
    x, w = Tensor(np.ones((1, 6, 6, 2))), Tensor(np.ones((kernel, kernel, 2, 2)))
    with pytest.raises(ValueError, match=f"conv2d path '{path}' computes .* only, not kernel"):
        F.conv2d(x, w, strides=strides, path=path)
