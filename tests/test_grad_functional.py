"""Float64 gradient checks of the NHWC primitives on geometries drawn by hypothesis.

Impossible geometries (a "valid" kernel larger than the input) are filtered out here and
checked for their error in test_layer_errors.py.
"""
import numpy
from hypothesis import assume, given, strategies as st

from gradcheck import check_gradients, leaf
from minifer import Tensor
from minifer import functional as F
from minifer.functional import conv_output_length

seeds = st.integers(0, 2 ** 32 - 1)


def random(seed, shape, low=-1.0, high=1.0):
    return numpy.random.default_rng(seed).uniform(low, high, size=shape)


@st.composite
def geometry(draw, max_kernel=5):
    """Batch, spatial size, channels, kernel, strides and padding of a possible window op."""
    g = dict(n=draw(st.integers(1, 4)), h=draw(st.integers(1, 9)), w=draw(st.integers(1, 9)),
             c=draw(st.integers(1, 6)), kernel=(draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))),
             strides=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
             padding=draw(st.sampled_from(["same", "valid"])))
    for size, k, s in zip((g["h"], g["w"]), g["kernel"], g["strides"]):
        assume(conv_output_length(size, k, s, g["padding"]) >= 1)
    return g


@given(geometry(), st.integers(1, 6), st.booleans(), seeds)
def test_conv2d(g, filters, use_bias, seed):
    x = leaf(random(seed, (g["n"], g["h"], g["w"], g["c"])))
    kernel = leaf(random(seed + 1, (*g["kernel"], g["c"], filters)))
    bias = leaf(random(seed + 2, (filters,))) if use_bias else None
    check_gradients(lambda: F.conv2d(x, kernel, bias, g["strides"], g["padding"]),
                    [x, kernel] + ([bias] if use_bias else []), seed)


def assume_dilated_window_fits(g, rate):
    for size, k, r, s in zip((g["h"], g["w"]), g["kernel"], rate, g["strides"]):
        assume(conv_output_length(size, (k - 1) * r + 1, s, g["padding"]) >= 1)


@given(geometry(max_kernel=3), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)),
       st.integers(1, 3), st.booleans(), seeds)
def test_dilated_and_grouped_conv2d(g, groups, rate, per_group, use_bias, seed):
    """Groups of one channel each are computed as a depthwise convolution, larger ones per group."""
    assume_dilated_window_fits(g, rate)
    x = leaf(random(seed, (g["n"], g["h"], g["w"], per_group * groups)))
    kernel = leaf(random(seed + 1, (*g["kernel"], per_group, 2 * groups)))
    bias = leaf(random(seed + 2, (2 * groups,))) if use_bias else None
    check_gradients(lambda: F.conv2d(x, kernel, bias, g["strides"], g["padding"], dilation_rate=rate, groups=groups),
                    [x, kernel] + ([bias] if use_bias else []), seed)


@given(geometry(max_kernel=3), st.integers(1, 2), st.tuples(st.integers(1, 3), st.integers(1, 3)), seeds)
def test_dilated_depthwise_conv2d(g, multiplier, rate, seed):
    assume_dilated_window_fits(g, rate)
    x = leaf(random(seed, (g["n"], g["h"], g["w"], g["c"])))
    kernel = leaf(random(seed + 1, (*g["kernel"], g["c"], multiplier)))
    check_gradients(lambda: F.depthwise_conv2d(x, kernel, None, g["strides"], g["padding"], rate), [x, kernel], seed)


@given(geometry(), st.integers(1, 2), st.booleans(), seeds)
def test_depthwise_conv2d(g, multiplier, use_bias, seed):
    x = leaf(random(seed, (g["n"], g["h"], g["w"], g["c"])))
    kernel = leaf(random(seed + 1, (*g["kernel"], g["c"], multiplier)))
    bias = leaf(random(seed + 2, (g["c"] * multiplier,))) if use_bias else None
    check_gradients(lambda: F.depthwise_conv2d(x, kernel, bias, g["strides"], g["padding"]),
                    [x, kernel] + ([bias] if use_bias else []), seed)


