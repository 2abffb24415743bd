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
from .options import LOSSES, UPDATES



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
        update="alternating",
        jit_compile=True,
        **kwargs,
    ):
        """``loss``: "non_saturating" (default) or "minimax"; ``d_steps``: D updates per
        G update (each on its own share of the batch); ``real_label``: 1.0, or e.g. 0.9 for
        one-sided label smoothing; ``update``: "alternating" (default) or "simultaneous" (see
        ``UPDATES``). Optimizers default to Adam(2e-4, beta_1=0.5). ``jit_compile``: the train
        step compiled with XLA (the faster default here, see ``gan_lab.bench``); other
        keywords (e.g. ``steps_per_execution``) go to ``keras.Model.compile``."""
        super().compile(jit_compile=jit_compile, **kwargs)
        if loss not in LOSSES:
            raise ValueError(f"unknown generator loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be a positive integer, got {d_steps!r}")
        if update not in UPDATES:
            raise ValueError(f"unknown update {update!r}; choose one of {', '.join(UPDATES)}")
        if update == "simultaneous" and d_steps != 1:
            raise ValueError("the simultaneous update makes one D update per step; "
                             "use d_steps=1 or update='alternating'")
        if not 0.5 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0.5, 1], got {real_label!r}")
        self.d_optimizer = _loss_scaled(d_optimizer or default_optimizer())
        self.g_optimizer = _loss_scaled(g_optimizer or default_optimizer())
        self.loss_kind = loss
        self.d_steps = d_steps
        self.real_label = float(real_label)
        self.update = update

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
        if self.update == "simultaneous":
            return self.simultaneous_step(real)
        batch_size = ops.shape(real)[0]
        # Algorithm 1: k D updates, each on its own minibatch. The batch is cut into k
        # chunks of ceil(n/k) rows; indices wrap, so a partial last batch still works.
        chunk = (batch_size + self.d_steps - 1) // self.d_steps
        for step in range(self.d_steps - 1):
            rows = (ops.arange(chunk) + step * chunk) % batch_size
            fake = self.generator(self.sample_noise(chunk), training=True)
            self._track(*self.discriminator_step(ops.take(real, rows, axis=0), fake))
        if self.d_steps > 1:
            rows = (ops.arange(chunk) + (self.d_steps - 1) * chunk) % batch_size
            real = ops.take(real, rows, axis=0)
        # The last D update and G's update share one forward pass of G (as the PyTorch
        # DCGAN example does): G is unchanged by D's update, so its fakes are the same; the
        # tape keeps G's activations for G's gradient through the updated D.
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_noise(chunk), training=True)
            with tape.stop_recording():
                self._track(*self.discriminator_step(real, fake))
            g_loss = generator_loss(self.discriminator(fake, training=True), self.loss_kind)
            scaled = self.g_optimizer.scale_loss(g_loss)
        _apply(self.g_optimizer, tape, scaled, self.generator)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def simultaneous_step(self, real):
        """Both updates from one forward pass, as the TensorFlow DCGAN tutorial does: G's
        gradient is taken through D as it was before D's update. Returns the logs."""
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(self.sample_noise(ops.shape(real)[0]), training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits, self.real_label)
            g_loss = generator_loss(fake_logits, self.loss_kind)
            d_scaled = self.d_optimizer.scale_loss(d_loss)
            g_scaled = self.g_optimizer.scale_loss(g_loss)
        _apply(self.d_optimizer, d_tape, d_scaled, self.discriminator)
        _apply(self.g_optimizer, g_tape, g_scaled, self.generator)
        self._track(d_loss, ops.mean(ops.sigmoid(real_logits)), ops.mean(ops.sigmoid(fake_logits)))
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def _track(self, d_loss, d_real, d_fake):
        self.d_loss_tracker.update_state(d_loss)
        self.d_real_tracker.update_state(d_real)
        self.d_fake_tracker.update_state(d_fake)

    def discriminator_step(self, real, fake):
        """One D update on real images and fakes (both (N, H, W, C) in [-1, 1]); returns
        (loss, mean D(x), mean D(G(z))). No gradient reaches G through ``fake``."""
        fake = ops.stop_gradient(fake)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            loss = discriminator_loss(real_logits, fake_logits, self.real_label)
            scaled = self.d_optimizer.scale_loss(loss)
        _apply(self.d_optimizer, tape, scaled, self.discriminator)
        return loss, ops.mean(ops.sigmoid(real_logits)), ops.mean(ops.sigmoid(fake_logits))

    def generator_step(self, z):
        """One G update on G(z), z (N, latent_dim), through a fixed D; returns G's loss."""
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(z, training=True), training=True)
            loss = generator_loss(fake_logits, self.loss_kind)
            scaled = self.g_optimizer.scale_loss(loss)
        _apply(self.g_optimizer, tape, scaled, self.generator)
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


def _apply(optimizer, tape, scaled_loss, model):
    """One optimizer step on ``model``'s trainable variables from ``tape``."""
    variables = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(scaled_loss, variables), variables))


def _loss_scaled(optimizer):
    """Wrap the optimizer for loss scaling when the mixed_float16 policy is active (GPU)."""
    policy = keras.config.dtype_policy()
    if policy.name == "mixed_float16" and not isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
