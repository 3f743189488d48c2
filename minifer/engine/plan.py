"""InferencePlan: a model compiled for prediction, which ``Model.predict`` uses on the CPU.

Running a model through its layers builds Tensors, Functions and checks for every layer and
every call; for one 48x48 face that overhead is most of the time. A plan walks the same graph
with one prepared step per layer call (``plan_steps.py``): BatchNormalizations folded into the
layer before them (the rule of ``fold.py``), activations applied in place, the geometry of each
window worked out once per input shape.

A batch is split by images over minifer's threads, each thread running whole images with its
kernels unsplit (inference has no batch statistics, so images are independent) and a slice of
at most ``CHUNK`` images at a time, so that one slice's activations stay in the cache from one
layer to the next. One image runs on one thread: splitting its small kernels costs more than
it gains (ARCH-1: 2.8 ms against 2.0).

The folded weights are a snapshot: ``is_current()`` compares every weight's ``version``
(bumped by each change minifer makes, ``Tensor.data``), and ``Model.inference_plan()`` builds a
new plan when it is stale.
"""
import contextlib

import numpy

from ..kernels.cpu import parallel
from ..graph import store_and_release
from ..layers import InputLayer
from . import plan_steps as steps
from .fold import bn_affine, foldable, folded_weights

CHUNK = 32  # images per slice: 32-64 ran fastest at batch 256, slices of 4 up to 25% slower
FIXED = {"ReLU": steps.relu_step, "Add": steps.add_step, "GlobalAveragePooling2D": steps.global_average_step,
         "Flatten": steps.flatten_step, "Dropout": steps.identity_step, "SpatialDropout2D": steps.identity_step}
ACTIVATIONS = {"relu": steps.relu_step, "linear": steps.identity_step}  # of Activation layers


class InferencePlan:
    def __init__(self, model):
        self.model = model
        self._nodes, self._weights = model._nodes, model.weights
        self.device = model.device
        self._versions = self._current_versions()
        folds = foldable(model)
        producers = {producer: bn for bn, producer in folds.items()}
        self._program = [(node.inbound, node.outputs, _compile(node, folds, producers.get(node.layer)))
                         for node in model._nodes if not isinstance(node.layer, InputLayer)]

    def _current_versions(self):
        return [w.version for w in self._weights]

    def is_current(self):
        """Whether the model still has the graph and weights this plan was built from."""
        return self.model._nodes is self._nodes and self._current_versions() == self._versions

    def __call__(self, inputs):
        """The model's outputs for ``inputs`` (as ``Model.call`` takes them) as arrays."""
        values = {t: v.data for t, v in self.model._prepare(inputs).items()}
        n = len(next(iter(values.values())))
        pieces = parallel.for_ranges(lambda a, b: self._run_images(values, a, b, n), numpy, 0, n)
        outputs = [piece for part in pieces for piece in part]
        joined = [outputs[0][i] if len(outputs) == 1 else numpy.concatenate([o[i] for o in outputs])
                  for i in range(len(self.model.outputs))]
        return joined[0] if self.model._single_output else joined

    def _run_images(self, values, start, stop, n):
        """The outputs of images [start, stop) of ``n``, a slice of ``CHUNK`` at a time, on this thread."""
        with parallel.serial(1) if stop - start == n else contextlib.nullcontext():  # split: for_ranges says
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


def _compile(node, folds, folded_bn):
    """The step of one layer call; ``folded_bn``: the batch norm folded into this layer, if any."""
    layer = node.layer
    kind = type(layer).__name__
    weights = layer.get_weights()
    if folded_bn is not None:
        weights = folded_weights(layer, weights, folded_bn)
    kernels = [numpy.ascontiguousarray(w) for w in weights]
    bias = kernels.pop() if (folded_bn is not None or getattr(layer, "use_bias", False)) else None
    if kind in ("Conv2D", "PointwiseConv2D"):
        return steps.conv_step(layer, kernels[0], bias)
    if kind == "DepthwiseConv2D":
        return steps.depthwise_step(layer, kernels[0], bias)
    if kind == "SeparableConv2D":
        return steps.separable_step(layer, kernels[0], kernels[1], bias)
    if kind == "Dense":
        return steps.dense_step(layer, kernels[0], bias)
    if kind == "BatchNormalization":
        if layer in folds:
            return steps.identity_step
        return steps.affine_step(*(v.astype(weights[0].dtype) for v in bn_affine(layer)))
    if kind == "MaxPooling2D":
        return steps.max_pool_step(layer)
    if kind == "Softmax" or (kind == "Activation" and layer.activation == "softmax"):
        return steps.softmax_step(layer)
    if kind == "Activation" and layer.activation in ACTIVATIONS:
        return ACTIVATIONS[layer.activation]
    if kind in FIXED:
        return FIXED[kind]
    return steps.layer_step(layer, single=not isinstance(node.inputs, (list, tuple)))
