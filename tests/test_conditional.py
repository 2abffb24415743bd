"""The class-conditional GAN (train cgan) and the course's CIFAR-10 generator."""

import csv
import subprocess
import sys

import keras
import numpy as np
import pytest

from gan_lab import gan as gan_module, models
from gan_lab.cli import main
from gan_lab.data import DataError, make_dataset
from gan_lab.gan import GAN, generate, make_gan


def small_cgan():
    keras.utils.set_random_seed(0)
    gan = make_gan(models.conditional_generator(latent_dim=8, widths=(32, 16)),
                   models.conditional_discriminator(widths=(16, 32)), seed=0)
    gan.compile()
    return gan


def test_conditional_pair_uses_the_label():
    keras.utils.set_random_seed(0)
    generator, discriminator = models.build_pair("cgan")
    assert models.label_classes(generator) == models.label_classes(discriminator) == 10
    assert models.label_classes(models.dcgan_generator()) is None
    z = np.repeat(np.random.default_rng(0).standard_normal((1, 100)), 10, 0).astype(np.float32)
    images = generate(generator, z=z)  # one latent point, labels 0..9
    assert images.shape == (10, 28, 28, 1) and -1 <= images.min() and images.max() <= 1
    assert len({image.tobytes() for image in images}) == 10  # each label draws its own image
    logits = np.asarray(discriminator([images[:1].repeat(10, 0), np.arange(10)]))
    assert logits.shape == (10, 1) and len(np.unique(logits.round(6))) > 1


def test_generate_checks_labels():
    generator = models.conditional_generator(latent_dim=8, widths=(32, 16))
    with pytest.raises(DataError, match=r"integers in \[0, 10\)"):
        generate(generator, n=3, labels=[0, 5, 10])
    with pytest.raises(DataError, match=r"shape \(3,\)"):
        generate(generator, n=3, labels=[1, 2])
    with pytest.raises(ValueError, match="unconditional"):
        generate(models.dcgan_generator(), n=2, labels=[1, 2])
    with pytest.raises(ValueError, match="both be conditional"):
        GAN(models.conditional_generator(), models.dcgan_discriminator())


def test_cgan_trains_on_images_with_labels(sample_digits):
    gan = small_cgan()
    images, labels = sample_digits.images[:96], sample_digits.labels[:96]
    before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    history = gan.fit(make_dataset(images, 32, labels=labels), epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    after = gan.generator.trainable_weights
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(before, after))
    # The label embedding of G is trained too: the label is part of what G learns.
    embedding = gan.generator.get_layer(models.LABEL_LAYER)
    assert not np.array_equal(embedding.embeddings.numpy(), before[0])


def test_cgan_refuses_batches_without_or_with_bad_labels(sample_digits):
    gan = small_cgan()
    images = sample_digits.images[:64]
    with pytest.raises(DataError, match=r"\(images, labels\) batches"):
        gan.fit(make_dataset(images, 32), epochs=1, verbose=0)
    with pytest.raises(DataError, match=r"labels must have shape \(64,\), one per image"):
        make_dataset(images, 32, labels=np.zeros(63, int))
    with pytest.raises(DataError, match=r"integers in \[0, 10\)"):
        gan.fit(images, np.full(64, 12), batch_size=32, epochs=1, verbose=0)


def test_labelled_dataset_resumes_epoch_by_epoch(sample_digits):
    images, labels = sample_digits.images[:50], sample_digits.labels[:50]
    whole = list(make_dataset(images, 16, seed=3, epochs=3, labels=labels))
    tail = list(make_dataset(images, 16, seed=3, epochs=3, first_epoch=2, labels=labels))
    for (a_images, a_labels), (b_images, b_labels) in zip(whole[-len(tail):], tail):
        np.testing.assert_array_equal(a_images, b_images)
        np.testing.assert_array_equal(a_labels, b_labels)
    # labels travel with their images
    first_images, first_labels = whole[0]
    for image, label in zip(np.asarray(first_images), np.asarray(first_labels)):
        assert labels[np.flatnonzero((images == image).all(axis=(1, 2, 3)))[0]] == label


@pytest.mark.integration
def test_train_cgan_frames_show_each_class_in_a_column(tmp_path):
    out = tmp_path / "cgan"
    done = subprocess.run(
        [sys.executable, "-m", "gan_lab", "train", "cgan", "--source", "sample", "--epochs",
         "1", "--limit", "256", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    fixed_z = np.load(out / "fixed_z.npy")
    assert fixed_z.shape == (100, 100)
    # rows of the 10x10 frame: one latent point each, drawn as the classes 0..9
    np.testing.assert_array_equal(fixed_z[:10], np.repeat(fixed_z[:1], 10, 0))
    assert not np.array_equal(fixed_z[0], fixed_z[10])
    assert (out / "frames" / "epoch_0001.png").is_file()
    generator = keras.saving.load_model(out / "snapshots" / "generator_epoch_0001.keras")
    assert models.label_classes(generator) == 10
    assert gan_module.asked_labels(generator, 12).tolist() == [*range(10), 0, 1]


def test_course_cifar_generator_matches_the_course():
    generator = models.course_cifar_generator()
    assert generator.output_shape == (None, 32, 32, 3)
    convolutions = [layer for layer in generator.layers
                    if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [c.filters for c in convolutions] == [256, 128, 64, 3]
    assert all(c.kernel_size == (3, 3) for c in convolutions)
    assert sum(isinstance(layer, keras.layers.Dense) for layer in generator.layers) == 1
    assert generator.layers[-1].get_config()["activation"] == "tanh"
    assert any(isinstance(layer, keras.layers.LeakyReLU) for layer in generator.layers)
    with pytest.raises(ValueError, match="32x32x3"):
        models.course_cifar_generator((28, 28, 1))
    with pytest.raises(ValueError, match="train dcgan with it"):
        models.build_pair("gan", (32, 32, 3), arch="course_cifar")


@pytest.mark.integration
@pytest.mark.parametrize("arch", [None, "course_cifar"])
def test_train_dcgan_on_cifar10_through_tfds(arch, tmp_path, capsys):
    import tensorflow_datasets as tfds

    out = tmp_path / "cifar"
    argv = ["train", "dcgan", "--dataset", "cifar10", "--source", "tfds", "--epochs", "1",
            "--batch-size", "16", "--out", str(out)] + (["--arch", arch] if arch else [])
    with tfds.testing.mock_data(num_examples=32):
        assert main(argv) == 0
    assert "32 images (32, 32, 3) from tfds" in capsys.readouterr().out
    generator = keras.saving.load_model(out / "snapshots" / "generator_epoch_0001.keras")
    assert generator.output_shape == (None, 32, 32, 3)
    assert generator.name == ("course_cifar_generator" if arch else "dcgan_generator")
    with open(out / "history.csv") as stream:
        assert [row["epoch"] for row in csv.DictReader(stream)] == ["1"]
