"""BatchNormalization with Keras's defaults and weight order [gamma, beta, moving_mean, moving_variance]
(gamma absent with ``scale=False``, beta with ``center=False``, as in Keras), and
LocalResponseNormalization (AlexNet's and GoogLeNet's, as ONNX defines it; Keras has none).

In inference batch normalisation is a per-channel affine map, which it offers to the layer
before it to absorb (``inference_affine``); where that layer cannot, its own step applies the map.
"""
import numpy

from .. import functional as F
from ..backend import get_xp
from ..kernels import kernels_for
from . import regularizers
from .arguments import positive_int, real
from .base import Layer


class BatchNormalization(Layer):
    min_ndim = 2

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if isinstance(self.axis, bool) or not isinstance(self.axis, int):
            raise ValueError(f"BatchNormalization axis must be an int, got {axis!r}")
        self.momentum = real(momentum, "BatchNormalization momentum", 0.0, 1.0)
        self.epsilon = real(epsilon, "BatchNormalization epsilon", 0.0)
        self.center, self.scale = bool(center), bool(scale)
        self.initializers = (gamma_initializer, beta_initializer, moving_mean_initializer, moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        if self.axis % len(shape) != len(shape) - 1:  # Keras's axis=3 of an NHWC image is -1
            self.shape_error(f"normalises axis {self.axis} of input shape {shape}; minifer normalises the last "
                             "(channel) axis only")

    def build(self, input_shape, dtype):
        c = (input_shape[-1],)
        gamma_init, beta_init, mean_init, var_init = self.initializers
        self.gamma = self.add_weight("gamma", c, gamma_init, dtype, regularizer=self.gamma_regularizer) \
            if self.scale else None
        self.beta = self.add_weight("beta", c, beta_init, dtype, regularizer=self.beta_regularizer) \
            if self.center else None
        self.moving_mean = self.add_weight("moving_mean", c, mean_init, dtype, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", c, var_init, dtype, trainable=False)

    def call(self, x, training=False):
        # a frozen BatchNormalization runs in inference mode; one value per channel (a last batch of
        # one) trains as in Keras: variance 0, the output is beta
        training = training and self.trainable
        gamma, beta = self._gamma_beta()
        return F.batch_norm(x, gamma, beta, self.moving_mean, self.moving_variance,
                            training, self.momentum, self.epsilon)

    def _gamma_beta(self):
        """The learned scale and shift, or the fixed 1 and 0 of ``scale=False`` / ``center=False``."""
        xp, c, dtype = get_xp(self.moving_mean.data), self.moving_mean.shape, self.moving_mean.dtype
        return (self.gamma if self.scale else xp.ones(c, dtype), self.beta if self.center else xp.zeros(c, dtype))

    def inference_affine(self):
        """(scale, shift) in float64: in inference this layer is x * scale + shift per channel."""
        mean, var = (numpy.asarray(w.numpy(), numpy.float64) for w in (self.moving_mean, self.moving_variance))
        gamma = numpy.asarray(self.gamma.numpy(), numpy.float64) if self.scale else 1.0
        beta = numpy.asarray(self.beta.numpy(), numpy.float64) if self.center else 0.0
        scale = gamma / numpy.sqrt(var + self.epsilon)
        return scale, beta - mean * scale

    def inference_step(self, listed=False, affine=None):
        scale, shift = (v.astype(self.moving_mean.dtype) for v in self.inference_affine())
        return lambda args, consumable: (kernels_for(args[0]).channel_affine(args[0], scale, shift), True)

    def onnx_nodes(self, onnx, x):
        """BatchNormalization where the channels are ONNX's axis 1 (images, (N, C)); else the affine map."""
        rank, c = onnx.rank(x), self.moving_mean.shape[0]
        if rank in (2, 4):
            arrays = {"gamma": self.gamma.numpy() if self.scale else numpy.ones(c),
                      "beta": self.beta.numpy() if self.center else numpy.zeros(c),
                      "moving_mean": self.moving_mean.numpy(), "moving_variance": self.moving_variance.numpy()}
            weights = [onnx.weight(self, array, hint) for hint, array in arrays.items()]
            return onnx.node("BatchNormalization", [x, *weights], epsilon=self.epsilon)
        scale, shift = (onnx.weight(self, onnx.per_channel(a, rank), h) for a, h in zip(self.inference_affine(),
                                                                                       ("scale", "shift")))
        return onnx.node("Add", [onnx.node("Mul", [x, scale]), shift])

    def get_config(self):
        gamma_init, beta_init, mean_init, var_init = self.initializers
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": beta_init,
                "gamma_initializer": gamma_init, "moving_mean_initializer": mean_init,
                "moving_variance_initializer": var_init,
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}


class LocalResponseNormalization(Layer):
    """Each channel divided by (bias + alpha / size * the sum of squares over ``size`` neighbouring
    channels) ** beta (``functional/local_response.py``)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, bias=1.0, **kwargs):
        super().__init__(**kwargs)
        self.size = positive_int(size, "LocalResponseNormalization size", 1 << 16)
        self.alpha = real(alpha, "LocalResponseNormalization alpha", 0.0)
        self.beta = real(beta, "LocalResponseNormalization beta")
        self.bias = real(bias, "LocalResponseNormalization bias", 0.0)
        if self.bias == 0 and self.beta:
            raise ValueError("LocalResponseNormalization bias must be above 0 where beta is not 0 "
                             "(a zero channel would divide by zero)")

    def call(self, x, training=False):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.bias)

    def onnx_nodes(self, onnx, x):
        """ONNX's LRN normalises axis 1, the channels of an image or of (N, C)."""
        if onnx.rank(x) not in (2, 4):
            raise NotImplementedError(f"LocalResponseNormalization layer '{self.name}' is written to ONNX on images "
                                      f"and (N, C) values only, not rank {onnx.rank(x)}")
        return onnx.node("LRN", [x], size=self.size, alpha=self.alpha, beta=self.beta, bias=self.bias)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}

    def keras_config(self, keras3):
        raise ValueError(f"LocalResponseNormalization layer '{self.name}' has no Keras counterpart: save it as "
                         ".npz or .onnx")
