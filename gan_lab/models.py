"""Generators and discriminators: the dense GAN (Goodfellow et al. 2014) and the DCGAN
(Radford et al. 2015).

Generators map z, shape (N, latent_dim), to images in [-1, 1] (tanh), shape (N, H, W, C).
Discriminators map images to one logit each, shape (N, 1): sigmoid(logit) = P(real).
All models are plain functional Keras models of built-in layers, so a saved ``.keras``
file loads in a fresh process with no custom objects.

Default sizes, latent_dim=100 (trainable parameters; tests/test_models.py checks them):

==================================  ===========  ===============
builder (widths)                    generator    discriminator
==================================  ===========  ===============
dense (256, 512, 1024), 28x28x1      1,489,424    1,460,225
dense (128,), course variant           114,064      100,609
dcgan G (256, 128) D (64, 128)       1,781,505      138,689
dcgan 32x32x3, G (512, 256, 128)     3,448,579      663,361
  D (64, 128, 256)
==================================  ===========  ===============
"""

from __future__ import annotations

import keras
from keras import layers

LATENT_DIM = 100
INIT_STD = 0.02  # Radford et al., Section 4: all weights from N(0, 0.02)
LEAKY_SLOPE = 0.2
# Batch-norm moving statistics decay as in PyTorch (0.1 update), the reference DCGAN's
# framework; Keras' 0.99 leaves epoch-1 samples of a small dataset a flat grey in inference.
BN_MOMENTUM = 0.9
# DCGAN default channel widths by number of stride-2 steps (2 for 28x28, 3 for 32x32).
GENERATOR_WIDTHS = {2: (256, 128), 3: (512, 256, 128)}
DISCRIMINATOR_WIDTHS = {2: (64, 128), 3: (64, 128, 256)}


def _init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=INIT_STD)


def _check_shape(image_shape):
    image_shape = tuple(int(d) for d in image_shape)
    if len(image_shape) != 3 or min(image_shape) < 1:
        raise ValueError(f"image_shape must be (height, width, channels), got {image_shape}")
    return image_shape


# --- dense GAN (Goodfellow et al. 2014) ----------------------------------------------


def dense_generator(image_shape=(28, 28, 1), latent_dim=LATENT_DIM, hidden=(256, 512, 1024),
                    batch_norm=True):
    """Dense G: z (N, latent_dim) -> images in [-1, 1], (N, *image_shape).

    LeakyReLU(0.2) hidden layers; batch norm after every hidden layer but the first (it
    makes a dense G draw varied digits within a few hundred steps; without it the samples
    stay noise longer and collapse to few digits more often). ``hidden=(128,)`` is the
    one-hidden-layer course-skeleton variant. Keras' default (Glorot) initialisation.
    """
    image_shape = _check_shape(image_shape)
    z = keras.Input((latent_dim,), name="z")
    x = z
    for index, units in enumerate(hidden):
        x = layers.Dense(units)(x)
        if batch_norm and index > 0:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Dense(_size(image_shape))(x)
    # float32 output even under mixed precision: tanh and the losses need the precision.
    x = layers.Activation("tanh", dtype="float32")(x)
    images = layers.Reshape(image_shape, dtype="float32")(x)
    return keras.Model(z, images, name="dense_generator")


@keras.saving.register_keras_serializable(package="gan_lab")
class MinibatchStdDev(layers.Layer):
    """Appends one feature to (N, F): the mean over features of the standard deviation
    across the batch (Karras et al. 2018, section 3). A batch of near-copies, as a collapsed
    G makes, has a small one, so D can tell it from a varied real batch."""

    def call(self, x):
        spread = keras.ops.mean(keras.ops.std(x, axis=0))
        return keras.ops.concatenate(
            [x, keras.ops.broadcast_to(spread, (keras.ops.shape(x)[0], 1))], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)


def dense_discriminator(image_shape=(28, 28, 1), hidden=(1024, 512, 256), dropout=0.3,
                        minibatch_std=False):
    """Dense D: images in [-1, 1], (N, *image_shape) -> logits (N, 1).

    LeakyReLU(0.2) and dropout as in Goodfellow et al.; ``hidden=(128,)`` is the
    course-skeleton variant. ``minibatch_std``: a ``MinibatchStdDev`` feature before the
    logit, the mode-collapse remedy of the 04 lab.
    """
    image_shape = _check_shape(image_shape)
    images = keras.Input(image_shape, name="images")
    x = layers.Flatten()(images)
    for units in hidden:
        x = layers.Dense(units)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    if minibatch_std:
        x = MinibatchStdDev()(x)
    logits = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name="dense_discriminator")


