"""A hostile class of hand-made submissions, written from the solution notebooks: each student
is a folder of the notebooks with some exercise cells replaced (or a stranger layout). Used
by the grading tests and by benchmarks/grade_class.py.

``write_class(root, marker)`` returns ``{student: {exercise: phrase}}``: the exercises each
student must lose, each with a phrase its reason must contain; every other exercise must get
full marks. ``marker`` is written into every file and process a student's code tries to leave
behind, so the tests can look for it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
LABS = ROOT / "labs"
SELF_CHECK = ROOT / "gan_lab" / "grading" / "self_check.json"
ALL = ("scale_images", "build_generator", "build_discriminator", "discriminator_loss",
       "generator_loss_minimax", "generator_loss_non_saturating", "train_step",
       "conv_output_size", "conv_transpose_output_size", "build_dcgan_generator",
       "build_dcgan_discriminator", "mode_coverage", "pack_samples",
       "gradient_penalty", "hinge_discriminator_loss", "slerp", "pool_to_grid")

# --- correct answers in other styles -----------------------------------------------------------

# Functional API, separate Activation layers, tf.nn losses, a tf.function step.
FUNCTIONAL = {
    "scale_images": '''
def scale_images(pixels):
    x = tf.cast(tf.convert_to_tensor(pixels), tf.float32)
    x = tf.reshape(x, (-1, 28, 28, 1))
    return ((x - 127.5) / 127.5).numpy()
''',
    "build_generator": '''
def build_generator(latent_dim=100):
    z = keras.Input(shape=(latent_dim,))
    h = layers.LeakyReLU(negative_slope=0.2)(layers.Dense(256)(z))
    h = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(layers.Dense(512)(h)))
    h = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(layers.Dense(1024)(h)))
    h = layers.Activation("tanh")(layers.Dense(784)(h))
    return keras.Model(z, layers.Reshape((28, 28, 1))(h))
''',
    "build_discriminator": '''
def build_discriminator():
    x = keras.Input((28, 28, 1))
    h = layers.Flatten()(x)
    for units in (1024, 512, 256):
        h = layers.Dropout(0.3)(layers.Activation(keras.activations.leaky_relu)(layers.Dense(units)(h)))
    return keras.Model(x, layers.Dense(1)(h))
''',
    "discriminator_loss": '''
def discriminator_loss(real_logits, fake_logits):
    real = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(real_logits), logits=real_logits)
    fake = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake_logits), logits=fake_logits)
    return tf.reduce_mean(real) + tf.reduce_mean(fake)
''',
    "generator_loss_minimax": '''
def generator_loss_minimax(fake_logits):
    # log(1 - sigmoid(x)) = -softplus(x)
    return tf.reduce_mean(-tf.nn.softplus(fake_logits))
''',
    "generator_loss_non_saturating": '''
def generator_loss_non_saturating(fake_logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(fake_logits), logits=fake_logits))
''',
    "train_step": '''
@tf.function
def train_step(generator, discriminator, g_optimizer, d_optimizer, real_images, z):
    fakes = generator(z, training=True)
    with tf.GradientTape() as d_tape:
        d_loss = discriminator_loss(discriminator(real_images, training=True),
                                    discriminator(fakes, training=True))
    d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                    discriminator.trainable_variables))
    with tf.GradientTape() as g_tape:
        g_loss = generator_loss_non_saturating(discriminator(generator(z, training=True), training=True))
    g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                    generator.trainable_variables))
    return d_loss, g_loss
''',
    "conv_output_size": '''
import math

def conv_output_size(size, kernel, stride, padding):
    if padding == "valid":
        return math.floor((size - kernel) / stride) + 1
    return math.ceil(size / stride)
''',
    "build_dcgan_generator": '''
def build_dcgan_generator(latent_dim=100):
    init = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
    z = keras.Input((latent_dim,))
    h = layers.Reshape((7, 7, 256))(layers.Dense(7 * 7 * 256, use_bias=False, kernel_initializer=init)(z))
    h = layers.Activation("relu")(layers.BatchNormalization()(h))
    h = layers.Conv2DTranspose(128, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init)(h)
    h = layers.Activation("relu")(layers.BatchNormalization()(h))
    h = layers.Conv2DTranspose(1, 4, strides=2, padding="same", kernel_initializer=init)(h)
    return keras.Model(z, layers.Activation("tanh")(h))
''',
    "build_dcgan_discriminator": '''
def build_dcgan_discriminator():
    init = keras.initializers.RandomNormal(stddev=0.02)
    x = keras.Input((28, 28, 1))
    h = layers.Conv2D(64, 4, strides=2, padding="same", kernel_initializer=init)(x)
    h = layers.Activation(lambda t: keras.activations.leaky_relu(t, negative_slope=0.2))(h)
    h = layers.Conv2D(128, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init)(h)
    h = layers.LeakyReLU(0.2)(layers.BatchNormalization()(h))
    return keras.Model(x, layers.Dense(1, kernel_initializer=init)(layers.Flatten()(h)))
''',
    "mode_coverage": '''
def mode_coverage(points, means, std):
    covered, good = set(), 0
    for point in np.asarray(points):
        distances = [float(np.hypot(*(point - mean))) for mean in np.asarray(means)]
        if min(distances) <= 3 * std:
            good += 1
            covered.add(int(np.argmin(distances)))
    return len(covered), good / len(points)
''',
    "pack_samples": '''
def pack_samples(samples, m):
    x = tf.convert_to_tensor(samples)
    n = (x.shape[0] // m) * m
    return tf.concat([x[j:n:m] for j in range(m)], axis=-1).numpy()
''',
    "gradient_penalty": '''
def gradient_penalty(critic, real, fake, alpha):
    real, fake = tf.convert_to_tensor(real), tf.convert_to_tensor(fake)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        mixed = fake + alpha * (real - fake)
        tape.watch(mixed)
        score = tf.reduce_sum(critic(mixed, training=True))
    (slope,) = tape.gradient(score, [mixed])
    del tape
    flat = ops.reshape(slope, (ops.shape(slope)[0], -1))
    return ops.mean((ops.norm(flat, axis=-1) - 1.0) ** 2)
''',
    "hinge_discriminator_loss": '''
def hinge_discriminator_loss(real_scores, fake_scores):
    real_term = tf.reduce_mean(tf.maximum(0.0, 1.0 - real_scores))
    fake_term = tf.reduce_mean(tf.maximum(0.0, 1.0 + fake_scores))
    return real_term + fake_term
''',
    "slerp": '''
def slerp(z0, z1, t):
    z0, z1 = np.asarray(z0, float), np.asarray(z1, float)
    u0, u1 = z0 / np.linalg.norm(z0), z1 / np.linalg.norm(z1)
    omega = np.arccos(np.clip(u0 @ u1, -1, 1))
    points = []
    for s in np.asarray(t, float):
        if np.sin(omega) < 1e-8:
            points.append((1 - s) * z0 + s * z1)
        else:
            points.append(np.sin((1 - s) * omega) / np.sin(omega) * z0 + np.sin(s * omega) / np.sin(omega) * z1)
    return np.stack(points)
''',
    "pool_to_grid": '''
def pool_to_grid(feature_maps, grid=4):
    m = np.asarray(feature_maps)
    n, h, w, c = m.shape
    rows = [(i * h // grid, -(-(i + 1) * h // grid)) for i in range(grid)]
    cols = [(j * w // grid, -(-(j + 1) * w // grid)) for j in range(grid)]
    cells = [m[:, a:b, c0:c1].max(axis=(1, 2)) for a, b in rows for c0, c1 in cols]
    return np.stack(cells, axis=1).reshape(n, -1)
''',
}

# Sequential with activations as keyword arguments and ReLU(negative_slope=...).
KEYWORDS = {
    "build_generator": '''
def build_generator(latent_dim=100):
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(256, activation=keras.activations.leaky_relu),
        layers.Dense(512), layers.BatchNormalization(), layers.ReLU(negative_slope=0.2),
        layers.Dense(1024), layers.BatchNormalization(), layers.ReLU(negative_slope=0.2),
        layers.Dense(784), layers.Activation(keras.activations.tanh),
        layers.Reshape((28, 28, 1)),
    ])
''',
    "build_discriminator": '''
def build_discriminator():
    return keras.Sequential([
        layers.Input((28, 28, 1)), layers.Reshape((784,)),
        layers.Dense(1024, activation=keras.activations.leaky_relu), layers.Dropout(rate=0.3),
        layers.Dense(512), layers.ReLU(negative_slope=0.2), layers.Dropout(rate=0.3),
        layers.Dense(256), layers.Lambda(lambda t: tf.maximum(t, 0.2 * t)), layers.Dropout(rate=0.3),
        layers.Dense(1, activation=None),
    ])
''',
    "build_dcgan_generator": '''
def build_dcgan_generator(latent_dim=100):
    normal = dict(kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02))
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(12544, use_bias=False, **normal), layers.Reshape((7, 7, 256)),
        layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same", use_bias=False, **normal),
        layers.BatchNormalization(), layers.Activation("relu"),
        layers.Conv2DTranspose(1, (4, 4), strides=(2, 2), padding="same", activation=keras.activations.tanh, **normal),
    ])
''',
    "build_dcgan_discriminator": '''
def build_dcgan_discriminator():
    normal = keras.initializers.RandomNormal(stddev=0.02)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 4, strides=2, padding="same", kernel_initializer=normal,
                      activation=keras.activations.leaky_relu),
        layers.Conv2D(128, 4, strides=2, padding="same", use_bias=False, kernel_initializer=normal),
        layers.BatchNormalization(), layers.ReLU(negative_slope=0.2),
        layers.Flatten(), layers.Dense(1, kernel_initializer=normal),
    ])
''',
    "train_step": '''
def train_step(generator, discriminator, g_optimizer, d_optimizer, real_images, z):
    # one D call on real and fake together
    with tf.GradientTape() as tape:
        fakes = generator(z, training=True)
        logits = discriminator(tf.concat([real_images, fakes], axis=0), training=True)
        n = tf.shape(real_images)[0]
        d_loss = discriminator_loss(logits[:n], logits[n:])
    d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_weights),
                                    discriminator.trainable_weights))
    with tf.GradientTape() as tape:
        g_loss = generator_loss_non_saturating(discriminator(generator(z, training=True), training=True))
    g_optimizer.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_weights),
                                    generator.trainable_weights))
    return d_loss, g_loss
''',
    "discriminator_loss": '''
bce = keras.losses.BinaryCrossentropy(from_logits=True)

def discriminator_loss(real_logits, fake_logits):
    return bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
''',
    "conv_transpose_output_size": '''
def conv_transpose_output_size(size, kernel, stride, padding):
    return size * stride if padding == "same" else (size - 1) * stride + max(kernel, stride)
''',
    "gradient_penalty": '''
def gradient_penalty(critic, real, fake, alpha):
    with tf.GradientTape() as tape:
        interpolates = tf.Variable(alpha * real + (1 - alpha) * fake, trainable=False)
        tape.watch(interpolates)
        gradients = tape.gradient(critic(interpolates), interpolates)
    slopes = tf.sqrt(tf.reduce_sum(gradients ** 2, axis=list(range(1, len(gradients.shape)))))
    return tf.reduce_mean((slopes - 1.) ** 2)
''',
    "hinge_discriminator_loss": '''
def hinge_discriminator_loss(real_scores, fake_scores):
    return ops.mean(ops.relu(ops.ones_like(real_scores) - real_scores)) + ops.mean(
        ops.relu(ops.ones_like(fake_scores) + fake_scores))
''',
}

# Subclassed keras.Model: layers made in __init__, activations called inside call().
SUBCLASSED = {
    "build_generator": '''
class Generator(keras.Model):
    def __init__(self, latent_dim):
        super().__init__()
        self.dense1 = layers.Dense(256)
        self.dense2, self.norm2 = layers.Dense(512), layers.BatchNormalization()
        self.dense3, self.norm3 = layers.Dense(1024), layers.BatchNormalization()
        self.out = layers.Dense(784)

    def call(self, z, training=False):
        h = tf.nn.leaky_relu(self.dense1(z), 0.2)
        h = tf.nn.leaky_relu(self.norm2(self.dense2(h), training=training), 0.2)
        h = tf.nn.leaky_relu(self.norm3(self.dense3(h), training=training), 0.2)
        return tf.reshape(tf.tanh(self.out(h)), (-1, 28, 28, 1))

def build_generator(latent_dim=100):
    return Generator(latent_dim)
''',
    "build_discriminator": '''
class Discriminator(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = [layers.Dense(n) for n in (1024, 512, 256)]
        self.drop = layers.Dropout(0.3)  # one layer, used three times
        self.logit = layers.Dense(1)

    def call(self, x, training=False):
        h = tf.reshape(x, (-1, 784))
        for dense in self.hidden:
            h = self.drop(keras.activations.leaky_relu(dense(h), negative_slope=0.2), training=training)
        return self.logit(h)

def build_discriminator():
    return Discriminator()
''',
    "build_dcgan_generator": '''
class DCGANGenerator(keras.Model):
    def __init__(self):
        super().__init__()
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.project = layers.Dense(7 * 7 * 256, use_bias=False, kernel_initializer=init)
        self.norm1 = layers.BatchNormalization()
        self.up1 = layers.Conv2DTranspose(128, 4, 2, padding="same", use_bias=False, kernel_initializer=init)
        self.norm2 = layers.BatchNormalization()
        self.up2 = layers.Conv2DTranspose(1, 4, 2, padding="same", kernel_initializer=init)

    def call(self, z, training=False):
        h = tf.reshape(self.project(z), (-1, 7, 7, 256))
        h = tf.nn.relu(self.norm1(h, training=training))
        h = tf.nn.relu(self.norm2(self.up1(h), training=training))
        return tf.tanh(self.up2(h))

def build_dcgan_generator(latent_dim=100):
    return DCGANGenerator()
''',
    "build_dcgan_discriminator": '''
class DCGANDiscriminator(keras.Model):
    def __init__(self):
        super().__init__()
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.conv1 = layers.Conv2D(64, 4, 2, padding="same", kernel_initializer=init)
        self.conv2 = layers.Conv2D(128, 4, 2, padding="same", use_bias=False, kernel_initializer=init)
        self.norm = layers.BatchNormalization()
        self.logit = layers.Dense(1, kernel_initializer=init)

    def call(self, x, training=False):
        h = tf.nn.leaky_relu(self.conv1(x), alpha=0.2)
        h = tf.nn.leaky_relu(self.norm(self.conv2(h), training=training), alpha=0.2)
        return self.logit(tf.reshape(h, (tf.shape(h)[0], -1)))

def build_dcgan_discriminator():
    return DCGANDiscriminator()
''',
    "scale_images": '''
def scale_images(pixels):
    return (np.expand_dims(np.reshape(pixels, (len(pixels), 28, 28)), -1) / np.float32(127.5) - 1).astype("float32")
''',
}

# --- planted bugs: each must lose its exercise, the reason naming the rule ------------------

def _dense_discriminator(slope=0.2, dropout=" layers.Dropout(0.3),", output=""):
    """Lab 1's discriminator with one thing changed (a planted bug)."""
    block = f"layers.LeakyReLU({slope}),{dropout}"
    return f'''
def build_discriminator():
    return keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(),
        layers.Dense(1024), {block}
        layers.Dense(512), {block}
        layers.Dense(256), {block}
        layers.Dense(1{output}),
    ])
'''


