"""fit / evaluate / predict: learning, callbacks, exact resumption, NaN handling, class weights."""
import os
import signal

import numpy
import pytest

import minifer
from minifer import callbacks as cb
from minifer.data import BatchSource
from minifer.training import TrainingDiverged
from models_under_test import quadrant_data, small_model


@pytest.fixture(scope="module")
def data():
    return quadrant_data(240, seed=1), quadrant_data(90, seed=2)


def test_fit_lowers_the_loss_and_beats_chance(data):
    (x, y), (vx, vy) = data
    model = small_model()
    history = model.fit(x, y, batch_size=32, epochs=6, validation_data=(vx, vy), verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0]
    assert history.history["val_accuracy"][-1] > 0.8  # chance is 1/3
    assert history.epoch == list(range(6))
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_fit_is_bit_for_bit_reproducible(data):
    (x, y), _ = data
    runs = []
    for _ in range(2):
        model = small_model(seed=3, dropout=0.3)
        history = model.fit(x, y, batch_size=32, epochs=2, seed=7, verbose=0)
        runs.append((model.get_weights(), history.history["loss"]))
    for a, b in zip(runs[0][0], runs[1][0]):
        numpy.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]


def test_predict_and_evaluate_agree_with_a_manual_forward_pass(data):
    (x, y), (vx, vy) = data
    model = small_model(l2=0.01)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    inputs = minifer.Tensor(vx.astype(numpy.float32) / 255.0)
    with minifer.no_grad():
        probabilities = model(inputs, training=False).data
    numpy.testing.assert_allclose(model.predict(vx, batch_size=16), probabilities, rtol=1e-5, atol=1e-6)
    picked = probabilities[numpy.arange(len(vy)), vy]
    penalty = sum(float(p.data) for p in model.losses)
    expected = float(-numpy.log(picked).mean()) + penalty
    result = model.evaluate(vx, vy, batch_size=32, return_dict=True)
    assert result["loss"] == pytest.approx(expected, rel=1e-4)
    assert result["accuracy"] == pytest.approx(float((probabilities.argmax(1) == vy).mean()))


def test_class_weights_scale_each_sample_loss(data):
    (x, y), _ = data
    model = small_model()
    xb = minifer.Tensor(x[:32].astype(numpy.float32) / 255.0)
    yb = y[:32]
    weights = numpy.where(yb == 0, 0.0, 2.0).astype(numpy.float32)
    with minifer.no_grad():
        probabilities = model(xb, training=False).data
        weighted, _ = model._loss(xb, yb, weights, training=False)
    per_sample = -numpy.log(probabilities[numpy.arange(32), yb])
    assert float(weighted.data) == pytest.approx(float((per_sample * weights).sum() / 32), rel=1e-5)
    source = BatchSource(x, y, batch_size=32, class_weight={0: 0.0, 1: 2.0, 2: 2.0}, shuffle=False)
    _, yb, wb = next(iter(source.epoch(0)))
    numpy.testing.assert_array_equal(wb, numpy.where(yb == 0, 0.0, 2.0))


def test_reduce_lr_on_plateau_divides_the_rate_after_patience():
    model = small_model()
    callback = cb.ReduceLROnPlateau("val_loss", factor=0.1, patience=2, min_lr=1e-4)
    callback.set_model(model)
    rates = []
    for epoch, value in enumerate([1.0, 0.9, 0.95, 0.93, 0.97, 0.96, 0.99, 0.98]):
        callback.on_epoch_end(epoch, {"val_loss": value})
        rates.append(model.optimizer.learning_rate)
    assert rates == pytest.approx([0.01, 0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001, 0.0001])


def test_early_stopping_stops_and_restores_the_best_weights(data):
    (x, y), _ = data
    model = small_model()
    callback = cb.EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    callback.set_model(model)
    best = None
    for epoch, value in enumerate([1.0, 0.5, 0.7, 0.8]):
        for w in model.trainable_weights:
            w.data = w.data + 1.0  # a different model each epoch
        if value == 0.5:
            best = model.get_weights()
        callback.on_epoch_end(epoch, {"val_loss": value})
    assert model.stop_training and callback.stopped_epoch == 3
    callback.on_train_end()
    for a, b in zip(model.get_weights(), best):
        numpy.testing.assert_array_equal(a, b)


def test_early_stopping_ends_fit(data):
    (x, y), (vx, vy) = data
    model = small_model()
    stopper = cb.EarlyStopping("loss", patience=0, min_delta=10.0)  # nothing counts as improvement
    history = model.fit(x, y, batch_size=32, epochs=5, callbacks=[stopper], verbose=0)
    assert len(history.epoch) == 2  # the first epoch sets the best, the second exhausts patience 0


