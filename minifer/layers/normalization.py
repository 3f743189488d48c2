"""BatchNormalization with Keras's defaults and weight order [gamma, beta, moving_mean, moving_variance]."""
from .. import functional as F
from . import regularizers
from .base import Layer


class BatchNormalization(Layer):
    min_ndim = 2

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError("BatchNormalization normalises the channel (last) axis only: axis must be -1")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.initializers = (gamma_initializer, beta_initializer, moving_mean_initializer, moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape, dtype):
        c = (input_shape[-1],)
        gamma_init, beta_init, mean_init, var_init = self.initializers
        self.gamma = self.add_weight("gamma", c, gamma_init, dtype, regularizer=self.gamma_regularizer)
        self.beta = self.add_weight("beta", c, beta_init, dtype, regularizer=self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", c, mean_init, dtype, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", c, var_init, dtype, trainable=False)

    def call(self, x, training=False):
        # a frozen BatchNormalization runs in inference mode; one value per channel (a last batch of
        # one) trains as in Keras: variance 0, the output is beta
        training = training and self.trainable
        return F.batch_norm(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                            training, self.momentum, self.epsilon)

    def get_config(self):
        gamma_init, beta_init, mean_init, var_init = self.initializers
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "beta_initializer": beta_init, "gamma_initializer": gamma_init,
                "moving_mean_initializer": mean_init, "moving_variance_initializer": var_init,
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}
