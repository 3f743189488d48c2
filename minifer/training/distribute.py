"""What fit needs from the processes it trains in, and the one-process case.

A communicator offers: ``rank``, ``size``, ``local_rank``, ``is_chief`` (rank 0: the one that
prints and writes); ``allreduce(array)`` (summed over the processes, in place, the same bits
everywhere); ``allgather(array)`` (every process's array, in rank order); ``broadcast(array)`` (rank 0's);
``barrier()``; ``abort(code)``. Every process calls the same collectives
in the same order. ``Solo`` is the communicator of a process training alone, so fit has one path;
``minifer.distributed`` makes the MPI and NCCL ones.
"""
import contextlib
import warnings
import zlib

import numpy

from ..backend import get_xp, to_numpy


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

    def barrier(self):
        pass

    def abort(self, code=1):
        raise SystemExit(code)


SOLO = Solo()


@contextlib.contextmanager
def one_voice(comm):
    """Warnings stay silent on every process but rank 0, which says them once for the job."""
    if comm.is_chief:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


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


def reduce_step(comm, params, n, value, sums, stop, finite):
    """One allreduce for a training step of several processes: every trainable weight's gradient,
    times this process's sample count ``n``, in one flat buffer, followed by the count, the loss and
    metric sums, the Ctrl-C and divergence flags and which weights have a gradient. Sets each
    ``p.grad`` to the gradient of the mean loss over every process's samples (what one process
    training on all of them computes) and returns the step's (mean loss, metric sums, samples,
    stop, finite), the same on every process."""
    xp = get_xp(params[0].data) if params else numpy
    sizes = [p.size for p in params]
    total = sum(sizes)
    tail = [n, value * n, *sums, float(stop), float(not finite), *(float(p.grad is not None) for p in params)]
    buffer = xp.zeros(total + len(tail), numpy.result_type(*[p.dtype for p in params]) if params else numpy.float64)
    offset = 0
    for p, size in zip(params, sizes):
        if p.grad is not None and n:
            buffer[offset:offset + size] = p.grad.reshape(-1)
        offset += size
    buffer[:total] *= n
    buffer[total:] = xp.asarray(tail, dtype=buffer.dtype)
    comm.allreduce(buffer)
    back = to_numpy(buffer[total:]).astype(numpy.float64)
    count, flags = back[0], back[len(tail) - len(params):]
    offset = 0
    for p, size, has in zip(params, sizes, flags):
        p.grad = (buffer[offset:offset + size] / count).reshape(p.shape) if has and count else None
        offset += size
    m = len(sums)
    return back[1] / max(count, 1), [float(v) for v in back[2:2 + m]], int(count), back[2 + m] > 0, back[3 + m] == 0


def agree(comm, flag):
    """Whether any process's ``flag`` is set: every process then takes the same branch."""
    if comm.size == 1:
        return bool(flag)
    return bool(sum_in_order(comm, [float(bool(flag))])[0] > 0)


def broadcast_weights(comm, weights):
    """Every weight set to rank 0's, in one broadcast (at the start of a fit and after a resume)."""
    if comm.size > 1 and weights:
        _set_flat(weights, comm.broadcast(_flat(weights)))


def average(comm, tensors):
    """Each of ``tensors`` set to its mean over the processes (per-process BatchNorm statistics kept
    without precise BN), the same bits on every process."""
    if comm.size > 1 and tensors:
        _set_flat(tensors, comm.allreduce(_flat(tensors)) / comm.size)


def _flat(tensors):
    """The tensors' values in one float64 buffer on their device: one collective call for them all."""
    return get_xp(tensors[0].data).concatenate([t.data.reshape(-1).astype(numpy.float64) for t in tensors])


def _set_flat(tensors, buffer):
    offset = 0
    for t in tensors:
        t.data = buffer[offset:offset + t.size].astype(t.dtype).reshape(t.shape)
        offset += t.size
