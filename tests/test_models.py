import keras
import numpy as np
import pytest
from keras import layers

from gan_lab import models
from gan_lab.config import COMPACT_DCGAN

BUILDS = {
    "dense": lambda: (models.dense_generator(), models.dense_discriminator()),
    "dense_course": lambda: (models.dense_generator(hidden=(128,)),
                             models.dense_discriminator(hidden=(128,))),
    "dcgan": lambda: models.build_pair("dcgan"),
    # The compact DCGAN a run without a preset trains (config.COMPACT_DCGAN).
    "dcgan_compact": lambda: models.build_pair("dcgan", **COMPACT_DCGAN),
    "dcgan_cifar": lambda: models.build_pair("dcgan", (32, 32, 3)),
    "course_cifar": lambda: models.build_pair("dcgan", (32, 32, 3), arch="course_cifar"),
}
# The parameter counts documented in gan_lab/models.py.
PARAMS = {
    "dense": (1_489_424, 1_460_225),
    "dense_course": (114_064, 100_609),
    "dcgan": (1_781_505, 138_689),
    "dcgan_compact": (701_889, 36_577),
    "dcgan_cifar": (3_448_579, 663_361),
    "course_cifar": (1_374_339, 663_361),
}
SHAPES = {"dense": (28, 28, 1), "dense_course": (28, 28, 1), "dcgan": (28, 28, 1),
          "dcgan_compact": (28, 28, 1),
          "dcgan_cifar": (32, 32, 3), "course_cifar": (32, 32, 3)}


@pytest.fixture(scope="module", params=sorted(BUILDS))
def pair(request):
    keras.utils.set_random_seed(0)
    return request.param, *BUILDS[request.param]()


def test_shapes_and_ranges(pair):
    name, generator, discriminator = pair
    shape = SHAPES[name]
    z = np.random.default_rng(0).standard_normal((5, 100)).astype(np.float32) * 10
    images = np.asarray(generator(z, training=False))
    assert images.shape == (5, *shape)
    assert images.min() >= -1.0 and images.max() <= 1.0
    logits = np.asarray(discriminator(images, training=False))
    assert logits.shape == (5, 1)


def test_parameter_counts_match_the_documentation(pair):
    name, generator, discriminator = pair
    assert (models.trainable_params(generator), models.trainable_params(discriminator)) == PARAMS[name]


def test_outputs_are_tanh_images_and_linear_logits(pair):
    _, generator, discriminator = pair
    last = generator.layers[-1]
    while isinstance(last, layers.Reshape):
        last = generator.layers[generator.layers.index(last) - 1]
    assert isinstance(last, layers.Activation) and last.get_config()["activation"] == "tanh"
    logit = discriminator.layers[-1]
    assert isinstance(logit, layers.Dense) and logit.units == 1
    assert logit.get_config()["activation"] == "linear"


@pytest.mark.parametrize("name", ["dcgan", "dcgan_cifar"])
def test_dcgan_weights_initialised_normal_std_002(name):
    # Radford's N(0, 0.02) is the DCGAN's; the dense GAN keeps Keras' Glorot default.
    keras.utils.set_random_seed(0)
    generator, discriminator = BUILDS[name]()
    for model in (generator, discriminator):
        for layer in model.layers:
            if isinstance(layer, (layers.Dense, layers.Conv2D, layers.Conv2DTranspose)):
                kernel = layer.kernel.numpy()
                if kernel.size >= 2000:
                    assert abs(kernel.std() - 0.02) < 0.002, layer.name
                    assert abs(kernel.mean()) < 0.002, layer.name