BUGS = {
    "no_dropout": ("build_discriminator", "dropout rates", _dense_discriminator(dropout="")),
    "slope_0_3": ("build_discriminator", "LeakyReLU(0.3)", _dense_discriminator(slope=0.3)),
    "probabilities": ("build_discriminator", "no sigmoid",
                      _dense_discriminator(output=', activation="sigmoid"')),
    "training_false": ("train_step", "training= flags D was called with", '''
def train_step(generator, discriminator, g_optimizer, d_optimizer, real_images, z):
    with tf.GradientTape() as tape:
        fake_images = generator(z, training=True)
        d_loss = discriminator_loss(discriminator(real_images), discriminator(fake_images))
    gradients = tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(gradients, discriminator.trainable_variables))
    with tf.GradientTape() as tape:
        g_loss = generator_loss_non_saturating(discriminator(generator(z, training=True)))
    gradients = tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients(zip(gradients, generator.trainable_variables))
    return d_loss, g_loss
'''),
    "g_first": ("train_step", "update D first", '''
def train_step(generator, discriminator, g_optimizer, d_optimizer, real_images, z):
    with tf.GradientTape() as tape:
        g_loss = generator_loss_non_saturating(discriminator(generator(z, training=True), training=True))
    g_optimizer.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real_images, training=True),
                                    discriminator(generator(z, training=True), training=True))
    d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
    return d_loss, g_loss
'''),
    "glorot_init": ("build_dcgan_discriminator", "std of each kernel as built", '''
def build_dcgan_discriminator():
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(128, 4, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Flatten(), layers.Dense(1),
    ])
    return model
'''),
    "batch_norm_on_output": ("build_dcgan_generator", "batch norm after the output layer", '''
def build_dcgan_generator(latent_dim=100):
    init = keras.initializers.RandomNormal(stddev=0.02)
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * 256, use_bias=False, kernel_initializer=init),
        layers.Reshape((7, 7, 256)), layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init),
        layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", kernel_initializer=init),
        layers.BatchNormalization(), layers.Activation("tanh"),
    ])
'''),
    "every_point_covers": ("mode_coverage", "a mode is covered only by a high-quality point", '''
def mode_coverage(points, means, std):
    distances = np.linalg.norm(np.asarray(points)[:, None] - np.asarray(means)[None], axis=-1)
    return len(np.unique(distances.argmin(1))), float(np.mean(distances.min(1) <= 3 * std))
'''),
    "channels_interleaved": ("pack_samples", "packed values for images", '''
def pack_samples(samples, m):
    x = np.asarray(samples)
    n = len(x) // m
    grouped = x[:n * m].reshape(n, m, *x.shape[1:])
    return np.moveaxis(grouped, 1, -1).reshape(n, *x.shape[1:-1], -1)
'''),
    "no_parallel_fallback": ("slerp", "exactly parallel codes", '''
def slerp(z0, z1, t):
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.asarray(t, np.float64)[:, None]
    omega = np.arccos(np.clip(np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1)), -1, 1))
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
'''),
    "sign_flipped": ("generator_loss_non_saturating", "opposite sign", '''
def generator_loss_non_saturating(fake_logits):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return -cross_entropy(ops.ones_like(fake_logits), fake_logits)
'''),
    # The rule, not a case's label: which failing case the reason shows first depends on
    # the cases drawn for the grading (a scattered-points case can fail before this one).
    "too_strict": ("mode_coverage", "at most 3 standard deviations (3 * std)", '''
def mode_coverage(points, means, std):
    distances = np.linalg.norm(np.asarray(points)[:, None] - np.asarray(means)[None], axis=-1)
    good = distances.min(1) <= 2.5 * std
    return len(np.unique(distances.argmin(1)[good])), float(np.mean(good))
'''),
    "penalty_norm_per_batch": ("gradient_penalty", "a linear critic", '''
def gradient_penalty(critic, real, fake, alpha):
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    return (tf.norm(tape.gradient(scores, x_hat)) - 1.0) ** 2
'''),
    "hinge_without_relu": ("hinge_discriminator_loss", "beyond +-1", '''
def hinge_discriminator_loss(real_scores, fake_scores):
    return ops.mean(1.0 - real_scores) + ops.mean(1.0 + fake_scores)
'''),
    "lerp_for_slerp": ("slerp", "slerp points for", '''
def slerp(z0, z1, t):
    t = np.asarray(t, float)[:, None]
    return (1 - t) * np.asarray(z0) + t * np.asarray(z1)
'''),
    "fixed_window": ("pool_to_grid", "pooled features for", '''
def pool_to_grid(feature_maps, grid=4):
    m = np.asarray(feature_maps)
    k = m.shape[1] // grid
    n, c = len(m), m.shape[-1]
    m = m[:, :k * grid, :k * grid]
    return m.reshape(n, grid, k, grid, k, c).max(axis=(2, 4)).reshape(n, -1)
'''),
}

