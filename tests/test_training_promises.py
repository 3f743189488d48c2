"""Training paths that used to give wrong answers without an error, each pinned by a test:
BatchNorm statistics, labels and losses, one input rule at every door, the global generator,
batches of one, class weights, frozen models, and steps that must leave no trace."""
import numpy
import pytest

import minifer
from minifer import Tensor
from minifer import callbacks as cb
from minifer import functional as F
from minifer import layers as L
from minifer.training import TrainingDiverged
from minifer.training.source import BatchSource, class_weights
from models_under_test import NUM_CLASSES, quadrant_data, small_model


@pytest.fixture(scope="module")
def data():
    return quadrant_data(96, seed=3)


# -- BatchNorm statistics ---------------------------------------------------------------------
def test_fit_ends_with_the_exact_batchnorm_statistics_of_its_final_weights(data):
    x, y = data
    model = small_model()
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    conv, bn = model.layers[1], model.layers[2]
    h = F.conv2d(Tensor(x / numpy.float32(255)), conv.kernel, None, 1, "same").data.astype(numpy.float64)
    numpy.testing.assert_allclose(bn.moving_mean.data, h.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    numpy.testing.assert_allclose(bn.moving_variance.data, h.var(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)


def test_precise_bn_off_keeps_keras_moving_averages(data):
    x, y = data
    model = small_model()
    model.fit(x, y, batch_size=96, epochs=1, verbose=0, shuffle=False, precise_bn=False)
    bn = model.layers[2]
    assert numpy.abs(bn.moving_mean.data).max() < 0.05  # 0.99 * 0 + 0.01 * (batch mean): far behind


# -- labels and losses ------------------------------------------------------------------------
def test_soft_targets_train_as_given_with_categorical_crossentropy(data):
    x, y = data
    soft = numpy.full((len(y), NUM_CLASSES), 0.1, numpy.float32)
    soft[numpy.arange(len(y)), y] = 0.8
    model = small_model()
    model.compile(minifer.optimizers.Adam(0.01), loss="categorical_crossentropy")
    expected = float(F.cross_entropy(model(x), soft, from_logits=False).data)
    assert model.evaluate(x, soft, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-5)
    history = model.fit(x, soft, batch_size=32, epochs=2, verbose=0)
    assert min(history.history["loss"]) > 0.5  # soft targets keep an entropy floor; integers gave 0.0


def test_the_loss_name_is_enforced(data):
    x, y = data
    model = small_model()
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy' takes class indices"):
        model.fit(x, numpy.eye(NUM_CLASSES)[y], verbose=0)
    model.compile("adam", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="categorical_crossentropy' takes one-hot or soft targets"):
        model.evaluate(x, y)


def test_float_labels_must_be_whole_classes_and_n_by_1_labels_are_read(data):
    x, y = data
    model = small_model()
    with pytest.raises(ValueError, match="float labels must be whole class indices"):
        model.fit(x, y + 0.7, verbose=0)
    a = model.evaluate(x, y.astype(float))
    b = model.evaluate(x, y[:, None])
    assert a == b == model.evaluate(x, y)


def test_class_weight_with_one_hot_labels_and_absent_classes(data):
    x, y = data
    model = small_model()
    model.compile("adam", loss="categorical_crossentropy")
    model.fit(x, numpy.eye(NUM_CLASSES)[y], class_weight="balanced", batch_size=32, verbose=0)
    small_model().fit(x, y, class_weight={0: 2.0, 7: 5.0}, batch_size=32, verbose=0)
    # the weights fit trained with: each sample's class weight, read through one-hot labels too
    balanced = BatchSource(x, numpy.eye(NUM_CLASSES)[y], class_weight="balanced").sample_weights
    numpy.testing.assert_allclose(balanced, class_weights(y, NUM_CLASSES)[y])
    chosen = BatchSource(x, y, class_weight={0: 2.0, 7: 5.0}).sample_weights
    numpy.testing.assert_array_equal(chosen, numpy.where(y == 0, 2.0, 1.0))


# -- one input rule at every door -------------------------------------------------------------
def test_every_door_scales_uint8_the_same_way(data):
    """An input declaring a pixel range (small_model's) maps uint8 pixels onto it at every door."""
    x, y = data
    model = small_model()
    scaled = x / numpy.float32(255)
    numpy.testing.assert_array_equal(model(x).numpy(), model(scaled).numpy())
    numpy.testing.assert_array_equal(model.predict(x), model.predict(scaled))  # (its own path: folded BNs)
    twin = small_model()
    loss_uint8, _ = model.train_on_batch(x, y)
    loss_float, _ = twin.train_on_batch(scaled, y)
    assert loss_uint8 == loss_float


def test_input_the_rule_cannot_read_is_refused(data):
    x, y = data
    model = small_model()
    with pytest.raises(TypeError, match="dtype int64 are ambiguous"):
        model.predict(x.astype(numpy.int64))
    with pytest.raises(TypeError, match="dtype uint16 are ambiguous"):
        model(x.astype(numpy.uint16))
    with pytest.raises(ValueError, match=r"whole numbers up to \d+.*Pass them as uint8, or scale them"):
        model.fit(x.astype(numpy.float32), y, verbose=0)


def test_a_model_without_a_pixel_range_takes_its_arrays_as_they_are():
    """Counts, 0-255 floats, int64: any real numbers, in the input's dtype; only non-numbers are refused."""
    with L.fresh_names():
        inputs = minifer.Input((3,))
        model = minifer.Model(inputs, L.Dense(1, use_bias=False, kernel_initializer="ones")(inputs))
    for x in (numpy.array([[1, 2, 300]]), numpy.array([[1, 2, 255]], numpy.uint8), numpy.array([[1.0, 2.0, 300.0]])):
        assert model(x).numpy().tolist() == [[float(x.sum())]]
        assert model.predict(x, verbose=0).tolist() == [[float(x.sum())]]
    for bad in (numpy.array([["a", "b", "c"]]), numpy.array([[1j, 2, 3]]), numpy.array([[None, 1, 2]])):
        with pytest.raises(TypeError, match=f"input '{inputs.layer.name}' takes real numbers, got .*{bad.dtype}"):
            model.predict(bad, verbose=0)


def test_predict_keeps_a_float64_models_precision():
    with L.fresh_names():
        inputs = minifer.Input((3,), dtype="float64")
        model = minifer.Model(inputs, L.Dense(2, activation="softmax")(inputs))
    x = numpy.random.default_rng(0).standard_normal((4, 3))
    probs = model.predict(x)
    assert probs.dtype == numpy.float64
    numpy.testing.assert_allclose(probs, model(Tensor(x)).numpy(), rtol=1e-15)


# -- the global generator, batches of one, frozen models -----------------------------------------
def test_fit_leaves_the_global_generator_alone(data):
    x, y = data
    minifer.random.seed(0)
    model = small_model(dropout=0.3)
    state = minifer.random.generator().bit_generator.state
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert minifer.random.generator().bit_generator.state == state
    first = minifer.layers.Dense(4)
    first(Tensor(numpy.ones((1, 3), numpy.float32)))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    second = minifer.layers.Dense(4)
    second(Tensor(numpy.ones((1, 3), numpy.float32)))
    assert not numpy.array_equal(first.kernel.data, second.kernel.data)  # fresh weights, not a replay


def test_a_last_batch_of_one_trains_through_batchnorm():
    model = minifer.Sequential([L.Dense(4), L.BatchNormalization(), L.Dense(NUM_CLASSES, activation="softmax")],
                               input_shape=(5,))
    model.compile("adam")
    rng = numpy.random.default_rng(0)
    history = model.fit(rng.standard_normal((33, 5)).astype(numpy.float32), rng.integers(0, 3, 33),
                        batch_size=32, epochs=1, verbose=0)
    assert numpy.isfinite(history.history["loss"][0])


def test_a_frozen_model_warns_and_runs(data):
    x, y = data
    model = small_model()
    model.trainable = False
    before = model.get_weights()
    with pytest.warns(UserWarning, match="no trainable weights"):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), before):
        numpy.testing.assert_array_equal(a, b)


