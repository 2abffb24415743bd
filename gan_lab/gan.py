"""The GAN as a ``keras.Model``: a generator, a discriminator and a GradientTape train_step.

Label convention everywhere: real = 1, fake = 0. The discriminator outputs logits.
Goodfellow et al. 2014, Algorithm 1: ``d_steps`` discriminator updates on fresh real
minibatches, then one generator update.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .data import DataError, check_images

LOSSES = ("non_saturating", "minimax")


def discriminator_loss(real_logits, fake_logits, real_label=1.0):
    """D's loss -[log D(x) + log(1 - D(G(z)))], each term a batch mean; logits (N, 1).

    ``real_label`` < 1 is one-sided label smoothing (Salimans et al. 2016): only real
    targets are smoothed.
    """
    real_logits = ops.cast(real_logits, "float32")
    fake_logits = ops.cast(fake_logits, "float32")
    real_term = ops.binary_crossentropy(
        ops.full_like(real_logits, real_label), real_logits, from_logits=True
    )
    fake_term = ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits, from_logits=True)
    return ops.mean(real_term) + ops.mean(fake_term)


def generator_loss(fake_logits, kind="non_saturating"):
    """G's loss on D's logits for fakes, (N, 1); a batch mean G minimises.

    ``"minimax"``: log(1 - D(G(z))), eq. 1 of Goodfellow et al. (saturates early on).
    ``"non_saturating"``: -log D(G(z)), the heuristic the same paper recommends.
    """
    fake_logits = ops.cast(fake_logits, "float32")
    if kind == "non_saturating":
        return ops.mean(ops.softplus(-fake_logits))  # -log sigmoid(l)
    if kind == "minimax":
        return ops.mean(-ops.softplus(fake_logits))  # log(1 - sigmoid(l))
    raise ValueError(f"unknown generator loss {kind!r}; choose one of {', '.join(LOSSES)}")


def default_optimizer(learning_rate=2e-4):
    """Adam(lr 2e-4, beta_1 0.5), as in Radford et al. 2015."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.5)


class GAN(keras.Model):
    """A generator G: z (N, latent_dim) -> images in [-1, 1] and a discriminator
    D: images -> logits (N, 1), trained together by ``fit()`` on batches of real images.
    """

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.input_shape[-1])
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])
        if tuple(discriminator.input_shape[1:]) != self.image_shape:
            raise ValueError(
                f"generator makes images of shape {self.image_shape} but the discriminator "
                f"takes {tuple(discriminator.input_shape[1:])}"
            )
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        loss="non_saturating",
        d_steps=1,
        real_label=1.0,
        **kwargs,
    ):
        """``loss``: "non_saturating" (default) or "minimax"; ``d_steps``: D updates per
        G update (each on its own share of the batch); ``real_label``: 1.0, or e.g. 0.9 for
        one-sided label smoothing. Optimizers default to Adam(2e-4, beta_1=0.5)."""
        super().compile(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"unknown generator loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be a positive integer, got {d_steps!r}")
        if not 0.5 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0.5, 1], got {real_label!r}")
        self.d_optimizer = _loss_scaled(d_optimizer or default_optimizer())
        self.g_optimizer = _loss_scaled(g_optimizer or default_optimizer())
        self.loss_kind = loss
        self.d_steps = d_steps
        self.real_label = float(real_label)

    @property
    def metrics(self):
        # Listed here so fit() resets them every epoch: the logs are epoch means.
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def sample_noise(self, batch_size):
        """z ~ N(0, I), shape (batch_size, latent_dim), from the model's seeded stream."""
        return keras.random.normal((batch_size, self.latent_dim), seed=self.noise_seed)

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        batch_size = ops.shape(real)[0]
        # Algorithm 1: k D updates, each on its own minibatch. The batch is cut into k
        # chunks of ceil(n/k) rows; indices wrap, so a partial last batch still works.
        chunk = (batch_size + self.d_steps - 1) // self.d_steps
        for step in range(self.d_steps):
            if self.d_steps == 1:
                real_chunk = real
            else:
                rows = (ops.arange(chunk) + step * chunk) % batch_size
                real_chunk = ops.take(real, rows, axis=0)
            d_loss, d_real, d_fake = self.discriminator_step(real_chunk, self.sample_noise(chunk))
            self.d_loss_tracker.update_state(d_loss)
            self.d_real_tracker.update_state(d_real)
            self.d_fake_tracker.update_state(d_fake)
        g_loss = self.generator_step(self.sample_noise(chunk))
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def discriminator_step(self, real, z):
        """One D update on real images and G(z); returns (loss, mean D(x), mean D(G(z)))."""
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            loss = discriminator_loss(real_logits, fake_logits, self.real_label)
            scaled = self.d_optimizer.scale_loss(loss)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        return loss, ops.mean(ops.sigmoid(real_logits)), ops.mean(ops.sigmoid(fake_logits))

    def generator_step(self, z):
        """One G update through a fixed D; returns G's loss."""
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(z, training=True), training=True)
            loss = generator_loss(fake_logits, self.loss_kind)
            scaled = self.g_optimizer.scale_loss(loss)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        return loss

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit`` after checking the first batch: images (N, H, W, C) in [-1, 1]."""
        if not hasattr(self, "d_optimizer"):
            raise RuntimeError("call gan.compile() before gan.fit()")
        self.check_training_data(x)
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; silences Keras' warning
        return super().fit(x, *args, **kwargs)

    def check_training_data(self, x):
        """Raise ``DataError`` saying what to fix if ``x`` is not images of this GAN's shape."""
        if isinstance(x, tf.data.Dataset):
            first = next(iter(x.take(1)), None)
            if first is None:
                raise DataError("the training dataset is empty")
            first = first[0] if isinstance(first, (tuple, list)) else first
            if tuple(first.shape) == self.image_shape:  # an unbatched dataset
                raise DataError(
                    f"the training dataset yields single images {tuple(first.shape)}; "
                    "batch it, e.g. gan_lab.data.make_dataset(images, batch_size=128)"
                )
            sample = np.asarray(first)
        else:
            sample = x[0] if isinstance(x, (tuple, list)) else x
        check_images(sample, self.image_shape, what="training images")

    def generate(self, n=None, z=None, seed=None):
        """Images in [-1, 1], shape (n, H, W, C), from ``z`` (n, latent_dim) or fresh noise."""
        return generate(self.generator, n=n, z=z, seed=seed)


def generate(generator, n=None, z=None, seed=None):
    """Run ``generator`` in inference mode on ``z`` or on ``n`` seeded normal latents.

    Returns a numpy array of images in [-1, 1], shape (n, H, W, C).
    """
    latent_dim = int(generator.input_shape[-1])
    if z is None:
        if n is None or n < 1:
            raise ValueError("pass n (a positive number of images) or z")
        z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(
            f"z must have shape (n, {latent_dim}) for this generator, got {z.shape}"
        )
    return np.asarray(generator(z, training=False), np.float32)


def _loss_scaled(optimizer):
    """Wrap the optimizer for loss scaling when the mixed_float16 policy is active (GPU)."""
    policy = keras.config.dtype_policy()
    if policy.name == "mixed_float16" and not isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
