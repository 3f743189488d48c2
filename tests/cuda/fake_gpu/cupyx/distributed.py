"""A stand-in for ``cupyx.distributed`` (CuPy's NCCL process group) on a machine without a GPU:
the same calls, made over MPI on the stand-in's NumPy arrays, so minifer's NCCL communicator
(bootstrap, all_reduce, broadcast) runs in the tests as on GPUs."""
from mpi4py import MPI


class _Group:
    def __init__(self, n_devices, rank):
        self.comm = MPI.COMM_WORLD
        assert self.comm.Get_size() == n_devices and self.comm.Get_rank() == rank, "NCCL ranks must be MPI's"

    def all_reduce(self, in_array, out_array, op="sum", stream=None):
        assert op == "sum"
        self.comm.Allreduce(MPI.IN_PLACE if in_array is out_array else in_array, out_array, op=MPI.SUM)

    def broadcast(self, in_out_array, root=0, stream=None):
        self.comm.Bcast(in_out_array, root=root)


def init_process_group(n_devices, rank, *, backend="nccl", host=None, port=None, use_mpi=False):
    assert backend == "nccl" and use_mpi, "minifer bootstraps NCCL over MPI"
    return _Group(n_devices, rank)