def without_ties(seed, shape):
    """Distinct values 0.1 apart: max is differentiable there and eps never reorders them."""
    values = numpy.random.default_rng(seed).permutation(int(numpy.prod(shape))) * 0.1
    return (values - values.mean()).reshape(shape)


@given(geometry(max_kernel=4), st.booleans(), seeds)
def test_max_pool2d(g, tiled, seed):
    if tiled:  # strides == pool, as in the paper: the non-overlapping (reshape) path
        g = {**g, "strides": g["kernel"]}
    x = leaf(without_ties(seed, (g["n"], g["h"], g["w"], g["c"])))
    check_gradients(lambda: F.max_pool2d(x, g["kernel"], g["strides"], g["padding"]), [x], seed)


@st.composite
def explicit_pool(draw):
    """A pool with explicit (possibly asymmetric) padding and ceil mode, each window starting inside
    the input or its leading padding."""
    g = draw(geometry(max_kernel=4))
    pads = tuple((draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))) for k in g["kernel"])
    ceil_mode = draw(st.booleans())
    for size, k, s, p in zip((g["h"], g["w"]), g["kernel"], g["strides"], pads):
        assume(conv_output_length(size, k, s, p, ceil_mode) >= 1)
    return {**g, "padding": pads, "ceil_mode": ceil_mode}


@given(explicit_pool(), st.booleans(), seeds)
def test_pools_with_explicit_padding_and_ceil_mode(g, count_include_pad, seed):
    x = leaf(without_ties(seed, (g["n"], g["h"], g["w"], g["c"])))
    check_gradients(lambda: F.max_pool2d(x, g["kernel"], g["strides"], g["padding"], g["ceil_mode"]), [x], seed)
    check_gradients(lambda: F.avg_pool2d(x, g["kernel"], g["strides"], g["padding"], g["ceil_mode"],
                                         count_include_pad), [x], seed)


@given(geometry(), seeds)
def test_global_average_pool2d(g, seed):
    x = leaf(random(seed, (g["n"], g["h"], g["w"], g["c"])))
    check_gradients(lambda: F.global_average_pool2d(x), [x], seed)


def bn_inputs(g, seed):
    x = leaf(random(seed, (g["n"], g["h"], g["w"], g["c"]), -2, 3))
    gamma, beta = leaf(random(seed + 1, (g["c"],), 0.5, 2)), leaf(random(seed + 2, (g["c"],)))
    mean, var = Tensor(random(seed + 3, (g["c"],))), Tensor(random(seed + 4, (g["c"],), 0.5, 2))
    return x, gamma, beta, mean, var


@given(geometry(), st.booleans(), seeds)
def test_batch_norm(g, training, seed):
    x, gamma, beta, mean, var = bn_inputs(g, seed)
    check_gradients(lambda: F.batch_norm(x, gamma, beta, mean, var, training=training), [x, gamma, beta], seed)


@given(st.integers(1, 4), st.integers(1, 6), seeds)
def test_batch_norm_on_dense_features(n, c, seed):
    g = dict(n=n, h=1, w=1, c=c)
    x, gamma, beta, mean, var = bn_inputs(g, seed)
    x2 = leaf(x.data.reshape(n, c))
    check_gradients(lambda: F.batch_norm(x2, gamma, beta, mean, var, training=True), [x2, gamma, beta], seed)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.booleans(), seeds)
def test_dense(n, steps, units_in, units, use_bias, seed):
    kernel, bias = leaf(random(seed, (units_in, units))), leaf(random(seed + 1, (units,)))
    for shape in [(n, units_in), (n, steps, units_in)]:  # Keras's Dense maps the last axis
        x = leaf(random(seed + 2, shape))
        check_gradients(lambda: F.dense(x, kernel, bias if use_bias else None),
                        [x, kernel] + ([bias] if use_bias else []), seed)


@given(st.integers(1, 4), st.integers(1, 6), st.sampled_from([0.1, 0.5, 0.9]), seeds)
def test_dropout_with_a_fixed_mask(n, c, rate, seed):
    x = leaf(random(seed, (n, c)))
    check_gradients(lambda: F.dropout(x, rate, training=True, rng=numpy.random.default_rng(seed)), [x], seed)


def away_from_zero(seed, shape):
    values = random(seed, shape, 0.1, 2.0)
    return values * numpy.random.default_rng(seed + 1).choice([-1, 1], size=shape)