# --- crashing, hanging, exiting --------------------------------------------------------------

CRASHES = {
    "syntax": ("discriminator_loss", "syntax error on line 1",
               "def discriminator_loss(real_logits, fake_logits)\n    return 0\n"),
    "raises": ("build_generator", "ValueError", '''
def build_generator(latent_dim=100):
    raise ValueError("not today")
'''),
    "misnamed": ("scale_images", "does not define `scale_images`",
                 "def scale(pixels):\n    return pixels / 127.5 - 1\n"),
    "segfault": ("mode_coverage", "the code ended the grading process", '''
import ctypes
def mode_coverage(points, means, std):
    return ctypes.string_at(0)
'''),
    "null_bytes": ("pack_samples", "null bytes", "def pack_samples(x, m):\n    return x\x00\n"),
    "nested_parens": ("hinge_discriminator_loss", "syntax error",
                      "hinge_discriminator_loss = " + "(" * 5000 + "1" + ")" * 5000 + "\n"),
    "endless": ("conv_output_size", "still running after", '''
def conv_output_size(size, kernel, stride, padding):
    while True:
        size += 1
'''),
    "exits": ("generator_loss_minimax", "sys.exit", "import sys\nsys.exit(0)\n"),
    "os_exit": ("conv_transpose_output_size", "os._exit", "import os\nos._exit(3)\n"),
}

