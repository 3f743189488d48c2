"""Model.predict's inference plan: the same outputs as running the layers, whatever the graph, the
batch, the threads; rebuilt when the weights change; the caller's arrays left alone."""
import numpy
import pytest
from models_under_test import with_statistics

import minifer
from minifer import layers as L
from minifer.kernels.cpu import parallel


@pytest.fixture
def threads():
    """Run with ``threads(n)`` threads; the count is put back after the test."""
    before = parallel.num_threads()
    yield parallel.set_num_threads
    parallel.set_num_threads(before)


def reference(model, x):
    """The outputs through the layers themselves (Tensors, Functions, unfolded BatchNorms)."""
    out = model(x)
    return [o.numpy() for o in out] if isinstance(out, list) else out.numpy()


@pytest.mark.parametrize("name", ["arch1", "arch2", "arch3", "arch4"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_the_papers_networks_predict_as_their_layers_do(name, n_threads, threads):
    threads(n_threads)
    model = with_statistics(minifer.models.get(name), seed=1)
    rng = numpy.random.default_rng(2)
    for batch in (1, 3, 70):  # one image; fewer than a slice; several slices per thread
        x = rng.random((batch, 48, 48, 1), dtype=numpy.float32)
        numpy.testing.assert_allclose(model.predict(x, verbose=0), reference(model, x), rtol=1e-4, atol=1e-6)


def branchy_model():
    """Layers the plan has no step for, shared layers, two inputs and two outputs, a batch norm
    after an activation (not folded), in-place candidates read twice."""
    a, b = minifer.Input((9, 9, 2), name="a"), minifer.Input((9, 9, 2), name="b")
    conv = L.Conv2D(4, 3, padding="same", activation="relu")
    x = L.Concatenate()([conv(a), conv(b)])  # one layer called twice
    x = L.BatchNormalization()(x)  # after an activation: stays a batch norm
    r = L.ReLU()(x)
    x = L.Add()([r, x])  # x is read by ReLU and Add: neither may write into it
    x = L.ZeroPadding2D(1)(x)
    x = L.SeparableConv2D(5, 3, strides=2, activation="tanh")(x)
    x = L.LeakyReLU(0.1)(L.BatchNormalization()(L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x)))
    x = L.AveragePooling2D(2, padding="same")(L.MaxPooling2D(2, strides=1)(x))
    head = L.Dense(6, activation="sigmoid")(L.Dropout(0.5)(L.Flatten()(x)))
    probs = L.Activation("softmax")(L.BatchNormalization()(L.Dense(3)(L.GlobalAveragePooling2D()(x))))
    return with_statistics(minifer.Model([a, b], [probs, head]), seed=4)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_any_graph_predicts_as_its_layers_do(n_threads, threads):
    threads(n_threads)
    model = branchy_model()
    rng = numpy.random.default_rng(5)
    x = [rng.random((40, 9, 9, 2), dtype=numpy.float32) for _ in range(2)]
    kept = [a.copy() for a in x]
    got, want = model.predict(x, verbose=0), reference(model, x)
    for g, w in zip(got, want):
        numpy.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)
    for a, b in zip(x, kept):
        numpy.testing.assert_array_equal(a, b)  # nothing written into the caller's arrays


def test_float64_models_stay_float64():
    minifer.random.seed(0)
    inputs = minifer.Input((6, 6, 1), dtype="float64")
    model = minifer.Model(inputs, L.Dense(2)(L.Flatten()(L.BatchNormalization()(L.Conv2D(3, 3)(inputs)))))
    model = with_statistics(model, seed=1)
    x = numpy.random.default_rng(2).random((4, 6, 6, 1))
    got = model.predict(x, verbose=0)
    assert got.dtype == numpy.float64
    numpy.testing.assert_allclose(got, reference(model, x), rtol=1e-12)


def test_the_plan_follows_the_weights():
    model = with_statistics(minifer.models.arch1(), seed=1)
    x = numpy.random.default_rng(3).random((2, 48, 48, 1), dtype=numpy.float32)
    plan = model.inference_plan()
    before = model.predict(x, verbose=0)
    assert model.inference_plan() is plan  # nothing changed: no rebuild
    model.compile("adam")
    model.fit(x, numpy.array([0, 1]), epochs=1, verbose=0)  # optimizer steps and BatchNorm statistics
    after = model.predict(x, verbose=0)
    assert model.inference_plan() is not plan
    assert numpy.abs(after - before).max() > 1e-4
    numpy.testing.assert_allclose(after, reference(model, x), rtol=1e-4, atol=1e-6)
    weights = model.get_weights()
    weights[-1] = weights[-1] + 1.0  # the head's bias
    model.set_weights(weights)
    numpy.testing.assert_allclose(model.predict(x, verbose=0), reference(model, x), rtol=1e-4, atol=1e-6)


