"""The thread pool helper: ranges cover exactly, results equal serial, runs repeat bit for bit."""
import numpy as np
import pytest

from minifer.kernels.cpu import parallel
from minifer.kernels.cpu.depthwise import shifted_dot, shifted_mac
from minifer.kernels.cpu.shifts import shift_conv, shift_conv_backward


@pytest.mark.parametrize("start,stop,parts,align", [(0, 10, 2, 1), (3, 100, 3, 8), (0, 5, 8, 1), (7, 8, 2, 4), (0, 65, 2, 64)])
def test_split_covers_exactly(start, stop, parts, align):
    ranges = parallel.split(start, stop, parts, align)
    assert ranges[0][0] == start and ranges[-1][1] == stop
    assert all(b > a for a, b in ranges) and len(ranges) <= parts
    assert all(r[1] == s[0] for r, s in zip(ranges, ranges[1:]))
    assert all((b - start) % align == 0 for _, b in ranges[:-1])


def test_for_ranges_in_order_and_serial_fallback():
    out = parallel.for_ranges(lambda a, b: list(range(a, b)), np, 0, 101, threads=3)
    assert sum(out, []) == list(range(101))
    assert parallel.for_ranges(lambda a, b: (a, b), np, 0, 101, threads=1) == [(0, 101)]
    assert parallel.for_ranges(lambda a, b: (a, b), object(), 0, 101, threads=4) == [(0, 101)]  # not NumPy: no pool


@pytest.fixture
def restore_threads():
    before = parallel.num_threads()
    yield
    parallel.set_num_threads(before)


def _kernels(threads):
    parallel.set_num_threads(threads)
    rng = np.random.default_rng(0)
    xpad = rng.standard_normal((3, 9, 9, 5), dtype=np.float32)
    w = rng.standard_normal((3, 3, 5, 4), dtype=np.float32)
    g = rng.standard_normal((3, 7, 7, 4), dtype=np.float32)
    y = np.ascontiguousarray(shift_conv(xpad, w, (7, 7)))
    dx, dw = shift_conv_backward(g, xpad, w, xpad.shape, w.shape)
    src = rng.standard_normal((200, 6), dtype=np.float32)
    taps = rng.standard_normal((4, 6), dtype=np.float32)
    mac = np.zeros_like(src)
    shifted_mac(src, [0, 1, 10, 11], taps, mac, 189)
    dot = shifted_dot(src, [0, 1, 10, 11], src, 189)
    return y, dx, dw, mac, dot


def test_threaded_kernels_match_serial_and_repeat(restore_threads):
    serial = _kernels(1)
    threaded = _kernels(2)
    again = _kernels(2)
    for s, t, u in zip(serial, threaded, again):
        np.testing.assert_allclose(t, s, rtol=1e-5, atol=1e-5)
        assert np.array_equal(t, u)  # bit-for-bit for a fixed thread count


def test_a_repeated_step_reuses_freed_memory():
    """After the first kernel call freed arrays stay in the heap (``heap.py``), so repeating a
    convolution's forward and backward at batch 64 costs about 200 page faults a step (Python's
    own small objects) instead of about 1,500 (THP on) to 20,000 (off) for fresh pages."""
    import resource

    import minifer
    from minifer import functional as F
    from minifer.kernels.cpu import heap
    rng = np.random.default_rng(0)
    x = minifer.Tensor(rng.random((64, 48, 48, 8), dtype=np.float32), requires_grad=True)
    w = minifer.Tensor(rng.random((3, 3, 8, 8), dtype=np.float32), requires_grad=True)

    def step():
        F.relu(F.conv2d(x, w, padding="same")).sum().backward()

    step()
    if not heap.keep_freed_memory():
        pytest.skip("glibc's malloc only (or MINIFER_KEEP_FREED_MEMORY=0)")
    faults = []
    for _ in range(5):  # the median step: a garbage collection in one step of a long run is not the kernels'
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        step()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    assert sorted(faults)[2] < 600, faults


def test_a_kernel_called_inside_a_split_runs_unsplit(restore_threads):
    """A range that calls for_ranges again runs it on its own thread (a pool thread waiting on
    the pool it occupies would never return) and says how many threads run at once."""
    import threading
    parallel.set_num_threads(2)
    result = []
    nested = threading.Thread(target=lambda: result.append(parallel.for_ranges(
        lambda a, b: (parallel.for_ranges(lambda c, d: (c, d), np, a, b), parallel.running_threads()), np, 0, 10)),
        daemon=True)
    nested.start()
    nested.join(timeout=20)  # a deadlock fails here instead of hanging the suite
    assert result == [[([(0, 5)], 2), ([(5, 10)], 2)]]


def test_set_num_threads_while_another_thread_predicts(restore_threads):
    """Changing the thread count never shuts down a pool another thread is splitting a kernel over
    (predict failed with "cannot schedule new futures after shutdown"). The other thread splits
    trivial kernels, thousands of them, so the window between taking the pool and submitting to it
    comes up often; then a whole model predicts the same way."""
    import threading

    import minifer
    from minifer import Input, Model
    from minifer.layers import Conv2D, GlobalAveragePooling2D, fresh_names
    with fresh_names():
        x = Input((6, 6, 1))
        model = Model(x, GlobalAveragePooling2D()(Conv2D(2, 3)(x)))
    images = np.random.default_rng(0).random((4, 6, 6, 1), dtype=np.float32)
    expected = model.predict(images, verbose=0)
    errors, results = [], []

    def split_and_predict():
        try:
            for _ in range(2000):
                results.append(sum(parallel.for_ranges(lambda a, b: b - a, np, 0, 8)) == 8)
            for _ in range(50):
                results.append(np.allclose(model.predict(images, verbose=0), expected, rtol=1e-5, atol=1e-6))
        except BaseException as error:  # noqa: B036 (reported to the main thread)
            errors.append(error)

    worker = threading.Thread(target=split_and_predict)
    worker.start()
    i = 0
    while worker.is_alive():
        minifer.set_num_threads(2 + i % 3)
        i += 1
    worker.join()
    assert not errors, errors[0]
    assert len(results) == 2050 and all(results)


@pytest.mark.parametrize("n", [0, -2, 1.9, True, "2", None])
def test_a_thread_count_that_is_not_a_whole_number_above_0_is_refused(n, restore_threads):
    with pytest.raises((TypeError, ValueError), match="thread count"):
        parallel.set_num_threads(n)
