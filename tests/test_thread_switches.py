"""Every switch a block turns on holds on its own thread only, so two models can train and predict in
one process (Dask workers and MPI ranks share a process with other work): precise BatchNorm's
collection, fit's dropout generator, fresh layer names, weight guards and the kernel set in use.
Each test holds one thread inside the block while another works, the interleaving that a
process-wide switch gets wrong."""
import threading

import numpy

import minifer
from minifer import functional as F
from minifer import layers as L
from minifer.kernels import cpu, kernels_for, numpy_kernels
from minifer.layers.base import guard_weights
from minifer.layers.names import unique_name


def inside_while(block, work):
    """Run ``work()`` on a second thread while this thread is inside ``block``; return its result."""
    entered, done, out = threading.Event(), threading.Event(), {}

    def other():
        entered.wait()
        out["result"] = work()
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with block:
        entered.set()
        assert done.wait(30)
    thread.join()
    return out["result"]


def test_precise_batchnorm_collects_only_its_own_threads_statistics():
    bn = L.BatchNormalization(momentum=0.5)
    x = minifer.Tensor(numpy.full((4, 3), 2.0, numpy.float32))
    bn(x)  # built, moving mean 0

    def train_step():
        bn(x, training=True)
        return bn.moving_mean.numpy().copy()

    moved = inside_while(F.population_statistics(), train_step)
    numpy.testing.assert_allclose(moved, 1.0)  # moved halfway to 2, not collected by the other thread's block


def test_fits_dropout_generator_is_not_another_threads():
    minifer.random.seed(7)
    expected = numpy.random.default_rng(7).random(3)
    drawn = inside_while(minifer.random.using(numpy.random.default_rng(99)),
                         lambda: minifer.random.generator().random(3))
    numpy.testing.assert_array_equal(drawn, expected)


def test_fresh_names_number_only_their_own_threads_layers():
    unique_name("probe_layer")  # the process's count is now past zero
    with L.fresh_names():
        named = inside_while(L.fresh_names(), lambda: unique_name("probe_layer"))
        mine = unique_name("probe_layer")
    assert named == "probe_layer_1" and mine == "probe_layer"


def test_a_weight_guard_checks_only_its_own_threads_weights():
    def refuse(name, shape):
        raise AssertionError("another thread's guard ran")

    layer = inside_while(guard_weights(refuse), lambda: L.Dense(2).__call__(minifer.Tensor(numpy.ones((1, 3)))))
    assert layer.shape == (1, 2)


def test_a_kernel_set_swapped_in_holds_on_its_own_thread():
    stand_in = object()
    seen = inside_while(numpy_kernels(stand_in), lambda: kernels_for(numpy.ones(1)))
    assert seen is cpu
    with numpy_kernels(stand_in):
        assert kernels_for(numpy.ones(1)) is stand_in
