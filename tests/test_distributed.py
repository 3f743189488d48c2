"""Data-parallel fit over MPI: the processes of ``mpiexec -n 2`` or ``-n 3`` (tests/distributed_job.py)
against one process doing the same work. Skipped, with the reason, where mpi4py or mpiexec is
missing; the sharding and one-process tests at the bottom run everywhere."""
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy
import pytest

from minifer.training.distribute import DistributedError, Solo
from minifer.training.source import BatchSource

HERE = os.path.dirname(os.path.abspath(__file__))
JOB = os.path.join(HERE, "distributed_job.py")
ROOT = os.path.dirname(HERE)


MPIEXEC = shutil.which("mpiexec") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))


def mpi_missing():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install -e \".[distributed]\")"
    return None if MPIEXEC else "no mpiexec on PATH or beside Python (the mpich wheel provides one)"


needs_mpi = pytest.mark.skipif(mpi_missing() is not None, reason=str(mpi_missing()))


def run(out, *args, processes=1, timeout=120, extra_path=()):
    """Run the job (under mpiexec for several processes); (exit status, seconds, stderr)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*extra_path, ROOT]), "MINIFER_NUM_THREADS": "1"}
    command = [sys.executable, JOB, *args[:1], str(out), *args[1:]]
    if processes > 1:
        command = [MPIEXEC, "-n", str(processes)] + command
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    return done.returncode, time.monotonic() - start, done.stderr


def results(out, scenario, processes):
    return [dict(numpy.load(out / f"{scenario}-{rank}.npz")) for rank in range(processes)]


def trained(tmp_path, name, *args, processes=1, **kwargs):
    out = tmp_path / name
    out.mkdir()
    status, _, err = run(out, "train", *args, processes=processes, **kwargs)
    assert status in (0, 130), err
    return results(out, "train", processes)


@needs_mpi
def test_two_processes_of_32_train_as_one_of_64(tmp_path):
    (one,) = trained(tmp_path, "one", "--batch-size", "64", "--epochs", "3")
    two = trained(tmp_path, "two", "--batch-size", "32", "--epochs", "3", processes=2)
    numpy.testing.assert_array_equal(two[0]["weights"], two[1]["weights"])  # bit-identical across the ranks
    numpy.testing.assert_allclose(two[0]["weights"], one["weights"], rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(two[0]["val_loss"], one["val_loss"], rtol=1e-5)
    assert two[0]["seen"].tolist() == one["seen"].tolist() == [64, 128, 150] * 3


@needs_mpi
def test_three_processes_see_every_sample_of_an_epoch_once(tmp_path):
    three = trained(tmp_path, "three", "--batch-size", "21", "--batchnorm", processes=3)
    for rank in three:  # 150 samples in steps of 63: 63, 126, 150, every rank counting all of them
        assert rank["seen"].tolist() == [63, 126, 150] * 2
        numpy.testing.assert_array_equal(rank["weights"], three[0]["weights"])


@needs_mpi
def test_precise_batchnorm_and_evaluation_equal_one_process(tmp_path):
    for processes in (1, 3):
        (tmp_path / str(processes)).mkdir()
        status, _, err = run(tmp_path / str(processes), "statistics", "--batchnorm", processes=processes)
        assert status == 0, err
    (one,), three = results(tmp_path / "1", "statistics", 1), results(tmp_path / "3", "statistics", 3)
    for rank in three:
        numpy.testing.assert_array_equal(rank["weights"], three[0]["weights"])
        numpy.testing.assert_array_equal(rank["figures"], one["figures"])  # exactly one process's figures
    numpy.testing.assert_allclose(three[0]["weights"], one["weights"], rtol=1e-6, atol=1e-7)


def epoch_counts(start, step, n=150):
    """The samples a run has seen after each step of an epoch it enters at ``start``."""
    return list(range(start + step, n, step)) + [n]


@needs_mpi
@pytest.mark.parametrize("before, after", [(2, 2), (2, 1), (1, 2)])
def test_a_run_resumes_on_as_many_or_other_processes(tmp_path, before, after):
    """Ctrl-C on rank 0 after the first step stops every process after the same step (one process:
    after that step; several: after the next, where they agree) and rank 0 alone writes the
    checkpoint; the resumed run finishes the epoch's remaining samples, then the next epoch. On
    as many processes it is bit-identical to a run never stopped."""
    checkpoint = str(tmp_path / "last.npz")
    (straight, *_) = trained(tmp_path, "straight", processes=after)
    (stopped, *_) = trained(tmp_path, "stopped", "--checkpoint", checkpoint, "--act", "interrupt", "--at", "1",
                            processes=before)
    at = 32 if before == 1 else 128
    assert stopped["interrupted"] and stopped["seen"].tolist() == epoch_counts(0, 32 * before)[:len(stopped["seen"])]
    assert stopped["seen"][-1] == at
    (resumed, *others) = trained(tmp_path, "resumed", "--resume", checkpoint, processes=after)
    assert resumed["seen"].tolist() == epoch_counts(at, 32 * after) + epoch_counts(0, 32 * after)
    for other in others:
        numpy.testing.assert_array_equal(other["weights"], resumed["weights"])
    if before == after:
        numpy.testing.assert_array_equal(resumed["weights"], straight["weights"])


@needs_mpi
@pytest.mark.parametrize("act", ["kill", "raise"])
def test_a_process_that_dies_stops_every_process_quickly(tmp_path, act):
    status, seconds, err = run(tmp_path, "train", "--epochs", "50", "--act", act, "--act-rank", "1", processes=2,
                               timeout=90)
    assert status != 0 and seconds < 30
    if act == "raise":
        assert "rank 1 of 2 stopped the job: ValueError: a bad batch on this rank" in err


@needs_mpi
def test_ctrl_c_to_mpiexec_leaves_a_resumable_checkpoint_and_exits_130(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "MINIFER_NUM_THREADS": "1"}
    ready = tmp_path / "ready"
    job = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, JOB, "train", str(tmp_path), "--epochs", "5000",
                            "--checkpoint", str(tmp_path / "last.npz"), "--ready", str(ready)], env=env,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:  # inside fit, past its first step
        time.sleep(0.1)
    job.send_signal(signal.SIGINT)
    _, err = job.communicate(timeout=60)
    assert job.returncode == 130, err
    assert (tmp_path / "last.npz").exists() and all(r["interrupted"] for r in results(tmp_path, "train", 2))


@needs_mpi
def test_gpu_arrays_are_summed_through_nccl_bootstrapped_over_mpi(tmp_path):
    """With the stand-in CuPy (tests/cuda/fake_gpu: NumPy arrays, NCCL's calls made over MPI), the
    GPU path's Python runs: the NCCL communicator, the device per local rank, fit on "GPU" arrays."""
    fake = os.path.join(HERE, "cuda", "fake_gpu")
    (one,) = trained(tmp_path, "one", "--batch-size", "64")
    two = trained(tmp_path, "two", "--device", "gpu", processes=2, extra_path=[fake])
    numpy.testing.assert_array_equal(two[0]["weights"], two[1]["weights"])
    numpy.testing.assert_allclose(two[0]["weights"], one["weights"], rtol=1e-5, atol=1e-6)


# -- without MPI ----------------------------------------------------------------------------------
class Rank:
    """The communicator a process of ``size`` sees, for sharding alone (no collective is called)."""

    def __init__(self, rank, size):
        self.rank, self.size = rank, size


@pytest.mark.parametrize("n, batch, size", [(100, 7, 3), (101, 10, 2), (9, 4, 5), (64, 32, 2)])
def test_every_sample_of_an_epoch_goes_to_one_process_once(n, batch, size):
    x, y = numpy.arange(n).reshape(n, 1), numpy.zeros(n)
    source = BatchSource(x, y, batch_size=batch, seed=3)
    per_rank = [list(source.epoch(1, comm=Rank(r, size))) for r in range(size)]
    assert {len(steps) for steps in per_rank} == {source.steps(size)}
    seen = numpy.concatenate([xb[:, 0] for steps in per_rank for xb, _, _ in steps])
    assert sorted(seen.tolist()) == list(range(n))
    big = BatchSource(x, y, batch_size=batch * size, seed=3)
    for k, (xb, _, _) in enumerate(big.epoch(1)):  # a step's shares are the one-process batch, in rank order
        numpy.testing.assert_array_equal(numpy.concatenate([per_rank[r][k][0] for r in range(size)]), xb)


def test_a_generator_cannot_be_shared_out():
    from minifer.training.adapters import adapt
    source = adapt(iter([(numpy.ones((2, 1)), numpy.zeros(2))]))
    with pytest.raises(DistributedError, match="generator cannot be shared out"):
        next(source.epoch(0, comm=Rank(0, 2)))


def test_init_outside_mpi_is_the_one_process_communicator(monkeypatch):
    import minifer
    for variable in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMIX_RANK"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SLURM_NTASKS", "4")  # an sbatch script without srun: still one process
    comm = minifer.distributed.init()
    assert isinstance(comm, Solo) and comm.size == 1 and comm.is_chief


