"""MaxPooling2D, GlobalAveragePooling2D and Flatten."""
from .. import functional as F
from ..functional.padding import as_pair, conv_output_length
from .base import Layer


class MaxPooling2D(Layer):
    input_ndim = 4

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_pair(pool_size, "pool_size")
        self.strides = as_pair(strides, "strides") if strides is not None else self.pool_size
        if padding not in ("same", "valid"):
            raise ValueError(f'padding must be "same" or "valid", got {padding!r}')
        self.padding = padding

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        out = [conv_output_length(size, k, s, self.padding) if size is not None else None
               for size, k, s in zip((h, w), self.pool_size, self.strides)]
        if any(o is not None and o < 1 for o in out):
            self.shape_error(f"has pool {self.pool_size}, larger than its {self.padding!r} input "
                             f"of spatial size {(h, w)} (input shape {input_shape})")
        return (n, *out, c)

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        self.compute_output_shape(shape)

    def call(self, x, training=False):
        return F.max_pool2d(x, self.pool_size, self.strides, self.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}


class GlobalAveragePooling2D(Layer):
    input_ndim = 4

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

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
