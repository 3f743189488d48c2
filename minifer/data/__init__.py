"""Datasets for facial-expression recognition: readers (FER2013, FER+, CK+, any image
folder), synthetic faces, Keras-style augmentation, face cropping, normalisation,
training batches and honest splits.  See docs/data.md.

Importing this package needs only NumPy and Pillow; scikit-image and SciPy are loaded
when faces are detected.
"""
from .augment import ImageAugmenter, affine_matrices, affine_resample
from .ckplus import load_ckplus
from .classes import CKPLUS_CLASSES, FER2013_CLASSES, FERPLUS_CLASSES
from .errors import DataError, DataNotFoundError, DataWarning, LoadReport
from .faces import crop_face, detect_faces, estimate_eye_tilt
from .fer2013 import find_fer2013, load_fer2013
from .fer2013_csv import write_fer2013_csv
from .ferplus import load_ferplus
from .folder import folder_class_names, load_image_folder
from ..layers.input import scale_pixels
from ..training.source import BatchSource, class_weights
from .normalize import Normalizer
from .splits import Splits, load_splits, split_by_subject, stratified_split
from .synthetic import synthetic_faces

__all__ = [
    "FER2013_CLASSES", "CKPLUS_CLASSES", "FERPLUS_CLASSES",
    "load_fer2013", "load_ferplus", "load_ckplus", "load_image_folder", "find_fer2013",
    "folder_class_names", "write_fer2013_csv", "synthetic_faces",
    "ImageAugmenter", "affine_matrices", "affine_resample",
    "detect_faces", "crop_face", "estimate_eye_tilt", "Normalizer", "scale_pixels",
    "BatchSource", "class_weights", "load_splits", "Splits", "split_by_subject",
    "stratified_split", "DataError", "DataNotFoundError", "DataWarning", "LoadReport",
]
