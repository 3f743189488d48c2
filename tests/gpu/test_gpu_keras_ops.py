"""The ops of issue 14 (activations, average and global max pooling, padding, concatenation) on
CuPy against NumPy (``pytest -m gpu``; skipped without a GPU). They are written once over
``get_xp``, so the GPU runs the same code: this checks CuPy gives the same numbers."""
import numpy as np
import pytest

from minifer import functional as F
from on_both import check

pytestmark = pytest.mark.gpu

cupy = pytest.importorskip("cupy")  # tests/gpu/conftest.py skips the folder without a usable GPU

rng = np.random.default_rng(0)
OPS = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "elu": F.elu, "selu": F.selu, "softplus": F.softplus,
    "swish": F.swish, "gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, approximate=True),
    "leaky_relu": F.leaky_relu, "avg_pool_same": lambda t: F.avg_pool2d(t, 3, 2, "same"),
    "avg_pool_valid": lambda t: F.avg_pool2d(t, 2), "global_max": F.global_max_pool2d,
    "zero_pad": lambda t: F.zero_pad2d(t, ((1, 0), (2, 1))), "rescale": lambda t: F.rescale(t, 1 / 127.5, -1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPS))
def test_op_on_the_gpu(name, dtype):
    check(lambda t: OPS[name](t), [rng.standard_normal((2, 7, 6, 3)) * 2], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_and_concatenate_on_the_gpu(dtype):
    check(lambda t, a: F.prelu(t, a), [rng.standard_normal((2, 4, 4, 3)), rng.uniform(0, 0.5, (1, 1, 3))], dtype)
    check(lambda a, b: F.concatenate([a, b]), [rng.standard_normal((2, 3, 3, 2)), rng.standard_normal((2, 3, 3, 5))],
          dtype)