# --- answer reading ----------------------------------------------------------------------------

# Each tries one route to the answers, and uses them if it gets there.
READING = {
    "import_by_name": ("discriminator_loss", "ModuleNotFoundError", '''
discriminator_loss = __import__("gan_" + "lab").gan.discriminator_loss
'''),
    "sys_modules": ("generator_loss_minimax", "KeyError", '''
import sys
_gan = sys.modules["gan_lab.gan"]
def generator_loss_minimax(fake_logits):
    return _gan.generator_loss(fake_logits, "minimax")
'''),
    "importlib_and_path": ("generator_loss_non_saturating", "no answers", '''
import importlib, importlib.util, sys, glob, os
def _answers():
    for name in ("gan_lab", "gan_lab.gan"):
        try:
            return importlib.import_module(name)
        except ImportError:
            pass
    for base in [os.getcwd(), "/work", "/root", "/home", "/tmp", "/builds", "/src", "/opt"]:
        for path in glob.glob(os.path.join(base, "**", "gan_lab", "gan.py"), recursive=True)[:1]:
            spec = importlib.util.spec_from_file_location("g", path)
            module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
            return module
    raise RuntimeError("no answers")
def generator_loss_non_saturating(fake_logits):
    return _answers().generator_loss(fake_logits, "non_saturating")
'''),
    "solutions_on_disk": ("build_dcgan_generator", "no answers", '''
import os, json, glob, sys, site
SKIPPED_BY_CHEATS = {"proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin", "etc", "var",
                     "boot", "snap", "site-packages", "dist-packages", "node_modules", ".git"}
def _solution(name):
    roots = [os.getcwd(), os.path.dirname(os.path.dirname(np.__file__)), "/"]
    # the editable install's finder names the project folder
    for folder in site.getsitepackages():
        for finder in glob.glob(os.path.join(folder, "__editable__*finder.py")):
            text = open(finder).read()
            start = text.find("/")
            roots.append(text[start:text.find("'", start)].rsplit("/gan_lab", 1)[0])
    for root in roots:
        for current, dirs, files in os.walk(root):
            # a quick cheat skips the system and the installed packages (a walk through
            # them outlasts the exercise's time limit on a slow machine)
            dirs[:] = [d for d in dirs if d not in SKIPPED_BY_CHEATS]
            for file in files:
                if file.endswith(".ipynb"):
                    try:
                        cells = json.load(open(os.path.join(current, file)))["cells"]
                    except Exception:
                        continue
                    for cell in cells:
                        source = "".join(cell["source"])
                        if "BEGIN SOLUTION" in source and f"def {name}" in source:
                            return source
    raise RuntimeError("no answers on disk")
exec(_solution("build_dcgan_generator"))
'''),
    "gc_and_frames": ("scale_images", "no answers", '''
import gc, sys
def scale_images(pixels):
    # a reference function anywhere in this process, or in a caller's frame
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", "") == "scale_images" and obj is not scale_images:
            return obj(pixels)
    frame = sys._getframe(1)
    while frame:
        for value in list(frame.f_globals.values()) + list(frame.f_locals.values()):
            if callable(value) and getattr(value, "__name__", "") == "scale_images" and value is not scale_images:
                return value(pixels)
        frame = frame.f_back
    raise RuntimeError("no answers in memory")
'''),
    "network": ("pack_samples", "no network", '''
import socket, urllib.request
def pack_samples(samples, m):
    # fetch the answers from the course's repository, or any address at all
    for address in [("140.82.112.3", 443), ("1.1.1.1", 53), ("10.0.2.2", 80), ("127.0.0.1", 80)]:
        try:
            socket.create_connection(address, timeout=1).close()
        except OSError:
            continue
        return float(urllib.request.urlopen("https://raw.githubusercontent.com/x/gan_lab/main/"
                                            "solutions/04_mode_collapse.ipynb").read()[:1])
    raise RuntimeError("no network in here")
'''),
    "proc_and_mounts": ("pool_to_grid", "no answers", '''
import os
def pool_to_grid(feature_maps, grid=4):
    # the host paths the mounts came from, the parent's files, pid 1's root
    found = []
    for line in open("/proc/self/mountinfo"):
        parts = line.split()
        found.append(parts[3])
    for path in found + ["/proc/1/root" + SOLUTIONS_DIR, "/proc/1/cwd/solutions",
                         "/proc/%d/cwd" % os.getppid()]:
        try:
            for name in os.listdir(path):
                if name.endswith(".ipynb") and "solution" in path:
                    return open(os.path.join(path, name)).read()
        except OSError:
            pass
    raise RuntimeError("no answers through /proc")
'''.replace("SOLUTIONS_DIR", repr(str(SOLUTIONS)))),
}

