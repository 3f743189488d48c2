"""Keras habits, each written the way a Keras user writes it (issue 16)."""
import numpy
import pytest
from gradcheck import check_gradients, leaf
from minifer.optimizers import SGD, AdamW, RMSprop
from minifer.optimizers.schedules import CosineDecay, ExponentialDecay
from minifer.utils import set_random_seed, to_categorical
from models_under_test import NUM_CLASSES, quadrant_data, small_model

import minifer
from minifer import callbacks as cb
from minifer import layers as L
from minifer import losses


@pytest.fixture(scope="module")
def data():
    return quadrant_data(96, seed=5)


def dense_model(units=NUM_CLASSES, activation="softmax", seed=0):
    minifer.random.seed(seed)
    with L.fresh_names():
        inputs = minifer.Input((8, 8, 1), pixel_range=(0, 1))
        h = L.Flatten()(inputs)
        return minifer.Model(inputs, L.Dense(units, activation=activation)(h))


# -- 1. evaluate / predict / the batch calls --------------------------------------------------
def test_evaluate_returns_a_scalar_a_list_or_a_dict(data):
    x, y = data
    model = small_model()
    loss, acc = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "accuracy": acc}
    model.compile("adam", loss="sparse_categorical_crossentropy")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(loss)
    assert model.metrics_names == ["loss"]


def test_verbose_levels(data, capsys):
    x, y = data
    model = small_model()
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=2)
    assert capsys.readouterr().out.count("Epoch ") == 2
    model.evaluate(x, y, verbose=2)
    assert "accuracy" in capsys.readouterr().out
    with pytest.raises(ValueError, match="verbose"):
        model.evaluate(x, y, verbose=3)


def test_single_batch_calls(data):
    x, y = data
    model = small_model()
    probabilities = model.predict_on_batch(x[:8])
    numpy.testing.assert_array_equal(probabilities, model.predict(x[:8], verbose=0))
    loss, acc = model.test_on_batch(x[:8], y[:8])
    assert model.test_on_batch(x[:8], y[:8], return_dict=True) == {"loss": loss, "accuracy": acc}
    assert model.evaluate(x[:8], y[:8], verbose=0) == [loss, acc]
    first = model.train_on_batch(x[:8], y[:8], return_dict=True)  # training mode: batch statistics
    assert set(first) == {"loss", "accuracy"}
    assert model.train_on_batch(x[:8], y[:8])[0] < first["loss"]


def test_a_failed_step_leaves_no_trace(data):
    x, y = data
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="takes class indices"):
        model.train_on_batch(x[:8], numpy.eye(NUM_CLASSES)[y[:8]])
    for a, b in zip(before, model.get_weights()):
        numpy.testing.assert_array_equal(a, b)


# -- 2. fit's arguments and inputs -------------------------------------------------------------
def test_fit_with_kerass_arguments(data):
    x, y = data
    model = small_model()
    history = model.fit(x, y[:, None], validation_split=0.25, epochs=4, initial_epoch=1, validation_freq=2,
                        verbose=0)
    assert history.epoch == [1, 2, 3]
    assert [len(history.history[k]) for k in ("loss", "val_loss")] == [3, 2]  # epochs 2 and 4 validate


def test_batch_size_none_is_32_and_steps_per_epoch_cuts_epochs(data):
    x, y = data
    model = small_model()
    counted = []

    class Count(minifer.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            counted.append((batch, sorted(logs)))

    model.fit(x, y, epochs=1, verbose=0, callbacks=[Count()])
    assert [b for b, _ in counted] == [0, 1, 2] and counted[0][1] == ["accuracy", "loss"]  # 96 / 32
    counted.clear()
    model.fit(x, y, epochs=1, steps_per_epoch=2, verbose=0, callbacks=[Count()])
    assert len(counted) == 2


def test_sample_weight_and_three_tuple_validation_data(data):
    x, y = data
    model = small_model()
    weights = numpy.where(y == 0, 0.0, 1.0)
    manual = model.evaluate(x, y, verbose=0, return_dict=True)
    weighted = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)[numpy.arange(len(y)), y]
    assert weighted["loss"] == pytest.approx(float((-numpy.log(p) * weights).mean()), rel=1e-5)
    assert weighted["loss"] != manual["loss"]
    history = model.fit(x, y, sample_weight=weights, validation_data=(x, y, weights), epochs=1, verbose=0)
    assert "val_loss" in history.history


