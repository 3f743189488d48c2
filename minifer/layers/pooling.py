"""MaxPooling2D, AveragePooling2D, the global pools and Flatten."""
from .. import functional as F
from ..functional.geometry import as_pair, check_pool_padding
from . import inference
from .base import Layer


class _Pooling2D(Layer):
    """What the sliding pools share: Keras's arguments (``strides`` defaults to ``pool_size``), and
    what ONNX and PyTorch pools add: explicit ``padding`` ((top, bottom), (left, right)) and
    ``ceil_mode`` (``functional/geometry.py``), which Keras files cannot hold."""
    input_ndim = 4

    def __init__(self, pool_size=2, strides=None, padding="valid", ceil_mode=False, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_pair(pool_size, "pool_size")
        self.strides = as_pair(strides, "strides") if strides is not None else self.pool_size
        self.padding = check_pool_padding(padding, ceil_mode)
        self.ceil_mode = bool(ceil_mode)

    def compute_output_shape(self, input_shape):
        return self.window_output_shape(input_shape, self.pool_size, self.strides, self.padding,
                                        input_shape[-1], "pool", self.ceil_mode)

    def get_config(self):
        padding = self.padding if isinstance(self.padding, str) else [list(p) for p in self.padding]
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": padding, "ceil_mode": self.ceil_mode}

    def onnx_pool(self, onnx, x, op_type, **attributes):
        return onnx.node(op_type, [x], kernel_shape=list(self.pool_size), strides=list(self.strides),
                         ceil_mode=int(self.ceil_mode), **attributes,
                         **onnx.window_padding(self.padding, onnx.shape(x), self.pool_size, self.strides))

    def keras_config(self, keras3):
        config = self.get_config()
        ceil_mode, count_include_pad = config.pop("ceil_mode"), config.pop("count_include_pad", False)
        if not isinstance(self.padding, str) or ceil_mode or count_include_pad:
            raise ValueError(f"{type(self).__name__} layer '{self.name}' has explicit padding, ceil_mode or "
                             "count_include_pad, which Keras's pools lack: save it as .npz or .onnx")
        return type(self).__name__, config


class MaxPooling2D(_Pooling2D):
    def call(self, x, training=False):
        return F.max_pool2d(x, self.pool_size, self.strides, self.padding, self.ceil_mode)

    def inference_step(self, listed=False, affine=None):
        def run(k, x, pads, out_hw):
            return k.max_pool_forward(x, self.pool_size, self.strides, pads, out_hw, False)[0]
        return inference.windowed(self.strides, self.padding, self.pool_size, run, lambda y: y, self.ceil_mode)

    def onnx_nodes(self, onnx, x):
        return self.onnx_pool(onnx, x, "MaxPool")


class AveragePooling2D(_Pooling2D):
    """Window means; padded pixels are left out of each mean, as in Keras, unless the padding is
    explicit and ``count_include_pad`` is set (PyTorch's and ONNX's default)."""

    def __init__(self, pool_size=2, strides=None, padding="valid", ceil_mode=False, count_include_pad=False,
                 **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, **kwargs)
        self.count_include_pad = bool(count_include_pad)

    def call(self, x, training=False):
        return F.avg_pool2d(x, self.pool_size, self.strides, self.padding, self.ceil_mode, self.count_include_pad)

    def onnx_nodes(self, onnx, x):
        return self.onnx_pool(onnx, x, "AveragePool", count_include_pad=int(self.count_include_pad))

    def get_config(self):
        return {**super().get_config(), "count_include_pad": self.count_include_pad}


class _GlobalPooling(Layer):
    """(N, H, W, C) -> (N, C)."""
    input_ndim = 4
    onnx_op = None  # ONNX's operator, which keeps (N, C, 1, 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def onnx_nodes(self, onnx, x):
        return onnx.node("Flatten", [onnx.node(self.onnx_op, [x])], rank=2)


class GlobalMaxPooling2D(_GlobalPooling):
    onnx_op = "GlobalMaxPool"

    def call(self, x, training=False):
        return F.global_max_pool2d(x)


class GlobalAveragePooling2D(_GlobalPooling):
    onnx_op = "GlobalAveragePool"

    def call(self, x, training=False):
        return F.global_average_pool2d(x)

    def inference_step(self, listed=False, affine=None):
        return inference.array_step(lambda x: x.reshape(x.shape[0], -1, x.shape[-1]).mean(axis=1))


class Flatten(Layer):
    min_ndim = 2

    def compute_output_shape(self, input_shape):
        size = 1
        for d in input_shape[1:]:
            size = None if d is None or size is None else size * d
        return (input_shape[0], size)

    def call(self, x, training=False):
        return F.flatten(x)

    def inference_step(self, listed=False, affine=None):
        return lambda args, consumable: (args[0].reshape(args[0].shape[0], -1), consumable)

    def onnx_nodes(self, onnx, x):
        return onnx.node("Flatten", [onnx.to_minifer_order(x)], rank=2)  # Keras's NHWC order
