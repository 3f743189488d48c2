"""The optional packages file formats need (h5py for Keras files, onnx for ONNX files), imported
when a file of that kind is first read or written, so ``import minifer`` never loads them."""
import importlib


def optional_module(name, needed_for, extra):
    """The module ``name``, or an ImportError saying which extra installs it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"{needed_for} need {name}, an optional extra: pip install \"minifer[{extra}]\"") from None
