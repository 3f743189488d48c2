"""What fit needs from the processes it trains in, and the one-process case.

A communicator offers: ``rank``, ``size``, ``local_rank``, ``is_chief`` (rank 0: the one that
prints and writes); ``allreduce(array)`` (summed over the processes, in place, the same bits
everywhere); ``allgather(array)`` (every process's array, in rank order); ``broadcast(array)`` and
``broadcast_bytes(data)`` (rank 0's); ``abort(code)``. Every process calls the same collectives
in the same order. ``Solo`` is the communicator of a process training alone, so fit has one path;
``minifer.distributed`` makes the MPI and NCCL ones.
"""
import zlib

import numpy

from ..backend import to_numpy


class DistributedError(RuntimeError):
    """Processes that cannot train together; the message says which and why."""


class Solo:
    rank, size, local_rank, is_chief = 0, 1, 0, True

    def allreduce(self, array):
        return array

    def allgather(self, array):
        return [array]

    def broadcast(self, array):
        return array

    def broadcast_bytes(self, data):
        return data

    def abort(self, code=1):
        raise SystemExit(code)


SOLO = Solo()


def sum_in_order(comm, values):
    """The float64 sum of every process's ``values``, added in rank order: exactly the same number on
    every process, and (for per-batch figures gathered in batch order) what one process adds up."""
    parts = comm.allgather(numpy.asarray(values, numpy.float64)[None])
    total = numpy.zeros_like(parts[0][0])
    for part in parts:
        total = total + part[0]
    return total


def checksum(arrays):
    """A number that differs, almost surely, when any bit of ``arrays`` differs."""
    crc = 0
    for a in arrays:
        crc = zlib.crc32(numpy.ascontiguousarray(to_numpy(a)).tobytes(), crc)
    return crc


def check_same_weights(comm, weights, when):
    """Raise when the processes' weights are not bit-identical (one checksum each, gathered)."""
    sums = numpy.concatenate(comm.allgather(numpy.array([checksum(w.data for w in weights)], numpy.int64)))
    if len(set(sums.tolist())) > 1:
        differ = [r for r, s in enumerate(sums) if s != sums[0]]
        raise DistributedError(f"{when}: the weights of rank(s) {differ} differ from rank 0's (checksums "
                               f"{sums.tolist()}); every process must apply the same update")
