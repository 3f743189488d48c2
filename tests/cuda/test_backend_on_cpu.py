"""The CUDA kernel set's Python (dispatch, buffers, launches) against the CPU set, run here.

``CudaKernels(numpy, load_module)`` is the GPU backend with NumPy arrays and the same ``.cu``
kernels compiled by g++: every op goes through the same Functions as on a GPU, and its
results must match the CPU kernel set's. Kernel outputs start as NaN, so an element nobody
writes fails. What this cannot show (races, timing, CuPy's API) is the GPU run's job.
"""
import contextlib

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minifer
from harness import load_module
from minifer import Tensor
from minifer import functional as F
from minifer.kernels import KERNELS, CudaKernels, cpu, numpy_kernels
from minifer.optimizers import Adam

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}


def test_every_kernel_set_offers_every_kernel():
    """The ops call ``kernels_for(array).<name>``: a set missing a name fails only on that backend."""
    for kernel_set in (cpu, CudaKernels(np, load_module)):
        missing = [name for name in KERNELS + ("CONV_PATHS",) if not hasattr(kernel_set, name)]
        assert not missing, (kernel_set, missing)


def cuda_on_cpu():
    kernels = CudaKernels(np, load_module)
    kernels.fill = np.nan
    return numpy_kernels(kernels)


def run_both(op, arrays, dtype):
    """op's outputs and every input's gradient, on the CPU set and on the CUDA set."""
    results = []
    for backend in (contextlib.nullcontext(), cuda_on_cpu()):
        tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        with backend:
            y = op(*tensors)
            y.backward(np.random.default_rng(1).standard_normal(y.shape).astype(dtype))
        results.append([y.data] + [t.grad for t in tensors])
    return results


def assert_same(results, dtype):
    for on_cpu, on_cuda in zip(*results):
        assert not np.isnan(on_cuda).any()
        np.testing.assert_allclose(on_cuda, on_cpu, **TOL[dtype])


@st.composite
def window(draw):
    """A window geometry with a non-empty output, over the issue's ranges."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["same", "valid"]))
    if padding == "valid":
        assume(h >= kernel[0] and w >= kernel[1])
    return (n, h, w, c), kernel, strides, padding


dtypes = pytest.mark.parametrize("dtype", [np.float32, np.float64])


@dtypes
@given(geometry=window(), filters=st.integers(1, 6), seed=st.integers(0, 2 ** 16))
def test_conv2d(dtype, geometry, filters, seed):
    shape, kernel, strides, padding = geometry
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape), rng.standard_normal((*kernel, shape[3], filters)),
              rng.standard_normal(filters)]
    assert_same(run_both(lambda x, w, b: F.conv2d(x, w, b, strides, padding), arrays, dtype), dtype)


@dtypes
@given(geometry=window(), multiplier=st.integers(1, 2), seed=st.integers(0, 2 ** 16))
def test_depthwise_conv2d(dtype, geometry, multiplier, seed):
    shape, kernel, strides, padding = geometry
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape), rng.standard_normal((*kernel, shape[3], multiplier)),
              rng.standard_normal(shape[3] * multiplier)]
    assert_same(run_both(lambda x, w, b: F.depthwise_conv2d(x, w, b, strides, padding), arrays, dtype), dtype)


@dtypes
@given(geometry=window(), seed=st.integers(0, 2 ** 16), ties=st.booleans())
def test_max_pool2d(dtype, geometry, seed, ties):
    shape, pool, strides, padding = geometry
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(float) if ties else rng.standard_normal(shape)
    assert_same(run_both(lambda t: F.max_pool2d(t, pool, strides, padding), [x], dtype), dtype)


@dtypes
@given(n=st.integers(2, 4), size=st.integers(1, 9), c=st.integers(1, 6), seed=st.integers(0, 2 ** 16))
def test_batch_norm_and_relu(dtype, n, size, c, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, size, size, c)), rng.uniform(0.5, 2, c), rng.standard_normal(c)]

    def train(x, gamma, beta):
        stats = Tensor(np.zeros(c, dtype)), Tensor(np.ones(c, dtype))
        return F.relu(F.batch_norm(x, gamma, beta, *stats, training=True))

    moving_mean = rng.standard_normal(c).astype(dtype)

    def infer(x, gamma, beta):
        stats = Tensor(moving_mean), Tensor(np.full(c, 1.5, dtype))
        return F.batch_norm(x, gamma, beta, *stats, training=False)

    assert_same(run_both(train, arrays, dtype), dtype)
    assert_same(run_both(infer, arrays, dtype), dtype)


def test_arch1_training_step_and_predict_match_the_numpy_backend():
    """One Adam step of ARCH-1 (forward, loss, backward, update) and a predict, float32.

    Adam's first step moves every weight by about the learning rate whatever its gradient's
    size, so where a gradient is near zero float32 rounding may flip it: the updated weights
    are compared to a tenth of a step, the gradients to float32 precision of their scale (the
    biases before a batch norm have a zero gradient, float32 noise of 1e-9 in either backend)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 48, 48, 1), dtype=np.uint8)
    labels = rng.integers(0, 7, 4)
    minifer.random.seed(0)
    start = minifer.models.arch1().get_weights()
    results = []
    for backend in (contextlib.nullcontext(), cuda_on_cpu()):
        model = minifer.models.arch1()
        model.set_weights(start)
        model.compile(Adam(1e-3))
        with backend:
            loss = model.train_on_batch(Tensor(images / np.float32(255)), labels)
            grads = [w.grad.copy() for w in model.trainable_weights]
            results.append((loss, grads, model.get_weights(), model.predict(images)))
    (loss_cpu, grads_cpu, weights_cpu, probs_cpu), (loss_cuda, grads_cuda, weights_cuda, probs_cuda) = results
    assert loss_cuda == pytest.approx(loss_cpu, rel=1e-5)
    for a, b in zip(grads_cuda, grads_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * max(np.abs(b).max(), 1e-3))
    for a, b in zip(weights_cuda, weights_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(probs_cuda, probs_cpu, rtol=1e-4, atol=1e-5)
    assert not np.allclose(weights_cuda[0], start[0])  # the step changed the weights