@given(st.integers(1, 4), st.integers(1, 6), seeds)
def test_relu_clip_flatten(n, c, seed):
    x = leaf(away_from_zero(seed, (n, 2, 3, c)))
    check_gradients(lambda: F.relu(x), [x], seed)
    check_gradients(lambda: F.flatten(x), [x], seed)
    check_gradients(lambda: F.clip(x, -1.05, 1.05), [x], seed)  # values 1.05 +- eps never cross


@given(st.integers(1, 4), st.integers(1, 7), st.sampled_from([-1, 0, 1]), seeds)
def test_softmax_and_log_softmax(n, k, axis, seed):
    x = leaf(random(seed, (n, k), -3, 3))
    check_gradients(lambda: F.softmax(x, axis), [x], seed)
    check_gradients(lambda: F.log_softmax(x, axis), [x], seed)


@st.composite
def classification(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(2, 7))
    seed = draw(seeds)
    labels = numpy.random.default_rng(seed).integers(0, k, size=n)
    return n, k, labels, seed


@given(classification(), st.sampled_from([0.0, 0.1]), st.booleans())
def test_cross_entropy_from_logits(case, smoothing, weighted):
    n, k, labels, seed = case
    logits = leaf(random(seed, (n, k), -3, 3))
    weights = random(seed + 1, (n,), 0, 2) if weighted else None
    onehot = numpy.eye(k)[labels]
    for target in (labels, onehot):
        check_gradients(lambda: F.cross_entropy(logits, target, label_smoothing=smoothing, sample_weight=weights),
                        [logits], seed)


@given(classification(), st.sampled_from([0.0, 0.1]))
def test_cross_entropy_from_probabilities(case, smoothing):
    n, k, labels, seed = case
    probs = leaf(random(seed, (n, k), 0.05, 0.95))  # inside the [1e-7, 1 - 1e-7] clip
    check_gradients(lambda: F.cross_entropy(probs, labels, from_logits=False, label_smoothing=smoothing),
                    [probs], seed)


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3),
       st.tuples(st.integers(1, 3), st.integers(1, 3)), st.sampled_from(["nearest", "bilinear"]), seeds)
def test_upsample2d(n, h, w, c, size, interpolation, seed):
    x = leaf(random(seed, (n, h, w, c)))
    check_gradients(lambda: F.upsample2d(x, size, interpolation), [x], seed)


@given(st.integers(1, 4), st.integers(1, 6), seeds)
def test_hard_sigmoid_and_hard_swish(n, c, seed):
    """On both sides of the kinks at -3 and 3 (never within 0.05 of one)."""
    values = random(seed, (n, 4, c), 0.05, 2.95) + numpy.random.default_rng(seed).choice([-6, -3, 0, 3], (n, 4, c))
    x = leaf(values)
    check_gradients(lambda: F.hard_sigmoid(x), [x], seed)
    check_gradients(lambda: F.hard_swish(x), [x], seed)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 7), st.integers(1, 6), st.sampled_from([0.5, 0.75, 1.0]),
       seeds)
def test_local_response_norm(n, h, c, size, beta, seed):
    x = leaf(random(seed, (n, h, 2, c), -2, 2))
    check_gradients(lambda: F.local_response_norm(x, size, alpha=0.3, beta=beta, bias=1.5), [x], seed)


@given(st.integers(1, 3), st.integers(2, 5), st.integers(2, 5), st.integers(1, 3), st.data(),
       st.sampled_from(["constant", "reflect", "edge", "wrap"]), seeds)
def test_pad2d_and_permute(n, h, w, c, data, mode, seed):
    """Reflection pads at most size - 1 pixels (it never repeats the edge pixel)."""
    most = (h - 1, w - 1) if mode == "reflect" else (4, 4)
    pads = tuple((data.draw(st.integers(0, m)), data.draw(st.integers(0, m))) for m in most)
    x = leaf(random(seed, (n, h, w, c)))
    check_gradients(lambda: F.pad2d(x, pads, mode, value=0.7), [x], seed)
    check_gradients(lambda: F.permute(x, (3, 1, 2)), [x], seed)
