"""The layers ONNX files need (issue 26) against PyTorch on the CPU (float32): upsampling, dilated
and grouped convolutions, pooling with explicit padding, padding modes, LRN, hard activations."""
import numpy
import pytest
from hypothesis import given, strategies as st

torch = pytest.importorskip("torch")
TF = torch.nn.functional

from minifer import functional as F  # noqa: E402
from torch_reference import FLOAT32, backprop_same, f32, pair  # noqa: E402

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
