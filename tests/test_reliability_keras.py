"""Keras files (.h5, .keras) under hostile input: what a file makes minifer allocate is bounded by
what it stores, no other file is read, and whatever a damaged file raises is the file's
KerasFormatError. docs/reliability.md lists these promises."""
import json
import os
import zipfile
import zlib

import numpy
import pytest

import minifer
from capped import assert_ok, run_capped
from minifer import Input, Model
from minifer.io import KerasFormatError
from minifer.layers import Conv2D, Dense, Flatten, fresh_names

h5py = pytest.importorskip("h5py", reason="Keras files need h5py (minifer[keras])")

KERNEL = "model_weights/dense/dense/kernel"
BIAS = "model_weights/dense/dense/bias"


def tiny():
    with fresh_names():
        x = Input((4,))
        return Model(x, Dense(7, name="dense")(x), name="tiny")


def keras_h5(tmp_path, name="m.h5"):
    path = tmp_path / name
    tiny().save(path)
    return path


def replace_dataset(path, name, **create):
    with h5py.File(path, "r+") as f:
        del f[name]
        f.create_dataset(name, **create)


def expect_refusal(path, reader, *message, cap_timeout=60):
    """``reader`` (Python, with ``path`` and ``tiny`` defined) raises the file's ValueError under the cap."""
    result = run_capped(f"""
        import minifer
        from test_reliability_keras import tiny
        path = {str(path)!r}
        try:
            {reader}
        except ValueError as e:
            assert path in str(e), e
            for part in {list(message)!r}:
                assert part in str(e), e
        else:
            raise SystemExit("loaded")
    """, timeout=cap_timeout)
    assert_ok(result)


READERS = ["minifer.load(path)", "tiny().load_weights(path)"]


# -- what the file stores, not what it declares --------------------------------------------------

@pytest.mark.parametrize("reader", READERS)
def test_a_keras_dataset_declared_but_never_written_is_refused(tmp_path, reader):
    path = keras_h5(tmp_path)
    with h5py.File(path, "r+") as f:
        f.create_dataset("model_weights/dense/dense/huge", shape=(16000, 16000), dtype="f4")  # 1 GB, never written
        del f[KERNEL]
        f[KERNEL] = f["model_weights/dense/dense/huge"]
    assert os.path.getsize(path) < 20_000
    expect_refusal(path, reader, "declares shape (16000, 16000)", "stores 0 bytes")


def gzip_zeros(path, name, shape, chunk_rows):
    """A float64 dataset of zeros written as precompressed gzip chunks: gigabytes in a few MB, fast."""
    chunk = zlib.compress(bytes(chunk_rows * shape[1] * 8), 9)
    with h5py.File(path, "r+") as f:
        del f[name]
        d = f.create_dataset(name, shape=shape, dtype="f8", chunks=(chunk_rows, shape[1]), compression="gzip")
        for row in range(0, shape[0], chunk_rows):
            d.id.write_direct_chunk((row, 0), chunk)


@pytest.mark.parametrize("reader", READERS)
def test_keras_arrays_are_checked_against_the_model_before_they_are_read(tmp_path, reader):
    path = keras_h5(tmp_path)
    gzip_zeros(path, KERNEL, (4800, 32768), 32)  # 1.26 GB of float64 for a (4, 7) kernel
    assert os.path.getsize(path) < 3_000_000
    expect_refusal(path, reader, "(4800, 32768)", "(4, 7)")


@pytest.mark.parametrize("storage", ["/etc/passwd", "/dev/zero", "fifo", "link"])
def test_keras_files_never_read_other_files(tmp_path, storage):
    path = keras_h5(tmp_path)
    if storage == "link":
        other = tmp_path / "other.h5"
        with h5py.File(other, "w") as f:
            f.create_dataset("bias", data=numpy.ones(7, "f4"))
        with h5py.File(path, "r+") as f:
            del f[BIAS]
            f[BIAS] = h5py.ExternalLink(str(other), "/bias")
        message = "links to"
    else:
        if storage == "fifo":
            storage = str(tmp_path / "fifo")
            os.mkfifo(storage)
        replace_dataset(path, BIAS, shape=(7,), dtype="f4", external=[(storage, 0, 28)])
        message = "keeps its values in other files"
    for reader in READERS:
        expect_refusal(path, reader, message, cap_timeout=30)  # a FIFO would block: the timeout fails it


def test_a_model_path_that_is_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    for reader in READERS + ["from minifer.training.checkpoint import read_checkpoint; read_checkpoint(path)"]:
        expect_refusal(fifo, reader, "is not a regular file", cap_timeout=30)


# -- .keras archives --------------------------------------------------------------------------------