class Batches:
    """Keras's Sequence / PyDataset shape: len() batches, each (x, y) by index."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]


def test_fit_evaluate_predict_take_a_sequence_and_a_generator(data):
    x, y = data
    model = small_model()
    model.fit(Batches(x, y, 16), epochs=2, validation_data=Batches(x, y, 32), verbose=0)
    assert model.evaluate(Batches(x, y, 32), verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    # batches of 10 and of 96 split the GEMMs differently: float32 rounding, no more
    numpy.testing.assert_allclose(model.predict(Batches(x, y, 10), verbose=0), model.predict(x, verbose=0),
                                  rtol=1e-6, atol=1e-8)

    def forever():
        while True:
            for s in range(0, len(x), 32):
                yield x[s:s + 32], y[s:s + 32]

    history = model.fit(forever(), steps_per_epoch=3, epochs=2, validation_data=forever(), validation_steps=2,
                        verbose=0)
    assert len(history.history["loss"]) == len(history.history["val_loss"]) == 2
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(iter([(x[:32], y[:32])]), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1
    with pytest.raises(ValueError, match="batches carry the labels"):
        model.fit(Batches(x, y, 16), y, verbose=0)


# -- 3. losses and metrics ----------------------------------------------------------------------

rng = numpy.random.default_rng(0)
LOGITS = rng.standard_normal((6, 4))
SIGMOID = 1 / (1 + numpy.exp(-LOGITS))
BINARY = (rng.random((6, 4)) > 0.5).astype(float)
TARGETS = rng.standard_normal((6, 4))
INDICES = rng.integers(0, 4, 6)
WEIGHTS = rng.random(6)


def torch_reference(name):
    """The same loss from PyTorch, per sample, on the module's arrays (the test skips without it)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    t = torch.from_numpy
    smooth = 0.1
    soft = numpy.eye(4)[INDICES]
    table = {
        "sparse": lambda: TF.cross_entropy(t(LOGITS), t(INDICES), label_smoothing=smooth, reduction="none"),
        "categorical": lambda: TF.cross_entropy(t(LOGITS), t(soft), label_smoothing=smooth, reduction="none"),
        "binary": lambda: TF.binary_cross_entropy(t(SIGMOID), t(BINARY), reduction="none").mean(1),
        "binary_logits": lambda: TF.binary_cross_entropy_with_logits(t(LOGITS), t(BINARY), reduction="none").mean(1),
        "mse": lambda: TF.mse_loss(t(LOGITS), t(TARGETS), reduction="none").mean(1),
        "mae": lambda: TF.l1_loss(t(LOGITS), t(TARGETS), reduction="none").mean(1),
        "huber": lambda: TF.huber_loss(t(LOGITS), t(TARGETS), delta=0.7, reduction="none").mean(1),
    }
    return table[name]().numpy()


