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
dcgan compact, G (128, 64) with        701,889       36,577
  3x3 kernels, D (32, 64)
dcgan 32x32x3, G (512, 256, 128)     3,448,579      663,361
  D (64, 128, 256)
course_cifar G (32x32x3)             1,374,339      (dcgan D)
cgan (dcgan 28x28, 10 classes)       1,782,505      201,409
==================================  ===========  ===============
"""

from __future__ import annotations

import functools

import keras
from keras import layers

from . import runtime
from .data import is_points
from .options import LATENT_DIM, positive_int

INIT_STD = 0.02  # Radford et al., Section 4: all weights from N(0, 0.02)
LEAKY_SLOPE = 0.2
# Batch-norm moving statistics decay as in PyTorch (0.1 update), the reference DCGAN's
# framework; Keras' 0.99 leaves epoch-1 samples of a small dataset a flat grey in inference.
BN_MOMENTUM = 0.9
# DCGAN default channel widths by number of stride-2 steps (2 for 28x28, 3 for 32x32).
GENERATOR_WIDTHS = {2: (256, 128), 3: (512, 256, 128)}
DISCRIMINATOR_WIDTHS = {2: (64, 128), 3: (64, 128, 256)}


def _after_setup(builder):
    """``builder``, made to call ``runtime.configure()`` first (a no-op after the first
    call): no model of this package is built before the device and precision set-up."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        runtime.configure()
        return builder(*args, **kwargs)
    return build


def _init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=INIT_STD)


def _check_shape(image_shape):
    image_shape = tuple(int(d) for d in image_shape)
    if len(image_shape) != 3 or min(image_shape) < 1:
        raise ValueError(f"image_shape must be (height, width, channels), got {image_shape}")
    return image_shape


def packed_shape(sample_shape, pack: int) -> tuple:
    """The shape a PacGAN discriminator judges (Lin et al. 2018): ``pack`` samples of
    ``sample_shape`` side by side on the last axis, e.g. (28, 28, 1) packed by 2 ->
    (28, 28, 2), a point (2,) -> (4,). ValueError unless ``pack`` is an integer >= 1."""
    pack = positive_int(pack, "pack")
    return (*sample_shape[:-1], sample_shape[-1] * pack)


def pack_of(sample_shape, judged) -> int | None:
    """How many samples of ``sample_shape`` a discriminator that takes ``judged`` packs
    together: 1 for a plain D, m for a PacGAN D, None when the shapes do not fit."""
    sample_shape, judged = tuple(sample_shape), tuple(judged)
    if len(judged) != len(sample_shape) or judged[:-1] != sample_shape[:-1] \
            or judged[-1] % sample_shape[-1]:
        return None
    return judged[-1] // sample_shape[-1]


# --- dense GAN (Goodfellow et al. 2014) ----------------------------------------------


@_after_setup
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
        # sqrt(var + eps), not std: std's gradient is NaN where a batch does not vary at
        # all, which is exactly the collapsed batch this feature is for. In float32 under
        # mixed precision: in float16 the eps rounds to 0.
        variance = keras.ops.var(keras.ops.cast(x, "float32"), axis=0)
        spread = keras.ops.cast(keras.ops.mean(keras.ops.sqrt(variance + 1e-8)), x.dtype)
        return keras.ops.concatenate(
            [x, keras.ops.broadcast_to(spread, (keras.ops.shape(x)[0], 1))], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)


def _spectral(layer, spectral_norm):
    """``layer``, wrapped in spectral normalisation (Miyato et al. 2018: its kernel divided
    by its largest singular value, estimated by one power iteration a training step) when
    ``spectral_norm``; the wrapper keeps the layer's name with "sn_" before it."""
    if not spectral_norm:
        return layer
    return layers.SpectralNormalization(layer, dtype=layer.dtype_policy, name=f"sn_{layer.name}")


def _normalization(kind):
    """The layer after a hidden D layer: "batch" norm, "layer" norm (over each image's
    features, for a WGAN-GP critic: Gulrajani et al. 2017, sec. 4) or None."""
    if kind == "batch":
        return layers.BatchNormalization(momentum=BN_MOMENTUM)
    if kind == "layer":
        return layers.LayerNormalization(axis=-1)
    if kind is None:
        return None
    raise ValueError(f"unknown normalization {kind!r}; choose 'batch', 'layer' or None")


