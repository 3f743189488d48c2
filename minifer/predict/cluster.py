"""Chunks computed on a Dask cluster (the ``cluster`` extra), their results handed back in input order.

``--workers N`` starts a ``LocalCluster`` of N one-thread worker processes on this machine;
``--dask ADDRESS`` joins a scheduler already running (started by dask-jobqueue on Slurm, or
dask-kubernetes; docs/predict.md). A bounded number of chunks is out at once, so the inputs are
still walked lazily. When a worker dies mid-chunk, the scheduler gives its chunk to another worker;
the rows come back to this process only, which alone writes them, so nothing is lost or written
twice.
"""
import contextlib
import logging
from collections import deque

from ..io.extras import optional_module
from .compute import run_chunk

CHUNKS_PER_THREAD = 2  # out at once: each worker has the next chunk waiting when it finishes one


class ClusterError(Exception):
    """No Dask, or no scheduler at the address given."""


def distributed():
    """The ``distributed`` module, or ClusterError saying how to install it."""
    return optional_module("distributed", "--workers and --dask", "cluster", ClusterError)


@contextlib.contextmanager
def dask_client(workers=None, address=None):
    """A client of a new local cluster of ``workers`` processes, or of the scheduler at ``address``."""
    dist = distributed()
    import dask  # installed with distributed
    if address:
        try:
            client = dist.Client(address, timeout="20s")
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"--dask {address}: no scheduler answered ({error})") from None
        with client:
            yield client
        return
    # the workers' statistical profiler keeps an hour of stack samples: 60 MB a worker over 100,000 photos
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            dist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.ERROR) as cluster, dist.Client(cluster) as client:
        yield client


def ordered_results(client, chunks, spec):
    """``run_chunk(chunk, spec)`` for each chunk, computed on the cluster, yielded in order."""
    pending, window = deque(), CHUNKS_PER_THREAD * max(sum(client.nthreads().values()), 1)
    for chunk in chunks:
        pending.append(client.submit(run_chunk, chunk, spec, pure=False))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
