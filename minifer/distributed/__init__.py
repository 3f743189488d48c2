"""Data-parallel training past one process: MPI (mpi4py) starts and connects the processes, NCCL
(through CuPy) sums GPU arrays, with MPI handing out NCCL's id: the design ChainerMN used.

    comm = minifer.distributed.init()                  # one per process, before the model is built
    model.fit(x, y, batch_size=32, distribute=comm)    # 32 per process: a step sums comm.size * 32

Started by ``mpiexec -n 4 python train.py`` or Slurm's ``srun``, every process runs the same
script; ``init()`` connects them. Started plainly, ``init()`` returns the one-process
communicator and imports no MPI, so the same script trains as it always did. mpi4py (the
``distributed`` extra) is imported only when an MPI launcher started the process.
docs/distributed.md says what holds across processes and how to launch on a cluster or GPUs.
"""
import os
import sys
import traceback

from ..backend import get_device
from ..training.distribute import DistributedError, Solo

# the job's size as MPI launchers give it to each process: MPICH/Hydra and srun's PMI, Open MPI, PMIx
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")


def launched_by_mpi():
    """Whether an MPI launcher started this process in a job of more than one process (Slurm's own
    variables do not count: an sbatch script without srun is one process)."""
    sizes = [os.environ[v] for v in SIZE_VARIABLES if v in os.environ]
    return sizes[0] != "1" if sizes else "PMIX_RANK" in os.environ


def init(device=None):
    """The communicator of this process: MPI's (NCCL's for the GPU, its GPU chosen by the process's
    rank on its node) when an MPI launcher started it, else the one-process ``Solo``. ``device``:
    "cpu" or "gpu", default minifer's current device. From then on an uncaught exception in any
    process stops every process at once, naming the rank, instead of leaving them waiting."""
    if not launched_by_mpi():
        return Solo()
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise DistributedError(f"an MPI launcher started this process, but mpi4py is not installed ({error}): "
                               'pip install "minifer[distributed]"') from None
    from .mpi import MpiCommunicator
    comm = MpiCommunicator(MPI.COMM_WORLD, MPI)
    if (device or get_device()) == "gpu":
        from .nccl import NcclCommunicator
        comm = NcclCommunicator(MPI.COMM_WORLD, MPI)
    _stop_all_on_error(comm)
    return comm


def _stop_all_on_error(comm):
    """An uncaught exception on one rank: say which rank and why, then abort the whole job (the
    others would wait for it in their next collective call forever)."""
    previous = sys.excepthook

    def hook(kind, error, trace):
        if issubclass(kind, KeyboardInterrupt):  # a second Ctrl-C: every rank got it
            return previous(kind, error, trace)
        text = "".join(traceback.format_exception(kind, error, trace))
        sys.stderr.write(f"{text}minifer: rank {comm.rank} of {comm.size} stopped the job: {kind.__name__}: {error}\n")
        sys.stderr.flush()
        comm.abort(1)

    sys.excepthook = hook
