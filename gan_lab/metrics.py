"""Simple, model-free measures of what a generator draws: closeness to real images and
variety. Distances are root-mean-square pixel differences of images in [-1, 1] (0 to 2),
so they do not depend on the image size."""

from __future__ import annotations

import numpy as np

from .data import check_images


def _flat(images, limit, seed):
    check_images(images)
    images = np.asarray(images, np.float32)
    if len(images) > limit:
        images = images[np.random.default_rng(seed).choice(len(images), limit, replace=False)]
    return images.reshape(len(images), -1)


def _squared_distances(a, b):
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(squared, 0.0) / a.shape[1]


def pairwise_distance(images, limit=512, seed=0) -> float:
    """Mean RMS distance between distinct pairs of images (N, H, W, C) in [-1, 1].

    Higher means more varied; near-copies (mode collapse) push it toward 0.
    """
    flat = _flat(images, limit, seed)
    if len(flat) < 2:
        raise ValueError("pairwise_distance needs at least 2 images")
    distances = np.sqrt(_squared_distances(flat, flat))
    return float(distances[~np.eye(len(flat), dtype=bool)].mean())


def nearest_real_distance(images, real, limit=512, real_limit=10_000, seed=0) -> float:
    """Mean RMS distance from each image to its nearest image in ``real`` (both in [-1, 1]).

    Lower means closer to real data; real held-out images give the floor to compare with.
    """
    flat, reference = _flat(images, limit, seed), _flat(real, real_limit, seed)
    return float(np.sqrt(_squared_distances(flat, reference).min(axis=1)).mean())
