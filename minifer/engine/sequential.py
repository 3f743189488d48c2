"""Sequential: a straight stack of layers, built as a functional Model once its input shape is known.

The shape comes from ``input_shape=`` (per example, like ``Input``) given to the Sequential
or, as Keras users write it, to its first layer, from an ``Input(...)`` tensor as the first
item, from ``build(input_shape)``, or from the first data it is called on. Until then it has no graph, and ``summary()`` says so instead of failing obscurely.
As in Keras, ``layers`` lists the stacked layers without the InputLayer.
"""
from ..graph import Input
from ..io import config as _config
from ..layers.base import Layer, is_symbolic
from .model import Model


class Sequential(Model):
    def __init__(self, layers=(), input_shape=None, name=None, dtype="float32", pixel_range=None):
        """``pixel_range`` declares image inputs, as ``Input``'s does."""
        Layer.__init__(self, name=name)
        self._stack, self._input_dtype, self._pixel_range = [], dtype, pixel_range
        layers = list(layers)
        if layers and is_symbolic(layers[0]):
            first = layers.pop(0)
            input_shape, self._input_dtype, self._pixel_range = first.shape, first.dtype, first.layer.pixel_range
        for layer in layers:
            self.add(layer)
        if input_shape is not None:
            self.build(input_shape)

    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add takes a Layer, got {type(layer).__name__}")
        if self.graph_ready:
            self._set_graph(self.inputs[0], layer(self.outputs[0]))
        self._stack.append(layer)
        if not self.graph_ready and len(self._stack) == 1 and layer.batch_input_shape is not None:
            self.build(layer.batch_input_shape)

    def pop(self):
        """Remove the last layer; the model's output becomes the previous layer's (Keras's ``pop``)."""
        if not self._stack:
            raise TypeError(f"Sequential '{self.name}' has no layers to pop")
        layer = self._stack.pop()
        if self.graph_ready:
            last = self.model_nodes(self._stack[-1])[-1].outputs[0] if self._stack else self.inputs[0]
            self._set_graph(self.inputs[0], last)
        return layer

    def build(self, input_shape):
        """Build the graph for examples of ``input_shape``; a leading None is read as the batch axis."""
        input_shape = tuple(input_shape)
        if input_shape and input_shape[0] is None:
            input_shape = input_shape[1:]
        x = inputs = Input(input_shape, dtype=self._input_dtype, pixel_range=self._pixel_range)
        for layer in self._stack:
            x = layer(x)
        self._set_graph(inputs, x)

    def __call__(self, inputs, training=False, logits=False):
        if not self.graph_ready:
            first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            if not is_symbolic(inputs) and hasattr(first, "dtype") and first.dtype.kind == "f":
                self._input_dtype = str(first.dtype)
            self.build(tuple(first.shape)[1:])
        return super().__call__(inputs, training=training, logits=logits)

    def get_config(self):
        return {"name": self.name, "layers": [_config.layer_config(layer) for layer in self._stack],
                "input_shape": list(self.input_shape[1:]) if self.graph_ready else None,
                "dtype": str(self._input_dtype),
                **({} if self._pixel_range is None else {"pixel_range": list(self._pixel_range)})}

    @classmethod
    def from_config(cls, config):
        return cls([_config.layer_from_config(c) for c in config["layers"]], input_shape=config["input_shape"],
                   name=config["name"], dtype=config.get("dtype", "float32"), pixel_range=config.get("pixel_range"))
