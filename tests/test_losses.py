"""The GAN objectives against hand computations, the gradient penalty's value and gradient,
the critic's n_critic steps, spectral normalisation and precision/recall sanity."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_lab import losses, metrics, models
from gan_lab.config import TrainConfig
from gan_lab.gan import GAN

REAL = np.array([[2.0], [-0.5], [0.3], [1.2]], np.float32)
FAKE = np.array([[-1.5], [0.7], [-0.2], [3.0]], np.float32)


def softplus(x):
    return np.log1p(np.exp(x))


@pytest.mark.parametrize("name, d_expected, g_expected", [
    ("non_saturating", softplus(-REAL).mean() + softplus(FAKE).mean(), softplus(-FAKE).mean()),
    ("minimax", softplus(-REAL).mean() + softplus(FAKE).mean(), -softplus(FAKE).mean()),
    ("lsgan", 0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE ** 2).mean(),
     0.5 * ((FAKE - 1) ** 2).mean()),
    ("hinge", np.maximum(0, 1 - REAL).mean() + np.maximum(0, 1 + FAKE).mean(), -FAKE.mean()),
    ("wgan_gp", FAKE.mean() - REAL.mean(), -FAKE.mean()),
])
def test_each_objective_matches_its_formula(name, d_expected, g_expected):
    chosen = losses.objective(name)
    d_loss, g_loss = chosen.discriminator_loss, chosen.generator_loss
    np.testing.assert_allclose(float(d_loss(REAL, FAKE)), d_expected, rtol=1e-6)
    np.testing.assert_allclose(float(g_loss(FAKE)), g_expected, rtol=1e-6)


def test_least_squares_matches_cs231n_on_its_own_inputs():
    # CS231n's ls_discriminator_loss / ls_generator_loss: 0.5 * mean((s_real - 1)^2) +
    # 0.5 * mean(s_fake^2) and 0.5 * mean((s_fake - 1)^2), on scores of any shape (N,).
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(16, 1)), rng.normal(size=(16, 1))
    ours_d = float(losses.least_squares_discriminator_loss(real, fake))
    ours_g = float(losses.least_squares_generator_loss(fake))
    assert ours_d == pytest.approx(0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake ** 2))
    assert ours_g == pytest.approx(0.5 * np.mean((fake - 1) ** 2))


def test_gradient_penalty_of_a_linear_critic_is_the_norm_of_its_weights():
    critic = keras.Sequential([keras.Input((2, 2, 1)), layers.Flatten(), layers.Dense(1)])
    w = np.array([[0.5], [-1.0], [2.0], [0.25]], np.float32)
    critic.layers[-1].set_weights([w, np.zeros(1, np.float32)])
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(3, 2, 2, 1)), rng.normal(size=(3, 2, 2, 1))
    alpha = rng.uniform(size=(3, 1, 1, 1))
    penalty = float(losses.gradient_penalty(critic, real, fake, alpha))
    assert penalty == pytest.approx((np.linalg.norm(w) - 1) ** 2, rel=1e-5)


def test_gradient_penalty_at_the_interpolates_and_its_second_order_gradient():
    scale = tf.Variable(0.7)

    def critic(images):  # D(x) = scale * sum(x^2): grad = 2 scale x
        return scale * tf.reduce_sum(tf.square(images), axis=[1, 2, 3])[:, None]

    rng = np.random.default_rng(1)
    real = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    fake = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    alpha = rng.uniform(size=(4, 1, 1, 1)).astype(np.float32)
    mixed = alpha * real + (1 - alpha) * fake
    norms = 2 * 0.7 * np.sqrt((mixed ** 2).sum(axis=(1, 2, 3)))
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, real, fake, alpha)
    assert float(penalty) == pytest.approx(((norms - 1) ** 2).mean(), rel=1e-5)
    # d/dscale of mean((2 scale |x| - 1)^2) = mean(2 (norm - 1) 2 |x|): a nested tape's work
    expected = (2 * (norms - 1) * 2 * np.sqrt((mixed ** 2).sum(axis=(1, 2, 3)))).mean()
    assert float(tape.gradient(penalty, scale)) == pytest.approx(expected, rel=1e-4)


def small_gan(**compile_kwargs):
    generator = models.dcgan_generator(latent_dim=8, widths=(16, 8))
    discriminator = models.dcgan_discriminator(widths=(8, 16), normalization="layer")
    gan = GAN(generator, discriminator, seed=0)
    gan.compile(**compile_kwargs)
    return gan


def test_the_critic_takes_n_critic_steps_per_generator_step(sample_digits):
    gan = small_gan(loss="wgan_gp", d_steps=3)  # the paper's 5; 3 traces a smaller step
    d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    history = gan.fit(sample_digits.images[:320], batch_size=160, epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations.numpy()) == 6  # 2 steps x 3 critic updates
    assert int(gan.g_optimizer.iterations.numpy()) == 2
    assert all(np.isfinite(v[0]) for v in history.history.values())
    # Every kernel moves (the logit's bias cannot: E[D(G(z))] - E[D(x)] does not depend on it)
    assert all(not np.array_equal(a, b.numpy()) for a, b in
               zip(d_before, gan.discriminator.trainable_weights) if b.path.endswith("kernel"))
    assert any(not np.array_equal(a, b.numpy())
               for a, b in zip(g_before, gan.generator.trainable_weights))


def test_wgan_gp_brings_its_papers_settings():
    config = TrainConfig.create("dcgan", loss="wgan_gp")
    assert (config.d_steps, config.learning_rate, config.beta_1, config.beta_2) == \
        (5, 1e-4, 0.0, 0.9)
    assert dict(config.discriminator_options)["normalization"] == "layer"
    assert TrainConfig.create("dcgan", loss="wgan_gp", d_steps=3).d_steps == 3
    with pytest.raises(ValueError, match="WGAN-GP critic takes no batch norm"):
        TrainConfig.create("dcgan", loss="wgan_gp", discriminator_options={"normalization": "batch"})
    with pytest.raises(ValueError, match="label smoothing.*not to hinge"):
        TrainConfig.create("dcgan", loss="hinge", real_label=0.9)


@pytest.mark.parametrize("model", ["dcgan", "gan"])
def test_spectral_norm_keeps_each_kernels_largest_singular_value_near_one(sample_digits, model):
    build = {"dcgan": lambda: models.dcgan_discriminator(widths=(8, 16), spectral_norm=True),
             "gan": lambda: models.dense_discriminator(hidden=(64, 32), spectral_norm=True)}
    discriminator = build[model]()
    generator = (models.dcgan_generator(latent_dim=8, widths=(16, 8)) if model == "dcgan"
                 else models.dense_generator(latent_dim=8, hidden=(32,)))
    gan = GAN(generator, discriminator, seed=0)
    gan.compile(loss="hinge", d_optimizer=keras.optimizers.Adam(0.05))  # large steps
    gan.fit(sample_digits.images[:256], batch_size=32, epochs=1, verbose=0)
    wrapped = [l for l in discriminator.layers if isinstance(l, layers.SpectralNormalization)]
    assert len(wrapped) == (3 if model == "dcgan" else 3)
    for layer in wrapped:
        kernel = layer.layer.kernel.numpy()
        sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        assert sigma <= 1.1, (layer.name, sigma)
    unnormalised = models.dcgan_discriminator(widths=(8, 16))
    assert not any(isinstance(l, layers.SpectralNormalization) for l in unnormalised.layers)


def test_precision_and_recall_tell_collapse_from_noise():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6.0, size=(10, 8))
    def clusters(n, which):
        return centres[rng.choice(which, n)] + rng.normal(size=(n, 8))
    real = clusters(600, range(10))
    same = clusters(600, range(10))
    collapsed = clusters(600, [3])
    noise = rng.normal(scale=1.0, size=(600, 8)) * 30
    precision, recall = metrics.precision_recall(real, same)
    assert precision > 0.85 and recall > 0.85
    precision, recall = metrics.precision_recall(real, collapsed)
    assert precision > 0.85 and recall < 0.25
    precision, recall = metrics.precision_recall(real, noise)
    assert precision < 0.2
    with pytest.raises(ValueError, match="more than k=3 points"):
        metrics.precision_recall(real[:3], same)


def test_g_steps_gives_g_several_updates_per_step(sample_digits):
    gan = GAN(models.dense_generator(latent_dim=8, hidden=(16,)),
              models.dense_discriminator(hidden=(16,)), seed=0)
    gan.compile(g_steps=3)
    gan.fit(sample_digits.images[:128], batch_size=64, epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations.numpy()) == 2
    assert int(gan.g_optimizer.iterations.numpy()) == 6
    with pytest.raises(ValueError, match="simultaneous update makes one G update"):
        gan.compile(g_steps=2, update="simultaneous")


def test_every_objective_has_both_losses_and_its_rules():
    # The rules (options.OBJECTIVE_RULES, read without TensorFlow) and the loss functions
    # (losses._LOSS_PAIRS) are two tables of one set of names: a name in one only is a fault.
    from gan_lab.options import LOSSES, OBJECTIVE_RULES

    assert set(losses.OBJECTIVES) == set(losses._LOSS_PAIRS) == set(OBJECTIVE_RULES)
    assert tuple(losses.OBJECTIVES) == LOSSES
