"""Checks a GAN passes before its first batch: networks whose outputs the losses cannot
use, and training data of the wrong shape, range or labels, each refused with a message
that says what to change (instead of a TensorFlow traceback many steps later)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .data import DataError, check_labels, check_training_images, is_points


class ModelError(ValueError):
    """A generator or discriminator that cannot train as given; the message says what to
    change in the model."""


def _ends_in_probability(model) -> bool:
    """True when the model's output layer applies a sigmoid or softmax."""
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", "") in ("sigmoid", "softmax")


def check_networks(gan, samples=64):
    """Run both networks of ``gan`` (a ``gan.GAN``) once on ``samples`` latents, before
    any training, and raise
    ``ModelError`` saying what to change when G's images leave [-1, 1] (no tanh at the
    end) or D does not give one logit per image (shape (N, 1), no sigmoid)."""
    z = np.random.default_rng(0).standard_normal((samples, gan.latent_dim))
    labels = None if gan.classes is None else np.arange(samples) % gan.classes
    # Large latents too: an unbounded output layer leaves [-1, 1] on them at once.
    for scale in (1.0, 10.0):
        images = gan.generate(z=(z * scale).astype(np.float32), labels=labels)
        lo, hi = float(np.min(images)), float(np.max(images))
        if is_points(gan.image_shape):  # any finite values
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ModelError("the generator's points are not finite (NaN or Inf)")
            continue
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -1.001 or hi > 1.001 \
                or lo >= 0:
            raise ModelError(
                f"the generator's images must cover [-1, 1] (the range of the training "
                f"images) but span [{lo:.3g}, {hi:.3g}]; end it with a tanh (not a "
                "sigmoid), e.g. layers.Dense(784, activation=\"tanh\") before the Reshape")
    # Inference mode: a training-mode call would draw from dropout's seed stream,
    # which a resumed run must find as the interrupted one left it.
    judged = gan.discriminator(gan.packed(images) if labels is None else [images, labels],
                                training=False)
    packs = max(samples // gan.pack, 1)  # fewer samples than a pack wrap round into one
    if tuple(judged.shape) != (packs, 1):
        what = "image" if gan.pack == 1 else f"pack of {gan.pack} images"
        raise ModelError(f"the discriminator must give one logit per {what}, shape "
                         f"(N, 1); it gives {tuple(judged.shape)} for {packs}")
    # A sigmoid, wherever it sits, keeps every output in [0, 1], even for inputs far
    # outside the data's range; logits of a (piecewise) linear D grow with them.
    noise = np.random.default_rng(1).uniform(-1, 1, images.shape).astype(np.float32)
    outputs = np.concatenate([np.asarray(judged, np.float32)] + [np.asarray(
        gan.discriminator(gan.packed(probe) if labels is None else [probe, labels],
                          training=False),
        np.float32) for probe in (noise, 100.0 * images, 100.0 * noise)])
    if _ends_in_probability(gan.discriminator) or (outputs.min() >= 0 and outputs.max() <= 1):
        raise ModelError(
            "the discriminator ends in a sigmoid (its outputs stay in [0, 1] even for "
            f"inputs 100 times the data's range: [{outputs.min():.3g}, "
            f"{outputs.max():.3g}]): it must output logits, "
            "because the losses apply the sigmoid themselves (from_logits); remove the "
            "final activation, e.g. layers.Dense(1) instead of Dense(1, activation="
            "\"sigmoid\")")


def check_training_data(gan, x):
    """Raise ``DataError`` saying what to fix if ``x`` (arrays, a tuple of images and
    labels, or a batched tf.data.Dataset) is not images of ``gan``'s shape
    (with integer labels in [0, classes) beside them for a conditional GAN)."""
    if isinstance(x, tf.data.Dataset):
        first = next(iter(x.take(1)), None)
        if first is None:
            raise DataError("the training dataset is empty")
        images = first[0] if isinstance(first, (tuple, list)) else first
        if tuple(images.shape) == gan.image_shape:  # an unbatched dataset
            raise DataError(
                f"the training dataset yields single images {tuple(images.shape)}; "
                "batch it, e.g. gan_lab.data.make_dataset(images, batch_size=128)"
            )
        first = tuple(np.asarray(part) for part in first) \
            if isinstance(first, (tuple, list)) else np.asarray(first)
    else:
        if isinstance(x, list) and not (len(x) == 2 and np.ndim(x[0]) >= 2):
            raise DataError("pass the training data as a NumPy array (np.asarray(data, "
                            "'float32')), not a Python list: Keras reads a list as one input "
                            "per item")
        first = x
    images, labels = (first[0], first[1]) if isinstance(first, (tuple, list)) \
        else (first, None)
    check_training_images(images, gan.image_shape)
    if gan.classes is not None:
        if labels is None:
            raise DataError(
                "a conditional GAN trains on (images, labels) batches; make them with "
                "gan_lab.data.make_dataset(images, batch_size, labels=labels)")
        check_labels(labels, gan.classes, len(images))
