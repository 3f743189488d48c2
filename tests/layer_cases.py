"""Every layer class built with arguments other than its defaults, in a small graph on one image
input: the cases ``test_layer_inference`` checks predict with and ``test_onnx_export`` writes to ONNX."""
import numpy

import minifer
from minifer import layers as L

SHAPE = (7, 8, 4)  # per image: odd and even sizes, several channels


def image_case(make, then_bn=True):
    """A graph image -> layer -> [BatchNormalization]: the BN folds where the layer absorbs it."""
    def build(x):
        y = make()(x)
        return L.BatchNormalization()(y) if then_bn else y
    return build


CASES = {
    "Conv2D": [image_case(lambda: L.Conv2D(5, (2, 3), strides=(2, 1), padding="same", use_bias=False)),
               image_case(lambda: L.Conv2D(3, 3, activation="elu", bias_initializer="ones")),
               image_case(lambda: L.Conv2D(6, (2, 3), dilation_rate=(3, 2), groups=2, padding="same")),
               image_case(lambda: L.Conv2D(8, 3, strides=2, dilation_rate=2, groups=4, use_bias=False)),
               image_case(lambda: L.Conv2D(4, 2, groups=2, activation="relu"), then_bn=False)],
    "PointwiseConv2D": [image_case(lambda: L.PointwiseConv2D(6, strides=2, use_bias=False)),
                        image_case(lambda: L.PointwiseConv2D(2, activation="relu"))],
    "DepthwiseConv2D": [image_case(lambda: L.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=3)),
                        image_case(lambda: L.DepthwiseConv2D(2, dilation_rate=(2, 3), depth_multiplier=2)),
                        image_case(lambda: L.DepthwiseConv2D(2, activation="softmax", use_bias=False))],
    "SeparableConv2D": [image_case(lambda: L.SeparableConv2D(5, 3, strides=(1, 2), depth_multiplier=2,
                                                             padding="same")),
                        image_case(lambda: L.SeparableConv2D(3, 2, activation="sigmoid")),
                        image_case(lambda: L.SeparableConv2D(4, 3, dilation_rate=2, padding="same"))],
    "Dense": [lambda x: L.BatchNormalization()(L.Dense(5, use_bias=False)(L.Flatten()(x))),
              lambda x: L.Dense(3, activation="gelu")(x)],  # on a 4-D input: per pixel
    "BatchNormalization": [lambda x: L.BatchNormalization(momentum=0.5, epsilon=0.1, center=False)(L.ReLU()(x)),
                           lambda x: L.BatchNormalization(axis=3, scale=False)(x)],
    "MaxPooling2D": [image_case(lambda: L.MaxPooling2D(3, strides=2, padding="same")),
                     image_case(lambda: L.MaxPooling2D((2, 3), strides=(1, 2))),
                     image_case(lambda: L.MaxPooling2D(3, strides=2, padding=((1, 0), (2, 1)), ceil_mode=True))],
    "AveragePooling2D": [image_case(lambda: L.AveragePooling2D(3, strides=2, padding="same")),
                         image_case(lambda: L.AveragePooling2D(3, 2, ((0, 1), (1, 1)), True, count_include_pad=True))],
    "GlobalAveragePooling2D": [image_case(lambda: L.GlobalAveragePooling2D())],
    "GlobalMaxPooling2D": [image_case(lambda: L.GlobalMaxPooling2D())],
    "Flatten": [image_case(lambda: L.Flatten())],
    "Dropout": [image_case(lambda: L.Dropout(0.7, seed=3))],
    "SpatialDropout2D": [image_case(lambda: L.SpatialDropout2D(0.4, seed=1))],
    "Activation": [image_case(lambda name=name: L.Activation(name))  # bound now, not the loop's last name
                   for name in ("relu", "softmax", "linear", "selu", "swish", "hard_sigmoid", "hard_swish",
                                "log_softmax")],
    "ReLU": [image_case(lambda: L.ReLU()), image_case(lambda: L.ReLU(max_value=0.8)),
             image_case(lambda: L.ReLU(negative_slope=0.2, threshold=0.3)),
             image_case(lambda: L.ReLU(max_value=1.2, negative_slope=0.1, threshold=-0.4))],
    "Softmax": [image_case(lambda: L.Softmax()), image_case(lambda: L.Softmax(axis=1), then_bn=False)],
    "LeakyReLU": [image_case(lambda: L.LeakyReLU(0.05)), image_case(lambda: L.LeakyReLU(1.5)),
                  lambda x: L.LeakyReLU(0.1)(L.Permute((2, 1, 3))(L.ReLU()(x)))],  # a view in another order
    "ELU": [image_case(lambda: L.ELU(alpha=0.4))],
    "PReLU": [image_case(lambda: L.PReLU(alpha_initializer="ones", shared_axes=[1, 2]))],
    "Add": [lambda x: L.Add()([x, L.ReLU()(x), x])],
    "Multiply": [lambda x: L.Multiply()([x, L.Reshape((1, 1, 4))(L.GlobalAveragePooling2D()(x)), L.ReLU()(x)])],
    "Subtract": [lambda x: L.Subtract()([L.ReLU()(x), x])],
    "Scale": [image_case(lambda: L.Scale((8, 1), scale_initializer="zeros", bias_initializer="ones"))],
    "LocalResponseNormalization": [image_case(lambda: L.LocalResponseNormalization(3, 0.5, 0.9, 2.0)),
                                   image_case(lambda: L.LocalResponseNormalization(4, 0.2, 0.6, 1.5))],
    "Padding2D": [image_case(lambda: L.Padding2D(((1, 2), (0, 3)), "reflect")),
                  image_case(lambda: L.Padding2D(2, value=-0.5)), image_case(lambda: L.Padding2D((1, 3), "wrap"))],
    "Permute": [lambda x: L.Permute((2, 3, 1))(x), lambda x: L.BatchNormalization()(L.Permute((3, 1, 2))(x))],
    "Concatenate": [lambda x: L.Concatenate(axis=2)([x, L.ReLU()(x)]), lambda x: L.Concatenate()([x, x])],
    "ZeroPadding2D": [image_case(lambda: L.ZeroPadding2D(((1, 2), (0, 3))))],
    "Reshape": [lambda x: L.BatchNormalization()(L.Reshape((8, -1))(x))],
    "Rescaling": [image_case(lambda: L.Rescaling(0.5, offset=-0.25))],
    "CropLike": [lambda x: L.CropLike()([L.UpSampling2D(2)(L.MaxPooling2D(2, padding="same")(x)), x]),  # 8x8 to 7x8
                 lambda x: L.BatchNormalization()(L.CropLike()([L.ZeroPadding2D(((0, 3), (0, 1)))(x), L.ReLU()(x)]))],
    "UpSampling2D": [image_case(lambda: L.UpSampling2D((3, 2))),
                     image_case(lambda: L.UpSampling2D((2, 3), interpolation="bilinear"))],
}


def layer_classes():
    """minifer's own layer classes (tests register layers of their own too)."""
    return {name for name, cls in L.Layer.registry.items()
            if cls.__module__.startswith("minifer.") and not issubclass(cls, (minifer.Model, L.InputLayer))}


def randomised(model, seed):
    """Every weight (BatchNorm statistics included) drawn away from its initial value."""
    rng = numpy.random.default_rng(seed)
    for w in model.weights:
        low = 0.5 if w.name.endswith(("moving_variance", "gamma")) else -1.0
        w.assign(rng.uniform(low, 1.5, w.shape).astype(w.dtype))
    return model


def case_model(name, index, dtype="float32"):
    """Case ``index`` of layer class ``name`` as a model with randomised weights."""
    with L.fresh_names():
        x = minifer.Input(SHAPE, dtype=dtype)
        return randomised(minifer.Model(x, CASES[name][index](x)), seed=index)


CASE_IDS = [(name, i) for name in sorted(CASES) for i in range(len(CASES[name]))]
