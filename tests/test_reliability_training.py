"""Training under faults: a damaged or foreign checkpoint is refused, naming it, before anything
changes; optimizer slots stay finite as the weights do; Ctrl-C is never ignored; fit's arguments are
checked up front. docs/reliability.md lists these promises."""
import io
import json
import os
import signal
import warnings
import zipfile

import numpy
import pytest

import minifer
from minifer import Input, Model
from minifer import callbacks as cb
from minifer.layers import Dense, fresh_names
from minifer.training import TrainingDiverged

X = numpy.random.default_rng(0).standard_normal((32, 3)).astype(numpy.float32)
Y = numpy.arange(32) % 2


def tiny(optimizer="adam"):
    with fresh_names():
        x = Input((3,))
        model = Model(x, Dense(2, activation="softmax", name="dense")(Dense(4, name="hidden")(x)), name="tiny")
    model.compile(optimizer, loss="sparse_categorical_crossentropy")
    return model


def trained_checkpoint(path, callbacks=()):
    model = tiny()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0,
              callbacks=[*callbacks, cb.ModelCheckpoint(path, resumable=True)])
    return path


def members(path):
    with numpy.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


def npy(array):
    buffer = io.BytesIO()
    numpy.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def rewrite(path, arrays):
    with zipfile.ZipFile(path, "w") as z:
        for name, array in arrays.items():
            z.writestr(name + ".npy", npy(array))


def state_of(path):
    return json.loads(members(path)["state"].tobytes())


def with_state(path, edit):
    arrays = members(path)
    state = json.loads(arrays["state"].tobytes())
    raw = edit(state)
    raw = json.dumps(state).encode() if raw is None else raw
    arrays["state"] = numpy.frombuffer(raw, numpy.uint8)
    rewrite(path, arrays)


def set_in(*keys, value):
    def edit(state):
        node = state
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return edit


def delete(key):
    return lambda state: state.pop(key) and None


def with_array(name, make):
    def edit(path):
        arrays = members(path)
        arrays[name] = make(arrays.get(name, numpy.zeros((4,), numpy.float32)))
        rewrite(path, arrays)
    return edit


STATE_EDITS = {
    "truncated JSON": lambda s: json.dumps(s).encode()[:40], "not UTF-8": lambda s: b"\xff\xfe{}",
    "deeply nested": lambda s: b"[" * 100000, "a list": lambda s: b"[]", "no epoch": delete("epoch"),
    "epoch 1e30": set_in("epoch", value=1e30), "epoch -1": set_in("epoch", value=-1),
    "epoch text": set_in("epoch", value="3"), "batch true": set_in("batch", value=True),
    "running negative": set_in("running", value=[0.0, [], -1]), "running text": set_in("running", value="x"),
    "running NaN": set_in("running", value=[float("nan"), [], 8]), "processes 0": set_in("processes", value=0),
    "processes text": set_in("processes", value="2"), "an older file's random empty": set_in("random", value={}),
    "layer_random a list": set_in("layer_random", value=[1]), "callbacks text": set_in("callbacks", value="x"),
    "a callback without state": set_in("callbacks", value=[{"class": "History"}]),
    "History of the wrong form": set_in("callbacks", 0, "state", value={"epoch": 5}),
    "no optimizer": delete("optimizer"), "iterations text": set_in("optimizer", "iterations", value="x"),
    "learning rate -1": set_in("optimizer", "learning_rate", value=-1),
    "another optimizer": set_in("optimizer", "class", value="SGD"),
}
ARRAY_EDITS = {
    "a weight of another shape": with_array("weights/dense/kernel", lambda a: numpy.zeros((5, 5), a.dtype)),
    "a slot of another shape": with_array("optimizer/dense/kernel|m", lambda a: numpy.zeros((5, 5), a.dtype)),
    "a NaN slot": with_array("optimizer/dense/kernel|v", lambda a: numpy.full(a.shape, numpy.nan, a.dtype)),
    "a slot of no weight": with_array("optimizer/ghost/kernel|m", lambda a: a),
    "state as floats": with_array("state", lambda a: a.astype(numpy.float32)),
}


def fingerprint(model, callbacks):
    return ([w.copy() for w in model.get_weights()], model.optimizer.iterations,
            {k: v.copy() for k, v in model.optimizer.slots.items()}, [json.dumps(c.state_dict()) for c in callbacks])


def same(a, b):
    weights_a, iterations_a, slots_a, callbacks_a = a
    weights_b, iterations_b, slots_b, callbacks_b = b
    return (all(numpy.array_equal(x, y) for x, y in zip(weights_a, weights_b)) and iterations_a == iterations_b
            and slots_a.keys() == slots_b.keys() and all(numpy.array_equal(slots_a[k], slots_b[k]) for k in slots_a)
            and callbacks_a == callbacks_b)


@pytest.mark.parametrize("edit", list(STATE_EDITS.values()) + list(ARRAY_EDITS.values()),
                         ids=list(STATE_EDITS) + list(ARRAY_EDITS))