def test_discriminators_use_leaky_relu_02(pair):
    _, _, discriminator = pair
    slopes = [l.negative_slope for l in discriminator.layers if isinstance(l, layers.LeakyReLU)]
    assert slopes and all(s == pytest.approx(0.2) for s in slopes)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_dcgan_follows_radford_guidelines(shape):
    generator, discriminator = models.build_pair("dcgan", shape)
    g_layers, d_layers = generator.layers, discriminator.layers
    pooling = (layers.MaxPooling2D, layers.AveragePooling2D, layers.GlobalAveragePooling2D,
               layers.GlobalMaxPooling2D, layers.UpSampling2D)
    assert not [l for l in g_layers + d_layers if isinstance(l, pooling)]

    # G: one dense projection, then only stride-2 transposed convolutions; ReLU; BN on every
    # layer but the output.
    assert sum(isinstance(l, layers.Dense) for l in g_layers) == 1
    transposed = [l for l in g_layers if isinstance(l, layers.Conv2DTranspose)]
    assert transposed and all(l.strides == (2, 2) for l in transposed)
    assert any(isinstance(l, layers.ReLU) for l in g_layers)
    output_conv = g_layers.index(transposed[-1])
    assert not any(isinstance(l, layers.BatchNormalization) for l in g_layers[output_conv:])
    assert sum(isinstance(l, layers.BatchNormalization) for l in g_layers) == len(transposed)

    # D: stride-2 convolutions, no BN right after the input layer, BN on the others,
    # one dense logit and no hidden dense layer.
    convs = [l for l in d_layers if isinstance(l, layers.Conv2D)]
    assert convs and all(l.strides == (2, 2) for l in convs)
    after_first = d_layers[d_layers.index(convs[0]) + 1]
    assert isinstance(after_first, layers.LeakyReLU)
    assert sum(isinstance(l, layers.BatchNormalization) for l in d_layers) == len(convs) - 1
    assert sum(isinstance(l, layers.Dense) for l in d_layers) == 1


def test_bad_shapes_and_names():
    with pytest.raises(ValueError, match="28x28 and 32x32"):
        models.dcgan_generator((30, 30, 1))
    with pytest.raises(ValueError, match="needs 2 generator widths"):
        models.dcgan_generator((28, 28, 1), widths=(64,))
    with pytest.raises(ValueError, match="unknown model 'vae'"):
        models.build_pair("vae")


def test_conditional_parameter_counts_match_the_documentation():
    generator, discriminator = models.build_pair("cgan")
    assert (models.trainable_params(generator), models.trainable_params(discriminator)) == \
        (1_782_505, 201_409)


def test_minibatch_std_appends_the_batch_spread_and_has_a_gradient_on_a_collapsed_batch():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    features = rng.normal(size=(8, 5)).astype("float32")
    out = keras.ops.convert_to_numpy(models.MinibatchStdDev()(features))
    assert out.shape == (8, 6)
    np.testing.assert_allclose(out[:, :5], features)
    np.testing.assert_allclose(out[:, 5], features.std(axis=0).mean(), rtol=1e-4)

    # A batch of identical rows is what a collapsed G hands D: the gradient through the
    # feature must stay finite there (std's is NaN at zero variance).
    copies = tf.Variable(np.repeat(features[:1], 8, axis=0))
    with tf.GradientTape() as tape:
        spread = tf.reduce_sum(models.MinibatchStdDev()(copies)[:, 5])
    gradient = tape.gradient(spread, copies).numpy()
    assert np.isfinite(gradient).all()


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3)])
def test_dcgan_discriminator_with_minibatch_std_adds_one_feature(image_shape):
    plain = models.dcgan_discriminator(image_shape)
    spread = models.dcgan_discriminator(image_shape, minibatch_std=True)
    assert models.trainable_params(spread) == models.trainable_params(plain) + 1
    images = np.zeros((4, *image_shape), "float32")
    assert spread(images).shape == (4, 1)


def test_dcgan_generator_without_batch_norm_has_biases_instead():
    plain = models.dcgan_generator(batch_norm=False)
    assert not [layer for layer in plain.layers if isinstance(layer, layers.BatchNormalization)]
    weighted = [layer for layer in plain.layers if isinstance(layer, (layers.Dense,
                                                                     layers.Conv2DTranspose))]
    assert weighted and all(layer.use_bias for layer in weighted)
    assert plain.output_shape == models.dcgan_generator().output_shape == (None, 28, 28, 1)
