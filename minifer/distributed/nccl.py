"""The NCCL communicator: CuPy arrays summed and broadcast on the GPUs by NCCL, bootstrapped over
MPI (CuPy's ``cupyx.distributed`` with ``use_mpi=True``: rank 0 makes NCCL's id, MPI hands it
out); host arrays and everything else go through MPI as in ``MpiCommunicator``. Each process
takes the GPU of its rank on its node, before anything is allocated on one."""
import numpy

from ..backend import get_xp, gpu
from .mpi import MpiCommunicator


class NcclCommunicator(MpiCommunicator):
    def __init__(self, comm, MPI):
        super().__init__(comm, MPI)
        cupy = gpu()
        cupy.cuda.Device(self.local_rank % cupy.cuda.runtime.getDeviceCount()).use()
        import cupyx.distributed  # the GPU's engine, loaded only on a GPU job
        self.nccl = cupyx.distributed.init_process_group(self.size, self.rank, use_mpi=True)

    def allreduce(self, array):
        if get_xp(array) is not numpy:  # a GPU array: NCCL sums it where it lies
            self.nccl.all_reduce(array, array, op="sum")
            return array
        return super().allreduce(array)

    def broadcast(self, array):
        if get_xp(array) is not numpy:
            self.nccl.broadcast(array, root=0)
            return array
        return super().broadcast(array)
