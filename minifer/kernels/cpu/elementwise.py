"""ReLU as flat passes split over the threads in 64K-element pieces."""
from ...backend import get_xp
from .parallel import for_ranges

PIECE = 65536  # elements: smaller arrays stay on one thread


def relu_forward(x, keep_mask):
    """(max(x, 0), the mask y > 0 or None); NaN stays NaN."""
    xp = get_xp(x)
    x1 = xp.ascontiguousarray(x).reshape(-1)
    y = xp.empty_like(x1)
    mask = xp.empty(x1.shape, dtype=bool) if keep_mask else None

    def relu(a, b):
        xp.maximum(x1[a:b], 0, out=y[a:b])
        if mask is not None:
            xp.greater(y[a:b], 0, out=mask[a:b])

    for_ranges(relu, xp, 0, x1.size, align=PIECE)
    return y.reshape(x.shape), (mask.reshape(x.shape) if mask is not None else None)


def relu_backward(g, mask):
    xp = get_xp(g)
    g1, mask1 = xp.ascontiguousarray(g).reshape(-1), mask.reshape(-1)
    dx = xp.empty_like(g1)
    for_ranges(lambda a, b: xp.multiply(g1[a:b], mask1[a:b], out=dx[a:b]), xp, 0, g1.size, align=PIECE)
    return dx.reshape(g.shape)
