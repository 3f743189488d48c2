"""Functional graphs: symbolic calls, Model running, errors, weights, logits and configs."""
import gc
import json
import weakref

import numpy
import pytest

import minifer
from minifer import Input, Model, Sequential, Tensor
from minifer.layers import (Activation, Add, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                            GlobalAveragePooling2D, Layer, ReLU, ShapeError, Softmax, fresh_names)
from minifer.graph import GraphError


def branching(filters=4, dtype="float32", l2=None):
    """Input -> Conv -> [Conv | 1x1 Conv] -> Add -> ReLU -> GAP -> Dense: the smallest residual graph."""
    inputs = Input((6, 6, 2), dtype=dtype)
    x = Conv2D(filters, 3, padding="same", kernel_regularizer=l2)(inputs)
    a = Conv2D(filters, 3, padding="same")(x)
    b = Conv2D(filters, 1)(x)
    y = ReLU()(Add()([a, b]))
    return Model(inputs, Dense(3)(GlobalAveragePooling2D()(y)))


def images(shape=(2, 6, 6, 2), seed=0, dtype=numpy.float32):
    return numpy.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_symbolic_call_records_a_node_and_infers_the_shape_without_computing():
    with fresh_names():
        x = Input((48, 48, 1))
        conv = Conv2D(8, 3, padding="same", use_bias=False)
        y = conv(x)
    assert x.is_symbolic and x.shape == (None, 48, 48, 1) and x.layer.name == "input_1"
    assert y.is_symbolic and y.shape == (None, 48, 48, 8) and y.name == "conv2d[0][0]"
    assert conv.inbound_nodes == [y.node] and y.node.inbound == [x]
    assert conv.kernel.shape == (3, 3, 1, 8) and conv.kernel.dtype == numpy.float32


def test_sizes_known_only_at_run_time_stay_unknown_through_reshape_and_concatenate():
    """A detector's heads: any image size, each level reshaped to (N, -1, k) and the levels joined."""
    x = Input((None, None, 3))
    levels = [minifer.layers.Reshape((-1, 2))(Conv2D(4, 1, strides=s)(x)) for s in (1, 2)]
    joined = minifer.layers.Concatenate(axis=1)(levels)
    assert levels[0].shape == (None, None, 2) and joined.shape == (None, None, 2)
    assert Model(x, joined).predict(images((1, 5, 3, 3)), verbose=0).shape == (1, 15 * 2 + 6 * 2, 2)


def test_inputs_are_numbered_from_one_like_keras():
    with fresh_names():
        assert [Input((2,)).layer.name for _ in range(3)] == ["input_1", "input_2", "input_3"]


def test_graph_run_equals_the_same_layers_called_by_hand():
    model = branching()
    conv, a, b, add, relu, gap, dense = model.layers[1:]
    x = images()
    h = conv(Tensor(x))
    expected = dense(gap(relu(add([a(h), b(h)]))))
    numpy.testing.assert_array_equal(model(x).numpy(), expected.numpy())
    assert model.output_shape == (None, 3) and model.input_shape == (None, 6, 6, 2)


def test_reused_layer_gets_a_second_node_and_shares_its_weights():
    dense = Dense(4)
    a, b = Input((3,)), Input((3,))
    model = Model([a, b], Add()([dense(a), dense(b)]))
    assert len(dense.inbound_nodes) == 2
    assert model.count_params() == 16 and len(model.weights) == 2
    x1, x2 = images((2, 3), 1), images((2, 3), 2)
    numpy.testing.assert_allclose(model([x1, x2]).numpy(), (dense(Tensor(x1)) + dense(Tensor(x2))).numpy())


def test_reusing_a_layer_on_an_incompatible_shape_raises_its_shape_error():
    conv = Conv2D(4, 3, name="shared_conv")
    conv(Input((8, 8, 3)))
    with pytest.raises(ShapeError, match=r"Conv2D layer 'shared_conv' was built for inputs with 3 channels.*"
                                         r"\(None, 8, 8, 5\)"):
        conv(Input((8, 8, 5)))


