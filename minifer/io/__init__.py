"""Saving and loading: weights (.npz by weight name), whole models, and atomic writes for both."""
from .atomic import atomic_save_npz, atomic_write, load_npz, npz_path
from .keras_config import KerasFormatError
from .model_file import load_model, save_model
from .npz import FileFormatError, NpzFile
from .weights import assign_weights, load_weights, save_weights, weight_arrays

save, load = save_model, load_model

__all__ = ["FileFormatError", "KerasFormatError", "NpzFile", "assign_weights", "atomic_save_npz", "atomic_write", "load", "load_model", "load_npz", "npz_path",
           "save", "save_model", "load_weights", "save_weights", "weight_arrays"]
