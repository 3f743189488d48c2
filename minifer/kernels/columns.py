"""Per-channel sums of (pixels, channels) matrices as a BLAS matrix-vector product.

NumPy's ``x.sum(axis=0)`` over a tall (P, C) array with few channels runs an inner loop
of only C elements per row; ``ones(P) @ x`` hands the same sum to BLAS. Measured on the
2-core EPYC for P = 589,824 (one 48x48 layer at batch 256), C = 8: 11.4 ms -> 0.8 ms.
"""
from ..backend import get_xp


def column_sum(x2):
    """Sum of a 2-D array over its rows: shape (C,)."""
    xp = get_xp(x2)
    return xp.ones(x2.shape[0], dtype=x2.dtype) @ x2
