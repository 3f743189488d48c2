"""One rank of real NCCL on a GPU machine (gpu_check.sh runs it under ``mpiexec -n 1``, or one
process per GPU): minifer's NCCL communicator bootstrapped over MPI sums and broadcasts CuPy
arrays, and a fit with it trains as the one-process fit does. Prints what it checked; exits 1 on
a mismatch. Needs mpi4py, an MPI, CuPy and NCCL (``nvidia-nccl-cu12`` or ``-cu13``)."""
import os
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import minifer  # noqa: E402
from distributed_job import data, model  # noqa: E402
from minifer.distributed.nccl import NcclCommunicator  # noqa: E402


def main():
    from mpi4py import MPI
    minifer.set_device("gpu")
    comm = NcclCommunicator(MPI.COMM_WORLD, MPI)
    cupy = minifer.backend.gpu()
    summed = comm.allreduce(cupy.full(1000, comm.rank + 1.0, dtype=cupy.float32))
    expected = comm.size * (comm.size + 1) / 2
    ok = bool((summed == expected).all())
    sent = comm.broadcast(cupy.full(10, float(comm.rank), dtype=cupy.float64))
    ok &= bool((sent == 0).all())
    x, y = data()
    alone, together = model(False), model(False)
    alone.fit(x, y, batch_size=32 * comm.size, epochs=1, verbose=0)
    together.fit(x, y, batch_size=32, epochs=1, verbose=0, distribute=comm)
    gap = max(float(numpy.abs(a - b).max()) for a, b in zip(alone.get_weights(), together.get_weights()))
    ok &= gap < 1e-5
    print(f"rank {comm.rank}/{comm.size} on GPU {cupy.cuda.Device().id}: allreduce {'ok' if ok else 'WRONG'}, "
          f"fit with NCCL vs one process: max weight difference {gap:.2e}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
