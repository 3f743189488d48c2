"""Datasets for facial-expression recognition: readers, synthetic faces, augmentation,
face cropping and batching.  See docs/data.md."""
from .classes import CKPLUS_CLASSES, FER2013_CLASSES, FERPLUS_CLASSES
from .errors import DataError, DataNotFoundError, DataWarning, LoadReport
from .synthetic import synthetic_faces