# --- DCGAN (Radford et al. 2015) -----------------------------------------------------


def _upsamplings(image_shape):
    """How many stride-2 steps from the projection to the image: 28 = 7*2*2, 32 = 4*2*2*2."""
    height, width, _ = image_shape
    for steps in (3, 2):
        if height % 2**steps == 0 and width % 2**steps == 0 and height // 2**steps <= 7:
            return steps
    raise ValueError(f"DCGAN supports 28x28 and 32x32 style images, got {image_shape}")


def dcgan_generator(image_shape=(28, 28, 1), latent_dim=LATENT_DIM, widths=None, kernel=4):
    """DCGAN G: z (N, latent_dim) -> images in [-1, 1], (N, *image_shape).

    A dense projection to (H/2^k, W/2^k, widths[0]), then k fractional-strided convolutions
    (Conv2DTranspose, stride 2) halving the channels; batch norm + ReLU after every layer
    but the output, which is tanh. ``widths`` has k entries: (256, 128) for 28x28,
    (512, 256, 128) for 32x32.
    """
    image_shape = _check_shape(image_shape)
    steps = _upsamplings(image_shape)
    widths = tuple(widths or GENERATOR_WIDTHS[steps])
    if len(widths) != steps:
        raise ValueError(f"{image_shape} needs {steps} generator widths, got {widths}")
    height, width, channels = image_shape
    start = (height // 2**steps, width // 2**steps)

    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(start[0] * start[1] * widths[0], use_bias=False, kernel_initializer=_init())(z)
    x = layers.Reshape((*start, widths[0]))(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    for filters in widths[1:]:
        x = layers.Conv2DTranspose(
            filters, kernel, strides=2, padding="same", use_bias=False, kernel_initializer=_init()
        )(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(
        channels, kernel, strides=2, padding="same", kernel_initializer=_init()
    )(x)
    images = layers.Activation("tanh", dtype="float32")(x)
    return keras.Model(z, images, name="dcgan_generator")


def dcgan_discriminator(image_shape=(28, 28, 1), widths=None, kernel=4):
    """DCGAN D: images in [-1, 1], (N, *image_shape) -> logits (N, 1).

    k strided convolutions (stride 2, no pooling) doubling the channels, LeakyReLU(0.2),
    batch norm on all but the input layer, then the flattened last feature map feeds one
    logit. ``widths``: (64, 128) for 28x28, (64, 128, 256) for 32x32.
    """
    image_shape = _check_shape(image_shape)
    steps = _upsamplings(image_shape)
    widths = tuple(widths or DISCRIMINATOR_WIDTHS[steps])
    if len(widths) != steps:
        raise ValueError(f"{image_shape} needs {steps} discriminator widths, got {widths}")

    images = keras.Input(image_shape, name="images")
    x = images
    for index, filters in enumerate(widths):
        x = layers.Conv2D(
            filters, kernel, strides=2, padding="same", use_bias=index == 0,
            kernel_initializer=_init(),
        )(x)
        if index > 0:  # no batch norm on the input layer (Radford et al., Section 3)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Flatten()(x)
    logits = layers.Dense(1, kernel_initializer=_init(), dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name="dcgan_discriminator")


ARCHITECTURES = {
    # name: (generator builder, discriminator builder)
    "gan": (dense_generator, dense_discriminator),
    "dcgan": (dcgan_generator, dcgan_discriminator),
}


def build_pair(model: str, image_shape=(28, 28, 1), latent_dim=LATENT_DIM,
               generator_options=None, discriminator_options=None):
    """(generator, discriminator) for ``model`` in {"gan", "dcgan"}: default widths, and
    the builders' keyword ``*_options`` (e.g. {"batch_norm": False})."""
    if model not in ARCHITECTURES:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(ARCHITECTURES)}")
    make_generator, make_discriminator = ARCHITECTURES[model]
    return (
        make_generator(image_shape, latent_dim=latent_dim, **(generator_options or {})),
        make_discriminator(image_shape, **(discriminator_options or {})),
    )


def trainable_params(model: keras.Model) -> int:
    """Number of trainable parameters (batch-norm moving statistics excluded)."""
    return int(sum(w.numpy().size for w in model.trainable_weights))


def _size(image_shape):
    height, width, channels = image_shape
    return height * width * channels