# --- forging the probe runner's report -------------------------------------------------------

# Student code that frames a reply as /runner/runner.py frames them, writes it to every
# descriptor the reply pipe could be, and leaves: the forging cells below differ in the reply.
_SPRAY = '''
import os, json, struct
def _spray(reply):
    for fd in range(3, 64):
        try:
            os.write(fd, struct.pack(">I", len(reply)) + reply)
        except OSError:
            pass
    os._exit(0)
'''

FORGING = {
    "probe_losses_borrowed": ("discriminator_loss", "discriminator_loss on", '''
import sys
# the runner's own module holds the losses it hands the training step: borrow them
discriminator_loss = sys.modules["probes"].probe_losses([1.0, 1.0, 1.0])["discriminator_loss"]
'''),
    "forged_other_exercise": ("slerp", "was not for slerp", _SPRAY + '''
def slerp(z0, z1, t):  # a reply for another exercise
    _spray(json.dumps({"name": "pool_to_grid", "observations": {}}).encode())
'''),
    "junk_on_every_fd": ("hinge_discriminator_loss", "not readable", '''
import os
def hinge_discriminator_loss(real_scores, fake_scores):
    for fd in range(0, 256):
        try:
            os.write(fd, b"\\x00\\x00\\x00\\x05{]]]" * 10)
        except OSError:
            pass
    return np.ones(10) / 10
'''),
    "runner_fds_through_proc": ("pack_samples", "ValueError", '''
import os, json, struct
def pack_samples(samples, m):
    reply = json.dumps({"name": "pack_samples", "observations": {}}).encode()
    for pid in (os.getppid(), 1):
        for fd in range(0, 16):
            try:
                with open("/proc/%d/fd/%d" % (pid, fd), "wb") as stream:
                    stream.write(struct.pack(">I", len(reply)) + reply)
            except OSError:
                pass
    return "forged"
'''),
    "malformed_observations": ("build_generator", "output shape for input", '''
import sys
_probes = sys.modules["probes"]
def _junk(obj, inputs):
    deep = []
    for _ in range(300):
        deep = [deep]
    return {"output shape": {"value": float("nan")}, "activations": [1, 2],
            "range": {"what": 1, "value": {"a": deep}}, "outputs": "x" * 1000,
            "trainable parameters": {"value": float("inf")}}
_probes.run_probe = _junk
def build_generator(latent_dim=100):
    return None
'''),
    "deeply_nested_reply": ("pool_to_grid", "not readable", _SPRAY + '''
def pool_to_grid(feature_maps, grid=4):
    _spray(b"[" * 200000 + b"]" * 200000)  # raw, past the probe: deeper than any parser
'''),
}

