"""The paper's four networks and mini-Xception: parameter counts, names, shapes, options."""
import numpy
import pytest

import minifer
from minifer.layers import Conv2D, Dense, Dropout, SeparableConv2D
from minifer.models import DEFAULT_L2, PAPER_L2, arch1, arch2, arch3, arch4, get, mini_xception


def totals(model):
    trainable = sum(w.size for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable


@pytest.mark.parametrize("build, total, trainable", [
    (arch1, 293_951, 292_863), (arch2, 1_142_463, 1_141_375), (arch3, 306_831, 305_807),
    (arch4, 1_155_343, 1_154_319), (mini_xception, 58_423, 56_951)])
def test_parameter_totals(build, total, trainable):
    assert totals(build())[:2] == (total, trainable)


def test_arch1_trainable_count_the_paper_prints_is_a_typo():
    """The paper prints 292,862 trainable for ARCH-1, but its own total (293,951) minus the
    BatchNorm moving statistics (2 per channel over 544 channels = 1,088) is 292,863,
    which Keras and PyTorch builds of the graph also report. We reproduce 292,863."""
    total, trainable, non_trainable = totals(arch1())
    bn_channels = 8 + 8 + 16 + 16 + 32 + 32 + 16 + 32 + 64 + 64 + 128 + 128
    assert non_trainable == 2 * bn_channels == 1_088
    assert trainable == 293_951 - 1_088 == 292_863 != 292_862


TABLE_1 = [  # (name, class, output shape, params), the paper's Table 1 in its printed order
    ("input_1", "InputLayer", (None, 48, 48, 1), 0), ("conv2d", "Conv2D", (None, 48, 48, 8), 72),
    ("batch_normalization", "BatchNormalization", (None, 48, 48, 8), 32),
    ("activation", "Activation", (None, 48, 48, 8), 0), ("conv2d_1", "Conv2D", (None, 48, 48, 8), 576),
    ("batch_normalization_1", "BatchNormalization", (None, 48, 48, 8), 32),
    ("activation_1", "Activation", (None, 48, 48, 8), 0), ("conv2d_2", "Conv2D", (None, 48, 48, 16), 1152),
    ("batch_normalization_2", "BatchNormalization", (None, 48, 48, 16), 64),
    ("activation_2", "Activation", (None, 48, 48, 16), 0), ("conv2d_3", "Conv2D", (None, 48, 48, 16), 2304),
    ("batch_normalization_3", "BatchNormalization", (None, 48, 48, 16), 64),
    ("max_pooling2d", "MaxPooling2D", (None, 24, 24, 16), 0), ("activation_3", "Activation", (None, 24, 24, 16), 0),
    ("separable_conv2d", "SeparableConv2D", (None, 24, 24, 32), 656),
    ("batch_normalization_6", "BatchNormalization", (None, 24, 24, 32), 128),
    ("activation_4", "Activation", (None, 24, 24, 32), 0),
    ("separable_conv2d_1", "SeparableConv2D", (None, 24, 24, 32), 1312),
    ("conv2d_4", "Conv2D", (None, 24, 24, 16), 256),
    ("batch_normalization_7", "BatchNormalization", (None, 24, 24, 32), 128),
    ("batch_normalization_4", "BatchNormalization", (None, 24, 24, 16), 64),
    ("max_pooling2d_1", "MaxPooling2D", (None, 12, 12, 32), 0), ("conv2d_5", "Conv2D", (None, 12, 12, 32), 512),
    ("activation_5", "Activation", (None, 12, 12, 32), 0),
    ("batch_normalization_5", "BatchNormalization", (None, 12, 12, 32), 128),
    ("add", "Add", (None, 12, 12, 32), 0), ("activation_6", "Activation", (None, 12, 12, 32), 0),
    ("conv2d_6", "Conv2D", (None, 12, 12, 64), 18496),
    ("batch_normalization_8", "BatchNormalization", (None, 12, 12, 64), 256),
    ("activation_7", "Activation", (None, 12, 12, 64), 0), ("conv2d_7", "Conv2D", (None, 12, 12, 64), 36928),
    ("batch_normalization_9", "BatchNormalization", (None, 12, 12, 64), 256),
    ("max_pooling2d_2", "MaxPooling2D", (None, 6, 6, 64), 0), ("activation_8", "Activation", (None, 6, 6, 64), 0),
    ("conv2d_8", "Conv2D", (None, 6, 6, 128), 73856),
    ("batch_normalization_10", "BatchNormalization", (None, 6, 6, 128), 512),
    ("activation_9", "Activation", (None, 6, 6, 128), 0), ("conv2d_9", "Conv2D", (None, 6, 6, 128), 147584),
    ("batch_normalization_11", "BatchNormalization", (None, 6, 6, 128), 512),
    ("activation_10", "Activation", (None, 6, 6, 128), 0), ("conv2d_10", "Conv2D", (None, 6, 6, 7), 8071),
    ("global_average_pooling2d", "GlobalAveragePooling2D", (None, 7), 0),
    ("predictions", "Activation", (None, 7), 0)]


def test_arch1_layers_names_shapes_and_counts_follow_table_1_row_by_row():
    model = arch1()
    got = [(layer.name, type(layer).__name__, model.model_nodes(layer)[0].outputs[0].shape, layer.count_params())
           for layer in model.layers]
    assert got == TABLE_1


def test_every_build_gets_the_papers_names():
    assert [layer.name for layer in arch1().layers] == [layer.name for layer in arch1().layers]
    assert arch3().layers[-3].name == "conv2d_11" and arch2().layers[-1].name == "prediction"


def test_arch1_runs_a_batch_to_class_probabilities():
    model = arch1()
    x = numpy.random.default_rng(0).random((2, 48, 48, 1), dtype=numpy.float32)
    probabilities = model(x).numpy()
    assert probabilities.shape == (2, 7) and probabilities.dtype == numpy.float32
    numpy.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert model(x, logits=True).shape == (2, 7)


def test_l2_regularises_every_kernel_and_nothing_else():
    model = arch1(l2=0.5)
    regularised = [w.name for w in model.weights if w.regularizer is not None]
    kernels = [w.name for layer in model.layers if isinstance(layer, (Conv2D, SeparableConv2D, Dense))
               for w in layer.weights if "kernel" in w.name]
    assert regularised == kernels and len(kernels) == 11 + 2 * 2
    assert all(w.regularizer.l2 == 0.5 for w in model.weights if w.regularizer is not None)
    assert len(model.losses) == 15
    assert {w.regularizer.l2 for w in arch3().weights if w.regularizer} == {DEFAULT_L2}
    assert {w.regularizer.l2 for w in arch3(l2="paper").weights if w.regularizer} == {PAPER_L2}
    assert {w.regularizer.l2 for w in mini_xception(l2="paper").weights if w.regularizer} == {0.01}
    with pytest.raises(ValueError, match='l2 must be a number, None or "paper"'):
        arch1(l2="strong")
    assert arch4(l2=None).losses == []


def test_dropout_follows_each_hidden_dense():
    model = arch2(dropout=0.25)
    names = [(type(layer).__name__, getattr(layer, "rate", None)) for layer in model.layers[-5:]]
    assert names == [("Dense", None), ("Dropout", 0.25), ("Dense", None), ("Dropout", 0.25), ("Dense", None)]
    assert not any(isinstance(layer, Dropout) for layer in arch4(dropout=0).layers)
    assert totals(arch2(dropout=0))[0] == 1_142_463


def test_options_change_input_and_classes():
    model = get("arch3", input_shape=(64, 64, 3), num_classes=5, name="custom")
    assert model.name == "custom" and model.input_shape == (None, 64, 64, 3) and model.output_shape == (None, 5)
    assert mini_xception().input_shape == (None, 64, 64, 1)


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'arch5'; known: arch1, arch2, arch3, arch4, mini_xception"):
        get("arch5")


def test_model_builds_do_not_disturb_global_layer_numbering():
    with minifer.layers.fresh_names():
        first = Dense(1).name
        arch1()
        assert Dense(1).name == "dense_1" and first == "dense"


def test_inference_equals_training_mode_once_the_moving_statistics_are_exact():
    """With momentum 0 a training pass sets every BatchNorm's moving statistics to that batch's,
    so inference on the same batch must give the training-mode output: the inference path
    (moving mean, biased moving variance, epsilon) is exactly the training path."""
    minifer.random.seed(0)  # repeatable initial weights
    model = minifer.models.arch1(l2=None)
    rng = numpy.random.default_rng(1)
    for w in model.trainable_weights:  # non-trivial gammas and betas too
        w.data = w.data + rng.normal(0, 0.1, w.shape).astype(w.dtype)
    for layer in model.layers:
        if isinstance(layer, minifer.layers.BatchNormalization):
            layer.momentum = 0.0
    x = minifer.Tensor(rng.random((6, 48, 48, 1), dtype=numpy.float32))
    with minifer.no_grad():
        trained = model(x, training=True).data
        inferred = model(x, training=False).data
    numpy.testing.assert_allclose(inferred, trained, atol=1e-5)
