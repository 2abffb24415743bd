"""Stacked MNIST, the field's benchmark for mode collapse on images (Metz et al. 2017;
Srivastava et al. 2017, Table 2; Lin et al. 2018, Table 3): three MNIST digits as the R, G
and B channels of one image, so the data holds 1,000 modes (the digit triples). A
generator's modes are counted by the digit classifier applied to each channel: the modes it
covers are the triples it draws at least once, and the KL of its triple histogram to the
uniform one says how evenly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import DataError, ImageSet, check_images
from .metrics import kl_to_uniform

MODES = 1_000
CHANNELS = 3
SAMPLES = 26_000  # generated images the modes are counted on (PacGAN's protocol)


def stacked_pixels(digits: ImageSet, count: int | None = None, seed: int = 0) -> ImageSet:
    """``count`` (default: as many as ``digits`` holds) Stacked MNIST images from single
    MNIST digits (uint8 pixels or floats, (N, 28, 28, 1)): each channel a digit drawn at
    random with ``seed``, label 100 * R's digit + 10 * G's + B's (0..999); same dtype,
    shape (count, 28, 28, 3)."""
    images, labels = np.asarray(digits.images), np.asarray(digits.labels)
    if images.ndim != 4 or images.shape[-1] != 1:
        raise DataError(f"Stacked MNIST is made from single-channel digits (N, 28, 28, 1), "
                        f"got {images.shape}")
    count = len(labels) if count is None else int(count)
    picks = np.random.default_rng(seed).integers(len(labels), size=(count, CHANNELS))
    stacked = np.concatenate([images[picks[:, c]] for c in range(CHANNELS)], axis=-1)
    triples = labels[picks] @ np.array([100, 10, 1])
    return ImageSet(stacked, triples.astype(np.int64), "stacked_mnist", digits.split,
                    digits.source)


@dataclass
class StackedCounter:
    """Counts the modes of Stacked MNIST images with a digit classifier
    (``classifier.Classifier`` of MNIST) read on each channel."""

    digits: object  # classifier.Classifier of single MNIST digits

    dataset = "stacked_mnist"
    measures = ("modes", "kl_uniform")
    samples = SAMPLES

    def describe(self) -> str:
        return (f"Stacked MNIST: the {self.digits.dataset} digit classifier ({self.source}, "
                f"test accuracy {self.test_accuracy:.2%}) read on each channel; modes = digit "
                f"triples drawn at least once, of {MODES:,}; KL of their histogram to uniform."
                + self.digits.caveat)

    def reference_points(self, samples=SAMPLES, seed=0, data_dir=None) -> dict:
        """The measures of real Stacked MNIST images made from the held-out digits, and of
        the same with the red channel's digit always 0 (100 modes at most)."""
        from .data import ImageSet

        digits = ImageSet(self.digits.held_out, self.digits.held_out_labels, "mnist", "test",
                          self.source)
        real = stacked_pixels(digits, samples, seed)
        zeros = ImageSet(digits.images[digits.labels == 0], digits.labels[digits.labels == 0],
                         "mnist", "test", self.source)
        red_zero = real.images.copy()
        red_zero[..., 0] = stacked_pixels(zeros, samples, seed).images[..., 0]
        return {"real": self.evaluate(real.images), "red digit always 0":
                self.evaluate(red_zero)}

    @property
    def test_accuracy(self) -> float:
        return self.digits.test_accuracy

    @property
    def classes(self) -> int:
        """The digit classifier's classes (10): what its accuracy is read against."""
        return self.digits.classes

    @property
    def source(self) -> str:
        return self.digits.source

    def triples(self, images) -> np.ndarray:
        """The triple (0..999) the classifier reads in each image in [-1, 1],
        (N, 28, 28, 3): 100 * R's digit + 10 * G's + B's, ints (N,)."""
        check_images(images, (28, 28, CHANNELS), what="Stacked MNIST images")
        images = np.asarray(images, np.float32)
        digits = [self.digits.predict(images[..., c:c + 1])[0].argmax(1)
                  for c in range(CHANNELS)]
        return digits[0] * 100 + digits[1] * 10 + digits[2]

    def epoch_measures(self, generator, frame) -> dict:
        """A training run's per-epoch measures: as the digit classifier's
        (``Classifier.epoch_measures``), by triples. On its 1,000 draws a G uniform over
        the 1,000 triples shows about 632 modes (1 - 1/e): a trend to watch, not the
        figure to compare with the papers' (``evaluate``: 26,000 draws)."""
        from .classifier import EPOCH_SAMPLES
        from .sampling import measure

        return measure(self, generator, EPOCH_SAMPLES)

    def evaluate(self, images, asked=None) -> dict:
        """samples, ``modes`` (triples drawn at least once, 0..1000), ``kl_uniform`` (KL of
        the triple histogram to the uniform one, nats: 0 to ln 1000 = 6.9) and
        ``histogram`` (1000 shares). ``asked``: unused."""
        counts = np.bincount(self.triples(images), minlength=MODES)
        histogram = counts / counts.sum()
        return {"samples": int(counts.sum()), "modes": int((counts > 0).sum()),
                "kl_uniform": kl_to_uniform(histogram), "histogram": histogram}
