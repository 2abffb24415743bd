import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lab import models
from gan_lab.data import DataError, make_dataset
from gan_lab.gan import GAN, generate
from gan_lab.losses import minimax_discriminator_loss as discriminator_loss
from gan_lab.losses import objective


def generator_loss(fake_logits, kind="non_saturating"):
    return objective(kind).generator_loss(fake_logits)

LOGITS_REAL = np.array([[2.0], [-1.0], [0.0], [8.0]], np.float32)
LOGITS_FAKE = np.array([[-3.0], [0.5], [0.0], [-8.0]], np.float32)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_discriminator_loss_matches_the_formula():
    expected = -np.mean(np.log(sigmoid(LOGITS_REAL))) - np.mean(np.log(1 - sigmoid(LOGITS_FAKE)))
    got = float(discriminator_loss(LOGITS_REAL, LOGITS_FAKE))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_one_sided_label_smoothing_changes_only_real_targets():
    p = sigmoid(LOGITS_REAL)
    real = -np.mean(0.9 * np.log(p) + 0.1 * np.log(1 - p))
    fake = -np.mean(np.log(1 - sigmoid(LOGITS_FAKE)))
    got = float(discriminator_loss(LOGITS_REAL, LOGITS_FAKE, real_label=0.9))
    np.testing.assert_allclose(got, real + fake, rtol=1e-5)


def test_generator_losses():
    p = sigmoid(LOGITS_FAKE)
    np.testing.assert_allclose(float(generator_loss(LOGITS_FAKE, "minimax")),
                               np.mean(np.log(1 - p)), rtol=1e-5)
    np.testing.assert_allclose(float(generator_loss(LOGITS_FAKE, "non_saturating")),
                               -np.mean(np.log(p)), rtol=1e-5)
    # Large logits stay finite: the losses work on logits, not on probabilities.
    extreme = np.array([[-100.0], [100.0]], np.float32)
    assert np.isfinite(float(generator_loss(extreme))) and np.isfinite(
        float(discriminator_loss(extreme, extreme)))
    with pytest.raises(ValueError, match="unknown loss"):
        generator_loss(LOGITS_FAKE, "wasserstein")


def small_gan(seed=0, **compile_args):
    keras.utils.set_random_seed(seed)
    generator = models.dense_generator(latent_dim=8, hidden=(32,))
    discriminator = models.dense_discriminator(hidden=(32,), dropout=0)
    gan = GAN(generator, discriminator, seed=seed)
    gan.compile(**compile_args)
    return gan


def weights(model):
    return [w.numpy().copy() for w in model.trainable_weights]


def test_each_step_updates_only_its_own_network(sample_digits):
    gan = small_gan()
    real = sample_digits.images[:16]
    z = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    g_before, d_before = weights(gan.generator), weights(gan.discriminator)
    gan.discriminator_step(real, gan.generator(z))
    assert all(np.array_equal(a, b) for a, b in zip(g_before, weights(gan.generator)))
    assert not all(np.array_equal(a, b) for a, b in zip(d_before, weights(gan.discriminator)))

    d_before = weights(gan.discriminator)
    gan.generator_step(real)
    assert all(np.array_equal(a, b) for a, b in zip(d_before, weights(gan.discriminator)))
    assert not all(np.array_equal(a, b) for a, b in zip(g_before, weights(gan.generator)))


def test_discriminator_learns_a_separable_problem():
    # Real images are bright, fakes of an untrained generator are grey: D must learn it.
    gan = small_gan(d_optimizer=keras.optimizers.Adam(5e-3))
    real = np.full((32, 28, 28, 1), 0.9, np.float32)
    z = np.random.default_rng(1).standard_normal((32, 8)).astype(np.float32)
    fake = gan.generator(z)
    losses = [float(gan.discriminator_step(real, fake)[0]) for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0], losses
    assert all(later < earlier for earlier, later in zip(losses[::10], losses[10::10]))
    d_real, d_fake = (float(v) for v in gan.discriminator_step(real, fake)[1:])
    assert d_real > 0.9 and d_fake < 0.4


@pytest.mark.parametrize("d_steps", [1, 2])
def test_fit_with_partial_last_batch_reports_epoch_means(sample_digits, d_steps):
    gan = small_gan(d_steps=d_steps)
    batches = make_dataset(sample_digits.images[:70], 32 * d_steps, seed=0)
    history = gan.fit(batches, epochs=2, verbose=0).history
    assert sorted(history) == ["d_fake", "d_loss", "d_real", "g_loss"]
    assert [m.name for m in gan.metrics] == ["d_loss", "g_loss", "d_real", "d_fake"]
    for key, values in history.items():
        assert len(values) == 2 and all(np.isfinite(values)), key
    assert all(0 < v < 1 for v in history["d_real"] + history["d_fake"])


def test_fit_accepts_numpy_arrays(sample_digits):
    gan = small_gan()
    history = gan.fit(sample_digits.images[:40], batch_size=16, epochs=1, verbose=0).history
    assert np.isfinite(history["g_loss"][0])


@pytest.mark.parametrize(
    "images, message",
    [
        (lambda x: (x + 1) * 127.5, r"must lie in \[-1, 1\].*x / 127.5 - 1"),
        (lambda x: x[..., 0], "add the channel axis"),
        (lambda x: np.repeat(x, 3, axis=-1), r"shape \(N, 28, 28, 1\)"),
    ],
)
def test_fit_rejects_bad_images_before_training(sample_digits, images, message):
    gan = small_gan()
    bad = images(sample_digits.images[:64])
    with pytest.raises(DataError, match=message):
        gan.fit(bad, batch_size=32, epochs=1, verbose=0)
    with pytest.raises(DataError, match=message):
        gan.fit(tf.data.Dataset.from_tensor_slices(bad).batch(32), epochs=1, verbose=0)


