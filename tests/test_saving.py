"""Saving: weights by name, whole models with no code, atomic writes, never pickle."""
import os

import numpy
import pytest

import minifer
from minifer import Input, Model, Sequential
from minifer.io import atomic_save_npz, atomic_write, load_npz
from minifer.layers import BatchNormalization, Conv2D, Dense, Flatten, ReLU, fresh_names
from minifer.models import arch1


def small(filters=2, name=None):
    """The same names on every build, as a saved file expects (the models in minifer.models do this too)."""
    with fresh_names():
        x = Input((5, 5, 1))
        y = ReLU()(BatchNormalization()(Conv2D(filters, 3, name="conv")(x)))
        return Model(x, Dense(3, activation="softmax", name="head")(Flatten()(y)), name=name)


def data(shape=(2, 5, 5, 1), seed=0):
    return numpy.random.default_rng(seed).standard_normal(shape).astype(numpy.float32)


def test_weights_round_trip_by_name(tmp_path):
    source, target = small(), small()
    source.layers[2].moving_mean.data += 1.5  # non-trainable statistics travel too
    path = source.save_weights(tmp_path / "w")
    assert path == str(tmp_path / "w") and os.path.exists(path)  # exactly the path asked for
    target.load_weights(tmp_path / "w")
    numpy.testing.assert_array_equal(target(data()).numpy(), source(data()).numpy())
    with numpy.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(w.name for w in source.weights)
        assert "conv/kernel" in archive.files


def test_loading_weights_that_do_not_fit_says_which(tmp_path):
    path = small(filters=2).save_weights(tmp_path / "w.npz")
    other = small(filters=4)
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"shape mismatches: batch_normalization/beta: model \(4,\), file \(2,\).*"
                                         r"conv/kernel: model \(3, 3, 1, 4\), file \(3, 3, 1, 2\), "
                                         r"head/kernel: model \(36, 3\), file \(18, 3\)$"):
        other.load_weights(path)
    for old, new in zip(before, other.get_weights()):  # nothing half-loaded
        numpy.testing.assert_array_equal(old, new)
    x = Input((5, 5, 1))
    renamed = Model(x, Dense(3, name="head")(Flatten()(Conv2D(2, 3, name="conv2", use_bias=False)(x))))
    with pytest.raises(ValueError, match=r"missing from the file: conv2/kernel; not in the model: "
                                         r"batch_normalization/beta.*conv/bias, conv/kernel$"):
        renamed.load_weights(path)


def test_whole_model_round_trip_rebuilds_without_code(tmp_path):
    model = arch1(l2=0.01, name="fer")
    x = numpy.random.default_rng(1).random((2, 48, 48, 1), dtype=numpy.float32)
    path = minifer.save(model, tmp_path / "fer")
    loaded = minifer.load(path)
    assert loaded is not model and loaded.name == "fer"
    numpy.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded.summary(print_fn=lambda line: None) == model.summary(print_fn=lambda line: None)
    assert [w.regularizer.l2 for w in loaded.weights if w.regularizer] == [0.01] * 15
    arrays = load_npz(path)  # allow_pickle=False throughout: the config is bytes, not an object
    assert arrays["__minifer_model__"].dtype == numpy.uint8


def test_sequential_and_float64_models_round_trip(tmp_path):
    model = Sequential([Dense(4), ReLU(), Dense(2)], input_shape=(3,), dtype="float64", name="seq")
    loaded = minifer.load(model.save(tmp_path / "seq.npz"))
    assert type(loaded) is Sequential and loaded.weights[0].dtype == numpy.float64
    x = data((2, 3)).astype(numpy.float64)
    numpy.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_a_weights_file_is_not_a_model_file(tmp_path):
    path = small().save_weights(tmp_path / "w")
    with pytest.raises(ValueError, match=r"is a weights file .*not a model file: read it with model.load_weights"):
        minifer.load(path)


def test_a_keras_model_file_given_to_load_weights_says_what_it_is(tmp_path):
    pytest.importorskip("h5py")
    path = minifer.save(small(), tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"is a Keras \.keras model file, not a weights file: read it with minifer.load"):
        small().load_weights(path)


def test_a_failed_write_leaves_the_old_file_intact_and_no_temporary(tmp_path, monkeypatch):
    path = atomic_save_npz(tmp_path / "ckpt", {"a": numpy.arange(3)})

    def crash_midway(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(numpy, "savez", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        atomic_save_npz(path, {"a": numpy.arange(5)})
    numpy.testing.assert_array_equal(load_npz(path)["a"], numpy.arange(3))
    assert os.listdir(tmp_path) == ["ckpt"]


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "log.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target, "w") as f:
            f.write("new but unfinished")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    with atomic_write(target, "w") as f:
        f.write("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["log.txt"]


def test_duplicate_weight_names_cannot_be_saved(tmp_path):
    x = Input((2,))
    clash = Model(x, Dense(2, name="same")(Model(x, Dense(2, name="same")(x))(x)))
    with pytest.raises(ValueError, match="two weights named 'same/kernel'"):
        clash.save_weights(tmp_path / "w")


def test_files_older_versions_wrote_with_npz_appended_still_load(tmp_path):
    source, target = small(), small()
    source.save_weights(tmp_path / "w.npz")
    target.load_weights(tmp_path / "w")  # what an older minifer wrote for "w"
    numpy.testing.assert_array_equal(target(data()).numpy(), source(data()).numpy())
