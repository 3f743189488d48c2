"""Fuzzing the model-file reader (header, configs, arrays, bytes), the Keras ``.keras`` container, the
training checkpoint and the folder loaders.

Whatever a file or folder holds, the answer is a model, a resumed run or arrays, or the library's
own error naming the file: ``ValueError`` (``FileFormatError``, ``KerasFormatError``) for model and
checkpoint files, ``DataError`` for data; a refused checkpoint changes nothing.
Each fuzz run is a hypothesis test run in a fresh Python under a 1 GiB address-space cap
(tests/capped.py), so a blow-up fails the test instead of the machine.
"""
import functools
import json
import os
import struct
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy
from hypothesis import HealthCheck, given, settings, strategies as st

from capped import assert_ok, run_capped

FUZZ = settings(max_examples=int(os.environ.get("MINIFER_FUZZ_EXAMPLES", "100")), deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def test_model_file_reader_under_a_memory_cap():
    assert_ok(run_capped("import test_fuzz_files as t; t.fuzz_model_config(); t.fuzz_model_arrays(); "
                         "t.fuzz_model_bytes()", timeout=300))


def test_keras_archives_and_checkpoints_under_a_memory_cap():
    assert_ok(run_capped("import test_fuzz_files as t; t.fuzz_keras_archive(); t.fuzz_checkpoint()", timeout=300))


def test_folder_loaders_under_a_memory_cap():
    assert_ok(run_capped("import test_fuzz_files as t; t.fuzz_folders()", timeout=300))


# -- model files ----------------------------------------------------------------------------------

def saved_model(folder):
    """A small model with every kind of weight (conv, batch norm, dense), saved; returns its members."""
    import minifer
    from minifer import Input, Model
    from minifer.layers import BatchNormalization, Conv2D, Dense, Flatten, fresh_names
    with fresh_names():
        x = Input((6, 6, 1))
        y = Flatten()(BatchNormalization()(Conv2D(2, 3, strides=2, name="conv")(x)))
        model = Model(x, Dense(3, activation="softmax", name="head")(y), name="fuzzed")
    model.compile(minifer.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.metadata = {"class_names": ["a", "b", "c"], "input_range": [0, 1]}  # the header's other parts
    path = minifer.save(model, Path(folder) / "model.npz")
    with numpy.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


JSON = st.recursive(st.none() | st.booleans() | st.sampled_from([0, 1, -1, 2, 3, 10**6, 10**12, 2**63, 0.5, -0.0])
                    | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)


def mutate_json(data, tree):
    """Replace (or delete) the value at one random place in ``tree``."""
    node = tree
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        if isinstance(node[key], (dict, list)) and node[key]:
            node = node[key]
            continue
        if isinstance(node, dict) and data.draw(st.booleans()):
            del node[key]
        else:
            node[key] = data.draw(JSON)
        return


def expect_model_or_named_error(path):
    import minifer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            minifer.load(path)
    except ValueError as e:
        assert str(path) in str(e), e


def write_members(path, members):
    with open(path, "wb") as f:
        numpy.savez(f, **members)


@FUZZ
@given(st.data())
def fuzz_model_config(data):
    with tempfile.TemporaryDirectory() as folder:
        members = saved_model(folder)
        header = json.loads(members["__minifer_model__"].tobytes())
        for _ in range(data.draw(st.integers(1, 3))):
            mutate_json(data, header)
        members["__minifer_model__"] = numpy.frombuffer(json.dumps(header).encode(), numpy.uint8)
        write_members(Path(folder) / "model.npz", members)
        expect_model_or_named_error(Path(folder) / "model.npz")


DTYPES = st.sampled_from(["float32", "float64", "float16", "int8", "uint8", "bool", "complex64", "<U2", "V4"])


@FUZZ
@given(st.data())
def fuzz_model_arrays(data):
    with tempfile.TemporaryDirectory() as folder:
        members = saved_model(folder)
        for _ in range(data.draw(st.integers(1, 3))):
            name = data.draw(st.sampled_from(sorted(members) + ["extra"]))
            action = data.draw(st.sampled_from(["drop", "rename", "reshape", "retype", "empty"]))
            if action == "drop":
                members.pop(name, None)
            elif action == "rename" and name in members:
                members[data.draw(st.text(min_size=1, max_size=8).filter(lambda n: "\0" not in n))] = members.pop(name)
            elif action == "reshape":
                members[name] = numpy.zeros(data.draw(st.lists(st.integers(0, 5), max_size=4)), numpy.float32)
            elif action == "retype" and name in members:
                members[name] = numpy.zeros(members[name].shape, data.draw(DTYPES))
            elif action == "empty":
                members[name] = numpy.zeros((0,), numpy.uint8)
        write_members(Path(folder) / "model.npz", members)
        expect_model_or_named_error(Path(folder) / "model.npz")


@FUZZ
@given(st.data())
def fuzz_model_bytes(data):
    with tempfile.TemporaryDirectory() as folder:
        saved_model(folder)
        path = Path(folder) / "model.npz"
        raw = bytearray(path.read_bytes())
        if data.draw(st.booleans()):
            raw = raw[:data.draw(st.integers(0, len(raw)))]
        for _ in range(data.draw(st.integers(0, 6))):
            if raw:
                raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(raw))
        expect_model_or_named_error(path)


# -- Keras archives and checkpoints ----------------------------------------------------------------

ZIP_METHODS = st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])


