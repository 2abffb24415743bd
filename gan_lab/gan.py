"""The GAN as a ``keras.Model``: a generator, a discriminator and a GradientTape train_step.

Label convention everywhere: real = 1, fake = 0. The discriminator outputs logits.
Goodfellow et al. 2014, Algorithm 1: ``d_steps`` discriminator updates on fresh real
minibatches, then one generator update. With a conditional pair (``models.conditional_*``,
Mirza & Osindero 2014) the batches are (images, labels), G draws each fake for the label of
a real image of the batch, and D judges every image together with its label.
"""

from __future__ import annotations

from . import runtime  # first: TensorFlow starts quietly, set up once

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .checks import positive_int
from .losses import OBJECTIVES, gradient_penalty, minimax_discriminator_loss
from .data import DataError, check_images, check_labels, check_training_images
from .models import judged_shape, label_classes, latent_size
from .options import LOSSES, UPDATES


discriminator_loss = minimax_discriminator_loss  # the cross-entropy D loss of Lab 1


def generator_loss(fake_logits, kind="non_saturating"):
    """G's loss under objective ``kind`` (``losses.OBJECTIVES``) on D's outputs for fakes,
    (N, 1); a batch mean G minimises. "minimax": log(1 - D(G(z))), eq. 1 of Goodfellow et
    al. (saturates early on); "non_saturating": -log D(G(z)), the heuristic the same paper
    recommends; "lsgan", "hinge", "wgan_gp": see ``gan_lab.losses``."""
    if kind not in OBJECTIVES:
        raise ValueError(f"unknown generator loss {kind!r}; choose one of {', '.join(LOSSES)}")
    return OBJECTIVES[kind][1](fake_logits)


