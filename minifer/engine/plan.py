"""InferencePlan: a model compiled for prediction, which ``Model.predict`` uses on the CPU.

Running a model through its layers builds Tensors, Functions and checks for every layer and
every call; for one 48x48 face that overhead is most of the time. A plan walks the same graph
with one prepared step per layer call, which the layer itself makes (``Layer.inference_step``,
``layers/inference.py``): BatchNormalizations folded into the layer before them (the rule of
``fold.py``), activations applied in place, the geometry of each window worked out once per
input shape. The plan itself only walks the graph.

A batch is split by images over minifer's threads (the kernel set's ``split_batch``), each
thread running whole images with its kernels unsplit (inference has no batch statistics, so
images are independent) and a slice of at most ``CHUNK`` images at a time, so that one slice's
activations stay in the cache from one layer to the next. One image runs on one thread: splitting its small kernels costs more than
it gains (ARCH-1: 2.8 ms against 2.0).

The folded weights are a snapshot: ``is_current()`` compares every weight's ``version``
(bumped by each change minifer makes, ``Tensor.data``), and ``Model.inference_plan()`` builds a
new plan when it is stale.
"""
import numpy

from ..graph import store_and_release
from ..kernels import kernels_for
from ..layers import InputLayer
from ..layers.inference import call_step, identity_step
from .fold import foldable

CHUNK = 32  # images per slice: 32-64 ran fastest at batch 256, slices of 4 up to 25% slower


class InferencePlan:
    def __init__(self, model):
        self.model = model
        self._nodes, self._weights = model._nodes, model.weights
        self.device = model.device
        self._versions = self._current_versions()
        folds = foldable(model)
        absorbs = {producer: affine for producer, affine in folds.values()}
        self._program = [(node.inbound, node.outputs, identity_step if node.layer in folds else
                          _step(node.layer, isinstance(node.inputs, (list, tuple)), absorbs.get(node.layer)))
                         for node in model._nodes if not isinstance(node.layer, InputLayer)]

    def _current_versions(self):
        return [w.version for w in self._weights]

    def is_current(self):
        """Whether the model still has the graph and weights this plan was built from."""
        return self.model._nodes is self._nodes and self._current_versions() == self._versions

    def __call__(self, inputs):
        """The model's outputs for ``inputs`` (as ``Model.call`` takes them) as arrays."""
        values = {t: v.data for t, v in self.model._prepare(inputs).items()}
        first = next(iter(values.values()))
        pieces = kernels_for(first).split_batch(lambda a, b: self._run_images(values, a, b), len(first))
        outputs = [piece for part in pieces for piece in part]
        if not outputs:  # no images: the outputs' shapes, with no rows
            return self._empty_outputs(first)
        joined = [outputs[0][i] if len(outputs) == 1 else numpy.concatenate([o[i] for o in outputs])
                  for i in range(len(self.model.outputs))]
        return joined[0] if self.model._single_output else joined

    def _run_images(self, values, start, stop):
        """The outputs of images [start, stop), a slice of ``CHUNK`` at a time, on this thread."""
        return [self._run({t: v[a:min(a + CHUNK, stop)] for t, v in values.items()})
                for a in range(start, stop, CHUNK)]

    def _run(self, values):
        """``Model.call``'s walk over the graph, on arrays, through the compiled steps."""
        uses, fresh = dict(self.model._uses), set()
        for inbound, outputs, step in self._program:
            consumable = inbound[0] in fresh and uses[inbound[0]] == 1
            result, made = step([values[t] for t in inbound], consumable)
            if not made:  # the output may be (a view of) an input: nobody writes into those now
                fresh.difference_update(inbound)
            (fresh.update if made else fresh.difference_update)(outputs)
            store_and_release(outputs, inbound, result, values, uses)
        return [values[t] for t in self.model.outputs]

    def _empty_outputs(self, like):
        empty = [numpy.zeros((0, *(d or 0 for d in t.shape[1:])), dtype=like.dtype) for t in self.model.outputs]
        return empty[0] if self.model._single_output else empty


def _step(layer, listed, affine):
    """The layer's own step where it was written for the layer's call, else its call itself."""
    if layer.defines_with_call("inference_step"):
        return layer.inference_step(listed, affine)
    return call_step(layer, listed)