def rewrite_keras(path, method=zipfile.ZIP_STORED, config=None, encrypt=None):
    """The .keras archive at ``path`` rewritten: every member compressed with ``method``, config.json
    replaced by ``config`` bytes, the member named by ``encrypt`` flagged as encrypted."""
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    if config is not None:
        members["config.json"] = config
    with zipfile.ZipFile(path, "w", method) as z:
        for name, body in members.items():
            z.writestr(name, body)
    if encrypt:  # set bit 0 of the flags in the member's local header and its central directory entry
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as z:
            data[z.getinfo(encrypt).header_offset + 6] |= 1
        central = data.find(b"PK\x01\x02")
        while central >= 0:
            if data[central + 46:central + 46 + len(encrypt)] == encrypt.encode():
                data[central + 8] |= 1
            central = data.find(b"PK\x01\x02", central + 4)
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("method, member, message", [
    (zipfile.ZIP_BZIP2, "config.json", "zip method 12"),
    (zipfile.ZIP_LZMA, "config.json", "zip method 14"),
    (None, "model.weights.h5", "is encrypted"),
])
def test_keras_archive_members_that_could_inflate_without_bound_are_refused(tmp_path, method, member, message):
    path = tmp_path / "m.keras"
    tiny().save(path)
    if method is None:
        rewrite_keras(path, encrypt=member)
    else:
        rewrite_keras(path, method)
    with pytest.raises(KerasFormatError) as error:
        minifer.load(path)
    assert str(path) in str(error.value) and member in str(error.value) and message in str(error.value)


def test_a_keras_config_over_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "m.keras"
    tiny().save(path)
    with zipfile.ZipFile(path) as z:
        config = z.read("config.json")
    rewrite_keras(path, zipfile.ZIP_DEFLATED, config=config + b" " * (40 << 20))  # 40 MB of padding, 40 KB deflated
    assert os.path.getsize(path) < 200_000
    expect_refusal(path, "minifer.load(path)", "config.json in the archive declares", "more than the 16777216")


# -- configs that cannot be built ------------------------------------------------------------------

def conv_h5(tmp_path):
    with fresh_names():
        x = Input((6, 6, 1))
        model = Model(x, Dense(3, name="dense")(Flatten()(Conv2D(2, 3, name="conv")(x))), name="conv")
    path = tmp_path / "conv.h5"
    model.save(path)
    return path


def edit_config(path, edit):
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        f.attrs["model_config"] = edit(config) if callable(edit) else edit


def layer(config, name):
    return next(entry for entry in config["config"]["layers"] if entry["config"]["name"] == name)


def setting(name, key, value):
    def edit(config):
        layer(config, name)["config"][key] = value
        return json.dumps(config)
    return edit


def emptied(key):
    def edit(config):
        config["config"][key] = []
        return json.dumps(config)
    return edit


def no_inbound(config):
    layer(config, "dense")["inbound_nodes"] = [[]]
    return json.dumps(config)


BAD_CONFIGS = {"a list": "[]", "deeply nested": "[" * 100000, "not JSON": "{", "a number": "7",
               "kernel size 0": setting("conv", "kernel_size", [0, 0]), "strides 0": setting("conv", "strides", [0, 0]),
               "filters -4": setting("conv", "filters", -4), "filters 1e30": setting("conv", "filters", 1e30),
               "units NaN": setting("dense", "units", float("nan")), "units 'x'": setting("dense", "units", "x"),
               "no inputs": emptied("input_layers"), "no outputs": emptied("output_layers"),
               "an empty call": no_inbound, "layers a string": setting("conv", "padding", ["same"])}


@pytest.mark.parametrize("edit", list(BAD_CONFIGS.values()), ids=list(BAD_CONFIGS))
def test_a_keras_config_that_cannot_be_built_is_the_files_error(tmp_path, edit):
    path = conv_h5(tmp_path)
    edit_config(path, edit)
    with pytest.raises(KerasFormatError) as error:
        minifer.load(path)
    assert str(path) in str(error.value)


# -- values -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, message", [
    (numpy.full(7, numpy.nan, "f4"), "not finite"), (numpy.full(7, 1e39), "not finite"),
    (numpy.ones(7, "c8") * 1j, "complex64, not real numbers"), (numpy.array([b"x"] * 7), "not real numbers")])
@pytest.mark.parametrize("reader", READERS)
def test_keras_weights_that_are_not_finite_real_numbers_are_refused(tmp_path, values, message, reader):
    path = keras_h5(tmp_path)
    replace_dataset(path, BIAS, data=values)
    model = tiny()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(KerasFormatError, match=message) as error:
        eval(reader, {"minifer": minifer, "tiny": lambda: model, "path": path})
    assert str(path) in str(error.value) and "dense/bias" in str(error.value)
    if "load_weights" in reader:  # minifer.load builds a model of its own; into ``model`` nothing is half-applied
        assert all(numpy.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_keras_member_whose_deflated_bytes_are_damaged_is_the_files_error(tmp_path):
    """Found by the fuzz suite: zipfile's zlib.error escaped raw."""
    path = tmp_path / "m.keras"
    tiny().save(path)
    rewrite_keras(path, zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("config.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start] = 0x07  # the last block, of type 3, which does not exist
    path.write_bytes(bytes(data))
    with pytest.raises(KerasFormatError, match="error") as error:
        minifer.load(path)
    assert str(path) in str(error.value)
