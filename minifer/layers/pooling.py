"""MaxPooling2D, AveragePooling2D, the global pools and Flatten."""
from .. import functional as F
from ..functional.geometry import as_pair, check_padding
from .base import Layer


class MaxPooling2D(Layer):
    input_ndim = 4

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_pair(pool_size, "pool_size")
        self.strides = as_pair(strides, "strides") if strides is not None else self.pool_size
        self.padding = check_padding(padding)

    def compute_output_shape(self, input_shape):
        return self.window_output_shape(input_shape, self.pool_size, self.strides, self.padding,
                                        input_shape[-1], what="pool")

    def call(self, x, training=False):
        return F.max_pool2d(x, self.pool_size, self.strides, self.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}


class AveragePooling2D(MaxPooling2D):
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


class Flatten(Layer):
    min_ndim = 2

    def compute_output_shape(self, input_shape):
        size = 1
        for d in input_shape[1:]:
            size = None if d is None or size is None else size * d
        return (input_shape[0], size)

    def call(self, x, training=False):
        return F.flatten(x)
