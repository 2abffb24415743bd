"""Classifier.per_class_frechet: real digits of a class score low against their class's
training digits; noise, and digits of another class, score high."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def judge():
    from gan_lab import classifier

    return classifier.trained("mnist", "sample")


@pytest.mark.integration
def test_real_digits_of_a_class_score_low_noise_high(judge):
    images, labels = judge.held_out, judge.held_out_labels
    floor = judge.per_class_frechet(images[labels == 3], min_samples=50)
    assert set(floor) == {3}  # only the class they are read as
    noise = np.random.default_rng(0).uniform(-1, 1, (500, 28, 28, 1)).astype(np.float32)
    read_as_three = judge.per_class_frechet(noise, min_samples=2, confident=False)
    fours_as_threes = judge._training_features_by_class[4]
    from gan_lab.metrics import frechet_distance

    other = frechet_distance(fours_as_threes, judge._training_features_by_class[3])
    assert floor[3] < other / 3
    assert all(distance > 3 * floor[3] for distance in read_as_three.values())
    assert read_as_three  # noise is read as some class by argmax


def test_classes_with_too_few_samples_are_left_out(judge):
    images, labels = judge.held_out, judge.held_out_labels
    assert judge.per_class_frechet(images[labels == 3][:10], min_samples=100) == {}