CASES = {  # name: (loss, labels, output given as logits?)
    "sparse": (losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1), INDICES, True),
    "categorical": (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), numpy.eye(4)[INDICES], True),
    "binary": (losses.BinaryCrossentropy(), BINARY, False),
    "binary_logits": (losses.BinaryCrossentropy(from_logits=True), BINARY, True),
    "mse": (losses.MeanSquaredError(), TARGETS, True),
    "mae": (losses.MeanAbsoluteError(), TARGETS, True),
    "huber": (losses.Huber(delta=0.7), TARGETS, True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_loss_matches_pytorch_and_its_gradient(name):
    loss, labels, logits = CASES[name]
    output = LOGITS if logits else SIGMOID
    x = leaf(output)
    check_gradients(lambda: loss(labels, x, sample_weight=WEIGHTS), [x])  # first: it needs no PyTorch
    expected = torch_reference(name)
    assert float(loss(labels, leaf(output)).data) == pytest.approx(expected.mean(), rel=1e-10)
    weighted = float(loss(labels, leaf(output), sample_weight=WEIGHTS).data)
    assert weighted == pytest.approx((expected * WEIGHTS).mean(), rel=1e-10)  # Keras's sum over batch size


def test_losses_by_keras_string_object_and_callable(data):
    x, y = data
    model = dense_model(1, activation="sigmoid")
    model.compile("adam", loss="binary_crossentropy", metrics=["accuracy"])
    binary = (y == 0).astype("float32")
    history = model.fit(x, binary, epochs=3, verbose=0)
    assert set(history.history) >= {"loss", "accuracy"}  # "accuracy" resolved to binary accuracy
    predicted = model.predict(x, verbose=0)
    assert history.history["accuracy"][0] <= 1 and model.evaluate(x, binary, verbose=0, return_dict=True)[
        "accuracy"] == pytest.approx(float(((predicted[:, 0] > 0.5) == binary).mean()))
    for loss in ("mse", "mae", "huber", minifer.losses.Huber(delta=0.5)):
        regression = dense_model(1, activation="linear")
        regression.compile(minifer.optimizers.SGD(0.01), loss=loss, metrics=["mae", "mse"])
        history = regression.fit(x, y[:, None].astype("float32"), epochs=2, verbose=0)
        assert set(history.history) >= {"loss", "mae", "mse"}
    model = dense_model()

    def squared_error(y_true, y_pred):  # a Keras user's own loss: per-sample values from Tensor ops
        d = y_pred - numpy.eye(NUM_CLASSES, dtype="float32")[y_true]
        return (d * d).sum(axis=1)

    model.compile("adam", loss=squared_error)
    assert model.fit(x, y, epochs=1, verbose=0).history["loss"][0] > 0
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile("adam", loss="hinge_of_doom")


def test_metrics_by_kerass_names_and_aliases(data):
    x, y = data
    model = small_model()
    names = ["acc", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mse"]
    model.compile("adam", metrics=names)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss"] + names
    p = model.predict(x, verbose=0)
    right = float((p.argmax(1) == y).mean())
    assert logs["acc"] == logs["sparse_categorical_accuracy"] == pytest.approx(right)
    assert logs["sparse_top_k_categorical_accuracy"] == 1.0  # 3 classes, k = 5
    in_top_two = (numpy.argsort(-p, axis=1)[:, :2] == y[:, None]).any(axis=1)  # a k that can miss
    assert minifer.metrics.sparse_top_k_categorical_accuracy(y, p, k=2).mean() == pytest.approx(in_top_two.mean())
    assert minifer.metrics.top_k_categorical_accuracy(numpy.eye(NUM_CLASSES)[y], p, k=2).mean() == \
        pytest.approx(in_top_two.mean())
    one_hot = numpy.eye(NUM_CLASSES)[y]
    assert logs["mse"] == pytest.approx(float(((p - y[:, None]) ** 2).mean()), rel=1e-5)
    model.compile("adam", loss="categorical_crossentropy",
                  metrics=["accuracy", "categorical_accuracy", "top_k_categorical_accuracy"])
    logs = model.evaluate(x, one_hot, verbose=0, return_dict=True)
    assert logs["accuracy"] == logs["categorical_accuracy"] == pytest.approx(right)
    assert model.fit(x, one_hot, epochs=1, verbose=0).history.keys() >= {"top_k_categorical_accuracy"}
    with pytest.raises(ValueError, match="unknown metric"):
        model.compile("adam", metrics=["f1_of_doom"])


# -- 4. optimizers, clipping, schedules ---------------------------------------------------------


def run_steps(optimizer, w, grads):
    p = minifer.Tensor(w.copy(), requires_grad=True, name="w")
    for g in grads:
        p.grad = g.copy()
        optimizer.step([p])
    return p.data


W = rng.standard_normal((3, 4))
GRADS = [rng.standard_normal((3, 4)) * 10.0 ** k for k in (-3, -1, 0, 1, -2)]


def keras_rmsprop(w, grads, lr=0.01, rho=0.8, momentum=0.5, eps=1e-7, centered=True):
    """Keras 3's rmsprop.py, written out: epsilon inside the square root."""
    w, ms, mg, mom = w.copy(), 0 * w, 0 * w, 0 * w
    for g in grads:
        ms = rho * ms + (1 - rho) * g * g
        mg = rho * mg + (1 - rho) * g
        increment = lr * g / numpy.sqrt((ms - mg * mg if centered else ms) + eps)
        mom = momentum * mom + increment
        w -= mom if momentum else increment
    return w


def keras_adamw(w, grads, lr=0.01, wd=0.1, b1=0.9, b2=0.999, eps=1e-7):
    """Keras 3's AdamW: decay the weight by lr * wd, then Adam's step."""
    w, m, v = w.copy(), 0 * w, 0 * w
    for t, g in enumerate(grads, 1):
        w -= w * lr * wd
        m += (1 - b1) * (g - m)
        v += (1 - b2) * (g * g - v)
        w -= lr * numpy.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (numpy.sqrt(v) + eps)
    return w


@pytest.mark.parametrize("centered,momentum", [(True, 0.5), (False, 0.0)])
def test_rmsprop_and_adamw_follow_kerass_formulas(centered, momentum):
    ours = run_steps(RMSprop(0.01, rho=0.8, momentum=momentum, centered=centered), W, GRADS)
    numpy.testing.assert_allclose(ours, keras_rmsprop(W, GRADS, momentum=momentum, centered=centered), rtol=1e-12)
    numpy.testing.assert_allclose(run_steps(AdamW(0.01, weight_decay=0.1), W, GRADS), keras_adamw(W, GRADS),
                                  rtol=1e-12)
    defaults = RMSprop().get_config(), AdamW().get_config()
    assert (defaults[0]["learning_rate"], defaults[0]["rho"], defaults[1]["weight_decay"]) == (0.001, 0.9, 0.004)


def test_optimizers_by_string_and_clipping(data):
    x, y = data
    for name in ("rmsprop", "adamw", "RMSprop", "AdamW"):
        model = small_model()
        model.compile(name, metrics=["accuracy"])
        assert type(model.optimizer).__name__.lower() == name.lower()
        model.fit(x, y, epochs=1, verbose=0)
    g = numpy.array([[3.0, 4.0]])  # norm 5
    numpy.testing.assert_allclose(W[:1, :2] - run_steps(SGD(1.0, clipnorm=1.0), W[:1, :2], [g]), g / 5)
    numpy.testing.assert_allclose(W[:1, :2] - run_steps(SGD(1.0, clipvalue=3.5), W[:1, :2], [g]), [[3.0, 3.5]])
    with pytest.raises(ValueError, match="clipnorm or clipvalue"):
        SGD(clipnorm=1.0, clipvalue=1.0)


def test_schedules_follow_kerass_formulas_and_resume_exactly():
    decay = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert decay(0) == 0.1 and decay(10) == pytest.approx(0.05) and decay(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert ExponentialDecay(0.1, 10, 0.5, staircase=True)(19) == pytest.approx(0.05)
    cosine = CosineDecay(0.1, decay_steps=100, alpha=0.1)
    assert cosine(0) == 0.1 and cosine(50) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1)) and cosine(500) == pytest.approx(0.01)
    warm = CosineDecay(0.0, decay_steps=10, warmup_target=0.2, warmup_steps=5)
    assert warm(0) == 0.0 and warm(5) == pytest.approx(0.2) and warm(15) == pytest.approx(0.0)
    full = SGD(decay, momentum=0.9)
    expected = run_steps(full, W, GRADS)
    first = SGD(decay, momentum=0.9)
    middle = run_steps(first, W, GRADS[:2])
    second = SGD(ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5), momentum=0.9)
    second.load_state_dict(first.state_dict())
    numpy.testing.assert_array_equal(run_steps(second, middle, GRADS[2:]), expected)
    assert second.learning_rate == pytest.approx(decay(5))
    with pytest.raises(TypeError, match="schedule"):
        second.learning_rate = 0.1