def test_add_of_mismatched_shapes_names_the_layer_and_shapes():
    x = Input((8, 8, 3))
    with pytest.raises(ShapeError, match=r"Add layer 'bad_add' needs inputs of one shape.*"
                                         r"\(None, 8, 8, 4\), \(None, 8, 8, 3\)"):
        Add(name="bad_add")([Conv2D(4, 1)(x), x])


def test_an_output_that_does_not_depend_on_the_inputs_is_named():
    a, b = Input((3,), name="a"), Input((3,), name="b")
    with pytest.raises(GraphError, match=r"output 'lonely\[0\]\[0\]' does not depend on the model's inputs \(a\)"
                                         r".*computed from b"):
        Model(a, Dense(2, name="lonely")(b))


def test_an_output_that_needs_an_input_not_given_names_it():
    a, b = Input((3,), name="a"), Input((3,), name="b")
    with pytest.raises(GraphError, match=r"output 'sum\[0\]\[0\]' needs input\(s\) b"):
        Model(a, Add(name="sum")([a, b]))


def test_model_inputs_must_be_input_tensors():
    x = Input((3,))
    with pytest.raises(TypeError, match="must come from minifer.Input"):
        Model(Dense(2)(x), Dense(2)(x))


def test_running_checks_the_input_shape_and_count():
    model = branching()
    with pytest.raises(ShapeError, match=r"expects input 'input_\d+' of shape \(None, 6, 6, 2\), "
                                         r"got shape \(2, 7, 6, 2\)"):
        model(images((2, 7, 6, 2)))
    listed = Model([model.input], [model.output])
    with pytest.raises(ValueError, match=r"takes 1 inputs \(input_\d+\), got 2"):
        listed([images(), images()])


def test_intermediate_values_are_released_once_consumed():
    """A chain of 12 Dense layers: when the last runs, the early outputs must already be gone."""
    alive = []

    class Remember(Layer):
        def call(self, x, training=False):
            alive.append(weakref.ref(x))
            return x * 1.0

    class Count(Layer):
        def call(self, x, training=False):
            gc.collect()
            self.live = sum(ref() is not None for ref in alive)
            return x

    x = inputs = Input((4,))
    for _ in range(12):
        x = Remember()(Dense(4)(x))
    count = Count()
    model = Model(inputs, count(x))
    with minifer.no_grad():
        model(images((2, 4)))
    assert len(alive) == 12 and count.live <= 2


def test_layers_weights_and_losses_of_a_model():
    with fresh_names():
        model = branching(l2=0.1)
        model_bn = Model(model.input, BatchNormalization()(model.output))
    assert [layer.name for layer in model.layers] == [
        "input_1", "conv2d", "conv2d_1", "conv2d_2", "add", "re_lu", "global_average_pooling2d", "dense"]
    assert model.get_layer("add") is model.layers[4]
    with pytest.raises(KeyError, match="no layer 'nope'.*input_1, conv2d, conv2d_1"):
        model.get_layer("nope")
    assert len(model.losses) == 1  # only the first conv has a regulariser
    numpy.testing.assert_allclose(model.losses[0].item(), 0.1 * (model.layers[1].kernel.numpy() ** 2).sum(),
                                  rtol=1e-6)
    assert [w.name for w in model_bn.non_trainable_weights] == ["batch_normalization/moving_mean",
                                                                "batch_normalization/moving_variance"]
    assert model_bn.count_params() == model.count_params() + 12
    assert len(model_bn.trainable_weights) == len(model.weights) + 2


def test_get_and_set_weights_copy_every_weight_in_layer_order():
    source, target = branching(), branching()
    target.set_weights(source.get_weights())
    numpy.testing.assert_array_equal(source(images()).numpy(), target(images()).numpy())
    arrays = source.get_weights()
    arrays[0] = arrays[0][..., :1]
    with pytest.raises(ValueError, match=r"conv2d\w*/kernel: expected \(3, 3, 2, 4\), got \(3, 3, 2, 1\)"):
        target.set_weights(arrays)
    with pytest.raises(ValueError, match="has 8 weights, got 7 arrays"):
        target.set_weights(arrays[1:])


