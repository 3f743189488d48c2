"""ReLU as flat passes split over the threads in 64K-element pieces.

Backward takes its mask from the sign of the input, which the graph keeps anyway, rather than a
mask kept from forward: one array less alive per ReLU until backward (ARCH-1 at batch 256: 32 MiB).
"""
from ...backend import get_xp
from .parallel import for_ranges

PIECE = 65536  # elements: smaller arrays stay on one thread


def relu_forward(x, keep_input):
    """(max(x, 0), what backward reads: ``x`` when ``keep_input``, else None); NaN stays NaN."""
    xp = get_xp(x)
    x1 = xp.ascontiguousarray(x).reshape(-1)
    y = xp.empty_like(x1)
    for_ranges(lambda a, b: xp.maximum(x1[a:b], 0, out=y[a:b]), xp, 0, x1.size, align=PIECE)
    return y.reshape(x.shape), (x if keep_input else None)


def relu_backward(g, x):
    """g where x > 0, else 0 (a NaN input passes no gradient)."""
    xp = get_xp(g)
    g1, x1 = xp.ascontiguousarray(g).reshape(-1), xp.ascontiguousarray(x).reshape(-1)
    dx = xp.empty_like(g1)
    for_ranges(lambda a, b: xp.multiply(g1[a:b], x1[a:b] > 0, out=dx[a:b]), xp, 0, g1.size, align=PIECE)
    return dx.reshape(g.shape)