def default_optimizer(learning_rate=2e-4, beta_1=0.5, beta_2=0.999):
    """Adam(lr 2e-4, beta_1 0.5), as in Radford et al. 2015; WGAN-GP uses Adam(1e-4, 0,
    0.9) (Gulrajani et al. 2017)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)


@keras.saving.register_keras_serializable(package="gan_lab")
class GAN(keras.Model):
    """A generator G: z (N, latent_dim) -> images in [-1, 1] and a discriminator
    D: images -> logits (N, 1), trained together by ``fit()`` on batches of real images.

    A conditional pair (G: [z, labels], D: [images, labels]) trains on (images, labels)
    batches; ``classes`` is then its number of classes, else None.

    Saved whole with ``gan.save("gan.keras")`` (both networks, the settings of
    ``compile`` and both optimizers' state) and loaded in a fresh process with
    ``keras.saving.load_model("gan.keras")``; ``save_weights`` works too.
    """

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_size(generator)
        judged = judged_shape(discriminator)
        for role, network in (("generator", generator), ("discriminator", discriminator)):
            if len(network.outputs) != 1:
                raise ModelError(f"the {role} must have one output (images for G, logits "
                                 f"for D); it has {len(network.outputs)}")
        self.generator = generator
        self.discriminator = discriminator
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])
        if judged != self.image_shape:
            raise ValueError(
                f"generator makes images of shape {self.image_shape} but the discriminator "
                f"takes {judged}"
            )
        self.classes = label_classes(generator)
        if label_classes(discriminator) != self.classes:
            raise ValueError(
                "generator and discriminator must both be conditional on the same classes "
                f"or both unconditional; got {self.classes} and {label_classes(discriminator)}"
            )
        self.seed = seed
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.built = True  # both networks are built: save_weights works before fit()
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
        jit_compile="auto",
        gp_weight=10.0,
        g_steps=1,
        **kwargs,
    ):
        """``loss``: the objective, a name in ``losses.OBJECTIVES`` ("non_saturating", the
        default, "minimax", "lsgan", "hinge" or "wgan_gp", whose penalty is weighted by
        ``gp_weight``, lambda = 10 in the paper); ``g_steps``: G updates per step (each on
        fresh noise through the same D; more than 1 lets G outrun D); ``d_steps``: D updates per
        G update (each on its own share of the batch); ``real_label``: 1.0, or e.g. 0.9 for
        one-sided label smoothing; ``update``: "alternating" (default) or "simultaneous" (see
        ``UPDATES``). Optimizers default to Adam(2e-4, beta_1=0.5). ``jit_compile``: the train
        step compiled with XLA; "auto" (the default) is ``runtime.xla_by_default()``, gan_lab's
        choice for this device and CPU kind, not Keras' own "auto", which never uses XLA on a
        CPU. Other keywords (e.g. ``steps_per_execution``) go to ``keras.Model.compile``."""
        super().compile(jit_compile=runtime.xla_by_default() if jit_compile == "auto"
                        else jit_compile, **kwargs)
        if loss not in LOSSES:
            raise ValueError(f"unknown generator loss {loss!r}; choose one of {', '.join(LOSSES)}")
        positive_int(d_steps, "d_steps")
        if update not in UPDATES:
            raise ValueError(f"unknown update {update!r}; choose one of {', '.join(UPDATES)}")
        if update == "simultaneous" and d_steps != 1:
            raise ValueError("the simultaneous update makes one D update per step; "
                             "use d_steps=1 or update='alternating'")
        if not 0.5 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0.5, 1], got {real_label!r}")
        if real_label != 1.0 and not OBJECTIVES[loss][2]:
            raise ValueError(f"real_label (label smoothing) applies to the cross-entropy "
                             f"losses only, not to {loss}")
        self.d_optimizer = _loss_scaled(d_optimizer or default_optimizer())
        self.g_optimizer = _loss_scaled(g_optimizer or default_optimizer())
        self.loss_kind = loss
        self.d_steps = d_steps
        self.g_steps = positive_int(g_steps, "g_steps")
        if update == "simultaneous" and g_steps != 1:
            raise ValueError("the simultaneous update makes one G update per step; "
                             "use g_steps=1 or update='alternating'")
        self.real_label = float(real_label)
        self.update = update
        self.gp_weight = float(gp_weight)
        self._compiled_with = {"loss": loss, "d_steps": d_steps, "real_label": float(real_label),
                               "update": update, "jit_compile": jit_compile,
                               "gp_weight": float(gp_weight), "g_steps": g_steps}

    def get_config(self):
        return {"generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"))
        discriminator = keras.saving.deserialize_keras_object(config.pop("discriminator"))
        return cls(generator, discriminator, **config)

    def get_compile_config(self):
        if not hasattr(self, "_compiled_with"):
            return None
        return {**self._compiled_with,
                "d_optimizer": keras.saving.serialize_keras_object(
                    _unscaled(self.d_optimizer)),
                "g_optimizer": keras.saving.serialize_keras_object(
                    _unscaled(self.g_optimizer))}

    def compile_from_config(self, config):
        config = dict(config)
        optimizers = {key: keras.saving.deserialize_keras_object(config.pop(key))
                      for key in ("d_optimizer", "g_optimizer")}
        self.compile(**optimizers, **config)
        # Built now, so a loaded file's optimizer state has variables to go into.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        # Listed here so fit() resets them every epoch: the logs are epoch means.
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def sample_noise(self, batch_size):
        """z ~ N(0, I), shape (batch_size, latent_dim), from the model's seeded stream (under
        a tf.distribute strategy each replica folds its number into the seed: its own z)."""
        replica = tf.distribute.get_replica_context()
        if replica is None or replica.num_replicas_in_sync == 1:
            return keras.random.normal((batch_size, self.latent_dim), seed=self.noise_seed)
        seed = tf.random.experimental.stateless_fold_in(self.noise_seed.next(),
                                                        replica.replica_id_in_sync_group)
        return tf.random.stateless_normal((batch_size, self.latent_dim), seed)

    def _generate(self, z, labels=None):
        return self.generator(z if labels is None else [z, labels], training=True)

    def _judge(self, images, labels=None):
        return self.discriminator(images if labels is None else [images, labels], training=True)

    def train_step(self, data):
        real, labels = (data[0], data[1]) if isinstance(data, (tuple, list)) else (data, None)
        if self.classes is None:
            labels = None  # an unconditional GAN ignores labels it is given
        if self.update == "simultaneous":
            return self.simultaneous_step(real, labels)
        batch_size = ops.shape(real)[0]
        # Algorithm 1: k D updates, each on its own minibatch. The batch (k minibatches
        # from make_dataset) is cut into k disjoint chunks of floor(n/k) rows; the n mod k
        # rows left in a partial last batch sit out this step (with n < k, the chunks of
        # one row each wrap around and repeat rows).
        chunk = ops.maximum(batch_size // self.d_steps, 1)

        def rows_of(step, tensor):
            rows = (ops.arange(chunk) + step * chunk) % batch_size
            return None if tensor is None else ops.take(tensor, rows, axis=0)

        for step in range(self.d_steps - 1):
            step_labels = rows_of(step, labels)
            fake = self._generate(self.sample_noise(chunk), step_labels)
            self._track(*self.discriminator_step(rows_of(step, real), fake, step_labels))
        if self.d_steps > 1:
            real, labels = rows_of(self.d_steps - 1, real), rows_of(self.d_steps - 1, labels)
        # The last D update and G's update share one forward pass of G, and so one draw
        # of noise (the PyTorch DCGAN example's choice; Algorithm 1 draws fresh noise for
        # G): G is unchanged by D's update, so its fakes are the same; the tape keeps G's
        # activations for G's gradient through the updated D.
        with tf.GradientTape() as tape:
            fake = self._generate(self.sample_noise(chunk), labels)
            with tape.stop_recording():
                self._track(*self.discriminator_step(real, fake, labels))
            g_loss = generator_loss(self._judge(fake, labels), self.loss_kind)
            scaled = self.g_optimizer.scale_loss(g_loss)
        _apply(self.g_optimizer, tape, scaled, self.generator)
        self.g_loss_tracker.update_state(g_loss)
        for _ in range(self.g_steps - 1):  # G updates beyond the one per step: fresh noise
            self.generator_step(self.sample_noise(chunk), labels)
        return self._logs()

    def simultaneous_step(self, real, labels=None):
        """Both updates from one forward pass, as the TensorFlow DCGAN tutorial does: G's
        gradient is taken through D as it was before D's update. Returns the logs."""
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self._generate(self.sample_noise(ops.shape(real)[0]), labels)
            real_logits = self._judge(real, labels)
            fake_logits = self._judge(fake, labels)
            d_loss = self._discriminator_loss(real, fake, labels, real_logits, fake_logits)
            g_loss = generator_loss(fake_logits, self.loss_kind)
            d_scaled = self.d_optimizer.scale_loss(d_loss)
            g_scaled = self.g_optimizer.scale_loss(g_loss)
        _apply(self.d_optimizer, d_tape, d_scaled, self.discriminator)
        _apply(self.g_optimizer, g_tape, g_scaled, self.generator)
        self._track(d_loss, *self._mean_outputs(real_logits, fake_logits))
        self.g_loss_tracker.update_state(g_loss)
        return self._logs()

    def _logs(self):
        """The epoch means so far, by name. Under MultiWorkerMirroredStrategy each has shape
        (1,): Keras averages the workers' logs over axis 0 there, which a scalar lacks."""
        logs = {m.name: m.result() for m in self.metrics}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def _track(self, d_loss, d_real, d_fake):
        self.d_loss_tracker.update_state(d_loss)
        self.d_real_tracker.update_state(d_real)
        self.d_fake_tracker.update_state(d_fake)

    def discriminator_step(self, real, fake, labels=None):
        """One D update on real images and fakes (both (N, H, W, C) in [-1, 1]; ``labels``
        (N,) for both when conditional); returns (loss, mean D(x), mean D(G(z))). No
        gradient reaches G through ``fake``."""
        fake = ops.stop_gradient(fake)
        with tf.GradientTape() as tape:
            real_logits = self._judge(real, labels)
            fake_logits = self._judge(fake, labels)
            loss = self._discriminator_loss(real, fake, labels, real_logits, fake_logits)
            scaled = self.d_optimizer.scale_loss(loss)
        _apply(self.d_optimizer, tape, scaled, self.discriminator)
        return loss, *self._mean_outputs(real_logits, fake_logits)

    def _discriminator_loss(self, real, fake, labels, real_outputs, fake_outputs):
        """D's loss under the compiled objective; for "wgan_gp" plus gp_weight times the
        gradient penalty at random points between ``real`` and ``fake``."""
        d_loss, _, probabilistic = OBJECTIVES[self.loss_kind]
        if probabilistic:
            return d_loss(real_outputs, fake_outputs, self.real_label)
        loss = d_loss(real_outputs, fake_outputs)
        if self.loss_kind == "wgan_gp":
            alpha = keras.random.uniform((ops.shape(real)[0], 1, 1, 1), seed=self.noise_seed)
            loss = loss + self.gp_weight * gradient_penalty(
                lambda images: self._judge(images, labels), real, fake, alpha)
        return loss

    def _mean_outputs(self, real_outputs, fake_outputs):
        """(mean D(x), mean D(G(z))): probabilities for the cross-entropy objectives, the
        raw scores for the others (the history's d_real and d_fake)."""
        if OBJECTIVES[self.loss_kind][2]:
            real_outputs, fake_outputs = ops.sigmoid(real_outputs), ops.sigmoid(fake_outputs)
        return (ops.mean(ops.cast(real_outputs, "float32")),
                ops.mean(ops.cast(fake_outputs, "float32")))

    def generator_step(self, z, labels=None):
        """One G update on G(z), z (N, latent_dim) (and ``labels`` (N,) when conditional),
        through a fixed D; returns G's loss."""
        with tf.GradientTape() as tape:
            fake_logits = self._judge(self._generate(z, labels), labels)
            loss = generator_loss(fake_logits, self.loss_kind)
            scaled = self.g_optimizer.scale_loss(loss)
        _apply(self.g_optimizer, tape, scaled, self.generator)
        return loss

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit`` after checking the first batch: images (N, H, W, C) in [-1, 1]
        (``y``: a conditional GAN's labels (N,), when ``x`` is an array)."""
        if not hasattr(self, "d_optimizer"):
            raise RuntimeError("call gan.compile() before gan.fit()")
        self.check_networks()
        self.check_training_data(x if y is None else (x, y))
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; silences Keras' warning
        return super().fit(x, y, *args, **kwargs)

    def check_networks(self, samples=64):
        """Run both networks once on ``samples`` latents, before any training, and raise
        ``ModelError`` saying what to change when G's images leave [-1, 1] (no tanh at the
        end) or D does not give one logit per image (shape (N, 1), no sigmoid)."""
        z = np.random.default_rng(0).standard_normal((samples, self.latent_dim))
        labels = None if self.classes is None else np.arange(samples) % self.classes
        # Large latents too: an unbounded output layer leaves [-1, 1] on them at once.
        for scale in (1.0, 10.0):
            images = self.generate(z=(z * scale).astype(np.float32), labels=labels)
            lo, hi = float(np.min(images)), float(np.max(images))
            if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -1.001 or hi > 1.001 \
                    or lo >= 0:
                raise ModelError(
                    f"the generator's images must cover [-1, 1] (the range of the training "
                    f"images) but span [{lo:.3g}, {hi:.3g}]; end it with a tanh (not a "
                    "sigmoid), e.g. layers.Dense(784, activation=\"tanh\") before the Reshape")
        # Inference mode: a training-mode call would draw from dropout's seed stream,
        # which a resumed run must find as the interrupted one left it.
        judged = self.discriminator(images if labels is None else [images, labels],
                                    training=False)
        if tuple(judged.shape) != (samples, 1):
            raise ModelError(f"the discriminator must give one logit per image, shape "
                             f"(N, 1); it gives {tuple(judged.shape)} for {samples} images")
        # A sigmoid, wherever it sits, keeps every output in [0, 1], even for inputs far
        # outside the data's range; logits of a (piecewise) linear D grow with them.
        noise = np.random.default_rng(1).uniform(-1, 1, images.shape).astype(np.float32)
        outputs = np.concatenate([np.asarray(judged, np.float32)] + [np.asarray(
            self.discriminator(probe if labels is None else [probe, labels], training=False),
            np.float32) for probe in (noise, 100.0 * images, 100.0 * noise)])
        if _ends_in_probability(self.discriminator) or (outputs.min() >= 0 and outputs.max() <= 1):
            raise ModelError(
                "the discriminator ends in a sigmoid (its outputs stay in [0, 1] even for "
                f"inputs 100 times the data's range: [{outputs.min():.3g}, "
                f"{outputs.max():.3g}]): it must output logits, "
                "because the losses apply the sigmoid themselves (from_logits); remove the "
                "final activation, e.g. layers.Dense(1) instead of Dense(1, activation="
                "\"sigmoid\")")

    def check_training_data(self, x):
        """Raise ``DataError`` saying what to fix if ``x`` is not images of this GAN's shape
        (with integer labels in [0, classes) beside them for a conditional GAN)."""
        if isinstance(x, tf.data.Dataset):
            first = next(iter(x.take(1)), None)
            if first is None:
                raise DataError("the training dataset is empty")
            images = first[0] if isinstance(first, (tuple, list)) else first
            if tuple(images.shape) == self.image_shape:  # an unbatched dataset
                raise DataError(
                    f"the training dataset yields single images {tuple(images.shape)}; "
                    "batch it, e.g. gan_lab.data.make_dataset(images, batch_size=128)"
                )
            first = tuple(np.asarray(part) for part in first) \
                if isinstance(first, (tuple, list)) else np.asarray(first)
        else:
            first = x
        images, labels = (first[0], first[1]) if isinstance(first, (tuple, list)) \
            else (first, None)
        check_training_images(images, self.image_shape)
        if self.classes is not None:
            if labels is None:
                raise DataError(
                    "a conditional GAN trains on (images, labels) batches; make them with "
                    "gan_lab.data.make_dataset(images, batch_size, labels=labels)")
            check_labels(labels, self.classes, len(images))

    def generate(self, n=None, z=None, seed=None, labels=None):
        """Images in [-1, 1], shape (n, H, W, C), from ``z`` (n, latent_dim) or fresh noise
        (and ``labels`` when conditional: see ``generate``)."""
        return generate(self.generator, n=n, z=z, seed=seed, labels=labels)


class ModelError(ValueError):
    """A generator or discriminator that cannot train as given; the message says what to
    change in the model."""


def _ends_in_probability(model) -> bool:
    """True when the model's output layer applies a sigmoid or softmax."""
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", "") in ("sigmoid", "softmax")


def latents(n, latent_dim, seed=None) -> np.ndarray:
    """z ~ N(0, I), float32, shape (n, latent_dim), from numpy's generator seeded with
    ``seed``: the same seed gives the same latents on every machine."""
    positive_int(n, "n, the number of images (or pass z),")
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def asked_labels(generator, samples):
    """The labels a conditional generator draws by default: i mod classes, shape
    (samples,); None for an unconditional generator."""
    classes = label_classes(generator)
    return None if classes is None else np.arange(samples) % classes


def generate(generator, n=None, z=None, seed=None, labels=None, batch_size=1_000):
    """Run ``generator`` in inference mode on ``z`` (n, latent_dim), or on ``n`` latents
    drawn by ``latents(n, latent_dim, seed)``, ``batch_size`` at a time (so 10,000 DCGAN
    samples fit in memory). A conditional generator also takes ``labels`` (n,) ints in
    [0, classes); by default image i is drawn for label i mod classes (``asked_labels``).
    Returns a numpy array of images in [-1, 1], shape (n, H, W, C)."""
    latent_dim = latent_size(generator)
    z = latents(n, latent_dim, seed) if z is None else np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(
            f"z must have shape (n, {latent_dim}) for this generator, got {z.shape}"
        )
    classes = label_classes(generator)
    if classes is None and labels is not None:
        raise ValueError("this generator is unconditional: it takes no labels")
    if classes is not None:
        labels = asked_labels(generator, len(z)) if labels is None else labels
        labels = check_labels(labels, classes, len(z))
    parts = []
    for start in range(0, len(z), batch_size):
        rows = slice(start, start + batch_size)
        inputs = z[rows] if classes is None else [z[rows], labels[rows]]
        parts.append(np.asarray(generator(inputs, training=False), np.float32))
    return np.concatenate(parts)


def _apply(optimizer, tape, scaled_loss, model):
    """One optimizer step on ``model``'s trainable variables from ``tape``. Under a
    tf.distribute strategy of n replicas each replica's gradient (of its batch mean) is
    divided by n: the strategy sums them, so the step follows the global batch's mean."""
    variables = model.trainable_variables
    gradients = tape.gradient(scaled_loss, variables)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        gradients = [None if g is None else g / replicas for g in gradients]
    optimizer.apply_gradients(zip(gradients, variables))


def _unscaled(optimizer):
    """The optimizer a LossScaleOptimizer wraps (loss scaling belongs to the device)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _loss_scaled(optimizer):
    """Wrap the optimizer for loss scaling when the mixed_float16 policy is active (GPU)."""
    policy = keras.config.dtype_policy()
    if policy.name == "mixed_float16" and not isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
