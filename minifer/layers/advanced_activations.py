"""LeakyReLU, PReLU and ELU: Keras's activation layers with a parameter (PReLU's is a weight)."""
from .. import functional as F
from . import regularizers
from .base import Layer


class LeakyReLU(Layer):
    """``negative_slope`` is Keras 3's name; Keras 2 called it ``alpha`` (files are translated on load)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def call(self, x, training=False):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, x, training=False):
        return F.elu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """A learned slope per input element, shared along ``shared_axes`` (1-based, batch excluded, as Keras)."""
    min_ndim = 2

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = alpha_initializer
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.shared_axes = None if shared_axes is None else (
            [shared_axes] if isinstance(shared_axes, int) else list(shared_axes))

    def build(self, input_shape, dtype):
        shape = [1 if self.shared_axes and axis in self.shared_axes else size
                 for axis, size in enumerate(input_shape) if axis > 0]
        if any(size is None for size in shape):
            self.shape_error(f"needs known sizes on its unshared axes, got input shape {input_shape}")
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer, dtype,
                                     regularizer=self.alpha_regularizer)

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        # only the axes alpha has a size on are fixed; shared ones (and None at build) take any size
        if self.built and (len(shape) != len(self.input_shape) or any(
                a != 1 and s != a for s, a in zip(shape[1:], self.alpha.shape))):
            self.shape_error(f"was built for input shape {self.input_shape} (alpha {self.alpha.shape}), got {shape}")

    def call(self, x, training=False):
        return F.prelu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": self.alpha_initializer,
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer), "shared_axes": self.shared_axes}
