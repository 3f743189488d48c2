"""Keras 2 HDF5 files written here with h5py, layer entry by layer entry: the layouts old Keras
versions wrote, and the damaged ones the error tests need (importers skip without h5py first)."""
import json

import h5py
import numpy


def keras2_entry(class_name, name, config, inbound=None):
    entry = {"class_name": class_name, "name": name, "config": {"name": name, "trainable": True, **config}}
    if inbound is not None:
        entry["inbound_nodes"] = [[[ref, 0, 0, {}] for ref in inbound]] if inbound else []
    return entry


def write_keras2(path, model_config, weights, full=True):
    """``weights``: [(layer name, [(weight name, array), ...])] in layer order, strings as bytes."""
    with h5py.File(path, "w") as f:
        if full:
            f.attrs["model_config"] = json.dumps(model_config).encode("utf-8")
            f.attrs["keras_version"] = b"2.0.5"
        group = f.create_group("model_weights") if full else f
        group.attrs["layer_names"] = numpy.array([name.encode() for name, _ in weights])
        for name, arrays in weights:
            sub = group.create_group(name)
            sub.attrs["weight_names"] = numpy.array([f"{name}_1/{w}:0".encode() for w, _ in arrays])
            for w, array in arrays:
                sub.create_dataset(f"{name}_1/{w}:0", data=array)


def sequential_weights(seed=3):
    rng = numpy.random.default_rng(seed)
    return [("conv2d_1", [("kernel", rng.standard_normal((3, 3, 1, 2)).astype("float32")),
                          ("bias", rng.standard_normal(2).astype("float32"))]),
            ("dense_1", [("kernel", rng.standard_normal((18, 3)).astype("float32")),
                         ("bias", rng.standard_normal(3).astype("float32"))])]