# Errors without words: a blank reason once counted as no reason, i.e. full marks.
BLANK_ERRORS = {
    "blank_error_reply": ("generator_loss_minimax", "error says nothing", _SPRAY + '''
def generator_loss_minimax(fake_logits):  # an error with no text, for this very exercise
    _spray(json.dumps({"name": "generator_loss_minimax", "error": ""}).encode())
'''),
    "runner_error_blank": ("conv_output_size", "error says nothing", '''
import __main__
raise __main__.MissingDefinition(" ")  # the runner's own error passes its text on as is
'''),
    "reason_function_replaced": ("scale_images", "error says nothing", '''
import __main__, sys
for module in (__main__, sys.modules.get("runner")):
    if module is not None and hasattr(module, "_reason"):
        module._reason = lambda error, filename: ""
raise ValueError("any error, now without words")
'''),
}

# --- clock and channel tampering ---------------------------------------------------------------

TAMPERING = {
    "clock_patched": ("conv_transpose_output_size", "still running after", '''
import time, signal
time.monotonic = time.time = time.perf_counter = lambda: 0.0
signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def conv_transpose_output_size(size, kernel, stride, padding):
    while True:
        pass
'''),
    "runner_stopped": ("build_dcgan_discriminator", "still running after", '''
import os, signal, time
def build_dcgan_discriminator():
    os.kill(os.getppid(), signal.SIGSTOP)  # the runner's timer cannot fire now
    while True:
        time.sleep(1)
'''),
    "runner_killed": ("train_step", "training= flags D was called with", '''
import os, signal
def train_step(*args):
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(1, signal.SIGKILL)
    return 0.0, 0.0
'''),
    "pid_namespace_walk": ("mode_coverage", "no grader", '''
import os, signal
def mode_coverage(points, means, std):
    mine = {os.getpid(), os.getppid()}
    others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in mine]
    for pid in others:  # anything else running here (the grader is not: other namespace)
        try:
            cmdline = open("/proc/%d/cmdline" % pid, "rb").read()
        except OSError:
            continue
        if b"pytest" in cmdline or b"-m\\x00gan_lab\\x00grade" in cmdline:
            os.kill(pid, signal.SIGKILL)
            return 8, 1.0
    raise RuntimeError("no grader in sight")
'''),
}

# --- containment: processes left running, files written outside, memory, floods -----------