# -- steps that must leave no trace ----------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy says where the overflow happened
def test_an_update_that_overflows_the_weights_is_undone_and_stops_training(data, tmp_path):
    """The loss of the batch is finite; its update is not (1e39 is inf in float32)."""
    x, y = data
    model = small_model()
    model.compile(minifer.optimizers.SGD(1e39))
    before = model.get_weights()
    path = tmp_path / "last.npz"
    with pytest.raises(TrainingDiverged, match="non-finite at epoch 1, batch 1; that update was undone"):
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[cb.ModelCheckpoint(path, resumable=True)])
    for a, b in zip(model.get_weights(), before):
        numpy.testing.assert_array_equal(a, b)  # BatchNorm statistics included
    assert model.optimizer.iterations == 0


def test_a_rejected_batch_leaves_the_batchnorm_statistics_untouched(data):
    x, y = data
    model = small_model()
    before = model.get_weights()
    bad = (x / numpy.float32(255)).copy()
    bad[0, 0, 0, 0] = numpy.nan
    with pytest.raises(TrainingDiverged, match="the loss became nan"):
        model.train_on_batch(bad, y)
    for a, b in zip(model.get_weights(), before):
        numpy.testing.assert_array_equal(a, b)


def test_resume_is_exact_with_a_seeded_dropout(data, tmp_path):
    x, y = data

    def seeded():
        minifer.random.seed(0)
        with L.fresh_names():
            inputs = minifer.Input((8, 8, 1))
            h = L.Dropout(0.5, seed=7)(L.Flatten()(inputs))
            model = minifer.Model(inputs, L.Dense(NUM_CLASSES, activation="softmax")(h))
        model.compile(minifer.optimizers.Adam(0.01))
        return model

    straight = seeded()
    straight.fit(x, y, batch_size=32, epochs=2, verbose=0)
    path = tmp_path / "last.npz"
    first = seeded()
    first.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[cb.ModelCheckpoint(path, resumable=True)])
    resumed = seeded()
    resumed.fit(x, y, batch_size=32, epochs=2, verbose=0, resume=path, callbacks=[cb.ModelCheckpoint(path, resumable=True)])
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        numpy.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_run_keeps_only_finite_weights_and_checkpoints(data, tmp_path):
    """One good epoch (a checkpoint written), then SGD at a huge rate: whichever batch goes wrong
    first, what training keeps and writes is finite."""
    x, y = data
    model = small_model()
    model.compile(minifer.optimizers.SGD(0.01))
    path = tmp_path / "last.npz"
    schedule = cb.LearningRateScheduler(lambda epoch: 0.01 if epoch == 0 else 1e30)
    with pytest.raises(TrainingDiverged, match="at epoch 2, .*that update was undone"):
        model.fit(x, y, batch_size=32, epochs=5, verbose=0,
                  callbacks=[schedule, cb.ModelCheckpoint(path, resumable=True)])
    assert all(numpy.isfinite(w).all() for w in model.get_weights())
    assert path.exists()
    with numpy.load(path) as saved:
        assert all(numpy.isfinite(saved[k]).all() for k in saved.files if saved[k].dtype.kind == "f")


