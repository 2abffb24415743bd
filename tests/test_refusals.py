"""Models, data and measures given the wrong way: refused before training, with the fix."""

import json

import keras
import numpy as np
import pytest
from keras import layers

from gan_lab import runs
from gan_lab.data import DataError, load_images

from helpers import TINY


# --- models checked before training ------------------------------------------------------


def no_tanh_generator():
    return keras.Sequential([keras.Input((8,)), layers.Dense(32), layers.LeakyReLU(0.2),
                             layers.Dense(784), layers.Reshape((28, 28, 1))])


@pytest.mark.parametrize("networks, message", [
    (lambda: {"generator": no_tanh_generator()}, "images must cover \\[-1, 1\\].*end it with a tanh"),
    (lambda: {"discriminator": keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                                 layers.Dense(1, activation="sigmoid")])},
     "ends in a sigmoid.*must output logits"),
    (lambda: {"discriminator": keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                                 layers.Dense(2)])},
     r"one logit per image, shape \(N, 1\); it gives \(64, 2\)"),
    (lambda: {"generator": keras.Sequential([layers.Dense(784, activation="tanh"),
                                             layers.Reshape((28, 28, 1))])},
     "no defined input shape yet; start it with keras.Input"),
    (lambda: {"generator": keras.Sequential([keras.Input((8,)),
                                             layers.Dense(784, activation="sigmoid"),
                                             layers.Reshape((28, 28, 1))])},
     "must cover \\[-1, 1\\].*end it with a tanh \\(not a sigmoid\\)"),
    (lambda: {"discriminator": keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(1, activation="sigmoid"),
        layers.Reshape((1,))])}, "ends in a sigmoid"),
    (lambda: {"discriminator": keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(1),
        layers.Lambda(keras.ops.sigmoid)])}, "ends in a sigmoid"),
    (lambda: {"generator": (lambda z: keras.Model(z, [layers.Reshape((28, 28, 1))(
        layers.Dense(784, activation="tanh")(z)), z]))(keras.Input((8,)))},
     "the generator must have one output"),
    (lambda: {"generator_options": {"widht": 3}}, "takes no option widht; its options are"),
])
def test_a_faulty_model_is_refused_before_the_first_batch(tmp_path, networks, message):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=message):
        runs.train("gan", out=out, **TINY, **networks())
    assert not out.exists()  # nothing written, no epoch spent


@pytest.mark.integration
def test_a_custom_generator_alone_trains_with_a_matching_discriminator(tmp_path):
    generator = keras.Sequential([keras.Input((8,)), layers.Dense(784, activation="tanh"),
                                  layers.Reshape((28, 28, 1))], name="students_g")
    run = runs.train("gan", generator=generator, out=tmp_path / "run", **TINY, verbose=0)
    assert run.gan.generator is generator  # trained, not replaced by the default pair
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["custom_networks"] == ["generator"] and saved["run"]["generator"] == "students_g"
    assert saved["run"]["latent_dim"] == 8


# --- data given the wrong way ------------------------------------------------------------


@pytest.mark.integration
def test_data_as_a_plain_array_trains_on_its_limit(tmp_path, sample_digits):
    run = runs.train("gan", data=sample_digits.images, out=tmp_path / "run",
                     **{**TINY, "limit": 100}, verbose=0)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["run"]["images"] == 100 and run.history[0]["epoch"] == 1


@pytest.mark.parametrize("data, message", [
    (lambda d: d.images[:128] / 2, r"lie in \[-0.5, 0.5\]; .*x \* 2 from \[-0.5, 0.5\]"),
    (lambda d: d.images[:128, ..., 0], r"add the channel axis, e.g. images\[..., None\]"),
    (lambda d: (d.images[:128] + 1) / 2, r"lie in \[0, 1\]; scale pixels in \[0, 1\] with x \* 2 - 1"),
    (lambda d: np.rint((d.images[:128] + 1) * 127.5), r"x / 127.5 - 1"),
    (lambda d: [1, 2, 3], r"must have shape \(N, H, W, C\), got \(3,\)"),
    (lambda d: {"images": d.images}, "data must be an ImageSet"),
])
def test_data_given_the_wrong_way_is_refused_with_the_fix(tmp_path, sample_digits, data, message):
    out = tmp_path / "run"
    with pytest.raises(DataError, match=message):
        runs.train("gan", data=data(sample_digits), out=out, **TINY)
    assert not out.exists()


def test_offline_cifar10_says_how_to_get_it():
    with pytest.raises(DataError, match="cifar10 is not in the TFDS cache") as error:
        load_images("cifar10", source="auto")
    assert "IDX" not in str(error.value)


def test_a_list_of_two_images_is_images_not_images_and_labels(sample_digits):
    from gan_lab.data import as_image_set

    assert as_image_set(list(sample_digits.images[:2])).images.shape == (2, 28, 28, 1)
    pair = as_image_set((sample_digits.images[:2], sample_digits.labels[:2]))
    assert pair.labels.tolist() == sample_digits.labels[:2].tolist()


def test_measures_refuse_inputs_that_are_not_what_they_measure():
    from gan_lab import metrics

    with pytest.raises(ValueError, match="finite values in \\[0, 1\\]"):
        metrics.class_histogram(np.full((5, 10), np.nan))
    with pytest.raises(ValueError, match="shares summing to 1 \\(divide counts"):
        metrics.kl_to_uniform([5, 5, 0, 0])
    with pytest.raises(ValueError, match="at least 2 feature vectors"):
        metrics.frechet_distance(np.ones((1, 4)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="shape \\(N, K\\)"):
        metrics.classifier_score(np.ones(10) / 10)