# -- 5. building models -------------------------------------------------------------------------
def keras_sequential():
    minifer.random.seed(0)
    return minifer.Sequential([
        L.Conv2D(4, 3, padding="SAME", activation="relu", input_shape=(8, 8, 1), name="conv"),
        L.MaxPooling2D(padding="Same"),
        L.Flatten(name="flat"),
        L.Dense(NUM_CLASSES, activation="softmax", name="head"),
    ])


def test_input_shape_on_the_first_layer_and_any_case_padding(data):
    x, _ = data
    model = keras_sequential()
    assert model.input_shape == (None, 8, 8, 1) and model.output_shape == (None, NUM_CLASSES)
    assert model.get_layer("conv").output.shape == (None, 8, 8, 4)  # "SAME" is "same"
    model.summary(print_fn=lambda line: None)
    assert model.predict(x[:4], verbose=0).shape == (4, NUM_CLASSES)


def test_feature_extractor_shares_weights(data):
    x, y = data
    model = keras_sequential()
    features = minifer.Model(model.input, model.get_layer("flat").output)
    assert features.get_layer(index=-1) is model.get_layer("flat") and model.get_layer(index=0).name == "conv"
    before = features.predict(x[:4], verbose=0)
    assert before.shape == (4, 64)
    model.compile("adam", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    assert not numpy.allclose(features.predict(x[:4], verbose=0), before)  # the trained conv, shared
    functional = small_model()
    inner = minifer.Model(functional.input, functional.layers[3].output)
    assert inner.layers[-1] is functional.layers[3] and functional.layers[3].input is functional.layers[2].output
    with pytest.raises(ValueError, match="no layer at index 9"):
        model.get_layer(index=9)


def test_to_json_model_from_json_and_clone_model(data):
    x, _ = data
    for model in (keras_sequential(), small_model()):
        rebuilt = minifer.model_from_json(model.to_json())
        clone = minifer.clone_model(model)
        for other in (rebuilt, clone):
            assert type(other) is type(model) and other.to_json() == model.to_json()
            assert [w.shape for w in other.weights] == [w.shape for w in model.weights]
            assert other.get_layer(model.layers[-1].name) is not model.layers[-1]
        assert not all(numpy.array_equal(a, b) for a, b in zip(clone.get_weights(), model.get_weights()))
        clone.set_weights(model.get_weights())
        numpy.testing.assert_array_equal(clone.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0))


