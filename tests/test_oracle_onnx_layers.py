"""The layers ONNX files need (issue 26) against PyTorch on the CPU (float32): upsampling, dilated
and grouped convolutions, pooling with explicit padding, padding modes, LRN, hard activations."""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

torch = pytest.importorskip("torch")
TF = torch.nn.functional

from minifer import Tensor  # noqa: E402
from minifer import functional as F  # noqa: E402
from minifer import layers as L  # noqa: E402
from minifer.functional import conv_output_length  # noqa: E402
from torch_reference import FLOAT32, backprop_same, f32, pad_like_keras, pair  # noqa: E402

seeds = st.integers(0, 2 ** 32 - 1)


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1)


def same_forward_and_backward(y, t_y, pairs, seed):
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    for mine, theirs in pairs:
        numpy.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **FLOAT32)


@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3),
       st.tuples(st.integers(1, 3), st.integers(1, 3)), st.sampled_from(["nearest", "bilinear"]), seeds)
def test_upsampling(n, h, w, c, size, interpolation, seed):
    """PyTorch's "bilinear" without align_corners samples at half-pixel centres, as Keras does."""
    mx, tx = pair(f32(seed, (n, h, w, c)))
    y = F.upsample2d(mx, size, interpolation)
    extra = {} if interpolation == "nearest" else {"align_corners": False}
    t_y = nhwc(TF.interpolate(nchw(tx), scale_factor=size, mode=interpolation, **extra))
    same_forward_and_backward(y, t_y, [(mx, tx)], seed)


@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3), st.booleans(), st.booleans(), seeds)
def test_upsampling_cropped_like_a_finer_map(n, h, w, c, odd_rows, odd_cols, seed):
    """A feature pyramid's step (RetinaFace's): UpSampling2D(2) then CropLike to a map of 2h or 2h - 1
    rows is PyTorch's nearest ``interpolate`` to that map's size."""
    mx, tx = pair(f32(seed, (n, h, w, c)))
    size = (2 * h - odd_rows, 2 * w - odd_cols)
    y = L.CropLike()([L.UpSampling2D(2)(mx), Tensor(numpy.zeros((n, *size, 1), numpy.float32))])
    t_y = nhwc(TF.interpolate(nchw(tx), size=size, mode="nearest"))
    same_forward_and_backward(y, t_y, [(mx, tx)], seed)


@given(st.integers(1, 3), st.integers(3, 9), st.integers(3, 9), st.integers(1, 3), st.integers(1, 3),
       st.tuples(st.integers(1, 3), st.integers(1, 3)), st.tuples(st.integers(1, 3), st.integers(1, 3)),
       st.sampled_from(["same", "valid"]), st.integers(1, 3), seeds)
def test_dilated_grouped_convolution(n, h, w, groups, per_group, kernel, rate, padding, stride, seed):
    """PyTorch's dilation and groups; Keras's "same" padding is worked out on the dilated window."""
    window = [(k - 1) * r + 1 for k, r in zip(kernel, rate)]
    for size, k in zip((h, w), window):
        assume(conv_output_length(size, k, stride, padding) >= 1)
    mx, tx = pair(f32(seed, (n, h, w, groups * per_group)))
    mk, tk = pair(f32(seed + 1, (*kernel, per_group, 3 * groups), 0.5))
    mb, tb = pair(f32(seed + 2, (3 * groups,)))
    y = F.conv2d(mx, mk, mb, stride, padding, dilation_rate=rate, groups=groups)
    t_y = nhwc(TF.conv2d(pad_like_keras(nchw(tx), window, (stride, stride), padding), tk.permute(3, 2, 0, 1), tb,
                         stride=stride, dilation=rate, groups=groups))
    same_forward_and_backward(y, t_y, [(mx, tx), (mk, tk), (mb, tb)], seed)


@given(st.integers(1, 3), st.integers(3, 9), st.integers(3, 9), st.integers(1, 4), st.integers(1, 2),
       st.tuples(st.integers(1, 3), st.integers(1, 3)), st.sampled_from(["same", "valid"]), seeds)