@needs_mpi
def test_the_gpu_checks_nccl_step_runs_with_a_stand_in_cupy():
    """benchmarks/gpu_nccl.py is what a GPU machine runs (gpu_check.sh): it must work before one is lent."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(HERE, "cuda", "fake_gpu"), ROOT]),
           "MINIFER_NUM_THREADS": "1"}
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, os.path.join(ROOT, "benchmarks", "gpu_nccl.py")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.count("allreduce ok") == 2, done.stdout + done.stderr


@needs_mpi
def test_the_example_trains_under_mpiexec_and_only_rank_0_speaks_and_writes(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "MINIFER_NUM_THREADS": "1"}
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, os.path.join(ROOT, "examples", "train.py"),
                           "--data", "synthetic", "--synthetic-size", "200", "--epochs", "1", "--batch-size", "16",
                           "--lr", "0.001", "--out", str(tmp_path / "run")], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("Test accuracy") == 1 and done.stdout.count("Total params") == 1
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"config.json", "model.npz", "metrics.json", "last.npz"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no other rank's folder


@needs_mpi
def test_a_write_that_fails_on_rank_0_alone_stops_the_example_quickly(tmp_path):
    """Rank 0 alone writes: when it cannot (history.csv is a folder here), the others must not wait for
    it for ever in their next step; the example aborts the job naming the rank."""
    (tmp_path / "run" / "history.csv").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": ROOT, "MINIFER_NUM_THREADS": "1"}
    start = time.monotonic()
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, os.path.join(ROOT, "examples", "train.py"),
                           "--data", "synthetic", "--synthetic-size", "200", "--epochs", "3", "--batch-size", "16",
                           "--out", str(tmp_path / "run")], env=env, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode != 0 and time.monotonic() - start < 60
    assert "error (rank 0 of 2)" in done.stderr and "history.csv" in done.stderr