def _containment(marker):
    return {
        "daemon_left_running": ("conv_output_size", None, f'''
import subprocess, sys, os
def conv_output_size(size, kernel, stride, padding):
    # a process in a new session that outlives the exercise, and one that tries the grades
    code = "import time, os\\nwhile True:\\n    for p in ('grades.csv', '/tmp/grades.csv'):\\n        try:\\n            open(p, 'a').write('{marker}')\\n        except OSError: pass\\n    time.sleep(0.2)"
    for _ in range(2):
        subprocess.Popen([sys.executable, "-c", code, "{marker}"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.Popen(["sh", "-c", "sleep 600; : {marker}"], start_new_session=True)
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1
'''),
        "writes_everywhere": ("conv_transpose_output_size", None, f'''
import os
def _spray():
    for root in ("/", "/work", "/root", "/home", "/tmp", "..", "../..", os.path.expanduser("~")):
        for current, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")][:20]
            for name in ["{marker}.txt"] + [f for f in files if f.endswith((".ipynb", ".csv", ".py"))][:3]:
                try:
                    with open(os.path.join(current, name), "a") as stream:
                        stream.write("{marker}")
                except OSError:
                    pass
_spray()
def conv_transpose_output_size(size, kernel, stride, padding):
    if padding == "same":
        return size * stride
    return size * stride + max(kernel - stride, 0)
'''),
        "memory_hog": ("pool_to_grid", "MemoryError", '''
def pool_to_grid(feature_maps, grid=4):
    hoard = [np.ones(2 ** 26)]  # 512 MiB, touched
    for _ in range(64):  # then 64 GiB if nothing stopped it
        hoard.append(np.zeros(2 ** 27))
    return hoard
'''),
        "fork_swarm": ("mode_coverage", "BlockingIOError", '''
import subprocess
def mode_coverage(points, means, std):
    return [subprocess.Popen(["sleep", "30"]) for _ in range(600)]
'''),
        "output_flood": ("pack_samples", None, '''
import os, sys
def pack_samples(samples, m):
    for _ in range(20000):
        print("x" * 1000)
        sys.stderr.write("y" * 1000)
    os.write(1, b"z" * (1 << 22))
    x = np.asarray(samples)
    n = len(x) // m
    grouped = x[:n * m].reshape(n, m, *x.shape[1:])
    return np.concatenate([grouped[:, j] for j in range(m)], axis=-1)
'''),
        "huge_error": ("hinge_discriminator_loss", "ValueError: xxx", '''
def hinge_discriminator_loss(real_scores, fake_scores):
    raise ValueError("x" * (1 << 22))
'''),
        # Over the 1 MiB reply limit in every case, cheaply: 10 ** 6 values a case took
        # more than the 8 s an exercise has to write out, on one loaded core.
        "huge_histogram": ("slerp", "returned more than", '''
def slerp(z0, z1, t):
    return np.full(300_000, 0.1)
'''),
    }


# --- writing students --------------------------------------------------------------------------


