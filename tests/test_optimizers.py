"""Adam and SGD against their Keras formulas written out by hand, plus the optimizer contract:
only parameters with a gradient move, the learning rate may change between steps, and a
saved state resumes exactly."""
import math

import numpy
import pytest

from minifer import Tensor
from minifer.optimizers import SGD, Adam, get


def params(seed=0, dtype=numpy.float64):
    rng = numpy.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True, name=f"p{i}")
            for i, s in enumerate([(3, 2), (4,)])]


def gradients(step, shapes, seed=1):
    rng = numpy.random.default_rng(seed + step)
    return [rng.standard_normal(s) * 10.0 ** rng.integers(-4, 2) for s in shapes]


def keras_adam(w, grads, lr, b1, b2, eps):
    """tf.keras Adam: epsilon added to the uncorrected sqrt(v)."""
    m, v, w = numpy.zeros_like(w), numpy.zeros_like(w), w.copy()
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (numpy.sqrt(v) + eps)
    return w


def torch_style_adam(w, grads, lr, b1, b2, eps):
    """PyTorch's placement, for contrast: epsilon added to the bias-corrected sqrt(v)."""
    m, v, w = numpy.zeros_like(w), numpy.zeros_like(w), w.copy()
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr / (1 - b1 ** t) * m / (numpy.sqrt(v) / math.sqrt(1 - b2 ** t) + eps)
    return w


@pytest.mark.parametrize("eps", [1e-7, 0.1])
def test_adam_follows_the_keras_formula(eps):
    ps = params()
    start = [p.data.copy() for p in ps]
    steps = [gradients(t, [p.shape for p in ps]) for t in range(8)]
    opt = Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=eps)
    for grads in steps:
        for p, g in zip(ps, grads):
            p.grad = g
        opt.step(ps)
    for i, p in enumerate(ps):
        expected = keras_adam(start[i], [s[i] for s in steps], 0.01, 0.8, 0.99, eps)
        numpy.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-14)
        if eps == 0.1:  # a large epsilon makes the placement visible
            assert not numpy.allclose(p.data, torch_style_adam(start[i], [s[i] for s in steps], 0.01, 0.8, 0.99, eps))


def test_adam_keeps_float32_parameters_float32():
    (p, _) = params(dtype=numpy.float32)
    p.grad = numpy.ones(p.shape, numpy.float32)
    Adam(0.1).step([p])
    assert p.data.dtype == numpy.float32


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_follows_the_keras_formula(momentum, nesterov):
    ps = params()
    w = [p.data.copy() for p in ps]
    velocity = [numpy.zeros_like(a) for a in w]
    opt = SGD(0.1, momentum=momentum, nesterov=nesterov)
    for t in range(5):
        grads = gradients(t, [p.shape for p in ps])
        for i, (p, g) in enumerate(zip(ps, grads)):
            p.grad = g
            velocity[i] = momentum * velocity[i] - 0.1 * g
            w[i] = w[i] + (momentum * velocity[i] - 0.1 * g if nesterov else velocity[i])
        opt.step(ps)
        for p, expected in zip(ps, w):
            numpy.testing.assert_allclose(p.data, expected, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda: Adam(0.1), lambda: SGD(0.1, momentum=0.9)])
def test_only_parameters_with_a_gradient_move(make):
    a, b = params()
    before = b.data.copy()
    a.grad = numpy.ones(a.shape)
    opt = make()
    opt.step([a, b])
    numpy.testing.assert_array_equal(b.data, before)
    assert all(key[0] == "p0" for key in opt.slots)


def test_zero_grad_sets_none():
    ps = params()
    for p in ps:
        p.grad = numpy.ones(p.shape)
    Adam().zero_grad(ps)
    assert all(p.grad is None for p in ps)


def test_learning_rate_changes_between_steps_take_effect():
    (p, _) = params()
    opt = SGD(0.1)
    p.grad = numpy.ones(p.shape)
    start = p.data.copy()
    opt.step([p])
    opt.learning_rate = 0.01
    opt.step([p])
    numpy.testing.assert_allclose(p.data, start - 0.11)


def test_adam_state_resumes_exactly():
    """Steps 1-3, save, steps 4-6 in a fresh optimizer == steps 1-6 in one."""
    run, resumed = params(), params()
    shapes = [p.shape for p in run]
    whole = Adam(0.01)
    first = Adam(0.01)
    for t in range(3):
        for ps, opt in ((run, whole), (resumed, first)):
            for p, g in zip(ps, gradients(t, shapes)):
                p.grad = g
            opt.step(ps)
    second = Adam(0.5)
    second.load_state_dict(first.state_dict())
    assert second.iterations == 3 and second.learning_rate == 0.01
    for t in range(3, 6):
        for ps, opt in ((run, whole), (resumed, second)):
            for p, g in zip(ps, gradients(t, shapes)):
                p.grad = g
            opt.step(ps)
    for a, b in zip(run, resumed):
        numpy.testing.assert_array_equal(a.data, b.data)


def test_get_by_name():
    assert isinstance(get("adam"), Adam) and isinstance(get("SGD"), SGD)
    opt = Adam(0.3)
    assert get(opt) is opt
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad_of_doom'"):
        get("adagrad_of_doom")


def test_a_saved_state_is_a_snapshot():
    """Training on must not change a state dict already taken, nor one loaded elsewhere."""
    (p, _) = params()
    opt = Adam(0.1)
    p.grad = numpy.ones(p.shape)
    opt.step([p])
    state = opt.state_dict()
    saved = {k: v.copy() for k, v in state["slots"].items()}
    other = Adam()
    other.load_state_dict(state)
    opt.step([p])
    for key, value in state["slots"].items():
        numpy.testing.assert_array_equal(value, saved[key])
    for (name, slot), value in other.slots.items():
        numpy.testing.assert_array_equal(value, saved[f"{name}|{slot}"])