def _fit(x, y, tmp_path, epochs, resume=None, callbacks=()):
    model = small_model(seed=5, dropout=0.2)
    checkpoint = cb.ModelCheckpoint(tmp_path / "last.npz", resumable=True)
    history = model.fit(x, y, batch_size=32, epochs=epochs, seed=11, verbose=0, resume=resume,
                        callbacks=[cb.ReduceLROnPlateau("loss", patience=1), checkpoint, *callbacks])
    return model, history


def test_checkpoint_resume_matches_an_uninterrupted_run(data, tmp_path):
    (x, y), _ = data
    full, full_history = _fit(x, y, tmp_path / "a", epochs=4)
    _fit(x, y, tmp_path / "b", epochs=2)
    resumed, resumed_history = _fit(x, y, tmp_path / "b", epochs=4, resume=tmp_path / "b" / "last.npz")
    for a, b in zip(full.get_weights(), resumed.get_weights()):
        numpy.testing.assert_array_equal(a, b)
    assert resumed_history.history["loss"] == full_history.history["loss"]


class _CtrlCAt(cb.Callback):
    """Sends the process a real SIGINT after a given batch of a given epoch."""

    def __init__(self, epoch, batch):
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_leaves_a_checkpoint_that_resumes_exactly(data, tmp_path):
    (x, y), _ = data
    full, full_history = _fit(x, y, tmp_path / "a", epochs=3, callbacks=[cb.Callback()])
    interrupted, history = _fit(x, y, tmp_path / "b", epochs=3, callbacks=[_CtrlCAt(epoch=1, batch=3)])
    assert len(history.epoch) == 1  # stopped inside the second epoch
    resumed, resumed_history = _fit(x, y, tmp_path / "b", epochs=3, resume=tmp_path / "b" / "last.npz",
                      callbacks=[cb.Callback()])
    for a, b in zip(full.get_weights(), resumed.get_weights()):
        numpy.testing.assert_array_equal(a, b)
    assert resumed_history.history["loss"] == full_history.history["loss"]  # running sums carried over


class _CtrlCInValidation(cb.Callback):
    """Sends a real SIGINT at the end of the first epoch, after its last batch."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_after_an_epochs_last_batch_still_counts_as_an_interrupt(data, tmp_path):
    (x, y), _ = data
    model, history = _fit(x, y, tmp_path, epochs=3, callbacks=[_CtrlCInValidation()])
    assert model.interrupted and history.epoch == [0]
    assert model.optimizer.iterations == -(-len(y) // 32)  # stopped at the epoch's end, no batch of the next
    resumed, _ = _fit(x, y, tmp_path, epochs=3, resume=tmp_path / "last.npz")
    full, _ = _fit(x, y, tmp_path / "full", epochs=3)
    for a, b in zip(full.get_weights(), resumed.get_weights()):
        numpy.testing.assert_array_equal(a, b)


def test_nan_loss_stops_with_the_epoch_and_batch_and_keeps_the_last_good_checkpoint(data, tmp_path):
    (x, y), _ = data
    x = x.astype(numpy.float32) / 255.0
    model = small_model()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[cb.ModelCheckpoint(tmp_path / "last.npz", resumable=True)])
    good = (tmp_path / "last.npz").read_bytes()
    bad = x.copy()
    bad[:] = numpy.nan
    with pytest.raises(TrainingDiverged, match=r"nan at epoch 1, batch 1"):
        model.fit(bad, y, batch_size=32, epochs=2, verbose=0, callbacks=[cb.ModelCheckpoint(tmp_path / "last.npz", resumable=True)])
    assert (tmp_path / "last.npz").read_bytes() == good


def test_csv_logger_writes_every_epoch(data, tmp_path):
    (x, y), (vx, vy) = data
    model = small_model()
    model.fit(x, y, batch_size=64, epochs=2, validation_data=(vx, vy), verbose=0,
              callbacks=[cb.CSVLogger(tmp_path / "history.csv")])
    rows = (tmp_path / "history.csv").read_text().strip().splitlines()
    assert rows[0].split(",")[:3] == ["epoch", "loss", "accuracy"]
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2"]


def test_each_fit_returns_its_own_history(data):
    (x, y), _ = data
    model = small_model()
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    second = model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert second.epoch == [0] and len(second.history["loss"]) == 1


def test_evaluate_before_compile_says_so(data):
    _, (vx, vy) = data
    model = small_model()
    model.optimizer = None  # as freshly built
    with pytest.raises(RuntimeError, match=r"compile\(\.\.\.\) before evaluate"):
        model.evaluate(vx, vy)