def test_sequential_pop_and_unique_names(data):
    x, _ = data
    model = keras_sequential()
    head = model.pop()
    assert head.name == "head" and model.output_shape == (None, 64) and model.layers[-1].name == "flat"
    assert model.predict(x[:2], verbose=0).shape == (2, 64)
    model.add(L.Dense(2, name="new_head"))
    assert model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="'conv' is used 2 times"):
        model.add(L.Dense(2, name="conv"))
    assert model.layers[-1].name == "new_head"  # a refused add leaves the model as it was
    inputs = minifer.Input((4,))
    with pytest.raises(ValueError, match="'d' is used 2 times"):
        minifer.Model(inputs, L.Dense(2, name="d")(L.Dense(3, name="d")(inputs)))


# -- 6. callbacks ---------------------------------------------------------------------------------


def test_lambda_callback_and_batch_hooks(data):
    x, y = data
    seen = []
    hooks = cb.LambdaCallback(on_train_begin=lambda logs: seen.append("begin"),
                              on_epoch_begin=lambda epoch, logs: seen.append(("epoch", epoch)),
                              on_train_batch_begin=lambda batch, logs: seen.append(("batch", batch)),
                              on_train_batch_end=lambda batch, logs: seen.append(sorted(logs)),
                              on_epoch_end=lambda epoch, logs: seen.append(round(logs["loss"], 6)))
    history = small_model().fit(x, y, batch_size=48, epochs=1, verbose=0, callbacks=[hooks])
    assert seen == ["begin", ("epoch", 0), ("batch", 0), ["accuracy", "loss"], ("batch", 1), ["accuracy", "loss"],
                    round(history.history["loss"][0], 6)]
    with pytest.raises(TypeError, match="no hook 'on_epoch_ending'"):
        cb.LambdaCallback(on_epoch_ending=print)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # SGD at 1e39 overflows, on purpose
def test_learning_rate_scheduler_and_terminate_on_nan(data):
    x, y = data
    model = small_model()
    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[cb.LearningRateScheduler(lambda epoch, lr: 0.01 * 0.5 ** epoch)])
    assert history.history["lr"] == [0.01, 0.005, 0.0025]
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb.LearningRateScheduler(lambda epoch: 0.123)])
    assert model.optimizer.learning_rate == 0.123
    model.compile(minifer.optimizers.SGD(1e39))
    before = model.get_weights()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb.TerminateOnNaN()])  # no exception
    assert history.history == {} and model.stop_training
    for a, b in zip(before, model.get_weights()):
        numpy.testing.assert_array_equal(a, b)  # the bad step was undone


