"""Decoding ahead on a thread, a bounded number of items at a time.

Pillow and FFmpeg release the GIL while they decode, so the next photos are read while the detector
and the model work on the current one, and the queue's bound keeps at most ``depth`` decoded images
waiting, however many inputs there are.
"""
import queue
import threading

_END = object()


def prefetch(items, depth):
    """``items`` (an iterable) consumed on a thread, yielded here in order; an exception raised
    while producing them is raised here. Stopping early stops the thread."""
    ready = queue.Queue(depth)
    stop = threading.Event()

    def put(entry):
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as error:  # handed over, raised by the consumer
            put((_END, error))

    thread = threading.Thread(target=produce, name="minifer-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()
