"""Adam against torch.optim.Adam over several steps.

Keras adds epsilon to the uncorrected sqrt(v) (w -= lr * sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)),
PyTorch to the bias-corrected one (w -= lr/(1-b1^t) * m/(sqrt(v)/sqrt(1-b2^t) + eps)). The two
differ by an epsilon of size eps*sqrt(1-b2^t); with eps = 1e-7 and gradients of order 1 that is
far below float32 resolution, so they agree. test_optimizers.py checks the exact Keras formula.
"""
import numpy
import pytest

torch = pytest.importorskip("torch")

from minifer import Tensor  # noqa: E402
from minifer.optimizers import Adam  # noqa: E402


@pytest.mark.parametrize("lr", [0.001, 0.01])
def test_adam_matches_pytorch_over_several_steps(lr):
    rng = numpy.random.default_rng(0)
    start = [rng.standard_normal(s).astype(numpy.float32) for s in ((3, 3, 2, 4), (4,), (7, 5))]
    ours = [Tensor(a.copy(), requires_grad=True, name=f"w{i}") for i, a in enumerate(start)]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt, t_opt = Adam(lr), torch.optim.Adam(theirs, lr=lr, betas=(0.9, 0.999), eps=1e-7)
    for step in range(10):
        grads = [rng.standard_normal(a.shape).astype(numpy.float32) * (1 + step) for a in start]
        for p, tp, g in zip(ours, theirs, grads):
            p.grad, tp.grad = g, torch.from_numpy(g.copy())
        opt.step(ours)
        t_opt.step()
        for p, tp in zip(ours, theirs):
            numpy.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert opt.iterations == 10
    moved = max(numpy.abs(p.data - a).max() for p, a in zip(ours, start))
    assert moved > 5 * lr  # the comparison is about real updates, not a no-op
