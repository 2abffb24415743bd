"""Checkpoints by name, across precision policies, and the GAN saved whole."""

import gc
import logging
import subprocess
import sys

import keras
import numpy as np
import pytest

from gan_lab import checkpoint
from gan_lab.data import load_images
from gan_lab.gan import GAN
from gan_lab.models import dense_discriminator, dense_generator
from gan_lab.run_folder import RunError, RunFolder

from helpers import tiny_pair


# --- checkpoints by name, across precision policies ------------------------------------


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_a_mixed_precision_checkpoint_resumes_under_float32(tmp_path, policy):
    folder = RunFolder(tmp_path / "run").prepare()
    generator, discriminator = tiny_pair()
    gan = GAN(generator, discriminator, seed=0)
    gan.compile()
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    images = load_images("mnist", source="sample", limit=64).images
    gan.fit(images, batch_size=32, epochs=1, verbose=0)
    checkpoint.save(gan, folder, 1)
    saved = [v.numpy() for v in gan.generator.weights]

    keras.mixed_precision.set_global_policy("float32")
    again = GAN(*tiny_pair(), seed=0)
    again.compile()
    assert checkpoint.restore(again, folder) == 1
    for a, b in zip(saved, again.generator.weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert int(again.g_optimizer.iterations.numpy()) == 2


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    folder = RunFolder(tmp_path / "run").prepare()
    gan = GAN(*tiny_pair(), seed=0)
    gan.compile()
    checkpoint.save(gan, folder, 1)
    other = GAN(dense_generator(latent_dim=8, hidden=(32,)), dense_discriminator(hidden=(16,)))
    other.compile()
    warned = []
    handler = logging.Handler()
    handler.emit = lambda record: warned.append(record.getMessage())
    logging.getLogger("tensorflow").addHandler(handler)
    try:
        with pytest.raises(RunError, match="another architecture"):
            checkpoint.restore(other, folder)
        gc.collect()
    finally:
        logging.getLogger("tensorflow").removeHandler(handler)
    # The one-line error is the whole message: no warnings about unrestored values follow.
    assert not [message for message in warned if "checkpoint" in message.lower()], warned


# --- the GAN saved whole -----------------------------------------------------------------


@pytest.mark.integration
def test_a_trained_gan_saves_and_loads_in_a_fresh_process(tmp_path, sample_digits):
    gan = GAN(*tiny_pair(), seed=0)
    gan.compile(loss="minimax", d_steps=2)
    gan.fit(sample_digits.images[:128], batch_size=64, epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    gan.save_weights(tmp_path / "gan.weights.h5")
    z = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    script = (
        "import numpy as np, keras, gan_lab.gan; "
        f"gan = keras.saving.load_model(r'{tmp_path / 'gan.keras'}'); "
        "assert gan.loss_kind == 'minimax' and gan.d_steps == 2, gan.loss_kind; "
        "assert int(gan.g_optimizer.iterations.numpy()) == 2, gan.g_optimizer.iterations; "
        f"np.save(r'{tmp_path / 'out.npy'}', gan.generate(z=np.load(r'{tmp_path / 'z.npy'}')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), gan.generate(z=z), atol=1e-6)
