import numpy as np
import pytest

from gan_lab.metrics import nearest_real_distance, pairwise_distance


def test_pairwise_distance_sees_collapse(sample_digits):
    real = sample_digits.images[:200]
    collapsed = np.repeat(real[:1], 200, axis=0)
    assert pairwise_distance(collapsed) == pytest.approx(0.0, abs=1e-3)
    assert pairwise_distance(real) > 0.5
    # Two images, -1 and +1 everywhere: RMS distance 2.
    extremes = np.stack([np.full((4, 4, 1), -1.0), np.full((4, 4, 1), 1.0)]).astype(np.float32)
    assert pairwise_distance(extremes) == pytest.approx(2.0)


def test_nearest_real_distance_floor_and_noise(sample_digits):
    real = sample_digits.images
    assert nearest_real_distance(real[:50], real) == pytest.approx(0.0, abs=1e-3)
    noise = np.random.default_rng(0).uniform(-1, 1, (50, 28, 28, 1)).astype(np.float32)
    held_out_like = real[3000:3050]
    assert nearest_real_distance(noise, real[:3000]) > 2 * nearest_real_distance(held_out_like, real[:3000])