def test_the_door_refuses_what_it_would_get_wrong_quietly():
    """3-D images of 0-255 floats are refused as 4-D ones are; a Tensor carrying gradients is not
    converted (its graph would be cut), and the error says so."""
    with L.fresh_names():
        x = minifer.Input((8, 8), pixel_range=(0, 1))
        model = minifer.Model(x, L.Dense(2)(L.Flatten()(x)))
    with pytest.raises(ValueError, match="whole numbers up to 200"):
        model.predict(numpy.full((2, 8, 8), 200.0, numpy.float32), verbose=0)
    with pytest.raises(TypeError, match="carries gradients, which its conversion would cut"):
        model(minifer.Tensor(numpy.zeros((2, 8, 8)), requires_grad=True))


def test_add_refuses_unequal_shapes_left_open_in_the_graph_in_predict_too():
    a, b = minifer.Input((None, None, 3)), minifer.Input((None, None, 3))
    model = minifer.Model([a, b], L.Add()([a, b]))
    for run in (lambda z: model(z), lambda z: model.predict(z, verbose=0)):
        with pytest.raises(L.ShapeError, match="needs inputs of one shape"):
            run([numpy.ones((1, 4, 4, 3), numpy.float32), numpy.ones((1, 1, 1, 3), numpy.float32)])
