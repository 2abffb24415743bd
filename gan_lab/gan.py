"""The GAN as a ``keras.Model``: a generator, a discriminator and a GradientTape train_step.

Read ``GAN.train_step`` beside Lab 1's answer: (1) update D, (2) update G. The variants are
named pieces around it: ``critic_steps`` (k D updates per G update: Goodfellow et al. 2014,
Algorithm 1, and WGAN-GP's n_critic), ``generator_step`` (G updates beyond one a step),
``simultaneous_step`` (the TensorFlow DCGAN tutorial's), the objective
(``losses.Objective``: D's and G's losses and what they need) and ``ConditionalGAN``
(Mirza & Osindero 2014). Label convention everywhere: real = 1, fake = 0. D outputs logits
(or a critic's scores).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from . import runtime
from .data import sample_kind
from .preflight import ModelError, check_networks, check_training_data
from .sampling import asked_labels, generate, latents  # noqa: F401  (gan_lab.gan.generate)
from .losses import gradient_penalty, objective
from .models import judged_shape, label_classes, latent_size, pack_of, packed_shape
from .options import (BETA_1, BETA_2, D_STEPS, G_STEPS, GP_WEIGHT, LEARNING_RATE, LOSS,
                      REAL_LABEL, UNROLL, UPDATE, check_pack, check_rules)


def default_optimizer(learning_rate=LEARNING_RATE, beta_1=BETA_1, beta_2=BETA_2):
    """Adam with ``options``' defaults (beta_1 0.5 as in Radford et al. 2015); WGAN-GP's
    paper uses Adam(1e-4, 0, 0.9) (Gulrajani et al. 2017)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)