@_after_setup
def dense_discriminator(image_shape=(28, 28, 1), hidden=(1024, 512, 256), dropout=0.3,
                        minibatch_std=False, spectral_norm=False, pack=1):
    """Dense D: images in [-1, 1], (N, *image_shape) -> logits (N, 1).

    LeakyReLU(0.2) and dropout as in Goodfellow et al.; ``hidden=(128,)`` is the
    course-skeleton variant. ``minibatch_std``: a ``MinibatchStdDev`` feature before the
    logit (measured in the 04 lab's notes); ``spectral_norm``: every Dense layer
    spectrally normalised. ``pack``: a PacGAN D that judges that many images at once,
    stacked on the channel axis (``packed_shape``; ``GAN.judge`` packs them).
    """
    image_shape = _check_shape(image_shape)
    images = keras.Input(packed_shape(image_shape, pack), name="images")
    x = layers.Flatten()(images)
    for units in hidden:
        x = _spectral(layers.Dense(units), spectral_norm)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    if minibatch_std:
        x = MinibatchStdDev()(x)
    logits = _spectral(layers.Dense(1, dtype="float32", name="logit"), spectral_norm)(x)
    return keras.Model(images, logits, name="dense_discriminator")


# --- networks of points (the 2-D mixtures of mixtures.py) ----------------------------


POINT_POLICY = "float32"  # the networks of points', whatever the global policy


