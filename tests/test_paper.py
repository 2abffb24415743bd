"""The DCGAN paper's experiments (Lab 5): latent walks, vector arithmetic, D's features."""

import re

import numpy as np
import pytest

from gan_lab import models
from gan_lab.paper import features, latent
from gan_lab.data import ImageSet


def test_lerp_and_slerp_end_at_the_codes_and_slerp_keeps_the_length():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(100), rng.standard_normal(100)
    t = np.linspace(0, 1, 11)
    for path in (latent.lerp, latent.slerp):
        points = path(z0, z1, t)
        assert points.shape == (11, 100)
        np.testing.assert_allclose(points[0], z0, rtol=1e-5)
        np.testing.assert_allclose(points[-1], z1, rtol=1e-5)
    # Two Gaussian codes are nearly orthogonal: lerp's midpoint is ~1/sqrt(2) as long,
    # slerp's stays between the two lengths.
    lengths = np.linalg.norm(latent.slerp(z0, z1, t), axis=1)
    ends = sorted(np.linalg.norm([z0, z1], axis=1))
    assert ends[0] - 1e-3 <= lengths.min() and lengths.max() <= ends[1] + 1e-3
    assert np.linalg.norm(latent.lerp(z0, z1, [0.5])) < 0.8 * ends[0]
    # codes of one length: equal steps of angle along the great circle
    z1 = z1 * np.linalg.norm(z0) / np.linalg.norm(z1)
    points = latent.slerp(z0, z1, t).astype(np.float64)
    angles = [np.arccos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))
              for a, b in zip(points[:-1], points[1:])]
    np.testing.assert_allclose(angles, angles[0], rtol=1e-3)
    # parallel codes: the straight line, no division by zero
    np.testing.assert_allclose(latent.slerp(z0, 2 * z0, [0.5])[0], 1.5 * z0, rtol=1e-5)
    with pytest.raises(ValueError, match="two codes of one shape"):
        latent.slerp(z0, z1[:50], t)


def test_walk_draws_each_step():
    generator = models.dcgan_generator(latent_dim=8, widths=(32, 16))
    rng = np.random.default_rng(1)
    images = latent.walk(generator, rng.standard_normal(8), rng.standard_normal(8), steps=5)
    assert images.shape == (5, 28, 28, 1)
    assert len({image.tobytes() for image in images}) == 5
    with pytest.raises(ValueError, match="unknown path"):
        latent.walk(generator, np.zeros(8), np.ones(8), path="spline")


def test_vector_arithmetic_moves_codes_by_the_mean_difference():
    codes = np.array([[0, 0], [2, 0], [10, 10], [12, 10]], np.float32)
    classes = np.array([3, 3, 7, 7])
    means = latent.class_means(codes, classes)
    np.testing.assert_array_equal(means[3], [1, 0])
    np.testing.assert_array_equal(latent.moved(codes[:2], means, 3, 7), [[10, 10], [12, 10]])
    with pytest.raises(ValueError, match="no confidently classified samples of the target"):
        latent.moved(codes, means, 3, 5)
    control = latent.random_direction(codes, 5.0)
    np.testing.assert_allclose(np.linalg.norm(control - codes, axis=1), 5.0, rtol=1e-5)


def test_pool_to_grid_takes_the_maximum_of_each_cell():
    maps = np.zeros((1, 7, 7, 2), np.float32)
    maps[0, 0, 0, 0] = 5.0   # top-left cell only (rows 0-1, columns 0-1)
    maps[0, 6, 6, 1] = 3.0   # bottom-right cell only
    maps[0, 3, 3, 0] = 4.0   # rows 3: cells 1 and 2 overlap there (rows 1-3 and 3-5)
    pooled = features.pool_to_grid(maps, 4).reshape(4, 4, 2)
    assert pooled[0, 0, 0] == 5.0 and pooled[3, 3, 1] == 3.0
    assert pooled[1:3, 1:3, 0].tolist() == [[4.0, 4.0], [4.0, 4.0]]
    assert pooled[..., 0].sum() == 5.0 + 4 * 4.0
    assert features.pool_to_grid(np.ones((3, 14, 14, 5)), 4).shape == (3, 80)


def test_discriminator_features_concatenate_every_layer():
    discriminator = models.dcgan_discriminator()
    images = np.random.default_rng(0).uniform(-1, 1, (6, 28, 28, 1)).astype(np.float32)
    found = features.discriminator_features(discriminator, images)
    assert found.shape == (6, 16 * 64 + 16 * 128)
    with pytest.raises(ValueError, match="no layers named features_"):
        features.discriminator_features(models.dense_discriminator(), images)


@pytest.mark.integration
def test_few_label_table_on_real_digits(sample_digits):
    """Tiny but real: 10 labels a class, one draw, an untrained D. Every method must beat
    chance (10%) on 300 held-out digits, and the pixel SVM must be far above it."""
    from gan_lab.data import load_images

    test = load_images("mnist", "test", "sample")
    keep = np.concatenate([np.flatnonzero(test.labels == k)[:30] for k in range(10)])
    test = ImageSet(test.images[keep], test.labels[keep], "mnist", "test", "sample")
    rows = features.few_label_table(models.dcgan_discriminator(), sample_digits, test,
                                    per_class=(10,), draws=1, cnn_steps=200)
    assert [row["method"] for row in rows] == list(features.METHODS)
    accuracy = {row["method"]: row["accuracy"] for row in rows}
    assert all(value > 0.3 for value in accuracy.values()), accuracy
    assert accuracy["pixels + linear SVM"] > 0.55, accuracy
    assert re.search(r"^\|\s*100\s*\|\s*D features \+ linear SVM\s*\|",
                     features.markdown_table(rows), re.MULTILINE)


def test_labelled_subset_is_stratified_and_seeded():
    labels = np.repeat(np.arange(10), 20)
    picked = features.labelled_subset(labels, 5, seed=1)
    assert np.bincount(labels[picked]).tolist() == [5] * 10
    assert picked.tolist() == features.labelled_subset(labels, 5, seed=1).tolist()
    assert picked.tolist() != features.labelled_subset(labels, 5, seed=2).tolist()
    with pytest.raises(ValueError, match="fewer than the 30 labels"):
        features.labelled_subset(labels, 30)