def test_monitors_missing_from_the_logs_warn_and_go_on(data):
    x, y = data
    callbacks = [cb.EarlyStopping(patience=0), cb.ReduceLROnPlateau(patience=0)]
    with pytest.warns(UserWarning, match="monitors 'val_loss'"):
        history = small_model().fit(x, y, epochs=2, verbose=0, callbacks=callbacks)
    assert len(history.epoch) == 2


def test_model_checkpoint_writes_what_load_and_load_weights_open(data, tmp_path):
    x, y = data
    model = small_model()
    path = str(tmp_path / "model-{epoch:02d}-{val_loss:.2f}.npz")
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[
        cb.ModelCheckpoint(path), cb.ModelCheckpoint(tmp_path / "best.npz", save_best_only=True),
        cb.ModelCheckpoint(tmp_path / "w-{epoch}.npz", save_weights_only=True),
        cb.ModelCheckpoint(tmp_path / "resume.npz", resumable=True)])
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written[:2] == ["best.npz", f"model-01-{model.history.history['val_loss'][0]:.2f}.npz"]
    assert "w-2.npz" in written and "resume.npz" in written
    numpy.testing.assert_allclose(minifer.load(tmp_path / "best.npz").predict(x, verbose=0),
                                  model.predict(x, verbose=0), rtol=1e-6)  # val_loss fell: best is last
    twin = small_model(seed=1)
    twin.load_weights(tmp_path / "w-2.npz")
    numpy.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))
    for wrong, call in [("a resumable training checkpoint", lambda: minifer.load(tmp_path / "resume.npz")),
                        ("a resumable training checkpoint", lambda: twin.load_weights(tmp_path / "resume.npz")),
                        ("a model file", lambda: twin.load_weights(tmp_path / "best.npz")),
                        ("a weights file", lambda: twin.fit(x, y, verbose=0, resume=tmp_path / "w-2.npz")),
                        ("a model file", lambda: twin.fit(x, y, verbose=0, resume=tmp_path / "best.npz"))]:
        with pytest.raises(ValueError, match=f"is {wrong}"):
            call()
    with pytest.raises(ValueError, match="only {epoch}"):
        cb.ModelCheckpoint(tmp_path / "{val_loss}.npz", resumable=True)