def _in_float32(builder):
    """``builder``, made to build its network in float32 whatever the precision policy:
    a point's coordinates need float32 (bfloat16's 8-bit significand spaces numbers near the
    ring's radius 1 by 0.008, about its modes' standard deviation 0.01, and near the grid's
    outer means by 0.03), and an MLP this small trains no faster in a mixed policy
    (docs/mode-collapse.md, "Speed")."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        with runtime.policy_scope(POINT_POLICY):
            return builder(*args, **kwargs)
    return build


def _check_points(image_shape):
    image_shape = tuple(int(d) for d in image_shape)
    if len(image_shape) != 1 or image_shape[0] < 1:
        raise ValueError(f"a point's shape must be (dimensions,), got {image_shape}")
    return image_shape


@_after_setup
@_in_float32
def point_generator(image_shape=(2,), latent_dim=LATENT_DIM, hidden=(128, 128),
                    activation="relu", bound=None):
    """MLP G of the 2-D mixtures: z (N, latent_dim) -> points (N, *image_shape). Two hidden
    layers of 128 units as in VEEGAN's and Unrolled GAN's 2-D experiments, and a linear
    output layer; with ``bound`` b, a tanh scaled by b keeps every point in [-b, b] (as the
    images' tanh keeps them in [-1, 1]: G cannot run off beyond the data's frame)."""
    image_shape = _check_points(image_shape)
    z = keras.Input((latent_dim,), name="z")
    x = z
    for units in hidden:
        x = layers.Dense(units, activation=activation)(x)
    if bound is None:
        points = layers.Dense(image_shape[0], dtype="float32", name="points")(x)
    else:
        x = layers.Dense(image_shape[0], activation="tanh", dtype="float32")(x)
        points = layers.Rescaling(float(bound), dtype="float32", name="points")(x)
    return keras.Model(z, points, name="point_generator")


@_after_setup
@_in_float32
def point_discriminator(image_shape=(2,), hidden=(128, 128), activation="relu",
                        minibatch_std=False, spectral_norm=False, pack=1):
    """MLP D of the 2-D mixtures: points (N, *image_shape) -> logits (N, 1). ``pack``: a
    PacGAN D judging that many points side by side (N/pack, pack * dimensions);
    ``minibatch_std`` and ``spectral_norm`` as in ``dense_discriminator``."""
    image_shape = _check_points(image_shape)
    points = keras.Input(packed_shape(image_shape, pack), name="points")
    x = points
    for units in hidden:
        x = _spectral(layers.Dense(units, activation=activation), spectral_norm)(x)
    if minibatch_std:
        x = MinibatchStdDev()(x)
    logits = _spectral(layers.Dense(1, dtype="float32", name="logit"), spectral_norm)(x)
    return keras.Model(points, logits, name="point_discriminator")


# --- DCGAN (Radford et al. 2015) -----------------------------------------------------


def _upsamplings(image_shape):
    """How many stride-2 steps from the projection to the image: 28 = 7*2*2, 32 = 4*2*2*2."""
    height, width, _ = image_shape
    for steps in (3, 2):
        if height % 2**steps == 0 and width % 2**steps == 0 and height // 2**steps <= 7:
            return steps
    raise ValueError(f"DCGAN supports 28x28 and 32x32 style images, got {image_shape}")


@_after_setup
def dcgan_generator(image_shape=(28, 28, 1), latent_dim=LATENT_DIM, widths=None, kernel=4,
                    batch_norm=True):
    """DCGAN G: z (N, latent_dim) -> images in [-1, 1], (N, *image_shape).

    A dense projection to (H/2^k, W/2^k, widths[0]), then k fractional-strided convolutions
    (Conv2DTranspose, stride 2) halving the channels; batch norm + ReLU after every layer
    but the output, which is tanh. ``widths`` has k entries: (256, 128) for 28x28,
    (512, 256, 128) for 32x32. ``batch_norm=False``: ReLU alone (the hidden layers then
    take a bias); Radford et al. 2015 (sec. 3) credit batch norm in G with keeping it from
    collapsing all samples to a single point.
    """
    image_shape = _check_shape(image_shape)
    z = keras.Input((latent_dim,), name="z")
    images = _dcgan_upsample(z, image_shape, widths, kernel, batch_norm)
    return keras.Model(z, images, name="dcgan_generator")


def _dcgan_upsample(x, image_shape, widths, kernel, batch_norm=True):
    """The DCGAN generator's layers from a (N, F) tensor to images (N, *image_shape);
    batch norm after each hidden layer when ``batch_norm``."""
    steps = _upsamplings(image_shape)
    widths = tuple(widths or GENERATOR_WIDTHS[steps])
    if len(widths) != steps:
        raise ValueError(f"{image_shape} needs {steps} generator widths, got {widths}")
    height, width, channels = image_shape
    start = (height // 2**steps, width // 2**steps)
    x = layers.Dense(start[0] * start[1] * widths[0], use_bias=not batch_norm,
                     kernel_initializer=_init())(x)
    x = layers.Reshape((*start, widths[0]))(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    for filters in widths[1:]:
        x = layers.Conv2DTranspose(filters, kernel, strides=2, padding="same",
                                   use_bias=not batch_norm, kernel_initializer=_init())(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(
        channels, kernel, strides=2, padding="same", kernel_initializer=_init()
    )(x)
    # float32 output even under mixed precision: tanh and the losses need the precision.
    return layers.Activation("tanh", dtype="float32")(x)


@_after_setup
def course_cifar_generator(image_shape=(32, 32, 3), latent_dim=LATENT_DIM):
    """The course's CIFAR-10 G: z (N, latent_dim) -> images in [-1, 1], (N, 32, 32, 3).

    One fully connected layer to 4x4x256, then four 3x3 transposed convolutions with 256,
    128 and 64 channels (stride 2: 4 -> 8 -> 16 -> 32) and 3 (stride 1), LeakyReLU(0.2)
    between them and tanh at the end; no batch norm.
    """
    image_shape = _check_shape(image_shape)
    if image_shape != (32, 32, 3):
        raise ValueError(f"the course_cifar generator makes 32x32x3 images, not {image_shape}")
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(4 * 4 * 256, kernel_initializer=_init())(z)
    x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Reshape((4, 4, 256))(x)
    for filters in (256, 128, 64):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same",
                                   kernel_initializer=_init())(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Conv2DTranspose(3, 3, strides=1, padding="same", kernel_initializer=_init())(x)
    images = layers.Activation("tanh", dtype="float32")(x)
    return keras.Model(z, images, name="course_cifar_generator")


@_after_setup
def dcgan_discriminator(image_shape=(28, 28, 1), widths=None, kernel=4, minibatch_std=False,
                        normalization="batch", spectral_norm=False, pack=1):
    """DCGAN D: images in [-1, 1], (N, *image_shape) -> logits (N, 1).

    k strided convolutions (stride 2, no pooling) doubling the channels, LeakyReLU(0.2),
    batch norm on all but the input layer, then the flattened last feature map feeds one
    logit. ``widths``: (64, 128) for 28x28, (64, 128, 256) for 32x32. ``minibatch_std``: a
    ``MinibatchStdDev`` feature beside the flattened map (measured in the 04 lab's notes).
    ``normalization``: "batch" (Radford), "layer" (a WGAN-GP critic, whose penalty is per
    image, so batch statistics must not mix images) or None. ``spectral_norm``: every
    convolution and the logit layer spectrally normalised (Miyato et al. 2018). ``pack``:
    a PacGAN D (Lin et al. 2018) judging that many images stacked on the channel axis.
    """
    image_shape = _check_shape(image_shape)
    images = keras.Input(packed_shape(image_shape, pack), name="images")
    logits = _dcgan_downsample(images, image_shape, widths, kernel, minibatch_std=minibatch_std,
                               normalization=normalization, spectral_norm=spectral_norm)
    return keras.Model(images, logits, name="dcgan_discriminator")


def _dcgan_downsample(x, image_shape, widths, kernel, with_features=False, minibatch_std=False,
                      normalization="batch", spectral_norm=False):
    """The DCGAN discriminator's layers from images (N, H, W, C) to logits (N, 1) (and the
    flattened last feature map, (N, F), ``with_features``)."""
    steps = _upsamplings(image_shape)
    widths = tuple(widths or DISCRIMINATOR_WIDTHS[steps])
    if len(widths) != steps:
        raise ValueError(f"{image_shape} needs {steps} discriminator widths, got {widths}")
    for index, filters in enumerate(widths):
        normalized = index > 0 and normalization is not None  # never the input layer (sec. 3)
        convolution = layers.Conv2D(filters, kernel, strides=2, padding="same",
                                    use_bias=not normalized, kernel_initializer=_init(),
                                    name=f"conv_{index}")
        x = _spectral(convolution, spectral_norm)(x)
        if normalized:
            x = _normalization(normalization)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE, name=f"features_{index}")(x)
    features = layers.Flatten()(x)
    if minibatch_std:
        features = MinibatchStdDev()(features)
    logit = _spectral(layers.Dense(1, kernel_initializer=_init(), dtype="float32",
                                   name="logit"), spectral_norm)(features)
    return (logit, features) if with_features else logit


# --- conditional GAN (Mirza & Osindero 2014) ------------------------------------------

LABEL_LAYER = "label_embedding"


@_after_setup
def conditional_generator(image_shape=(28, 28, 1), latent_dim=LATENT_DIM, classes=10,
                          widths=None, kernel=4):
    """Class-conditional DCGAN G: [z (N, latent_dim), labels (N,) ints in [0, classes)]
    -> images in [-1, 1], (N, *image_shape).

    z is multiplied element-wise by a learned embedding of the label (as in common AC-GAN
    code): appended as a one-hot instead, the label is easily ignored early in training.
    """
    image_shape = _check_shape(image_shape)
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="label")
    code = layers.Embedding(classes, latent_dim, name=LABEL_LAYER)(labels)
    x = layers.Multiply()([z, code])
    images = _dcgan_upsample(x, image_shape, widths, kernel)
    return keras.Model([z, labels], images, name="conditional_generator")


@_after_setup
def conditional_discriminator(image_shape=(28, 28, 1), classes=10, widths=None, kernel=4,
                              normalization="batch", spectral_norm=False):
    """Class-conditional DCGAN D: [images (N, *image_shape) in [-1, 1], labels (N,)] ->
    logits (N, 1).

    A projection discriminator (Miyato & Koyama 2018): the DCGAN D's logit plus the dot
    product of its last features with a learned embedding of the label, so a well-drawn
    digit of the wrong class scores low.
    """
    image_shape = _check_shape(image_shape)
    images = keras.Input(image_shape, name="images")
    labels = keras.Input((), dtype="int32", name="label")
    logit, features = _dcgan_downsample(images, image_shape, widths, kernel, with_features=True,
                                        normalization=normalization, spectral_norm=spectral_norm)
    code = layers.Embedding(classes, features.shape[-1], name=LABEL_LAYER)(labels)
    projection = layers.Dot(axes=1)([code, features])
    logits = layers.Add(dtype="float32", name="conditional_logit")([logit, projection])
    return keras.Model([images, labels], logits, name="conditional_discriminator")


def label_classes(model) -> int | None:
    """Number of classes a conditional generator or discriminator takes; None if it is
    unconditional."""
    try:
        return int(model.get_layer(LABEL_LAYER).input_dim)
    except ValueError:
        return None


ARCHITECTURES = {
    # name: (generator builder, discriminator builder)
    "gan": (dense_generator, dense_discriminator),
    "dcgan": (dcgan_generator, dcgan_discriminator),
    "cgan": (conditional_generator, conditional_discriminator),
}
# The dense GAN of points (N, dimensions) rather than images: an MLP pair.
POINT_ARCHITECTURES = {"gan": (point_generator, point_discriminator)}
# Named alternative generators (--arch): name -> (model it replaces G of, builder).
GENERATOR_ARCHS = {"course_cifar": ("dcgan", course_cifar_generator)}


def option_owners(name: str) -> list:
    """Which of "generator_options" and "discriminator_options" take ``name``: the keyword
    arguments of the built-in G or D builders (e.g. "minibatch_std", D's), leaving out the
    shapes ``runs`` gives them itself. Where a setting that ``train`` does not take belongs."""
    import inspect

    pairs = [*ARCHITECTURES.values(), *POINT_ARCHITECTURES.values()]
    return [role for role, index in (("generator_options", 0), ("discriminator_options", 1))
            if name not in ("image_shape", "latent_dim")
            and any(name in inspect.signature(pair[index]).parameters for pair in pairs)]


def build_generator(model: str, image_shape=(28, 28, 1), latent_dim=LATENT_DIM, options=None,
                    arch=None):
    """The built-in generator of ``model`` in ARCHITECTURES ("gan", "dcgan", "cgan"), with
    the builder's keyword ``options`` (e.g. {"batch_norm": False}); ``arch``: a named
    alternative from GENERATOR_ARCHS (e.g. "course_cifar", a dcgan generator)."""
    make_generator = _builders(model, image_shape)[0]
    if arch is not None:
        if arch not in GENERATOR_ARCHS:
            raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(GENERATOR_ARCHS)}")
        replaces, make_generator = GENERATOR_ARCHS[arch]
        if model != replaces:
            raise ValueError(f"arch {arch!r} is a {replaces} generator; train {replaces} with it")
    return _built(make_generator, options, image_shape, latent_dim=latent_dim)


def build_discriminator(model: str, image_shape=(28, 28, 1), options=None):
    """The built-in discriminator of ``model``, with the builder's keyword ``options``."""
    return _built(_builders(model, image_shape)[1], options, image_shape)


def build_pair(model: str, image_shape=(28, 28, 1), latent_dim=LATENT_DIM,
               generator_options=None, discriminator_options=None, arch=None):
    """(build_generator(...), build_discriminator(...)) for ``model``."""
    return (build_generator(model, image_shape, latent_dim, generator_options, arch),
            build_discriminator(model, image_shape, discriminator_options))


def _built(builder, options, *args, **kwargs):
    """``builder(*args, **kwargs, **options)``, or a ValueError naming the options it
    does not take."""
    import inspect

    accepted = inspect.signature(builder).parameters
    unknown = sorted(set(options or {}) - set(accepted))
    if unknown:
        known = [name for name in accepted if name not in ("image_shape", "latent_dim")]
        raise ValueError(f"{builder.__name__} takes no option {', '.join(unknown)}; its "
                         f"options are {', '.join(known)}")
    return builder(*args, **kwargs, **(options or {}))


def _builders(model, image_shape=(28, 28, 1)):
    if model not in ARCHITECTURES:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(ARCHITECTURES)}")
    if is_points(image_shape):
        if model not in POINT_ARCHITECTURES:
            raise ValueError(f"{model} draws images; train the dense GAN (gan) on points")
        return POINT_ARCHITECTURES[model]
    return ARCHITECTURES[model]


def _inputs(model, role: str):
    """``model.inputs``, or a ValueError saying how to give the model a defined input."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"the {role} ({type(model).__name__} {getattr(model, 'name', '')!r}) has no "
            "defined input shape yet; start it with keras.Input, e.g. keras.Sequential("
            "[keras.Input((100,)), ...]) for a generator or keras.Input((28, 28, 1)) for a "
            "discriminator")
    return inputs


def latent_size(generator) -> int:
    """The length of the z a generator takes: its first input's last dimension."""
    return int(_inputs(generator, "generator")[0].shape[-1])


def judged_shape(discriminator) -> tuple:
    """The shape a discriminator takes (H, W, C), or (dimensions,) for points; a PacGAN
    D's has the packed samples on the last axis: its first input's shape."""
    return tuple(int(d) for d in _inputs(discriminator, "discriminator")[0].shape[1:])


def trainable_params(model: keras.Model) -> int:
    """Number of trainable parameters (batch-norm moving statistics excluded)."""
    return int(sum(w.numpy().size for w in model.trainable_weights))


def _size(image_shape):
    height, width, channels = image_shape
    return height * width * channels