@FUZZ
@given(st.data())
def fuzz_keras_archive(data):
    """A .keras file: its config.json edited anywhere, members dropped, renamed, cut, recompressed with
    any zip method, or bytes of the archive flipped."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        members = dict(keras_members())
        config = json.loads(members["config.json"])
        for _ in range(data.draw(st.integers(0, 2))):
            mutate_json(data, config)
        members["config.json"] = json.dumps(config).encode()
        for _ in range(data.draw(st.integers(0, 2))):
            name = data.draw(st.sampled_from(sorted(members)))
            action = data.draw(st.sampled_from(["drop", "rename", "cut"]))
            if action == "drop":
                members.pop(name)
            elif action == "rename":
                members[data.draw(st.text(min_size=1, max_size=8).filter(lambda n: "\0" not in n))] = members.pop(name)
            else:
                members[name] = members[name][:data.draw(st.integers(0, len(members[name])))]
        with zipfile.ZipFile(path, "w") as z:
            for name, body in members.items():
                z.writestr(name, body, data.draw(ZIP_METHODS))
        raw = bytearray(path.read_bytes())
        for _ in range(data.draw(st.integers(0, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(raw))
        expect_model_or_named_error(path)


@functools.lru_cache(maxsize=None)
def keras_members():
    """The members of a saved .keras file, made once, so that every example starts from the same bytes
    (hypothesis replays an example and needs the same sizes to draw from)."""
    import minifer
    with tempfile.TemporaryDirectory() as folder:
        minifer.random.seed(0)
        minifer.save(keras_model(), Path(folder) / "model.keras")
        with zipfile.ZipFile(Path(folder) / "model.keras") as z:
            return tuple((name, z.read(name)) for name in z.namelist())


def keras_model():
    from minifer import Input, Model
    from minifer.layers import BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D, fresh_names
    with fresh_names():
        x = Input((6, 6, 1))
        y = GlobalAveragePooling2D()(BatchNormalization()(Conv2D(2, 3, name="conv")(x)))
        return Model(x, Dense(3, activation="softmax", name="head")(y), name="fuzzed")


@FUZZ
@given(st.data())
def fuzz_checkpoint(data):
    """A training checkpoint: its JSON state edited anywhere, arrays dropped, reshaped or retyped.
    Resuming from it continues the run or raises a ValueError naming it, and then changes nothing."""
    import minifer
    from minifer import callbacks as cb
    x, y = numpy.ones((8, 6, 6, 1), numpy.float32), numpy.arange(8) % 3
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "last.npz"
        members = {name: array.copy() for name, array in checkpoint_members(x, y)}
        state = json.loads(members["state"].tobytes())
        for _ in range(data.draw(st.integers(1, 3))):
            mutate_json(data, state)
        members["state"] = numpy.frombuffer(json.dumps(state).encode(), numpy.uint8)
        for _ in range(data.draw(st.integers(0, 2))):
            name = data.draw(st.sampled_from(sorted(members)))
            action = data.draw(st.sampled_from(["drop", "reshape", "retype", "nan"]))
            if action == "drop":
                members.pop(name)
            elif action == "reshape":
                members[name] = numpy.zeros(data.draw(st.lists(st.integers(0, 5), max_size=3)), numpy.float32)
            elif action == "retype":
                members[name] = numpy.zeros(members[name].shape, data.draw(DTYPES))
            else:
                members[name] = numpy.full(members[name].shape, numpy.nan, numpy.float32)
        write_members(path, members)
        target = keras_model()
        target.compile(minifer.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        before = [w.copy() for w in target.get_weights()]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target.fit(x, y, batch_size=4, epochs=2, verbose=0, resume=path,
                           callbacks=[cb.EarlyStopping("loss")])
        except ValueError as e:
            assert str(path) in str(e), e
            assert all(numpy.array_equal(a, b) for a, b in zip(before, target.get_weights()))


def checkpoint_members(x, y, cache={}):
    """The arrays of a resumable checkpoint after one epoch (with an EarlyStopping's state), made once."""
    import minifer
    from minifer import callbacks as cb
    if not cache:
        with tempfile.TemporaryDirectory() as folder:
            minifer.random.seed(0)
            model = keras_model()
            model.compile(minifer.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
            model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[
                cb.EarlyStopping("loss"), cb.ModelCheckpoint(Path(folder) / "last.npz", resumable=True)])
            with numpy.load(Path(folder) / "last.npz", allow_pickle=False) as archive:
                cache["members"] = [(k, archive[k]) for k in archive.files]
    return cache["members"]


# -- folders --------------------------------------------------------------------------------------

def png_declaring(width, height):
    """A PNG header declaring ``width`` x ``height`` with no pixel data after it."""
    body = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + body
            + struct.pack(">I", zlib.crc32(b"IHDR" + body)))


