"""MaxPooling2D, AveragePooling2D, the global pools and Flatten."""
from .. import functional as F
from ..functional.geometry import as_pair, check_padding
from . import inference
from .base import Layer


class _Pooling2D(Layer):
    """What the sliding pools share: Keras's arguments (``strides`` defaults to ``pool_size``)."""
    input_ndim = 4

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_pair(pool_size, "pool_size")
        self.strides = as_pair(strides, "strides") if strides is not None else self.pool_size
        self.padding = check_padding(padding)

    def compute_output_shape(self, input_shape):
        return self.window_output_shape(input_shape, self.pool_size, self.strides, self.padding,
                                        input_shape[-1], what="pool")

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    def call(self, x, training=False):
        return F.max_pool2d(x, self.pool_size, self.strides, self.padding)

    def inference_step(self, listed=False, affine=None):
        def run(k, x, pads, out_hw):
            return k.max_pool_forward(x, self.pool_size, self.strides, pads, out_hw, False)[0]
        return inference.windowed(self.strides, self.padding, self.pool_size, run, lambda y: y)


class AveragePooling2D(_Pooling2D):
    """Window means; with "same" padding the padded pixels are left out of each mean, as in Keras."""

    def call(self, x, training=False):
        return F.avg_pool2d(x, self.pool_size, self.strides, self.padding)


class _GlobalPooling(Layer):
    """(N, H, W, C) -> (N, C)."""
    input_ndim = 4

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


class GlobalMaxPooling2D(_GlobalPooling):
    def call(self, x, training=False):
        return F.global_max_pool2d(x)


class GlobalAveragePooling2D(_GlobalPooling):
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
