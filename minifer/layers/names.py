"""Layer names as Keras makes them (``conv2d``, ``conv2d_1``, ...), counted per thread inside
``fresh_names`` blocks and over the process outside them."""
import contextlib
import re
import threading

_names = {}  # base name -> count, for layers made outside any fresh_names() block
_names_lock = threading.Lock()
_local = threading.local()  # this thread's .names, inside fresh_names()


def snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """Keras-style names: ``conv2d``, ``conv2d_1``, ... counted per base name (per ``fresh_names``
    block, else over the process)."""
    counts = getattr(_local, "names", None)
    with _names_lock:
        counts = _names if counts is None else counts
        count = counts.get(base, 0)
        counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


@contextlib.contextmanager
def fresh_names():
    """Number layer names from scratch inside this block, on this thread (a model built twice gets
    the same names, whatever another thread builds meanwhile)."""
    saved, _local.names = getattr(_local, "names", None), {}
    try:
        yield
    finally:
        _local.names = saved