# -- 7. utilities ---------------------------------------------------------------------------------
def test_to_categorical_and_set_random_seed(data):
    numpy.testing.assert_array_equal(to_categorical([0, 2, 1]), numpy.eye(3)[[0, 2, 1]])
    one_hot = to_categorical(numpy.array([[1], [0]]), num_classes=4)
    assert one_hot.shape == (2, 4) and one_hot.dtype == numpy.float32 and one_hot[0, 1] == 1
    with pytest.raises(ValueError, match="does not fit num_classes=2"):
        to_categorical([0, 2], num_classes=2)
    x, y = data
    model = small_model()
    model.compile("adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, to_categorical(y), epochs=1, verbose=0)

    def fresh_dense():
        with L.fresh_names():
            inputs = minifer.Input((4,))
            return minifer.Model(inputs, L.Dense(3)(inputs))

    set_random_seed(42)
    first = fresh_dense().get_weights()
    set_random_seed(42)
    numpy.testing.assert_array_equal(first[0], fresh_dense().get_weights()[0])


# -- several inputs and outputs --------------------------------------------------------------------
def two_in_two_out():
    with L.fresh_names():
        image = minifer.Input((8, 8, 1), name="image")
        extra = minifer.Input((3,), name="extra")
        h = L.Flatten()(L.Conv2D(4, 3, padding="same", activation="relu")(image))
        h = L.Concatenate()([h, extra])
        emotion = L.Dense(NUM_CLASSES, activation="softmax", name="emotion")(h)
        valence = L.Dense(1, name="valence")(h)
        return minifer.Model([image, extra], [emotion, valence])


def test_multi_input_multi_output_fit_evaluate_predict(data):
    x, y = data
    rng = numpy.random.default_rng(0)
    extra = rng.standard_normal((len(x), 3)).astype("float32")
    valence = (y == 0).astype("float32")
    minifer.random.seed(0)
    model = two_in_two_out()
    model.compile("adam", loss={"emotion": "sparse_categorical_crossentropy", "valence": "mse"},
                  loss_weights={"emotion": 1.0, "valence": 0.5}, metrics={"emotion": ["accuracy"], "valence": ["mae"]})
    history = model.fit({"image": x, "extra": extra}, {"emotion": y, "valence": valence}, batch_size=32,
                        epochs=2, verbose=0, validation_split=0.25)
    assert {"loss", "emotion_loss", "valence_loss", "emotion_accuracy", "valence_mae",
            "val_loss", "val_emotion_accuracy"} <= set(history.history)
    logs = model.evaluate([x, extra], [y, valence], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["emotion_loss"] + 0.5 * logs["valence_loss"], rel=1e-5)
    assert model.metrics_names == ["loss", "emotion_loss", "valence_loss", "emotion_accuracy", "valence_mae"]
    probs, scores = model.predict([x, extra], verbose=0)
    assert probs.shape == (len(x), NUM_CLASSES) and scores.shape == (len(x), 1)
    numpy.testing.assert_allclose(probs, model.predict({"image": x, "extra": extra}, verbose=0)[0])


def test_one_loss_applies_to_every_output_and_wrong_keys_are_named(data):
    x, y = data
    extra = numpy.zeros((len(x), 3), "float32")
    model = two_in_two_out()
    model.compile("adam", loss="mse")
    targets = [numpy.eye(NUM_CLASSES, dtype="float32")[y], numpy.zeros((len(x), 1), "float32")]
    assert len(model.evaluate([x, extra], targets, verbose=0)) == 3  # loss and one loss per output
    with pytest.raises(ValueError, match=r"inputs must be keyed by \['image', 'extra'\]"):
        model.predict({"image": x, "other": extra}, verbose=0)


# -- saving ------------------------------------------------------------------------------------------
def test_save_writes_the_path_asked_for_and_load_model_reads_it_compiled(data, tmp_path):
    x, y = data
    model = small_model()
    model.compile(minifer.optimizers.Adam(0.003), metrics=["accuracy"])
    path = tmp_path / "emotions.model"
    assert model.save(path) == str(path) and sorted(p.name for p in tmp_path.iterdir()) == ["emotions.model"]
    loaded = minifer.load_model(path)
    assert isinstance(loaded.optimizer, minifer.optimizers.Adam) and loaded.optimizer.learning_rate == 0.003
    assert loaded.metrics_names == ["loss", "accuracy"]
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_load_weights_into_the_same_network_built_again(data, tmp_path):
    x, _ = data
    first, second = small_model(seed=1), small_model(seed=2)
    first.save_weights(tmp_path / "w.npz")

    def plain(seed):  # built outside fresh_names: the second build gets other automatic names
        minifer.random.seed(seed)
        return minifer.Sequential([L.Conv2D(4, 3), L.Flatten(), L.Dense(NUM_CLASSES, activation="softmax")],
                                  input_shape=(8, 8, 1))

    a, b = plain(1), plain(2)
    assert [w.name for w in a.weights] != [w.name for w in b.weights]
    a.save_weights(tmp_path / "a.npz")
    b.load_weights(tmp_path / "a.npz")
    numpy.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))
    second.load_weights(tmp_path / "w.npz")
    numpy.testing.assert_array_equal(first.predict(x, verbose=0), second.predict(x, verbose=0))
    with pytest.raises(ValueError, match="do not fit model"):
        a.load_weights(tmp_path / "w.npz")  # another structure: still an error naming what differs


def test_several_inputs_from_a_generator(data):
    """A generator of ({inputs}, {outputs}) batches: samples counted per sample, not per input, and
    the end-of-epoch BatchNorm re-estimate joins each input's arrays."""
    x, y = data
    extra = numpy.zeros((len(x), 3), "float32")
    model = two_in_two_out()
    model.compile("adam", loss=["sparse_categorical_crossentropy", "mse"])

    def batches():
        while True:
            for s in range(0, len(x), 32):
                yield [x[s:s + 32], extra[s:s + 32]], [y[s:s + 32], numpy.zeros((len(y[s:s + 32]), 1), "float32")]

    history = model.fit(batches(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and all(numpy.isfinite(history.history["loss"]))
