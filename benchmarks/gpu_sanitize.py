"""Every CUDA kernel once, forward and backward, at small odd shapes: the program
``gpu_check.sh`` runs under compute-sanitizer (memcheck, racecheck).

CuPy's memory pool is turned off first, so each array is its own allocation and an
out-of-bounds access lands outside it, where the sanitizer sees it.
"""
import cupy
import numpy
from _common import torch_arch  # noqa: F401  (puts the checkout on sys.path)

from minifer import Tensor  # noqa: E402
from minifer import functional as F  # noqa: E402

cupy.cuda.set_allocator(None)
rng = numpy.random.default_rng(0)


def leaf(shape):
    return Tensor(cupy.asarray(rng.standard_normal(shape), dtype=cupy.float32), requires_grad=True)


for strides, padding in (((1, 1), "same"), ((2, 3), "valid"), ((3, 2), "same")):
    x = leaf((3, 11, 9, 5))
    F.conv2d(x, leaf((3, 2, 5, 4)), leaf(4), strides, padding).sum().backward()
    F.conv2d(x, leaf((1, 1, 5, 4)), None, strides, padding).sum().backward()
    F.depthwise_conv2d(x, leaf((3, 3, 5, 2)), leaf(10), strides, padding).sum().backward()
    F.max_pool2d(x, (3, 2), strides, padding).sum().backward()
cupy.cuda.Device().synchronize()
print("gpu_sanitize: all kernels ran")
