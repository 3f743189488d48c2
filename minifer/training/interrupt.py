"""Ctrl-C during fit: the first press asks to stop after the current batch (the processes of a
distributed run agree on it in their next step, so all stop after the same one), and the user
is told where a resumable checkpoint was written."""
import signal
import threading

from .evaluation import write_line


class StopOnInterrupt:
    """Turn the first Ctrl-C into a request to stop after the current batch."""

    requested = False

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def interrupted(run, epoch, batch):
    """Tell the callbacks (a resumable checkpoint is written there) and the user that Ctrl-C stopped
    training after ``batch`` of ``epoch`` (None: after the whole epoch), and where it can resume from
    (a script prints its own command for that; ``fit(resume=path)`` is how Python resumes)."""
    run.last_saved = None
    for cb in run.callbacks:
        cb.on_train_interrupted(epoch, batch)
    where = f"epoch {epoch + 1}" + ("" if batch is None else f", batch {batch + 1}")
    saved = (f"saved a resumable checkpoint to {run.last_saved}" if run.last_saved else
             "no resumable checkpoint was written (ModelCheckpoint(path, resumable=True) writes one)")
    if run.comm.is_chief:
        write_line(f"Interrupted after {where}; {saved}.")
