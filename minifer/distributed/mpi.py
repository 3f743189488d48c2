"""The MPI communicator: NumPy arrays summed, gathered and broadcast between the processes of one
job with mpi4py's buffer calls (no pickling), every collective called by every rank in the same
order (``training/distribute.py`` lists what fit calls)."""
import numpy


class MpiCommunicator:
    def __init__(self, comm, MPI):
        self.comm, self.MPI = comm, MPI
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.local_rank = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()  # among this node's processes

    @property
    def is_chief(self):
        return self.rank == 0

    def allreduce(self, array):
        """``array`` summed over the processes, in place; the same bits on every process (MPICH's
        and Open MPI's sums combine the same operands in the same order everywhere)."""
        self.comm.Allreduce(self.MPI.IN_PLACE, array, op=self.MPI.SUM)
        return array

    def allgather(self, array):
        """[each process's ``array``] in rank order; first axes may differ in length."""
        array = numpy.ascontiguousarray(array)
        counts = numpy.zeros(self.size, numpy.int64)
        self.comm.Allgather(numpy.array([array.shape[0]], numpy.int64), counts)
        row = int(numpy.prod(array.shape[1:], dtype=numpy.int64))
        out = numpy.empty((int(counts.sum()), *array.shape[1:]), array.dtype)
        self.comm.Allgatherv(array, [out, counts * row])
        return numpy.split(out, numpy.cumsum(counts)[:-1])

    def broadcast(self, array):
        """Rank 0's ``array`` (of the same shape and dtype everywhere) on every process, in place."""
        self.comm.Bcast(array, root=0)
        return array

    def barrier(self):
        """Every process waits here until all have come."""
        self.comm.Barrier()

    def abort(self, code=1):
        self.comm.Abort(code)