GOOD, BAD = ("png", "jpg", "rgb", "wide"), ("empty", "noise", "truncated", "huge", "dangling", "loop", "folder")
ENTRY = st.sampled_from(GOOD + BAD)


def write_entry(folder, index, kind, rng):
    from PIL import Image
    path = folder / f"S{index % 3 + 10:03d}_001_{index:08d}.{'jpg' if kind == 'jpg' else 'png'}"
    grey = rng.integers(0, 256, (rng.integers(8, 64), rng.integers(8, 64)), dtype=numpy.uint8)
    if kind in ("png", "jpg"):
        Image.fromarray(grey).save(path)
    elif kind == "rgb":
        Image.fromarray(numpy.stack([grey] * 3, -1)).save(path)
    elif kind == "wide":
        Image.fromarray(numpy.tile(grey, (1, 40))).save(path)  # wider than 1024: shrunk while read
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "noise":
        path.write_bytes(rng.integers(0, 256, 200, dtype=numpy.uint8).tobytes())
    elif kind == "truncated":
        Image.fromarray(grey).save(path)
        path.write_bytes(path.read_bytes()[:40])
    elif kind == "huge":
        path.write_bytes(png_declaring(30000, 30000))
    elif kind == "dangling":
        path.symlink_to(folder / "never-fetched.png")
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "folder":
        path.mkdir()


@FUZZ
@given(st.dictionaries(st.sampled_from(["anger", "happy", "sadness", "surprise"]),
                       st.lists(ENTRY, max_size=4), min_size=1, max_size=3),
       st.booleans(), st.booleans(), st.integers(0, 2**16))
def fuzz_folders(classes, detect_faces, cache, seed):
    from minifer.data import DataError, LoadReport, load_ckplus, load_image_folder
    rng = numpy.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = Path(tmp) / "data"
        for name, kinds in classes.items():
            (root / name).mkdir(parents=True)
            for i, kind in enumerate(kinds):
                write_entry(root / name, i, kind, rng)
        n_bad = sum(kind in BAD for kinds in classes.values() for kind in kinds)
        n_good = sum(kind in GOOD for kinds in classes.values() for kind in kinds)
        for load in (lambda **kw: load_image_folder(root, detect_faces=detect_faces, cache=cache, **kw),
                     lambda **kw: load_ckplus(root, cache=cache, **kw)):
            report = LoadReport()
            x, y = load(skip_bad=True, report=report)
            assert len(x) == len(y) == n_good and report.n_skipped == n_bad, (classes, report)
            assert x.shape[1:] == (48, 48, 1) and x.dtype == numpy.uint8
            try:
                load(skip_bad=False)
                assert n_bad == 0
            except DataError as e:
                assert n_bad and str(root) in str(e), e
