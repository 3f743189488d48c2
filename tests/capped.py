"""Run code in a fresh Python whose address space is capped, so a memory blow-up fails the
test that caused it instead of the machine that runs it."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

CAP = 1 << 30  # 1 GiB: about 200 MB for Python, NumPy, Pillow and minifer, the rest for the work
ROOT = Path(__file__).resolve().parents[1]


def run_capped(code, cap=CAP, timeout=120, cwd=None):
    """``subprocess.run`` of ``code`` under RLIMIT_AS = ``cap``; tests/ and the repository are importable."""
    prelude = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))\n"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


def assert_ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
