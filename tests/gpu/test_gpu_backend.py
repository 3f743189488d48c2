"""The GPU backend on a real GPU against the NumPy backend (``pytest -m gpu``; skipped without one).

Every primitive runs on CuPy arrays through the same Functions as on the CPU, with the CUDA
kernels' outputs pre-filled with NaN so an element no thread writes shows; results and
gradients must match NumPy's. Then whole-model checks: a training step, predict returning
NumPy, and checkpoints moving between the GPU and the CPU.
"""
import numpy as np
import pytest

import minifer
from minifer import Tensor
from minifer import functional as F
from minifer import kernels
from minifer.autograd import ops

pytestmark = pytest.mark.gpu

cupy = pytest.importorskip("cupy")  # tests/gpu/conftest.py skips the folder without a usable GPU

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-9)}


@pytest.fixture(autouse=True)
def nan_filled_outputs():
    k = kernels.kernels_for(cupy.zeros(1))
    k.fill = np.nan
    yield
    k.fill = None


def both(op, arrays, dtype, seed=1):
    """[outputs, input gradients...] on NumPy and on CuPy, as NumPy arrays."""
    results = []
    for to in (np.asarray, cupy.asarray):
        tensors = [Tensor(to(a.astype(dtype)), requires_grad=True) for a in arrays]
        y = op(*tensors)
        y.backward(to(np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)))
        results.append([minifer.backend.to_numpy(v) for v in [y.data] + [t.grad for t in tensors]])
    return results


def check(op, arrays, dtype=np.float32):
    cpu, gpu = both(op, arrays, dtype)
    for a, b in zip(gpu, cpu):
        assert not np.isnan(a).any()
        np.testing.assert_allclose(a, b, **TOL[dtype])


rng = np.random.default_rng(0)
dtypes = pytest.mark.parametrize("dtype", [np.float32, np.float64])
GEOMETRIES = [((2, 9, 7, 3), (3, 3), (1, 1), "same"), ((3, 8, 8, 5), (5, 2), (2, 3), "valid"),
              ((1, 6, 9, 4), (1, 1), (1, 1), "same"), ((2, 5, 5, 2), (1, 1), (2, 2), "valid"),
              ((256, 48, 48, 8), (3, 3), (1, 1), "same"), ((4, 9, 9, 6), (4, 4), (3, 3), "same")]


@dtypes
@pytest.mark.parametrize("shape, kernel, strides, padding", GEOMETRIES)
def test_conv2d(dtype, shape, kernel, strides, padding):
    arrays = [rng.standard_normal(shape), rng.standard_normal((*kernel, shape[3], 7)), rng.standard_normal(7)]
    check(lambda x, w, b: F.conv2d(x, w, b, strides, padding), arrays, dtype)


@dtypes
@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("shape, kernel, strides, padding", GEOMETRIES)
def test_depthwise_conv2d(dtype, multiplier, shape, kernel, strides, padding):
    arrays = [rng.standard_normal(shape), rng.standard_normal((*kernel, shape[3], multiplier)),
              rng.standard_normal(shape[3] * multiplier)]
    check(lambda x, w, b: F.depthwise_conv2d(x, w, b, strides, padding), arrays, dtype)


@dtypes
@pytest.mark.parametrize("shape, pool, strides, padding", GEOMETRIES)
def test_max_pool2d_with_ties(dtype, shape, pool, strides, padding):
    x = rng.integers(-2, 3, shape).astype(float)
    check(lambda t: F.max_pool2d(t, pool, strides, padding), [x], dtype)


@dtypes
def test_batch_norm_relu_softmax_dense_and_loss(dtype):
    x, c = rng.standard_normal((8, 5, 5, 6)), 6
    stats = (np.zeros(c), np.ones(c))

    def train(t, gamma, beta):
        moving = [Tensor(minifer.backend.get_xp(t.data).asarray(s, dtype=dtype)) for s in stats]
        return F.relu(F.batch_norm(t, gamma, beta, *moving, training=True))

    check(train, [x, rng.uniform(0.5, 2, c), rng.standard_normal(c)], dtype)
    check(lambda t, k, b: F.log_softmax(F.dense(t, k, b)), [rng.standard_normal((8, 5)),
                                                          rng.standard_normal((5, 7)), rng.standard_normal(7)], dtype)
    labels = rng.integers(0, 7, 8)
    check(lambda t: F.cross_entropy(F.softmax(t), labels).reshape(1), [rng.standard_normal((8, 7))], dtype)


def test_tensor_arithmetic():
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3,))
    check(lambda x, y: ops.getitem((x * y + x / (y * y + 1) - y) @ x.T, (slice(None), [0, 2, 2])).sum(axis=1)
          .exp().log().mean().reshape(1), [a, b])
    check(lambda x: x.transpose(1, 0).reshape(-1), [a])


def train_once(device, start, images, labels):
    minifer.set_device(device)
    model = minifer.models.arch1()
    model.set_weights(start)
    model.compile(minifer.optimizers.Adam(1e-3))
    loss = model.train_on_batch(Tensor(images / np.float32(255)), labels)
    return model, loss


def test_arch1_training_step_predict_and_checkpoints_across_devices(tmp_path):
    images = rng.integers(0, 256, (16, 48, 48, 1), dtype=np.uint8)
    labels = rng.integers(0, 7, 16)
    minifer.set_device("cpu")
    start = minifer.models.arch1().get_weights()
    try:
        gpu_model, gpu_loss = train_once("gpu", start, images, labels)
        assert gpu_model.device == "gpu" and isinstance(gpu_model.predict(images), np.ndarray)
        cpu_model, cpu_loss = train_once("cpu", start, images, labels)
    finally:
        minifer.set_device("cpu")
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-4)
    for a, b in zip(gpu_model.get_weights(), cpu_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(gpu_model.predict(images), cpu_model.predict(images), rtol=1e-3, atol=1e-5)
    # a checkpoint written on the GPU resumes on the CPU, and back
    path = tmp_path / "gpu.npz"
    gpu_model.fit(images, labels, batch_size=8, epochs=1, verbose=0,
                  callbacks=[minifer.callbacks.ModelCheckpoint(path, resumable=True)])
    cpu_model.fit(images, labels, batch_size=8, epochs=2, verbose=0, resume=path)
    gpu_model.to("cpu").to("gpu")
    gpu_model.fit(images, labels, batch_size=8, epochs=2, verbose=0, resume=path)
    for a, b in zip(gpu_model.get_weights(), cpu_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