def test_every_change_minifer_makes_to_a_tensor_bumps_its_version():
    t = minifer.Tensor(numpy.ones(3))
    seen = [t.version]
    t.data -= 1  # how the optimizers update
    seen.append(t.version)
    t.assign(numpy.zeros(3))  # how weights are loaded
    seen.append(t.version)
    assert seen[0] < seen[1] < seen[2]


def test_inside_serial_the_kernels_do_not_split(threads):
    threads(2)
    with parallel.serial():
        assert parallel.for_ranges(lambda a, b: (a, b), numpy, 0, 10) == [(0, 10)]
    assert parallel.for_ranges(lambda a, b: (a, b), numpy, 0, 10) == [(0, 5), (5, 10)]


def test_no_grad_is_per_thread():
    """Thread A enters no_grad, B enters, A leaves, B leaves (a plan's fallback steps interleave
    so): with one shared switch B restored A's "off" and gradients stayed off for everyone."""
    import threading
    steps = [threading.Event() for _ in range(3)]
    seen = {}

    def a():
        with minifer.no_grad():
            steps[0].set()
            steps[1].wait()
        steps[2].set()

    def b():
        steps[0].wait()
        with minifer.no_grad():
            steps[1].set()
            steps[2].wait()
            seen["b inside"] = minifer.autograd.grad_enabled()

    threads = [threading.Thread(target=f) for f in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["b inside"] is False
    assert minifer.autograd.grad_enabled()


def test_gradients_still_flow_after_predicting_on_two_threads(threads):
    threads(2)
    model = branchy_model()
    x = [numpy.ones((8, 9, 9, 2), numpy.float32)] * 2
    for _ in range(5):
        model.predict(x, verbose=0)
    w = minifer.Tensor(numpy.ones(3), requires_grad=True)
    (w * 2).sum().backward()
    numpy.testing.assert_array_equal(w.grad, 2.0)


def view_branches():
    """Models where one branch keeps the producer's array, or a view of it (Dropout, Flatten,
    Reshape, a linear Activation), while a later ReLU or Add reads that same producer."""
    def model(branch, later):
        inp = minifer.Input((6, 6, 1))
        c = L.Conv2D(2, 3)(inp)
        kept = L.Flatten()(branch(c))
        return minifer.Model(inp, L.Concatenate()([kept, L.Flatten()(later(c))]))

    relu, add = (lambda c: L.ReLU()(c)), (lambda c: L.Add()([c, c]))
    return [model(lambda c: L.Dropout(0.5)(c), relu), model(lambda c: c, relu),
            model(lambda c: L.Reshape((16, 2))(c), add), model(lambda c: L.Activation("linear")(c), relu)]


@pytest.mark.parametrize("index", range(4))
def test_a_view_kept_by_one_branch_is_not_overwritten_by_another(index):
    minifer.random.seed(index)
    model = view_branches()[index]
    x = numpy.random.default_rng(1).standard_normal((3, 6, 6, 1)).astype(numpy.float32)
    numpy.testing.assert_allclose(model.predict(x, verbose=0), reference(model, x), rtol=1e-5, atol=1e-6)


def test_an_unbuilt_sequential_predicts():
    model = minifer.Sequential([L.Conv2D(2, 3), L.Flatten(), L.Dense(3)])
    x = numpy.random.default_rng(0).random((4, 8, 8, 1), dtype=numpy.float32)
    assert model.predict(x, verbose=0).shape == (4, 3)
    numpy.testing.assert_allclose(model.predict(x, verbose=0), reference(model, x), rtol=1e-5, atol=1e-6)


def test_one_image_keeps_its_own_conv_path_after_a_split_batch(threads, monkeypatch):
    """The path a conv step remembers depends on how many threads ran it: one image after a
    batch of two (one image per thread) must not inherit the two-thread choice."""
    from minifer.kernels import cpu
    threads(2)
    model = minifer.models.arch1()
    x = numpy.random.default_rng(0).random((2, 48, 48, 1), dtype=numpy.float32)
    model.predict(x, verbose=0)  # each thread runs one image, both at once: im2col
    paths, forward = [], cpu.conv2d_forward

    def spy(*args, **kwargs):
        paths.append(args[6])
        return forward(*args, **kwargs)

    monkeypatch.setattr(cpu, "conv2d_forward", spy)
    model.predict(x[:1], verbose=0)  # one image, one thread running kernels: the flat shift
    assert "shift" in paths


@pytest.mark.parametrize("order", ["C", "transposed"])
def test_leaky_relu_in_place_writes_every_element_of_any_layout(order):
    """In pieces through a flat view where the array is contiguous, else whole: never into a copy."""
    from minifer.layers.inference import leaky_relu_in_place
    x = numpy.random.default_rng(0).standard_normal((3, 40000)).astype(numpy.float32)  # pieces and a remainder
    y = x.copy() if order == "C" else x.T.copy().T
    assert leaky_relu_in_place(0.1, piece=7000)(y) is y
    numpy.testing.assert_array_equal(y, numpy.where(x > 0, x, x * numpy.float32(0.1)))
