"""tests/gpu, run here with a stand-in CuPy (fake_gpu/cupy.py: NumPy arrays, the .cu kernels built by
g++): the GPU suite's own Python, set_device and the CUDA kernel set run end to end, so a test that
would fail on a GPU for a reason that is not CUDA's fails in CI first. Every NumPy array counts as a
GPU array under the stand-in: CPU against CUDA is test_backend_on_cpu.py's comparison."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def test_the_gpu_suite_passes_with_a_stand_in_cupy():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(HERE, "fake_gpu"), ROOT])}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "-rs",
                           os.path.join(ROOT, "tests", "gpu")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert " passed" in done.stdout and "skipped" not in done.stdout.splitlines()[-1], tail
