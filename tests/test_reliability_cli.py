"""examples/train.py and paper_table.py under faults: Ctrl-C is not success and prints the command
that continues, a resume never rewrites the run's config.json with other settings or starts from a
file that is not its checkpoint, and bad numbers are refused before anything runs."""
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ("--data", "synthetic", "--synthetic-size", "60", "--batch-size", "10", "--no-augment")


def train(*args, cwd, **kwargs):
    return subprocess.run([sys.executable, str(ROOT / "examples" / "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, **kwargs)


@pytest.mark.parametrize("flag, value", [("--batch-size", "0"), ("--epochs", "0"), ("--epochs", "-3"),
                                         ("--lr", "0"), ("--lr", "nan"), ("--dropout", "1"),
                                         ("--synthetic-size", "2"), ("--synthetic-size", "1e8"),
                                         ("--synthetic-size", "100000000"), ("--patience", "x"), ("--l2", "-1"),
                                         ("--l2", "strong"), ("--seed", "-1")])
def test_numbers_that_would_fail_later_are_refused_up_front(tmp_path, flag, value):
    result = train(flag, value, "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == 2 and f"argument {flag}: expected" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


def test_ctrl_c_exits_130_with_the_resume_command_and_no_test_results(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, str(ROOT / "examples" / "train.py"), *TINY, "--epochs", "50",
                                "--out", str(out)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in process.stdout:
        if line.startswith("Epoch 1/50"):
            process.send_signal(signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert "resume=" not in stdout + stderr  # the script's command only, not the library's Python hint
    assert (out / "last.npz").is_file() and (out / "config.json").is_file()
    for name in ("model.npz", "metrics.json", "confusion_matrix.png"):
        assert not (out / name).exists(), name  # the test split was not looked at
    command = shlex.split(stderr.split("Resume with:")[1].strip().splitlines()[0])
    assert command[-2:] == ["--resume", str(out / "last.npz")]
    command[command.index("--epochs") + 1] = "2"  # the only setting a resume may change, with --device
    resumed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2


def test_a_resume_that_would_not_continue_the_run_leaves_its_config(tmp_path):
    out = tmp_path / "run"
    assert train(*TINY, "--epochs", "1", "--out", str(out), cwd=tmp_path).returncode == 0
    config = (out / "config.json").read_bytes()
    for args, message in [(("--resume", str(out / "gone.npz")), "no checkpoint at"),
                          (("--arch", "arch2", "--resume", str(out / "last.npz")), "--arch arch1 (now arch2)"),
                          (("--lr", "0.5", "--resume", str(out / "last.npz")), "--lr 0.01 (now 0.5)")]:
        result = train(*TINY, "--epochs", "2", *args, cwd=tmp_path)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert (out / "config.json").read_bytes() == config
    assert train(*TINY, "--epochs", "2", "--resume", str(out / "last.npz"), cwd=tmp_path).returncode == 0
    assert (out / "config.json").read_bytes() == config  # the run's record, from its start


def test_an_out_that_is_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "run").write_text("mine")
    result = train(*TINY, "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == 2 and "is a file, not a folder" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "run").read_text() == "mine"


def test_a_resume_from_a_file_that_is_not_this_runs_checkpoint_writes_nothing(tmp_path):
    out = tmp_path / "run"
    assert train(*TINY, "--epochs", "1", "--out", str(out), cwd=tmp_path).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "cut.npz").write_bytes((out / "last.npz").read_bytes()[:300])
    shutil.copy(out / "last.npz", elsewhere / "last.npz")  # an ARCH-1 checkpoint, resumed as ARCH-3 below
    for args, message in [(("--resume", str(elsewhere / "cut.npz")), "cut.npz"),
                          (("--arch", "arch3", "--resume", str(elsewhere / "last.npz")), "do not fit model"),
                          (("--resume", str(out / "model.npz")), "is a model file")]:
        result = train(*TINY, "--epochs", "2", *args, cwd=tmp_path)
        assert result.returncode == 1 and "error: cannot resume from" in result.stderr, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert sorted(p.name for p in elsewhere.iterdir()) == ["cut.npz", "last.npz"]  # no config.json written


def test_ctrl_c_in_the_paper_table_prints_the_command_that_continues_the_table(tmp_path):
    base = tmp_path / "table"
    process = subprocess.Popen([sys.executable, str(ROOT / "examples" / "paper_table.py"), *TINY, "--epochs", "2",
                                "--out", str(base)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    second = False
    for line in process.stdout:
        second = second or line.startswith("=== arch2")
        if second and line.startswith("Epoch 1/2"):
            process.send_signal(signal.SIGINT)  # in ARCH-2's second epoch
            break
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert "resume=" not in stdout + stderr and "train.py" not in stderr
    command = shlex.split(stderr.split("Continue the table with:")[1].strip().splitlines()[0])
    assert command[1].endswith("paper_table.py") and command[-2:] == ["--out", str(base)]
    continued = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert continued.returncode == 0, continued.stderr
    assert "arch1 (separable + GAP): kept" in continued.stdout
    assert "arch2 (separable + dense) resumed" in continued.stdout
    table = (base / "paper_table.md").read_text()
    assert [line.split(" |")[0] for line in table.splitlines() if line.startswith("| ARCH")] == \
        ["| ARCH1", "| ARCH2", "| ARCH3", "| ARCH4"]
    assert json.loads((base / "arch2" / "metrics.json").read_text())["epochs_run"] == 2
