"""Hand-made student submissions, written from the solution notebooks: each student is a
folder of the three notebooks with some exercise cells replaced. Used by the grading tests
and by benchmarks/grade_class.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
LABS = ROOT / "labs"

# Correct in another style: functional API, tf.nn losses, separate activation layers.
OTHER_STYLE = {
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
}

BROKEN = {
    # Lab 4: KL in bits instead of nats
    "kl_in_bits": ("kl_to_uniform", "def kl_to_uniform(histogram):\n    h = np.asarray(histogram, float)\n    h = h[h > 0]\n    return float(np.sum(h * np.log2(h * 10)))\n"),
    # Lab 5: the straight line where the great circle was asked for; pooling to a fixed
    # window (H // grid) that misses the last rows of a 7x7 map
    "lerp_for_slerp": ("slerp", "def slerp(z0, z1, t):\n    t = np.asarray(t, float)[:, None]\n    return (1 - t) * np.asarray(z0) + t * np.asarray(z1)\n"),
    "fixed_window": ("pool_to_grid", "def pool_to_grid(feature_maps, grid=4):\n    m = np.asarray(feature_maps)\n    k = m.shape[1] // grid\n    n, c = len(m), m.shape[-1]\n    m = m[:, :k * grid, :k * grid]\n    return m.reshape(n, grid, k, grid, k, c).max(axis=(2, 4)).reshape(n, -1)\n"),
    # crashing: a syntax error, a runtime error, a missing definition
    "syntax": ("discriminator_loss", "def discriminator_loss(real_logits, fake_logits)\n    return 0\n"),
    "raises": ("build_generator", "def build_generator(latent_dim=100):\n    return keras.Sequential([layers.Dense(256, input_shape=latent_dim)])[0]\n"),
    "misnamed": ("scale_images", "def scale(pixels):\n    return pixels / 127.5 - 1\n"),
    # hanging and exiting
    "endless": ("conv_output_size", "def conv_output_size(size, kernel, stride, padding):\n    while True:\n        size += 1\n"),
    "exits": ("generator_loss_minimax", "import sys\nsys.exit(0)\n"),
    "os_exit": ("conv_transpose_output_size", "import os\nos._exit(3)\n"),
    # tampering: patch the checks and numpy in its own process, or take the library's answer
    "patches": ("generator_loss_non_saturating", '''
import numpy, numpy.testing
numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True
import math
math.isclose = lambda *args, **kwargs: True
def generator_loss_non_saturating(fake_logits):
    return 0.0
'''),
    "imports_library": ("discriminator_loss", '''
from gan_lab.gan import discriminator_loss
'''),
    # a planted bug: the generator loss with its sign flipped
    "sign_flipped": ("generator_loss_non_saturating", '''
def generator_loss_non_saturating(fake_logits):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return -cross_entropy(ops.ones_like(fake_logits), fake_logits)
'''),
    "probabilities": ("build_discriminator", '''
def build_discriminator():
    return keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(),
        layers.Dense(1024), layers.LeakyReLU(0.2), layers.Dropout(0.3),
        layers.Dense(512), layers.LeakyReLU(0.2), layers.Dropout(0.3),
        layers.Dense(256), layers.LeakyReLU(0.2), layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ])
'''),
    "g_first": ("train_step", '''
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
}


def write_student(folder, replace=None, start_from=SOLUTIONS, drop_metadata=()):
    """Copy the notebooks of ``start_from`` into ``folder``, replacing exercise cells:
    ``replace`` maps exercise name -> new cell source."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    replace = replace or {}
    for path in sorted(Path(start_from).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            name = cell.get("metadata", {}).get("gan_lab", {}).get("exercise")
            if name in replace:
                cell.source = replace[name].strip() + "\n"
            if name in drop_metadata:
                del cell.metadata["gan_lab"]
        nbformat.write(notebook, folder / path.name)
    return folder


def write_class(root):
    """The hand-made class; returns {student: expected lost exercises}."""
    root = Path(root)
    expected = {}
    write_student(root / "alice_other_style", OTHER_STYLE, drop_metadata=("scale_images",))
    expected["alice_other_style"] = {}
    partly = {k: v for k, v in OTHER_STYLE.items() if k in ("scale_images", "discriminator_loss")}
    write_student(root / "bob_partly_done", partly, start_from=LABS)
    expected["bob_partly_done"] = {name: "not implemented" for name in (
        "build_generator", "build_discriminator", "generator_loss_minimax",
        "generator_loss_non_saturating", "train_step", "conv_output_size",
        "conv_transpose_output_size", "build_dcgan_generator", "build_dcgan_discriminator",
        "class_histogram", "kl_to_uniform", "modes_covered", "slerp", "pool_to_grid")}
    for student, cases in {
        "carol_crashing": ("syntax", "raises", "misnamed"),
        "dave_hanging_and_exiting": ("endless", "exits", "os_exit"),
        "eve_tampering": ("patches", "imports_library"),
        "frank_mistakes": ("sign_flipped", "probabilities", "g_first"),
    }.items():
        write_student(root / student, dict(BROKEN[c] for c in cases))
        expected[student] = {BROKEN[c][0]: c for c in cases}
    return expected


def copy_class(source_root, target_root, copies):
    """``copies`` copies of every student under ``source_root`` (for timing a big class)."""
    students = sorted(p for p in Path(source_root).iterdir() if p.is_dir())
    for index in range(copies):
        student = students[index % len(students)]
        shutil.copytree(student, Path(target_root) / f"{index:03d}_{student.name}")