@keras.saving.register_keras_serializable(package="gan_lab")
class GAN(keras.Model):
    """A generator G: z (N, latent_dim) -> images in [-1, 1] and a discriminator
    D: images -> logits (N, 1), trained together by ``fit()`` on batches of real images.
    Networks conditional on a label belong to ``ConditionalGAN`` (``make_gan`` picks).

    Saved whole with ``gan.save("gan.keras")`` (both networks, the settings of
    ``compile`` and both optimizers' state) and loaded in a fresh process with
    ``keras.saving.load_model("gan.keras")``; ``save_weights`` works too.
    """

    conditional = False

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        runtime.configure()  # a no-op after the first call; keeps the networks' policy
        super().__init__(**kwargs)
        for role, network in (("generator", generator), ("discriminator", discriminator)):
            if len(network.outputs) != 1:
                raise ModelError(f"the {role} must have one output (images for G, logits "
                                 f"for D); it has {len(network.outputs)}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_size(generator)
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])
        judged = judged_shape(discriminator)
        self.pack = pack_of(self.image_shape, judged)  # PacGAN: D judges packs of m samples
        if self.pack is None:
            raise ValueError(
                f"generator makes {sample_kind(self.image_shape)} of shape {self.image_shape} "
                f"but the discriminator takes {judged}; a D must take one sample of that "
                f"shape, or m of them side by side on the last axis (PacGAN; for m = 2: "
                f"{packed_shape(self.image_shape, 2)})")
        self.classes = label_classes(generator)
        if label_classes(discriminator) != self.classes:
            raise ValueError(
                "generator and discriminator must both be conditional on the same classes "
                f"or both unconditional; got {self.classes} and {label_classes(discriminator)}"
            )
        if (self.classes is not None) != self.conditional:
            raise ModelError(
                f"these networks {'take' if self.classes else 'take no'} labels: train them "
                f"with {'ConditionalGAN' if self.classes else 'GAN'} (gan_lab.gan.make_gan "
                "picks the class for a pair)")
        try:
            check_pack(self.pack, self.conditional)
        except ValueError as error:
            raise ModelError(str(error)) from None
        self.seed = seed
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.built = True  # both networks are built: save_weights works before fit()
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    def compile(self, d_optimizer=None, g_optimizer=None, loss=LOSS, d_steps=D_STEPS,
                g_steps=G_STEPS, real_label=REAL_LABEL, update=UPDATE, gp_weight=GP_WEIGHT,
                unroll=UNROLL, jit_compile="auto", **kwargs):
        """``loss``: the objective's name (``losses.OBJECTIVES``: "non_saturating", the
        default, "minimax", "lsgan", "hinge" or "wgan_gp", whose gradient penalty is weighted
        by ``gp_weight``); ``d_steps``: D updates per G update (each on its own share of the
        batch); ``g_steps``: G updates per step (each on fresh noise); ``real_label``: 1.0,
        or e.g. 0.9 for one-sided label smoothing; ``update``: "alternating" or
        "simultaneous"; ``unroll``: k look-ahead steps of D that G's loss is taken through
        (Metz et al. 2017; 0: none). The rules between them are ``options.check_rules``'s
        (ValueError). Packing (PacGAN) is the discriminator's: see ``packed``.
        Optimizers default to ``default_optimizer()``. ``jit_compile``: the train step
        compiled with XLA; "auto" is ``runtime.xla_by_default()``, gan_lab's choice for this
        device and CPU kind (Keras' own "auto" never uses XLA on a CPU). Other keywords
        (e.g. ``steps_per_execution``) go to ``keras.Model.compile``."""
        # __init__ has refused packing a conditional GAN (check_pack) already.
        check_rules(loss, update, d_steps, g_steps, real_label, unroll, self.pack)
        if unroll:
            check_look_ahead_optimizer(_unscaled(d_optimizer or default_optimizer()))
        super().compile(jit_compile=runtime.xla_by_default() if jit_compile == "auto"
                        else jit_compile, **kwargs)
        self.objective = objective(loss)
        self.d_optimizer = _loss_scaled(d_optimizer or default_optimizer())
        self.g_optimizer = _loss_scaled(g_optimizer or default_optimizer())
        self.d_steps, self.g_steps = int(d_steps), int(g_steps)
        self.real_label = float(real_label)
        self.update = update
        self.gp_weight = float(gp_weight)
        self.unroll = int(unroll)
        self._compiled_with = {"loss": loss, "d_steps": d_steps, "real_label": float(real_label),
                               "update": update, "jit_compile": jit_compile,
                               "gp_weight": float(gp_weight), "g_steps": g_steps,
                               "unroll": self.unroll}

    @property
    def loss_kind(self) -> str:
        """The objective's name, as compiled."""
        return self.objective.name

    # -- The training step ------------------------------------------------------------

    def train_step(self, data):
        """One iteration of Algorithm 1 on a batch of real images, as Lab 1's
        ``train_step`` makes it: (1) update D, (2) update G. Returns the epoch means."""
        real = self.real_batch(data)
        if self.update == "simultaneous":
            return self.simultaneous_step(real)
        if self.d_steps > 1:
            real = self.critic_steps(real)  # the first d_steps - 1 D updates
        # G(z) once, recorded for step (2): D's update leaves G as it is, so a second pass
        # would make the same fakes (Lab 1's step makes two; PyTorch's DCGAN example one).
        with tf.GradientTape() as g_tape:
            fake = self.fakes_like(real)
        # Unrolled GAN: G looks ahead from D as it is before (1), whose update is the
        # look-ahead's first step (Metz et al. 2017, sec. 2.2).
        start = self.look_ahead_start() if self.unroll else None
        # (1) Update D: real images towards 1, these fakes towards 0.
        self.discriminator_step(real, fake)
        # (2) Update G: the same fakes through the updated D, towards "real".
        with g_tape:
            g_loss = self.g_loss(real, fake, look_ahead_from=start)
        _minimise(self.g_optimizer, g_tape, g_loss, self.generator)
        self.g_loss_tracker.update_state(g_loss)
        for _ in range(self.g_steps - 1):  # G updates beyond one a step, on fresh noise
            self.generator_step(real)
        return self._logs()

    def discriminator_step(self, real, fake):
        """One D update on a real batch and a fake one (images (N, H, W, C) in [-1, 1]; for
        a ConditionalGAN (images, labels)); no gradient reaches G through ``fake``. Tracked
        and returned: (D's loss, mean D(x), mean D(G(z)))."""
        fake = keras.tree.map_structure(ops.stop_gradient, fake)
        with tf.GradientTape() as tape:
            real_outputs, fake_outputs = self.judge(real), self.judge(fake)
            d_loss = self.d_loss(real, fake, real_outputs, fake_outputs)
        _minimise(self.d_optimizer, tape, d_loss, self.discriminator)
        return self._track(d_loss, real_outputs, fake_outputs)

    def generator_step(self, real, z=None):
        """One G update on fakes for fresh noise (or ``z``; for ``real``'s labels when
        conditional) through D as it is; returns G's loss."""
        with tf.GradientTape() as tape:
            g_loss = self.g_loss(real, self.fakes_like(real, z))
        _minimise(self.g_optimizer, tape, g_loss, self.generator)
        return g_loss

    def critic_steps(self, real):
        """Algorithm 1's k = ``d_steps`` D updates (WGAN-GP's n_critic), each on its own
        minibatch: the batch (k minibatches from ``data.make_dataset``) is cut into k chunks
        of floor(n/k) rows; the first k - 1 updates are made here and the last chunk is
        returned for the update that shares G's forward pass. The n mod k rows of a partial
        last batch sit out; with n < k the chunks, one row each, wrap around."""
        rows = ops.shape(self.images_of(real))[0]
        chunk = ops.maximum(rows // self.d_steps, 1)

        def minibatch(step):
            taken = (ops.arange(chunk) + step * chunk) % rows
            return keras.tree.map_structure(lambda part: ops.take(part, taken, axis=0), real)

        for step in range(self.d_steps - 1):
            batch = minibatch(step)
            self.discriminator_step(batch, self.fakes_like(batch))
        return minibatch(self.d_steps - 1)

    def simultaneous_step(self, real):
        """Both updates from one forward pass, as the TensorFlow DCGAN tutorial does: G's
        gradient is taken through D as it was before D's update. Returns the logs."""
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.fakes_like(real)
            real_outputs, fake_outputs = self.judge(real), self.judge(fake)
            d_loss = self.d_loss(real, fake, real_outputs, fake_outputs)
            g_loss = self.objective.generator_loss(fake_outputs)
        _minimise(self.d_optimizer, d_tape, d_loss, self.discriminator)
        _minimise(self.g_optimizer, g_tape, g_loss, self.generator)
        self._track(d_loss, real_outputs, fake_outputs)
        self.g_loss_tracker.update_state(g_loss)
        return self._logs()

    def d_loss(self, real, fake, real_outputs, fake_outputs):
        """D's loss under the compiled objective, from its outputs on the real and the fake
        batch; plus ``gp_weight`` times the gradient penalty where the objective takes one."""
        loss = self._objective_d_loss(real_outputs, fake_outputs)
        if self.objective.rules.gradient_penalty:
            loss = loss + self.gp_weight * self.gradient_penalty(real, fake)
        return loss

    def _objective_d_loss(self, real_outputs, fake_outputs):
        smoothing = (self.real_label,) if self.objective.rules.label_smoothing else ()
        return self.objective.discriminator_loss(real_outputs, fake_outputs, *smoothing)

    def g_loss(self, real, fake, look_ahead_from=None):
        """G's loss under the compiled objective for the fake batch as D judges it now
        (``real``: the batch the fakes were drawn beside, for variants that need it);
        with ``unroll`` k > 0, as D will judge it k steps ahead of ``look_ahead_from``
        (``unrolled_g_loss``)."""
        if self.unroll:
            return self.unrolled_g_loss(real, fake, look_ahead_from)
        return self.objective.generator_loss(self.judge(fake))

    def look_ahead_start(self):
        """D as it is now, as tensors: (weights, non-trainable state, Adam moments, Adam's
        step count), where an unrolled look-ahead starts."""
        network, optimizer = self.discriminator, _unscaled(self.d_optimizer)
        return ([tf.convert_to_tensor(v.value) for v in network.trainable_variables],
                [tf.convert_to_tensor(v.value) for v in network.non_trainable_variables],
                adam_moments(optimizer, network.trainable_variables),
                tf.convert_to_tensor(optimizer.iterations.value))

    def unrolled_g_loss(self, real, fake, start=None):
        """The Unrolled GAN's G loss (Metz et al. 2017, eq. 5-7), a scalar: G's loss for
        ``fake`` (N, ...) as judged by a copy of D moved ``unroll`` Adam steps ahead on
        ``real`` (N, ...) and ``fake`` from ``start`` (``look_ahead_start()``; default: D
        as it is now), with G's gradient flowing through those steps (how D would answer
        G's move). ``train_step`` starts it from D before D's update, so its first step is
        that update. The copy is a pure function (``Layer.stateless_call`` on weight
        tensors, ``adam_look_ahead``): the real D and its optimizer are untouched."""
        network, optimizer = self.discriminator, _unscaled(self.d_optimizer)
        weights, state, moments, iterations = start or self.look_ahead_start()
        real_pack, fake_pack = self.packed(real), self.packed(fake)
        for step in range(1, self.unroll + 1):
            with tf.GradientTape() as look_ahead:
                look_ahead.watch(weights)
                real_outputs, state = network.stateless_call(weights, state, real_pack,
                                                             training=True)
                fake_outputs, state = network.stateless_call(weights, state, fake_pack,
                                                             training=True)
                loss = self._objective_d_loss(real_outputs, fake_outputs)
            gradients = look_ahead.gradient(loss, weights)
            weights, moments = adam_look_ahead(optimizer, weights, gradients, moments,
                                               iterations + step)
        outputs, _ = network.stateless_call(weights, state, fake_pack, training=True)
        return self.objective.generator_loss(outputs)

    def gradient_penalty(self, real, fake):
        """``losses.gradient_penalty`` at random points between the real and fake images
        (Gulrajani et al. 2017), one uniform mixing weight per image."""
        images = self.images_of(real)
        shape = (ops.shape(images)[0],) + (1,) * (len(images.shape) - 1)
        alpha = self.random(tf.random.stateless_uniform, shape)
        return gradient_penalty(lambda mixed: self.judge(self.with_images(real, mixed)),
                                images, self.images_of(fake), alpha)

    # -- What a batch is: images here, (images, labels) in ConditionalGAN ---------------

    def real_batch(self, data):
        """The real images of a ``fit()`` batch (labels given beside them are ignored)."""
        return data[0] if isinstance(data, (tuple, list)) else data

    def fakes_like(self, real, z=None):
        """G's images (training mode) for ``z``, by default fresh noise, as many as ``real``
        holds."""
        z = self.sample_noise(ops.shape(real)[0]) if z is None else z
        return self.generator(z, training=True)

    def judge(self, batch):
        """D's outputs for a batch, in training mode: (N, 1), or (N // m, 1) when D judges
        packs of m (``packed``)."""
        return self.discriminator(self.packed(batch), training=True)

    def packed(self, samples):
        """PacGAN's packing (Lin et al. 2018): samples (N, ..., C) -> (N // m, ..., m * C),
        each m consecutive samples side by side on the last axis, for a D that judges m at
        once (m = ``pack``, read from D's input; 1: returned as they are). Real and fake
        batches are packed apart, so a pack never mixes them; N mod m rows sit out, and a
        batch of fewer than m samples (an epoch's last) wraps round into one pack."""
        if self.pack == 1:
            return samples
        shape = tuple(samples.shape[1:])
        rows = ops.shape(samples)[0]
        taken = ops.arange(ops.maximum(rows // self.pack, 1) * self.pack) % rows
        grouped = ops.reshape(ops.take(samples, taken, axis=0), (-1, self.pack, *shape))
        side_by_side = ops.moveaxis(grouped, 1, -2)  # (N // m, ..., m, C)
        return ops.reshape(side_by_side, (-1, *shape[:-1], self.pack * shape[-1]))

    def images_of(self, batch):
        return batch

    def with_images(self, batch, images):
        return images

    def sample_noise(self, batch_size):
        """z ~ N(0, I), shape (batch_size, latent_dim), from the model's seeded stream (under
        a tf.distribute strategy each replica folds its number into the seed: its own z)."""
        return self.random(tf.random.stateless_normal, (batch_size, self.latent_dim))

    def random(self, draw, shape):
        """``draw`` (``tf.random.stateless_normal`` or ``stateless_uniform``) of ``shape``,
        float32, seeded by the model's ``noise_seed`` (a ``keras.random.SeedGenerator``,
        advanced by each call; a replica of a strategy folds in its number). Philox is
        named, not left to TensorFlow's "auto_select": inside an XLA step on a CPU that
        draws the same numbers 11 to 15 times more slowly (docs/performance.md, "XLA and
        the random numbers"). XLA's numbers differ from the graph step's either way."""
        seed = self.noise_seed.next()
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            seed = tf.random.experimental.stateless_fold_in(seed,
                                                            replica.replica_id_in_sync_group)
        # XLA wants an int32 seed; the same cast as Keras' own random ops.
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        return draw(shape, seed=seed, alg="philox")

    # -- Keras' bookkeeping ---------------------------------------------------------------

    @property
    def metrics(self):
        # Listed here so fit() resets them every epoch: the logs are epoch means.
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def _track(self, d_loss, real_outputs, fake_outputs):
        """Track D's loss and its mean outputs (probabilities for the cross-entropy
        objectives, raw scores for the others: the history's d_real and d_fake)."""
        if self.objective.rules.logits:
            real_outputs, fake_outputs = ops.sigmoid(real_outputs), ops.sigmoid(fake_outputs)
        d_real = ops.mean(ops.cast(real_outputs, "float32"))
        d_fake = ops.mean(ops.cast(fake_outputs, "float32"))
        self.d_loss_tracker.update_state(d_loss)
        self.d_real_tracker.update_state(d_real)
        self.d_fake_tracker.update_state(d_fake)
        return d_loss, d_real, d_fake

    def _logs(self):
        """The epoch means so far, by name. Under MultiWorkerMirroredStrategy each has shape
        (1,): Keras averages the workers' logs over axis 0 there, which a scalar lacks."""
        logs = {m.name: m.result() for m in self.metrics}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def call(self, z, training=False):
        return self.generator(z, training=training)

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
        """``preflight.check_networks``: both networks run once, before any training."""
        check_networks(self, samples)

    def check_training_data(self, x):
        """``preflight.check_training_data``: the first batch checked against this GAN."""
        check_training_data(self, x)

    def generate(self, n=None, z=None, seed=None, labels=None):
        """Images in [-1, 1], shape (n, H, W, C), from ``z`` (n, latent_dim) or fresh noise
        (and ``labels`` when conditional: see ``generate``)."""
        return generate(self.generator, n=n, z=z, seed=seed, labels=labels)


@keras.saving.register_keras_serializable(package="gan_lab")
class ConditionalGAN(GAN):
    """A GAN whose G draws each image for a class label and whose D judges every image
    together with its label (Mirza & Osindero 2014): G [z, labels] -> images, D [images,
    labels] -> logits. It trains on (images, labels) batches; each fake is drawn for the
    label of a real image of the batch, and ``classes`` is the number of classes."""

    conditional = True

    def real_batch(self, data):
        images, labels = data  # check_training_data made sure labels are there
        return images, labels

    def fakes_like(self, real, z=None):
        images, labels = real
        z = self.sample_noise(ops.shape(images)[0]) if z is None else z
        return self.generator([z, labels], training=True), labels

    def judge(self, batch):
        images, labels = batch
        return self.discriminator([images, labels], training=True)

    def images_of(self, batch):
        return batch[0]

    def with_images(self, batch, images):
        return images, batch[1]


def make_gan(generator, discriminator, seed=None) -> GAN:
    """A ``ConditionalGAN`` for networks that take labels, else a ``GAN``."""
    gan_class = ConditionalGAN if label_classes(generator) is not None else GAN
    return gan_class(generator, discriminator, seed=seed)


def _minimise(optimizer, tape, loss, network):
    """One step of ``optimizer`` down the gradient of ``loss`` (recorded on ``tape``) for
    ``network``'s trainable weights, with what the device and the strategy need kept out of
    the algorithm's way: under mixed_float16 the loss is scaled up before the backward pass
    so small gradients survive in float16 (the LossScaleOptimizer scales them back down;
    other optimizers return the loss as it is), and under a strategy of n replicas each
    replica's gradient of its batch mean is divided by n, since the strategy sums them."""
    variables = network.trainable_variables
    with tape:  # the scaling is part of what is differentiated
        scaled = optimizer.scale_loss(loss)
    gradients = tape.gradient(scaled, variables)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        gradients = [None if g is None else g / replicas for g in gradients]
    optimizer.apply_gradients(zip(gradients, variables))


def check_look_ahead_optimizer(optimizer):
    """ValueError, saying what to change, unless ``adam_look_ahead`` repeats
    ``optimizer``'s step exactly: keras.optimizers.Adam itself, with no amsgrad, weight
    decay, clipping, EMA or gradient accumulation."""
    extras = [name for name in ("amsgrad", "weight_decay", "clipnorm", "clipvalue",
                                "global_clipnorm", "use_ema", "gradient_accumulation_steps")
              if getattr(optimizer, name, None)]
    if type(optimizer) is not keras.optimizers.Adam or extras:
        raise ValueError("unroll looks ahead with D's own optimizer, which must be plain "
                         f"keras.optimizers.Adam; got {type(optimizer).__name__}"
                         + (f" with {', '.join(extras)}" if extras else ""))


def adam_moments(optimizer, variables):
    """Adam's first and second moment estimates for ``variables``, as tensors (zeros
    before its first step): where an unrolled look-ahead starts. ValueError as
    ``check_look_ahead_optimizer``."""
    check_look_ahead_optimizer(optimizer)
    if not optimizer.built:
        optimizer.build(variables)
    slots = {id(v): (m, s) for v, m, s in zip(optimizer._trainable_variables,
                                             optimizer._momentums, optimizer._velocities)}
    return [tuple(tf.convert_to_tensor(slot.value) for slot in slots[id(v)])
            for v in variables]


def adam_look_ahead(optimizer, weights, gradients, moments, step):
    """One Adam step (Kingma & Ba 2015, Algorithm 1) as a pure function of tensors, with
    ``optimizer``'s learning rate, betas and epsilon, as its ``step``-th (1 for its first):
    returns (new weights, new moments), as ``weights`` and ``moments`` ([(m, v)] a weight).
    Differentiable, so G's gradient can pass through."""
    t = ops.cast(step, "float32")
    rate = ops.cast(optimizer.learning_rate, "float32")
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    rate = rate * ops.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    new_weights, new_moments = [], []
    for weight, gradient, (m, v) in zip(weights, gradients, moments):
        m = beta_1 * m + (1 - beta_1) * gradient
        v = beta_2 * v + (1 - beta_2) * ops.square(gradient)
        new_weights.append(weight - rate * m / (ops.sqrt(v) + optimizer.epsilon))
        new_moments.append((m, v))
    return new_weights, new_moments


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