def test_fit_rejects_unbatched_dataset_and_needs_compile(sample_digits):
    gan = small_gan()
    with pytest.raises(DataError, match="batch it"):
        gan.fit(tf.data.Dataset.from_tensor_slices(sample_digits.images[:8]), verbose=0)
    uncompiled = GAN(models.dense_generator(), models.dense_discriminator())
    with pytest.raises(RuntimeError, match="compile"):
        uncompiled.fit(sample_digits.images[:8], verbose=0)


def test_compile_rejects_bad_settings():
    gan = small_gan()
    with pytest.raises(ValueError, match="d_steps"):
        gan.compile(d_steps=0)
    with pytest.raises(ValueError, match="real_label"):
        gan.compile(real_label=0.3)
    with pytest.raises(ValueError, match="generator makes images of shape"):
        GAN(models.dense_generator(), models.dense_discriminator((32, 32, 3)))


def test_generate(sample_digits):
    gan = small_gan()
    images = gan.generate(10, seed=3)
    assert images.shape == (10, 28, 28, 1) and images.dtype == np.float32
    assert -1 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(images, gan.generate(10, seed=3))
    with pytest.raises(ValueError, match=r"z must have shape \(n, 8\)"):
        gan.generate(z=np.zeros((2, 100)))


@pytest.mark.integration
def test_generator_loads_in_a_fresh_process(tmp_path):
    from gan_lab.files import save_model

    generator = models.dcgan_generator()
    z = np.random.default_rng(0).standard_normal((4, 100)).astype(np.float32)
    expected = generate(generator, z=z)
    save_model(generator, tmp_path / "g.keras")
    np.save(tmp_path / "z.npy", z)
    script = (
        "import numpy as np, keras; from gan_lab.gan import generate;"
        f"g = keras.saving.load_model(r'{tmp_path / 'g.keras'}');"
        f"np.save(r'{tmp_path / 'out.npy'}', generate(g, z=np.load(r'{tmp_path / 'z.npy'}')))"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-6)


def test_simultaneous_update_trains_and_refuses_several_d_steps(sample_digits):
    gan = small_gan(update="simultaneous")
    g_before, d_before = weights(gan.generator), weights(gan.discriminator)
    history = gan.fit(make_dataset(sample_digits.images[:64], 32, seed=0), epochs=1,
                      verbose=0).history
    assert all(np.isfinite(v[0]) for v in history.values())
    assert not any(np.array_equal(a, b) for a, b in zip(g_before, weights(gan.generator)))
    assert not any(np.array_equal(a, b) for a, b in zip(d_before, weights(gan.discriminator)))
    with pytest.raises(ValueError, match="use d_steps=1 or update='alternating'"):
        small_gan(update="simultaneous", d_steps=2)
    with pytest.raises(ValueError, match="unknown update 'sometimes'"):
        small_gan(update="sometimes")


@pytest.mark.parametrize("flags, gpu, expected", [
    ({"avx2", "fma"}, False, True),        # AVX2-only CPUs: XLA (docs/performance.md, "How fast")
    ({"avx2", "avx512f"}, False, False),   # AVX-512: oneDNN's kernels without XLA
    ({"avx512f"}, True, True),             # a GPU: XLA
])
def test_xla_is_chosen_by_device_and_cpu_kind_and_the_gan_follows(monkeypatch, flags, gpu,
                                                                   expected):
    from gan_lab import runtime

    monkeypatch.delenv(runtime.XLA_ENV, raising=False)
    monkeypatch.setattr(runtime, "cpu_flags", lambda: set(flags))
    monkeypatch.setattr(runtime, "gpus", lambda: ["GPU:0"] if gpu else [])
    assert runtime.xla_by_default() is expected
    gan = small_gan()  # compile()'s jit_compile="auto" is gan_lab's choice, not Keras' own
    assert gan.jit_compile is expected
    assert gan.get_compile_config()["jit_compile"] == "auto"  # chosen again where it loads
    for wanted in ("0", "1"):
        monkeypatch.setenv(runtime.XLA_ENV, wanted)
        assert small_gan().jit_compile is (wanted == "1")
    monkeypatch.setenv(runtime.XLA_ENV, "yes")
    with pytest.raises(ValueError, match="GAN_LAB_XLA must be 1 or 0"):
        small_gan()


def test_the_step_draws_its_noise_with_philox():
    """The latents and the gradient penalty's mixing weights name Philox: left to
    TensorFlow's "auto_select", an XLA step on a CPU draws them 11 to 15 times more slowly
    (docs/performance.md, "XLA and the random numbers")."""
    gan = small_gan(loss="wgan_gp")
    graph = tf.function(gan.train_step).get_concrete_function(
        tf.TensorSpec((16, 28, 28, 1), tf.float32)).graph
    kinds = {"StatelessRandomNormalV2", "StatelessRandomUniformV2"}  # inputs: ..., alg
    draws = [op for op in graph.get_operations() if op.type in kinds]
    assert {op.type for op in draws} == kinds
    philox = 1  # TensorFlow's RNG_ALG_PHILOX; auto_select is 3
    for op in draws:
        alg = op.inputs[-1]
        assert tf.get_static_value(alg) == philox, (op.name, alg)
