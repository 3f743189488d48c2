"""The g++ harness catches what it promises: wrong argument types and counts, out-of-bounds
writes, writes through const; and a launch runs every (block, thread) exactly once."""
import numpy as np
import pytest

from harness import load_module

SOURCE = r'''
#ifndef scalar_t
#define scalar_t float
#endif
extern "C" __global__ void scale(const scalar_t* x, scalar_t* y, long long n, int k)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x)
        y[i] = k * x[i];
}

extern "C" __global__ void off_by_one(const scalar_t* x, scalar_t* y, int n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i <= n;
         i += (long long)blockDim.x * gridDim.x)
        y[i] = x[i < n ? i : 0];
}

extern "C" __global__ void writes_const(const scalar_t* x, scalar_t* y)
{
    ((scalar_t*)x)[0] = y[0];
}

extern "C" __global__ void count_threads(int* hits)
{
    const long long block = (blockIdx.z * (long long)gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    const long long thread = (threadIdx.z * (long long)blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    hits[block * blockDim.x * blockDim.y * blockDim.z + thread] += 1;
}
'''


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    path = tmp_path_factory.mktemp("kernels") / "harness_test.cu"
    path.write_text(SOURCE)
    return load_module([str(path)], np.float32)


def test_a_correct_call_writes_back(module):
    x, y = np.arange(10, dtype=np.float32), np.full(10, np.nan, np.float32)
    module.get_function("scale")((2,), (3,), (x, y, np.int64(10), np.int32(3)))
    np.testing.assert_array_equal(y, 3 * x)


def test_every_block_and_thread_runs_once(module):
    hits = np.zeros(2 * 3 * 2 * 4 * 2 * 3, np.int32)
    module.get_function("count_threads")((2, 3, 2), (4, 2, 3), (hits,))
    np.testing.assert_array_equal(hits, 1)


@pytest.mark.parametrize("n, k, expected", [
    (np.int64(10), 3, "parameter 'k' \\(int\\) expects numpy.int32, got builtins.int"),
    (np.int64(10), np.int64(3), "parameter 'k' \\(int\\) expects numpy.int32, got numpy.int64"),
    (10, np.int32(3), "parameter 'n' \\(long long\\) expects numpy.int64, got builtins.int"),
    (np.int32(10), np.int32(3), "parameter 'n' \\(long long\\) expects numpy.int64, got numpy.int32"),
])
def test_scalar_of_the_wrong_type_raises(module, n, k, expected):
    x, y = np.zeros(10, np.float32), np.zeros(10, np.float32)
    with pytest.raises(TypeError, match="scale: " + expected):
        module.get_function("scale")((1,), (32,), (x, y, n, k))


@pytest.mark.parametrize("x", [np.zeros(10, np.float64), np.zeros((10, 2), np.float32)[:, 0], [0.0] * 10])
def test_array_of_the_wrong_kind_raises(module, x):
    expected = r"scale: parameter 'x' \(const scalar_t\*\) expects a C-contiguous ndarray of float32"
    with pytest.raises(TypeError, match=expected):
        module.get_function("scale")((1,), (32,), (x, np.zeros(10, np.float32), np.int64(10), np.int32(1)))


def test_wrong_argument_count_raises(module):
    with pytest.raises(TypeError, match="scale: takes 4 arguments, got 2"):
        module.get_function("scale")((1,), (32,), (np.zeros(1, np.float32), np.zeros(1, np.float32)))


def test_out_of_bounds_write_is_caught(module):
    x, y = np.zeros(10, np.float32), np.zeros(10, np.float32)
    with pytest.raises(AssertionError, match="off_by_one: out-of-bounds write around argument 'y'"):
        module.get_function("off_by_one")((1,), (32,), (x, y, np.int32(10)))


def test_write_through_const_is_caught(module):
    x, y = np.zeros(1, np.float32), np.ones(1, np.float32)
    with pytest.raises(AssertionError, match="writes_const: const argument 'x' was modified"):
        module.get_function("writes_const")((1,), (1,), (x, y))


def test_modules_are_compiled_once(module, tmp_path):
    path = tmp_path / "same.cu"
    path.write_text(SOURCE)
    assert load_module([str(path)], np.float32) is module
    assert load_module([str(path)], np.float64) is not module
