"""The ops of issue 26 (upsampling, dilated and grouped convolution, explicitly padded pools,
padding modes, LRN, hard activations) on CuPy against NumPy (``pytest -m gpu``; skipped without a
GPU). They are written over ``get_xp`` or composed of ops that are, so the GPU runs the same code."""
import numpy as np
import pytest

from minifer import functional as F
from on_both import check

pytestmark = pytest.mark.gpu

cupy = pytest.importorskip("cupy")  # tests/gpu/conftest.py skips the folder without a usable GPU

rng = np.random.default_rng(0)
OPS = {
    "upsample_nearest": lambda t: F.upsample2d(t, (2, 3)),
    "upsample_bilinear": lambda t: F.upsample2d(t, (3, 2), "bilinear"),
    "max_pool_explicit_ceil": lambda t: F.max_pool2d(t, 3, 2, ((1, 0), (2, 1)), ceil_mode=True),
    "avg_pool_count_include_pad": lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=True),
    "hard_sigmoid": F.hard_sigmoid, "hard_swish": F.hard_swish,
    "local_response_norm": lambda t: F.local_response_norm(t, 2, 0.5, 0.75, 2.0),
    "pad_reflect": lambda t: F.pad2d(t, ((2, 1), (0, 3)), "reflect"),
    "pad_edge": lambda t: F.pad2d(t, ((1, 1), (2, 0)), "edge"),
    "pad_wrap": lambda t: F.pad2d(t, ((0, 2), (1, 1)), "wrap"),
    "pad_constant": lambda t: F.pad2d(t, ((1, 0), (0, 2)), value=2.5),
    "permute": lambda t: F.permute(t, (2, 3, 1)),
}
KERNEL_OPS = {  # (op of input and kernel, kernel shape for a (2, 7, 6, 4) input)
    "conv_dilated_grouped": (lambda t, k: F.conv2d(t, k, None, 1, "same", dilation_rate=(2, 1), groups=2),
                             (3, 3, 2, 6)),
    "conv_depthwise_groups": (lambda t, k: F.conv2d(t, k, None, 2, "valid", groups=4), (2, 2, 1, 8)),
    "depthwise_dilated": (lambda t, k: F.depthwise_conv2d(t, k, None, 1, "same", (1, 2)), (3, 2, 4, 2)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPS))
def test_op_on_the_gpu(name, dtype):
    check(lambda t: OPS[name](t), [rng.standard_normal((2, 7, 6, 3)) * 2], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(KERNEL_OPS))
def test_convolution_on_the_gpu(name, dtype):
    op, kernel_shape = KERNEL_OPS[name]
    check(op, [rng.standard_normal((2, 7, 6, 4)), rng.standard_normal(kernel_shape)], dtype)
