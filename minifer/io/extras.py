"""The optional packages minifer's extras bring (h5py for Keras files, onnx for ONNX files, PyAV for
videos, Dask for clusters), imported when first needed, so ``import minifer`` never loads them."""
import importlib


def optional_module(name, needed_for, extra, error=ImportError):
    """The module ``name``, or ``error`` (an ImportError by default) saying which extra installs it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise error(f"{needed_for} need {name}, an optional extra: pip install \"minifer[{extra}]\"") from None
