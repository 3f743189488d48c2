"""The autograd engine itself: broadcasting, shared values, deep graphs, accumulation, no_grad, dtypes."""
import numpy
import pytest

from minifer import Tensor, no_grad
from minifer import functional as F


def leaf(values, dtype=numpy.float64):
    return Tensor(numpy.asarray(values, dtype=dtype), requires_grad=True)


def test_broadcast_adjoint_sums_over_stretched_axes():
    a = leaf(numpy.arange(6.0).reshape(2, 3))
    b = leaf([[10.0, 20.0, 30.0]])          # (1, 3): stretched over rows
    c = leaf([1.0, 2.0, 3.0])               # (3,): a new leading axis
    d = leaf(2.0)                           # scalar
    (a * b + c * d).sum().backward()
    numpy.testing.assert_array_equal(a.grad, numpy.broadcast_to(b.data, (2, 3)))
    numpy.testing.assert_array_equal(b.grad, a.data.sum(axis=0, keepdims=True))
    numpy.testing.assert_array_equal(c.grad, 2 * d.data * numpy.ones(3))
    numpy.testing.assert_array_equal(d.grad, 2 * c.data.sum())
    assert a.grad.shape == (2, 3) and b.grad.shape == (1, 3) and c.grad.shape == (3,) and d.grad.shape == ()


def test_value_used_twice():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    numpy.testing.assert_array_equal(x.grad, 2 * x.data)


def test_diamond_graph():
    x = leaf([0.5, 1.5])
    a = x * 3.0
    b = a.exp()
    c = a * a
    (b + c).sum().backward()  # d/dx = 3 exp(3x) + 18 x
    numpy.testing.assert_allclose(x.grad, 3 * numpy.exp(3 * x.data) + 18 * x.data)


def test_function_of_x_and_of_a_function_of_x():
    x = leaf([0.3, 0.7])
    g = (x * x).log()                       # 2 log x
    (x * g).sum().backward()                # d/dx x * 2 log x = 2 log x + 2
    numpy.testing.assert_allclose(x.grad, 2 * numpy.log(x.data) + 2)


def test_consumer_reached_by_paths_of_different_length_is_finished_first():
    x = leaf([2.0])
    short = x * 1.0
    long = ((x * 1.0) * 1.0) * 1.0
    y = short * long + short               # d/dx (x^2 + x) = 2x + 1
    y.sum().backward()
    numpy.testing.assert_array_equal(x.grad, [5.0])


def test_deep_chain_needs_no_recursion():
    x = leaf([1.0])
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    numpy.testing.assert_allclose(x.grad, [1.0001 ** 5000])
    del y  # releasing a 10,000-node graph must not overflow the stack either


def test_gradients_accumulate_until_zero_grad_sets_none():
    x = leaf([1.0, 2.0])
    for expected in (3.0, 6.0):
        (x * 3.0).sum().backward()
        numpy.testing.assert_array_equal(x.grad, [expected, expected])
    x.zero_grad()
    assert x.grad is None


def test_leaf_gradients_are_independent_writable_arrays():
    """a + b hands both leaves the same upstream array and sum() a read-only broadcast view."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    assert a.grad is not b.grad and a.grad.flags.writeable
    a.grad *= 10  # in-place gradient scaling (clipping) must not touch b
    numpy.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_intermediate_tensors_keep_no_gradient():
    x = leaf([1.0])
    h = x * 2.0
    (h * 3.0).sum().backward()
    assert h.grad is None and x.grad is not None


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = (x * 2.0).exp().sum()
    assert y.creator is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    z = x * 2.0  # recording resumes after the block
    assert z.requires_grad and z.creator is not None


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError
    assert (leaf([1.0]) * 2.0).requires_grad


def test_constants_do_not_require_grad():
    x = Tensor(numpy.ones(3))
    w = leaf(numpy.ones(3))
    y = x * 2.0
    assert not y.requires_grad and y.creator is None
    (x * w).sum().backward()
    assert x.grad is None


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2.0).backward()
    (x * 2.0).backward(numpy.array([1.0, 10.0]))
    numpy.testing.assert_array_equal(x.grad, [2.0, 20.0])


@pytest.mark.parametrize("expression", [
    lambda t: t * 2.0, lambda t: 2.0 * t, lambda t: t + 1, lambda t: 1 - t, lambda t: t / 3.0,
    lambda t: 3.0 / (t + 1), lambda t: -t, lambda t: t ** 2, lambda t: t.mean(), lambda t: F.relu(t),
    lambda t: F.softmax(t), lambda t: F.log_softmax(t), lambda t: F.dropout(t, 0.5, training=True),
])
def test_python_scalars_keep_float32(expression):
    """A Python number must not promote float32 data to float64 (NumPy would for arrays)."""
    t = Tensor(numpy.ones((2, 3), numpy.float32), requires_grad=True)
    y = expression(t)
    assert y.dtype == numpy.float32
    y.sum().backward()
    assert t.grad.dtype == numpy.float32


def test_lists_and_numbers_default_to_float32():
    assert Tensor([1, 2]).dtype == numpy.float32 and Tensor(3.0).dtype == numpy.float32
    assert Tensor(numpy.zeros(2)).dtype == numpy.float64  # an array keeps its dtype


def test_getitem_with_repeated_indices_accumulates():
    x = leaf([1.0, 2.0, 3.0])
    x[numpy.array([0, 0, 2, 0])].sum().backward()
    numpy.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_getitem_slices_and_masks():
    x = leaf(numpy.arange(12.0).reshape(3, 4))
    (x[1:, ::2].sum() + x[x.data > 9].sum() * 10.0).backward()
    expected = numpy.zeros((3, 4))
    expected[1:, ::2] = 1
    expected[x.data > 9] += 10
    numpy.testing.assert_array_equal(x.grad, expected)


def test_transpose_accepts_a_tuple_like_numpy():
    x = leaf(numpy.arange(24.0).reshape(2, 3, 4))
    assert x.transpose((0, 2, 1)).shape == x.transpose(0, 2, 1).shape == (2, 4, 3)
    assert x.T.shape == (4, 3, 2)


def test_backward_frees_each_function_once_it_has_run_and_refuses_a_second_pass():
    """As PyTorch frees a graph's saved tensors: by the time a Function's backward runs, the
    Functions after it (and the arrays they kept) are gone; a second backward says why it fails."""
    import weakref

    from minifer.autograd import Function
    seen = {}

    class Probe(Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, g):
            seen["later alive"] = later() is not None
            return (g,)

    x = Tensor(numpy.ones(3), requires_grad=True)
    z = Probe()(x) * 2.0
    later = weakref.ref(z.creator)
    loss = z.sum()
    del z
    loss.backward()
    assert seen["later alive"] is False
    numpy.testing.assert_array_equal(x.grad, 2.0)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