def test_a_damaged_checkpoint_is_refused_naming_it_before_anything_changes(tmp_path, edit):
    path = trained_checkpoint(tmp_path / "last.npz", [cb.EarlyStopping("loss", restore_best_weights=True)])
    (edit if edit in ARRAY_EDITS.values() else lambda p: with_state(p, edit))(path)
    model = tiny()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)  # a trained model, with optimizer slots of its own
    stopping = cb.EarlyStopping("loss", restore_best_weights=True)
    before = fingerprint(model, [stopping])
    with pytest.raises(ValueError) as error:
        model.fit(X, Y, batch_size=8, epochs=2, verbose=0, resume=path, callbacks=[stopping])
    assert str(path) in str(error.value)
    assert same(fingerprint(model, [stopping]), before)


def test_a_resume_with_other_callbacks_or_another_optimizer_changes_nothing(tmp_path):
    path = trained_checkpoint(tmp_path / "last.npz", [cb.EarlyStopping("loss")])
    for model, callbacks, message in [(tiny(), [cb.ReduceLROnPlateau("loss")], "callbacks"),
                                      (tiny(minifer.optimizers.SGD(0.1)), [cb.EarlyStopping("loss")],
                                       "compile with Adam")]:
        before = fingerprint(model, callbacks)
        with pytest.raises(ValueError, match=message):
            model.fit(X, Y, batch_size=8, epochs=2, verbose=0, resume=path, callbacks=callbacks)
        assert same(fingerprint(model, callbacks), before)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy says where the overflow happened
def test_optimizer_slots_that_overflow_stop_training_and_are_never_checkpointed(tmp_path):
    """Adam at lr 1e6 overflows ``v`` to inf in its second step while every weight stays finite."""
    minifer.random.seed(0)
    with fresh_names():
        x = Input((3,))
        h = x
        for i in range(4):
            h = Dense(8, activation="relu", name=f"d{i}")(h)
        model = Model(x, Dense(3, activation="softmax", name="out")(h))
    model.compile(minifer.optimizers.Adam(1e6), loss="sparse_categorical_crossentropy")
    path = tmp_path / "last.npz"
    x3, y3 = numpy.random.default_rng(0).standard_normal((64, 3)).astype(numpy.float32), numpy.arange(64) % 3
    with pytest.raises(TrainingDiverged, match=r"optimizer slot d0/kernel\|v"):
        model.fit(x3, y3, batch_size=64, epochs=5, verbose=0, callbacks=[cb.ModelCheckpoint(path, resumable=True)])
    assert all(numpy.isfinite(slot).all() for slot in model.optimizer.slots.values())
    assert all(numpy.isfinite(a).all() for a in members(path).values() if a.dtype.kind == "f")


def test_ctrl_c_during_the_last_epochs_validation_or_checkpoint_is_an_interruption(tmp_path, capsys):
    path = tmp_path / "last.npz"

    class CtrlC(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)  # as a user's Ctrl-C while the last epoch is validated

    model = tiny()
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0, validation_data=(X, Y),
              callbacks=[CtrlC(), cb.ModelCheckpoint(path, resumable=True)])
    assert model.interrupted
    assert f"saved a resumable checkpoint to {path}" in capsys.readouterr().out
    assert state_of(path)["epoch"] == 2


def test_resuming_from_a_generator_says_it_is_not_exact(tmp_path):
    path = trained_checkpoint(tmp_path / "last.npz")

    def batches():
        while True:
            yield X[:8], Y[:8]

    with pytest.warns(UserWarning, match="resuming from a generator is not exact"):
        tiny().fit(batches(), steps_per_epoch=4, epochs=2, verbose=0, resume=path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # arrays resume exactly: no warning
        tiny().fit(X, Y, batch_size=8, epochs=2, verbose=0, resume=path)


@pytest.mark.parametrize("argument", [{"batch_size": 0}, {"batch_size": 2.5}, {"epochs": -1}, {"epochs": True},
                                      {"steps_per_epoch": 0}, {"validation_freq": 0}, {"validation_freq": []},
                                      {"validation_freq": [0, 2]}, {"class_weight": {0: -1.0, 1: 1.0}},
                                      {"class_weight": {0: float("nan"), 1: 1.0}},
                                      {"sample_weight": -numpy.ones(32)}, {"initial_epoch": -2}])
def test_fit_refuses_arguments_that_would_fail_later_or_train_on_nonsense(argument):
    model = tiny()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises((TypeError, ValueError), match=next(iter(argument)).split("_")[0]):
        model.fit(X, Y, **{"batch_size": 8, "validation_data": (X, Y), **argument}, verbose=0)
    assert all(numpy.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("make", [lambda: minifer.optimizers.SGD(-1), lambda: minifer.optimizers.Adam(float("nan")),
                                  lambda: minifer.optimizers.SGD(0.1, momentum=1.5),
                                  lambda: minifer.optimizers.RMSprop(float("inf")),
                                  lambda: minifer.optimizers.SGD("fast")])
def test_optimizers_refuse_a_rate_that_trains_backwards_or_poisons_the_weights(make):
    with pytest.raises((TypeError, ValueError), match="learning rate|momentum"):
        make()
