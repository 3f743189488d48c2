"""Model: a graph of layer calls between symbolic inputs and outputs, run on real Tensors.

``Model(inputs, outputs)`` keeps the nodes between them in Keras's order (see
``minifer.graph``) and runs them one by one, dropping each intermediate value once its last
consumer has run, so memory stays flat however deep the graph. A Model is a Layer: it
can be called on symbolic tensors inside a bigger model, and frozen with ``trainable``.
"""
import collections
import json

from ..autograd import Tensor
from ..backend import get_device, to_device
from ..graph import check_connected, map_graph, store_and_release
from ..io import config as _config
from ..io import load_weights, save_model, save_weights
from ..layers import InputLayer, Layer, Softmax
from ..layers.base import ShapeError, _fmt, is_symbolic
from ..training import Trainer
from ..training.structure import ordered
from . import summary as _summary
from .fold import fold_batchnorm
from .plan import InferencePlan


class Model(Trainer, Layer):
    def __init__(self, inputs, outputs, name=None):
        super().__init__(name=name)
        self._set_graph(inputs, outputs)

    def _set_graph(self, inputs, outputs):
        """Take the graph from ``inputs`` to ``outputs``, or raise and leave the model as it was."""
        input_list, output_list = _as_list(inputs, "inputs"), _as_list(outputs, "outputs")
        for t in input_list:
            if not isinstance(t.layer, InputLayer):
                raise TypeError(f"model inputs must come from minifer.Input, got '{t.name}' "
                                f"made by {type(t.layer).__name__} layer '{t.layer.name}'")
        check_connected(input_list, output_list)
        nodes, layers, depth = map_graph(input_list, output_list)
        for name, count in collections.Counter(layer.name for layer in layers).items():
            if count > 1:  # weights and configs are found by layer name
                raise ValueError(f"the name {name!r} is used {count} times in model '{self.name}'; "
                                 "all layer names in a model must be unique (Keras refuses this too)")
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs, self.outputs = input_list, output_list
        self._nodes, self._layers, self._node_depth = nodes, layers, depth
        self._uses = {}  # symbolic tensor -> how many consumers still need its value
        for node in self._nodes:
            for t in node.inbound:
                self._uses[t] = self._uses.get(t, 0) + 1
        for t in self.outputs:
            self._uses[t] = self._uses.get(t, 0) + 1
        self.built = True
        self.input_shape = _unlist([t.shape for t in self.inputs], self._single_input)

    # -- structure ---------------------------------------------------------------
    @property
    def graph_ready(self):
        return hasattr(self, "_nodes")

    def _require_graph(self, what):
        if not self.graph_ready:
            raise RuntimeError(f"model '{self.name}' is not built yet, so it has no {what}: give its input shape "
                               "(Sequential(layers, input_shape=...) or .build(input_shape)) or call it on data first")

    @property
    def layers(self):
        return list(self._layers)

    @property
    def output_shape(self):
        self._require_graph("output shape")
        return _unlist([t.shape for t in self.outputs], self._single_output)

    @property
    def input(self):
        return _unlist(self.inputs, self._single_input)

    @property
    def output(self):
        return _unlist(self.outputs, self._single_output)

    def model_nodes(self, layer):
        """The calls of ``layer`` that belong to this model (a shared layer may have others elsewhere)."""
        return [node for node in layer.inbound_nodes if node in self._node_depth]

    def get_layer(self, name=None, index=None):
        """A layer by name, or by its position in ``layers`` (Keras's ``get_layer(index=)``)."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"model '{self.name}' has {len(self.layers)} layers, so no layer at index {index}")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"model '{self.name}' has no layer {name!r}; its layers are: "
                       f"{', '.join(layer.name for layer in self.layers)}")

    def summary(self, print_fn=None, line_length=None):
        """Print Keras's table (through ``print_fn`` line by line if given) and return it as one string."""
        self._require_graph("summary (its output shapes are unknown)")
        text = _summary.format_summary(self, line_length)
        for line in text.splitlines():
            (print_fn or print)(line)
        return text

    # -- weights -------------------------------------------------------------------
    def sublayers(self):
        return self.layers if self.graph_ready else []

    @property
    def weights(self):
        return _unique(w for layer in self.layers for w in layer.weights)

    @property
    def trainable_weights(self):
        return _unique(w for layer in self.layers for w in layer.trainable_weights)

    @property
    def non_trainable_weights(self):
        return _unique(w for layer in self.layers for w in layer.non_trainable_weights)

    @property
    def losses(self):
        return [loss for layer in _unique(self.layers) for loss in layer.losses]

    @property
    def device(self):
        """Where the weights live ("cpu" or "gpu"); inputs are moved there."""
        for layer in self.layers:  # the first weight tells (not ``weights``: every batch asks)
            for w in layer.weights:
                return w.device
        return get_device()

    def to(self, device):
        """Move the weights (BatchNorm statistics included), their gradients and the optimizer's
        slots to ``device``; returns the model."""
        for w in self.weights:
            w.data = to_device(w.data, device)
            if w.grad is not None:
                w.grad = to_device(w.grad, device)
        if self.optimizer is not None:
            self.optimizer.to(device)
        return self

    _plan = None

    def inference_plan(self):
        """This model compiled for prediction (``plan.py``): BatchNorms folded, one prepared step per
        layer, a batch split by images over the threads. Built on first use and again whenever
        the weights have changed since (training, ``set_weights``, loading)."""
        if self._plan is None or not self._plan.is_current():
            self._plan = InferencePlan(self)
        return self._plan

    def predict_on_batch(self, x):
        """The outputs for one batch in inference mode, as a NumPy array (a list, one per output,
        for a model with several); on the CPU through ``inference_plan()``."""
        plan = self.inference_plan() if self.graph_ready else None  # a Sequential builds on its first data
        return plan(x) if plan and plan.device == "cpu" else super().predict_on_batch(x)

    def fold_batchnorm(self):
        """An equivalent inference model with each foldable BatchNormalization folded into the
        layer before it (``fold.py``): fewer passes over memory per prediction."""
        return fold_batchnorm(self)

    def save_weights(self, path):
        return save_weights(self, path)

    def load_weights(self, path):
        load_weights(self, path)

    def save(self, path, **options):
        """Architecture and weights in one file (``minifer.load`` reads it back); ``options`` for ONNX files."""
        return save_model(self, path, **options)

    # -- running ---------------------------------------------------------------------
    def __call__(self, inputs, training=False, logits=False):
        """Run on Tensors/arrays; on symbolic tensors, record a node (a model nested in another)."""
        if is_symbolic(inputs):
            if logits:
                raise ValueError("logits=True applies to running a model, not to building a graph")
            return Layer.__call__(self, inputs)
        if logits:
            self._check_softmax_output()
        outputs = self.call(inputs, training=training)
        return outputs.logits if logits else outputs

    def call(self, inputs, training=False):
        """The outputs for ``inputs`` (a softmax output carries its logits as ``.logits``)."""
        self._require_graph("graph to run")
        values = self._prepare(inputs)
        uses = dict(self._uses)
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args = [values[t] for t in node.inbound]
            args = args if isinstance(node.inputs, list) else args[0]
            store_and_release(node.outputs, node.inbound, node.layer(args, training=training), values, uses)
        return _unlist([values[t] for t in self.outputs], self._single_output)

    def _prepare(self, inputs):
        """Wrap arrays as Tensors on the weights' device (a batch moves once, here), each taken by
        its InputLayer's rule (``InputLayer.accept``: as it is, or as images where the input
        declares a pixel range) at this door, which every entry point goes through, and check every
        shape against the inputs'."""
        if self._single_input:
            given = [inputs]
        else:  # a list in input order, or a dict by input layer name (Keras's two ways)
            given = ordered(inputs, [t.layer.name for t in self.inputs], "inputs")
        values, device = {}, self.device
        for t, x in zip(self.inputs, given):
            if isinstance(x, Tensor):  # kept as it is (it may carry a graph) where the rule leaves its data alone
                x = x.to(device)
                accepted = t.layer.accept(x.data)
                if accepted is not x.data and x.requires_grad:
                    raise TypeError(f"input '{t.layer.name}' takes {t.layer.dtype}; this Tensor is {x.dtype} and "
                                    "carries gradients, which its conversion would cut: convert it first")
                x = x if accepted is x.data else Tensor(accepted)
            else:
                x = Tensor(t.layer.accept(to_device(x, device)))
            if not _fits(x.shape, t.shape):
                raise ShapeError(f"model '{self.name}' expects input '{t.layer.name}' of shape {_fmt(t.shape)}, "
                                 f"got shape {_fmt(x.shape)}")
            values[t] = x
        return values

    def output_is_softmax(self):
        """Whether ``logits=True`` applies: one output, made by a softmax (layer or activation)."""
        if len(self.outputs) != 1:
            return False
        layer = self.outputs[0].layer
        return isinstance(layer, Softmax) or getattr(layer, "activation", None) == "softmax"

    def _check_softmax_output(self):
        if self.output_is_softmax():
            return
        if len(self.outputs) != 1:
            raise ValueError(f"logits=True needs a model with one output; model '{self.name}' has "
                             f"{len(self.outputs)}")
        layer = self.outputs[0].layer
        raise ValueError(f"logits=True needs a softmax output, but model '{self.name}' ends with "
                         f"{type(layer).__name__} layer '{layer.name}' "
                         f"(activation={getattr(layer, 'activation', None)!r})")

    # -- shape and configuration -------------------------------------------------------
    def check_input_shape(self, shape):
        self._require_graph("input shape")
        shapes = shape if isinstance(shape, list) else [shape]
        if len(shapes) != len(self.inputs) or not all(_fits(s, t.shape) for s, t in zip(shapes, self.inputs)):
            self.shape_error(f"expects input shape {_fmt(self.input_shape)}, got {_fmt(shape)}")

    def compute_output_shape(self, input_shape):
        return _unlist([t.shape for t in self.outputs], self._single_output)

    def get_config(self):
        return _config.model_config(self)

    def to_json(self, **kwargs):
        """The architecture as Keras-style JSON (``minifer.model_from_json`` rebuilds it, without weights)."""
        return json.dumps(_config.layer_config(self), **kwargs)

    @classmethod
    def from_config(cls, config):
        return _config.model_from_config(config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} layers={len(self.layers)} params={self.count_params()}>"


def _as_list(tensors, what):
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if not tensors:
        raise ValueError(f"a model needs at least one tensor in {what}")
    for t in tensors:
        if not getattr(t, "is_symbolic", False):
            raise TypeError(f"model {what} must be symbolic tensors (from minifer.Input and layer calls), "
                            f"got {type(t).__name__}")
    return tensors


def _unlist(items, single):
    return items[0] if single else items


def _unique(items):
    """Items in first-seen order, each once (a shared layer's weights are one set of weights)."""
    seen, result = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            result.append(item)
    return result


def _fits(shape, expected):
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))
