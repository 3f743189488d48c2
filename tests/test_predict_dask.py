"""Predict on a Dask cluster: ``--workers 2`` writes what one process writes, byte for byte, and a
worker killed mid-chunk has its chunk redone by another, with no row lost or written twice."""
import logging

import pytest

import minifer
from minifer.cli import main
from minifer.predict import CascadeDetector, PredictionRun, RunSpec
from predict_inputs import DyingDetector, small_model, tiled_photos, video_frames, write_video

distributed = pytest.importorskip("distributed", reason="the cluster extra (dask[distributed]) is not installed")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Eight photos and, where PyAV is installed, a 3-second video cut into segments."""
    folder = tiled_photos(tmp_path_factory.mktemp("inputs") / "photos", 8)
    try:
        write_video(folder / "clip.mkv", video_frames(75))
    except ImportError:
        pass
    return folder


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return minifer.save(small_model(), tmp_path_factory.mktemp("model") / "m.npz")


def run_files(out):
    return (out / "predictions.jsonl").read_bytes(), (out / "predictions.csv").read_bytes()


def test_two_local_workers_write_what_one_process_writes(inputs, model_path, tmp_path):
    args = [str(inputs), "--model", model_path, "--fps", "4", "--batch", "3"]
    assert main(["predict", "--detector", "cascade", *args, "--out", str(tmp_path / "one")]) == 0
    assert main(["predict", "--detector", "cascade", *args, "--out", str(tmp_path / "two"), "--workers", "2"]) == 0
    assert run_files(tmp_path / "two") == run_files(tmp_path / "one")
    assert len(run_files(tmp_path / "one")[0].splitlines()) >= 8


def test_a_worker_killed_mid_chunk_has_its_chunk_redone_elsewhere(inputs, model_path, tmp_path):
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as cluster:
        spec = RunSpec(model_path, fps=4.0, detector=DyingDetector(str(marker)))
        PredictionRun([inputs], tmp_path / "cluster", spec, batch=4).execute(
            scheduler=cluster.scheduler_address, echo=lambda _: None)
    assert marker.exists(), "no worker was killed"
    PredictionRun([inputs], tmp_path / "one", RunSpec(model_path, fps=4.0, detector=CascadeDetector()),
                  batch=4).execute(echo=lambda _: None)
    assert run_files(tmp_path / "cluster") == run_files(tmp_path / "one")


def test_local_workers_keep_no_stack_samples():
    """Dask's workers profile themselves, keeping an hour of stack samples: 60 MB a worker over
    100,000 photos. The local cluster turns that off."""
    from minifer.predict.cluster import dask_client
    with dask_client(workers=1) as client:
        settings = client.run(lambda: __import__("dask").config.get("distributed.worker.profile.enabled"))
    assert list(settings.values()) == [False]
