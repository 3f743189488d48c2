"""``python -m minifer``: the summary command, run as a user would."""
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "minifer", *args], capture_output=True, text=True, timeout=120)


def test_summary_arch1_prints_the_table():
    result = run("summary", "arch1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Model: "arch1"')
    assert "Connected to" in result.stdout and "add (Add)" in result.stdout
    assert "Total params: 293,951" in result.stdout and "Trainable params: 292,863" in result.stdout


@pytest.mark.parametrize("args, expected", [(["--help"], "summary"), (["summary", "--help"], "mini_xception")])
def test_help_explains_the_commands(args, expected):
    result = run(*args)
    assert result.returncode == 0 and expected in result.stdout


def test_bad_arguments_fail_with_a_message():
    unknown = run("summary", "arch5")
    assert unknown.returncode == 2 and "invalid choice: 'arch5'" in unknown.stderr
    too_small = run("summary", "mini_xception", "--input-shape", "4,4,1")
    assert too_small.returncode == 2 and "larger than its 'valid' input" in too_small.stderr
