"""Float64 gradient checks of the Tensor arithmetic primitives, on shapes drawn by hypothesis."""
import numpy
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import array_shapes, broadcastable_shapes

from gradcheck import check_gradients, leaf
from minifer.autograd import ops

seeds = st.integers(0, 2 ** 32 - 1)
shapes = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)


def random(seed, shape, low=-2.0, high=2.0):
    return numpy.random.default_rng(seed).uniform(low, high, size=shape)


@st.composite
def broadcast_pair(draw):
    shape = draw(shapes)
    other = draw(broadcastable_shapes(shape, min_dims=0, max_dims=4, min_side=1, max_side=4))
    return (shape, other) if draw(st.booleans()) else (other, shape)


@given(broadcast_pair(), st.sampled_from(["add", "sub", "mul", "div"]), seeds)
def test_binary_ops_with_broadcasting(shapes_ab, name, seed):
    a = leaf(random(seed, shapes_ab[0]))
    b = leaf(random(seed + 1, shapes_ab[1], 0.5, 2.0))  # away from zero for div
    op = getattr(ops, name)
    check_gradients(lambda: op(a, b), [a, b], seed)


@given(shapes, st.sampled_from([2, 3, 0.5, -1.5]), seeds)
def test_power(shape, exponent, seed):
    x = leaf(random(seed, shape, 0.5, 2.0))
    check_gradients(lambda: x ** exponent, [x], seed)


@given(shapes, seeds)
def test_exp_and_log(shape, seed):
    x = leaf(random(seed, shape, 0.2, 2.0))
    check_gradients(lambda: x.exp(), [x], seed)
    check_gradients(lambda: x.log(), [x], seed)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), seeds)
def test_matmul_plain_and_batched(batch, n, k, m, seed):
    a, b = leaf(random(seed, (n, k))), leaf(random(seed + 1, (k, m)))
    check_gradients(lambda: a @ b, [a, b], seed)
    a3 = leaf(random(seed + 2, (batch, n, k)))
    check_gradients(lambda: a3 @ b, [a3, b], seed)  # b broadcast over the batch


@st.composite
def shape_and_axis(draw):
    shape = draw(shapes)
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)))
    return shape, axis


@given(shape_and_axis(), st.booleans(), seeds)
def test_sum_and_mean(shape_axis, keepdims, seed):
    shape, axis = shape_axis
    x = leaf(random(seed, shape))
    check_gradients(lambda: x.sum(axis, keepdims), [x], seed)
    check_gradients(lambda: x.mean(axis, keepdims), [x], seed)


@given(shapes, seeds)
def test_reshape_and_transpose(shape, seed):
    x = leaf(random(seed, shape))
    axes = tuple(numpy.random.default_rng(seed).permutation(len(shape)).tolist())
    check_gradients(lambda: x.reshape(-1), [x], seed)
    check_gradients(lambda: x.transpose(*axes), [x], seed)
    check_gradients(lambda: x.transpose(axes), [x], seed)
    check_gradients(lambda: x.T, [x], seed)


@given(shapes, seeds)
def test_getitem(shape, seed):
    x = leaf(random(seed, shape))
    rng = numpy.random.default_rng(seed)
    repeated = rng.integers(0, shape[0], size=5)  # fancy index with repeats
    check_gradients(lambda: x[repeated], [x], seed)
    check_gradients(lambda: x[..., ::2], [x], seed)
    check_gradients(lambda: x[x.data > 0], [x], seed)


def test_the_check_catches_a_wrong_backward():
    """Guard against a checker that passes everything: a backward off by 1% must fail."""
    from minifer.autograd import Function

    class AlmostSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return (g * 2.02 * self.x,)

    x = leaf(random(0, (3, 4), 0.5, 2.0))
    with pytest.raises(AssertionError, match="central difference"):
        check_gradients(lambda: AlmostSquare()(x), [x])