def test_dilated_depthwise_convolution(n, h, w, c, multiplier, rate, padding, seed):
    window = [2 * r + 1 for r in rate]
    for size, k in zip((h, w), window):
        assume(conv_output_length(size, k, 1, padding) >= 1)
    mx, tx = pair(f32(seed, (n, h, w, c)))
    mk, tk = pair(f32(seed + 1, (3, 3, c, multiplier)))
    y = F.depthwise_conv2d(mx, mk, None, 1, padding, rate)
    weight = tk.permute(2, 3, 0, 1).reshape(c * multiplier, 1, 3, 3)
    t_y = nhwc(TF.conv2d(pad_like_keras(nchw(tx), window, (1, 1), padding), weight, dilation=rate, groups=c))
    same_forward_and_backward(y, t_y, [(mx, tx), (mk, tk)], seed)


@given(st.integers(1, 3), st.integers(2, 9), st.integers(2, 9), st.integers(1, 3), st.integers(2, 4),
       st.integers(1, 3), st.data(), st.booleans(), st.booleans(), seeds)
def test_pools_with_padding_and_ceil_mode(n, h, w, c, pool, stride, data, ceil_mode, count_include_pad, seed):
    """PyTorch pads symmetrically (at most half the pool); its ceil mode drops a window starting
    in the trailing padding, and count_include_pad counts the padding but not the overhang."""
    pad = data.draw(st.integers(0, pool // 2))
    for size in (h, w):
        assume(conv_output_length(size, pool, stride, (pad, pad), ceil_mode) >= 1)
    for ours, theirs in ((lambda x: F.max_pool2d(x, pool, stride, pad, ceil_mode),
                          lambda t: TF.max_pool2d(t, pool, stride, pad, ceil_mode=ceil_mode)),
                         (lambda x: F.avg_pool2d(x, pool, stride, pad, ceil_mode, count_include_pad),
                          lambda t: TF.avg_pool2d(t, pool, stride, pad, ceil_mode, count_include_pad))):
        mx, tx = pair(f32(seed, (n, h, w, c)))
        same_forward_and_backward(ours(mx), nhwc(theirs(nchw(tx))), [(mx, tx)], seed)


@given(st.integers(1, 6), st.integers(1, 9), seeds)
def test_hard_activations(n, c, seed):
    """Keras 3's hard_sigmoid and hard_silu are PyTorch's hardsigmoid and hardswish."""
    for ours, theirs in ((F.hard_sigmoid, TF.hardsigmoid), (F.hard_swish, TF.hardswish)):
        mx, tx = pair(f32(seed, (n, c), 4.0))
        same_forward_and_backward(ours(mx), theirs(tx), [(mx, tx)], seed)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 9), st.integers(1, 7),
       st.sampled_from([(1e-4, 0.75, 1.0), (0.3, 0.5, 2.0)]), seeds)
def test_local_response_normalization(n, h, c, size, constants, seed):
    """PyTorch centres an even window one channel lower than ONNX (whose rule minifer follows): on
    the channels in reverse order, PyTorch's window is ONNX's."""
    alpha, beta, bias = constants
    mx, tx = pair(f32(seed, (n, h, 3, c), 2.0))
    y = F.local_response_norm(mx, size, alpha, beta, bias)
    flip = (lambda t: t.flip(1)) if size % 2 == 0 else (lambda t: t)
    t_y = nhwc(flip(TF.local_response_norm(flip(nchw(tx)), size, alpha, beta, bias)))
    same_forward_and_backward(y, t_y, [(mx, tx)], seed)


@given(st.integers(1, 3), st.integers(2, 6), st.integers(2, 6), st.integers(1, 3), st.data(),
       st.sampled_from(["reflect", "edge", "wrap", "constant"]), seeds)
def test_padding_modes(n, h, w, c, data, mode, seed):
    """PyTorch's reflect, replicate and circular modes, and a constant."""
    most = (h - 1, w - 1)  # the most PyTorch reflects or wraps
    (top, bottom), (left, right) = pads = tuple((data.draw(st.integers(0, m)), data.draw(st.integers(0, m)))
                                                for m in most)
    mx, tx = pair(f32(seed, (n, h, w, c)))
    y = F.pad2d(mx, pads, mode, value=-1.5)
    torch_mode = {"edge": "replicate", "wrap": "circular"}.get(mode, mode)
    extra = {"value": -1.5} if mode == "constant" else {}
    same_forward_and_backward(y, nhwc(TF.pad(nchw(tx), (left, right, top, bottom), torch_mode, **extra)),
                              [(mx, tx)], seed)