def write_student(folder, replace=None, start_from=SOLUTIONS, drop_metadata=(), books=None,
                  extra_cells=None):
    """Copy the notebooks of ``start_from`` into ``folder``, replacing exercise cells:
    ``replace`` maps exercise name -> new cell source; ``extra_cells`` maps exercise name ->
    sources of cells added right after its cell (a duplicate further down)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    replace, extra_cells = replace or {}, extra_cells or {}
    for path in sorted(Path(start_from).glob("*.ipynb")):
        if books is not None and path.name[:2] not in books:
            continue
        notebook = nbformat.read(path, as_version=4)
        cells = []
        for cell in notebook.cells:
            name = cell.get("metadata", {}).get("gan_lab", {}).get("exercise")
            if name in replace:
                cell.source = replace[name].strip("\n") + "\n"
            if name in drop_metadata:
                del cell.metadata["gan_lab"]
            cells.append(cell)
            for source in extra_cells.get(name, ()):
                cells.append(nbformat.v4.new_code_cell(source.strip("\n")))
        notebook.cells = cells
        nbformat.write(notebook, folder / path.name)
    return folder


def _solution_sources():
    sources = {}
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            name = cell.get("metadata", {}).get("gan_lab", {}).get("exercise")
            if name:
                sources[name] = cell.source
    return sources


def _self_check_cells():
    """Cells that answer from the self-check data every student has (seed 0)."""
    stored = json.loads(SELF_CHECK.read_text())
    table = {key: entry["value"] for key, entry in stored["conv_output_size"].items()}
    lookup = f'''
TABLE = {table!r}
def conv_output_size(size, kernel, stride, padding):
    return TABLE.get(f"conv_output_size{{(size, kernel, stride, padding)}}", 1)
'''
    forged = f'''
import sys
STORED = {stored["mode_coverage"]!r}
sys.modules["probes"].run_probe = lambda obj, inputs: STORED
def mode_coverage(points, means, std):
    return 0, 0.0
'''
    return lookup, forged


def write_class(root, marker="GAN_LAB_HOSTILE", process_cap=True):
    """The hostile class under ``root``; returns {student: {exercise: phrase}} (lost
    exercises; phrase "" = any reason). Without a process cap (root without a pids
    cgroup) the fork swarm stops at its own bound, and loses its exercise another way."""
    root = Path(root)
    expected = {}

    def student(name, cases, whole=True, **options):
        """``whole=False``: only the notebooks that hold ``cases`` are handed in (each
        notebook costs the class's grading its networks' measurements; the whole solutions
        are graded by the style students and by the students whose attacks are meant to
        reach the notebooks after them)."""
        if not whole:
            options["books"] = sorted({book for book, names in _BOOKS.items()
                                       for exercise, _, _ in cases if exercise in names})
        write_student(root / name, {exercise: source for exercise, _, source in cases},
                      **options)
        expected[name] = {exercise: phrase for exercise, phrase, _ in cases
                          if phrase is not None}
        if not whole:
            expected[name].update(_missing(sorted(set(_BOOKS) - set(options["books"]))))

    # correct in other styles: full marks
    student("alice_functional", [(k, None, v) for k, v in FUNCTIONAL.items()],
            drop_metadata=("scale_images",))
    student("amir_keywords", [(k, None, v) for k, v in KEYWORDS.items()], whole=False)
    student("ana_subclassed", [(k, None, v) for k, v in SUBCLASSED.items()], whole=False)
    # stubs everywhere but two
    partly = {k: FUNCTIONAL[k] for k in ("scale_images", "discriminator_loss")}
    write_student(root / "bob_partly_done", partly, start_from=LABS)
    expected["bob_partly_done"] = {name: "not implemented" for name in ALL if name not in partly}
    # planted bugs (one exercise holds one bug): frank's every notebook holds one, with the
    # solutions around them; grace and gus hand in only the notebooks their bugs are in.
    for name, bugs in {
        "frank_missed_bugs": ("no_dropout", "training_false", "glorot_init",
                              "every_point_covers", "no_parallel_fallback",
                              "batch_norm_on_output", "sign_flipped",
                              "fixed_window", "penalty_norm_per_batch"),
        "grace_missed_bugs": ("slope_0_3", "g_first", "too_strict", "lerp_for_slerp",
                              "hinge_without_relu", "channels_interleaved"),
        "gus_mistakes": ("probabilities",),
    }.items():
        student(name, [BUGS[bug] for bug in bugs], whole=name == "frank_missed_bugs")
    student("carol_crashing", list(CRASHES.values()))
    lookup, forged = _self_check_cells()
    reading = dict(READING, self_check_table=("conv_output_size", "conv_output_size(", lookup))
    # (the self-check data lookups are made from self_check.json here, not stored above)
    student("eve_reads_answers", list(reading.values()))
    forging = dict(FORGING, patched_probe_runner=("mode_coverage", "modes covered (means nearest", forged))
    student("faythe_forges", list(forging.values()), whole=False)
    student("faythe2_blank_errors", list(BLANK_ERRORS.values()), whole=False)
    student("mallet_tampers", list(TAMPERING.values()))
    containment = _containment(marker)
    flood = {k: containment[k] for k in ("daemon_left_running", "writes_everywhere",
                                          "output_flood", "huge_error", "memory_hog",
                                          "huge_histogram")}
    student("hank_escapes", list(flood.values()), whole=False)
    swarm = containment["fork_swarm"]
    student("hank2_fork_swarm", [swarm if process_cap else (swarm[0], "", swarm[2])],
            books=("04",))
    expected["hank2_fork_swarm"].update(_missing(("01", "02", "05")))
    # folder layouts
    write_student(root / "heidi_one_level_down" / "submission" / "final", books=("04",))
    expected["heidi_one_level_down"] = _missing(("01", "02", "05"))
    (root / "judy_empty").mkdir()
    expected["judy_empty"] = {name: "no notebooks found" for name in ALL}
    write_student(root / "_loose", books=("01",))
    (root / "_loose" / "01_vanilla_gan.ipynb").rename(root / "ivan_loose.ipynb")
    shutil.rmtree(root / "_loose")
    expected["ivan_loose"] = _missing(("02", "04", "05"))
    sources = _solution_sources()
    stub = "def {0}(*args, **kwargs):\n    raise NotImplementedError"
    write_student(  # stubs left above pasted answers, self-checks inside exercise cells
        root / "kim_duplicates",
        {name: stub.format(name) for name in ALL},
        extra_cells={name: [sources[name] + f"\n\nimport gan_lab\ngan_lab.check({name!r}, {name})"]
                     for name in ALL}, books=("01", "04"))
    expected["kim_duplicates"] = _missing(("02", "05"))
    # odd names, and links
    write_student(root / ODD_NAME, books=("04",))
    expected[ODD_NAME] = _missing(("01", "02", "05"))
    os.symlink(SOLUTIONS, root / "leo_links_to_solutions")
    expected["leo_links_to_solutions"] = {name: "is a link: not followed" for name in ALL}
    write_student(root / "oscar_bad_files", books=("01", "02", "04"))
    (root / "oscar_bad_files" / "01_vanilla_gan.ipynb").unlink()
    os.symlink(SOLUTIONS / "01_vanilla_gan.ipynb", root / "oscar_bad_files" / "01_vanilla_gan.ipynb")
    (root / "oscar_bad_files" / "02_dcgan.ipynb").unlink()
    os.mkfifo(root / "oscar_bad_files" / "02_dcgan.ipynb")
    (root / "oscar_bad_files" / "04_mode_collapse.ipynb").write_text("[" * 100000 + "]" * 100000)
    (root / "oscar_bad_files" / "05_dcgan_paper.ipynb").write_text("not json at all")
    expected["oscar_bad_files"] = {
        **{name: "a link" for name in _names(("01",))},
        **{name: "not a regular file" for name in _names(("02",))},
        **{name: "cannot be read as a notebook" for name in _names(("04", "05"))}}
    return expected


ODD_NAME = '=HYPERLINK("x","y"), "quoted"\tname'
_BOOKS = {"01": ALL[:7], "02": ALL[7:11], "04": ALL[11:15], "05": ALL[15:]}


def _names(books):
    return [name for book in books for name in _BOOKS[book]]


def _missing(books):
    return {name: "no cell defines" for name in _names(books)}


def _copy(source, target):
    if stat.S_ISFIFO(os.lstat(source).st_mode):  # copying would block on reading it
        os.mkfifo(target)
    else:
        shutil.copy2(source, target)


def copy_class(source_root, target_root, copies):
    """``copies`` copies of the students under ``source_root`` (for timing a big class)."""
    students = sorted(p for p in Path(source_root).iterdir() if p.is_dir() and not p.is_symlink())
    for index in range(copies):
        student = students[index % len(students)]
        shutil.copytree(student, Path(target_root) / f"{index:03d}_{student.name}",
                        symlinks=True, copy_function=_copy)