def test_model_names_are_unique_unless_given():
    with fresh_names():
        x = Input((2,))
        names = [Model(x, Dense(1)(x)).name for _ in range(2)] + [Model(x, x, name="mine").name]
    assert names == ["model", "model_1", "mine"]


@pytest.mark.parametrize("head", [lambda: Softmax(), lambda: Activation("softmax"),
                                  lambda: Dense(5, activation="softmax")])
def test_logits_are_the_values_before_the_softmax(head):
    x = Input((6,))
    hidden = Dense(5)(x)
    model = Model(x, head()(hidden))
    data = images((3, 6))
    assert model.output_is_softmax()
    probabilities = model(data).numpy()
    logits = model(data, logits=True).numpy()
    numpy.testing.assert_allclose(probabilities, minifer.functional.softmax(Tensor(logits)).numpy(), rtol=1e-5)
    assert not numpy.allclose(logits, probabilities)
    numpy.testing.assert_array_equal(model(data).numpy(), probabilities)  # the softmax is back in place


def test_logits_of_a_model_without_a_softmax_output_is_an_error():
    x = Input((3,))
    model = Model(x, Dense(2, name="plain")(x))
    assert not model.output_is_softmax()
    with pytest.raises(ValueError, match=r"logits=True needs a softmax output.*Dense layer 'plain'"):
        model(images((1, 3)), logits=True)


def test_sequential_builds_from_input_shape_or_first_data_and_matches_the_layers():
    with fresh_names():
        stack = [Conv2D(3, 3), ReLU(), Flatten(), Dropout(0.5), Dense(2)]
        built = Sequential(stack, input_shape=(5, 5, 1))
        lazy = Sequential([Dense(3), ReLU()])
    assert built.output_shape == (None, 2) and built.layers == stack
    x = images((2, 5, 5, 1))
    expected = x
    for layer in stack:
        expected = layer(Tensor(expected))
    numpy.testing.assert_array_equal(built(x).numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match="model 'sequential_1' is not built yet.*call it on data first"):
        lazy.summary()
    assert lazy(images((2, 4))).shape == (2, 3) and lazy.input_shape == (None, 4)
    lazy.add(Dense(1))
    assert lazy.output_shape == (None, 1)


def test_a_model_nests_inside_another_as_a_layer():
    inner = branching()
    x = Input((6, 6, 2))
    outer = Model(x, Softmax()(inner(x)))
    numpy.testing.assert_allclose(outer(images()).numpy(),
                                  minifer.functional.softmax(inner(images())).numpy(), rtol=1e-6)
    assert outer.count_params() == inner.count_params()
    inner.trainable = False
    assert outer.trainable_weights == [] and len(outer.non_trainable_weights) == len(inner.weights)


def test_config_is_json_and_rebuilds_the_same_graph():
    dense = Dense(2, name="shared")
    a, b = Input((3,), name="a"), Input((3,), name="b")
    model = Model([a, b], [Add()([dense(a), dense(b)]), dense(a)], name="two_heads")
    config = json.loads(json.dumps(model.get_config()))
    rebuilt = Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert rebuilt.summary(print_fn=lambda line: None) == model.summary(print_fn=lambda line: None)
    data = [images((2, 3), 1), images((2, 3), 2)]
    for got, want in zip(rebuilt(data), model(data)):
        numpy.testing.assert_array_equal(got.numpy(), want.numpy())


def test_gradients_flow_through_the_residual_branch():
    """float64 central differences against backward for the input and every weight of a branching graph."""
    from gradcheck import check_gradients
    model = branching(filters=3, dtype="float64")
    x = Tensor(images(dtype=numpy.float64), requires_grad=True)
    assert all(w.dtype == numpy.float64 for w in model.weights)
    check_gradients(lambda: model(x), [x] + model.trainable_weights)
    branch_b = model.layers[3]
    assert branch_b.kernel.grad is not None and numpy.abs(branch_b.kernel.grad).sum() > 0
