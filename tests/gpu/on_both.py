"""An op on NumPy and on CuPy, forward and backward, compared: the GPU tests' one check."""
import numpy as np

import minifer
from minifer import Tensor

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-9)}


def check(op, arrays, dtype):
    """``op`` on Tensors of ``arrays`` in ``dtype``, on NumPy and on CuPy: outputs and gradients agree."""
    import cupy
    results = []
    for to in (np.asarray, cupy.asarray):
        tensors = [Tensor(to(a.astype(dtype)), requires_grad=True) for a in arrays]
        y = op(*tensors)
        y.backward(to(np.random.default_rng(1).standard_normal(y.shape).astype(dtype)))
        results.append([minifer.backend.to_numpy(v) for v in [y.data] + [t.grad for t in tensors]])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, **TOL[dtype])
