"""Drawing from a generator: latent batches that are the same on every machine, and images
in inference mode, a thousand at a time. Used by the GAN, the run folder's frames, the
measures and the notebooks; imports no training code."""

from __future__ import annotations

import numpy as np

from .data import check_labels
from .models import label_classes, latent_size
from .options import positive_int


def latents(n, latent_dim, seed=None) -> np.ndarray:
    """z ~ N(0, I), float32, shape (n, latent_dim), from numpy's generator seeded with
    ``seed``: the same seed gives the same latents on every machine."""
    positive_int(n, "n, the number of images (or pass z),")
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def asked_labels(generator, samples):
    """The labels a conditional generator draws by default: i mod classes, shape
    (samples,); None for an unconditional generator."""
    classes = label_classes(generator)
    return None if classes is None else np.arange(samples) % classes


def generate(generator, n=None, z=None, seed=None, labels=None, batch_size=1_000):
    """Run ``generator`` in inference mode on ``z`` (n, latent_dim), or on ``n`` latents
    drawn by ``latents(n, latent_dim, seed)``, ``batch_size`` at a time (so 10,000 DCGAN
    samples fit in memory). A conditional generator also takes ``labels`` (n,) ints in
    [0, classes); by default image i is drawn for label i mod classes (``asked_labels``).
    Returns a numpy array of images in [-1, 1], shape (n, H, W, C)."""
    latent_dim = latent_size(generator)
    z = latents(n, latent_dim, seed) if z is None else np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(
            f"z must have shape (n, {latent_dim}) for this generator, got {z.shape}"
        )
    classes = label_classes(generator)
    if classes is None and labels is not None:
        raise ValueError("this generator is unconditional: it takes no labels")
    if classes is not None:
        labels = asked_labels(generator, len(z)) if labels is None else labels
        labels = check_labels(labels, classes, len(z))
    parts = []
    for start in range(0, len(z), batch_size):
        rows = slice(start, start + batch_size)
        inputs = z[rows] if classes is None else [z[rows], labels[rows]]
        parts.append(np.asarray(generator(inputs, training=False), np.float32))
    return np.concatenate(parts)


def measure(judge, generator, n, seed=0) -> dict:
    """``judge.evaluate`` (a classifier's, a mixture's or Stacked MNIST's counter's) of ``n``
    draws of ``generator`` from ``latents(n, latent_dim, seed)``, a conditional generator's
    each drawn for its asked label (``asked_labels``)."""
    return judge.evaluate(generate(generator, n=n, seed=seed), asked_labels(generator, n))
