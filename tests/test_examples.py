"""The examples as a user runs them: a tiny end-to-end run, and the messages for missing data or GPU."""
import json
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def run_example(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "examples" / "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_train_writes_a_complete_run_folder(tmp_path):
    out = tmp_path / "run"
    result = run_example("--arch", "arch1", "--data", "synthetic", "--synthetic-size", "120", "--epochs", "2",
                         "--batch-size", "40", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("config.json", "best.npz", "last.npz", "model.npz", "history.csv", "curves.png",
                 "confusion_matrix.png", "metrics.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["params_total"] == 293951 and metrics["params_trainable"] == 292863
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["epochs_run"] == 2
    assert set(metrics["per_class"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert "Test accuracy" in result.stdout


def test_resume_continues_a_run(tmp_path):
    out = tmp_path / "run"
    common = ("--data", "synthetic", "--synthetic-size", "60", "--batch-size", "30", "--out", str(out))
    assert run_example(*common, "--epochs", "1", cwd=tmp_path).returncode == 0
    result = run_example(*common, "--epochs", "2", "--resume", str(out / "last.npz"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2


def test_missing_fer2013_says_where_to_get_it_and_how_to_try_synthetic(tmp_path):
    result = run_example("--data", "fer2013", "--data-path", str(tmp_path / "nowhere.csv"), cwd=tmp_path)
    assert result.returncode != 0
    assert "fer2013.csv" in result.stderr and "Kaggle" in result.stderr
    assert "--data-path" in result.stderr and "--data synthetic" in result.stderr


def test_gpu_device_trains_on_a_gpu_or_says_what_is_missing(tmp_path):
    if gpu_works():  # the example itself, end to end, on the GPU
        result = run_example("--device", "gpu", "--data", "synthetic", "--synthetic-size", "60", "--batch-size", "30",
                             "--epochs", "1", "--out", str(tmp_path / "run"), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return
    result = run_example("--device", "gpu", cwd=tmp_path)
    assert result.returncode != 0 and "CuPy" in result.stderr and "Traceback" not in result.stderr
    assert 'pip install "minifer[gpu]"' in result.stderr or "NVIDIA driver" in result.stderr


def gpu_works():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def test_help_says_what_a_bare_run_does_and_what_each_script_trains():
    arch1 = subprocess.run([sys.executable, str(ROOT / "examples" / "train_arch1.py"), "--help"],
                           capture_output=True, text=True, timeout=120).stdout
    for default in ("3,000 synthetic faces", "200 epochs", "learning rate 0.01", "batches of 64", "50 minutes"):
        assert default in " ".join(arch1.split()), default
    table = subprocess.run([sys.executable, str(ROOT / "examples" / "paper_table.py"), "--help"],
                           capture_output=True, text=True, timeout=120).stdout
    assert "four networks" in table and "one of the paper's networks" not in table and "[--arch" not in table


def test_one_paper_table_command_everywhere():
    import re
    places = [ROOT / "README.md", ROOT / "docs" / "training.md", ROOT / "examples" / "paper_table.py"]
    commands = {re.sub(r"\s+", " ", c).strip() for place in places
                for c in re.findall(r"python examples/paper_table\.py[^`\n(]*", place.read_text())}
    assert len(commands) == 1, commands
