"""What a generator draws, measured: closeness to real images, variety, and mode collapse.

Two kinds of measure:

- model-free pixel distances (``pairwise_distance``, ``nearest_real_distance``): root-mean-
  square differences of images in [-1, 1] (0 to 2), independent of the image size;
- measures through a small CNN classifier trained on the real data at hand (``classifier``)
  and cached on disk: the class histogram of generated images, the modes it covers, its KL
  divergence to uniform, the classifier score (an Inception-score analogue) and the Frechet
  distance between the classifier's penultimate-layer features of generated and held-out
  real images (an FID analogue). ``evaluate`` computes all of them; ``reference_points``
  computes them for real images, real images with a class removed and blurred real images,
  so every result can be read against what real data scores.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import save_model, write_json
from .data import DATASETS, check_images, load_images

# A class is a covered mode when it holds at least half the share a uniform generator would
# give it (5% of samples for 10 classes): a class drawn at half its real rate still counts,
# one drawn at 1 in 40 does not.
MODE_SHARE = 0.5
CONFIDENT = 0.9  # a sample is confidently classified when its top probability is >= this
CACHE_ENV = "GAN_LAB_CACHE"
DEFAULT_SAMPLES = 10_000


# --- pixel distances --------------------------------------------------------------------


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


# --- histogram measures ------------------------------------------------------------------


def class_histogram(probabilities) -> np.ndarray:
    """Share of samples per predicted class (argmax), shape (K,), summing to 1.

    ``probabilities``: classifier outputs p(y|x), shape (N, K), rows summing to 1.
    """
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise ValueError(f"probabilities must have shape (N, K) with N > 0, got "
                         f"{probabilities.shape}")
    counts = np.bincount(probabilities.argmax(1), minlength=probabilities.shape[1])
    return counts / counts.sum()


def modes_covered(histogram, share=MODE_SHARE) -> int:
    """Classes holding at least ``share`` x (1/K) of the samples; histogram (K,) sums to 1."""
    histogram = np.asarray(histogram, np.float64)
    return int((histogram >= share / len(histogram)).sum())


def kl_to_uniform(histogram) -> float:
    """KL(histogram || uniform) in nats: 0 for a uniform histogram, ln K for a single class."""
    histogram = np.asarray(histogram, np.float64)
    present = histogram[histogram > 0]
    return float((present * np.log(present * len(histogram))).sum())


def classifier_score(probabilities) -> float:
    """exp E_x[KL(p(y|x) || p(y))]: 1 for one class or unsure predictions, up to K for
    confident predictions spread evenly over K classes. probabilities (N, K)."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    marginal = p.mean(0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(marginal))).sum(1).mean()))


def frechet_distance(features_a, features_b) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) between two feature sets (N, D)."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr (S_a S_b)^1/2 = sum of sqrt of the eigenvalues of S_a^1/2 S_b S_a^1/2 (symmetric).
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * trace_root)


# --- the classifier ----------------------------------------------------------------------


def build_classifier(image_shape=(28, 28, 1), classes=10):
    """A small CNN: images in [-1, 1], shape (N, *image_shape) -> class probabilities (N, K).
    The 128-unit layer named "features" gives the Frechet distance's features."""
    import keras
    from keras import layers

    inputs = keras.Input(image_shape)
    x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant", fill_value=-1.0)(inputs)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3)(features)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="digit_classifier")


def _training_epochs(n_images):
    """About 60,000 images seen in all (15 epochs of the 4,000-digit sample), at least 3."""
    return max(3, min(15, math.ceil(60_000 / n_images)))


def _code_version() -> str:
    """A hash of the code that builds and trains the classifier: a change retrains it."""
    code = inspect.getsource(build_classifier) + inspect.getsource(_train_classifier)
    code += inspect.getsource(_training_epochs)
    return hashlib.sha256(code.encode()).hexdigest()[:10]


def cache_dir() -> Path:
    """Where trained classifiers are kept: $GAN_LAB_CACHE, else ~/.cache/gan_lab."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_lab")


@dataclass
class Classifier:
    """A trained classifier and the held-out real images it was tested on."""

    model: object  # keras.Model: images -> probabilities (N, K)
    dataset: str
    source: str
    test_accuracy: float
    held_out: np.ndarray  # real test images in [-1, 1], never trained on
    held_out_labels: np.ndarray

    @functools.cached_property
    def _outputs(self):
        """The classifier with its features layer as a second output."""
        import keras

        return keras.Model(self.model.input,
                           [self.model.output, self.model.get_layer("features").output])

    def predict(self, images, batch_size=500):
        """(probabilities (N, K), features (N, 128)) for images in [-1, 1], shape
        (N, H, W, C) matching the classifier's input."""
        check_images(images, self.model.input_shape[1:], what="images to classify")
        probabilities, features = self._outputs.predict(np.asarray(images, np.float32),
                                                         batch_size=batch_size, verbose=0)
        return probabilities, features

    @functools.cached_property
    def held_out_features(self):
        return self.predict(self.held_out)[1]

    def evaluate(self, images, asked=None) -> dict:
        """The measures of images (N, H, W, C) in [-1, 1]: samples, modes, kl_uniform,
        classifier_score, frechet_distance (to the held-out real images), confident (share
        with top probability >= CONFIDENT) and histogram (K shares). With ``asked`` (N,),
        the labels a conditional generator was asked for, also label_accuracy: the share
        the classifier reads as the label asked for."""
        probabilities, features = self.predict(images)
        histogram = class_histogram(probabilities)
        measured = {
            "samples": len(probabilities),
            "modes": modes_covered(histogram),
            "kl_uniform": kl_to_uniform(histogram),
            "classifier_score": classifier_score(probabilities),
            "frechet_distance": frechet_distance(features, self.held_out_features),
            "confident": float((probabilities.max(1) >= CONFIDENT).mean()),
            "histogram": histogram,
        }
        if asked is not None:
            measured["label_accuracy"] = float((probabilities.argmax(1) == asked).mean())
        return measured

    def reference_points(self, samples=4_000, seed=0, data_dir=None) -> dict:
        """The measures of real images, read beside a generator's: name -> evaluate().

        "real": training images (never the held-out ones), the floor of the distance;
        "real without 0s": the same without the digit 0 (9 modes, KL ln(10/9) = 0.105);
        "real blurred": the same after a Gaussian blur of 1 pixel.
        """
        train = load_images(self.dataset, "train", self.source, data_dir)
        pick = np.random.default_rng(seed).permutation(len(train.images))[:samples]
        images, labels = train.images[pick], train.labels[pick]
        return {
            "real": self.evaluate(images),
            "real without 0s": self.evaluate(images[labels != 0]),
            "real blurred": self.evaluate(blur(images, 1.0)),
        }


def blur(images, sigma):
    """Images (N, H, W, C) blurred by a Gaussian of ``sigma`` pixels in H and W."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(np.asarray(images, np.float32), sigma=(0, sigma, sigma, 0),
                           mode="nearest")


def _train_classifier(train, test, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    _, classes = DATASETS[train.name]
    model = build_classifier(train.images.shape[1:], classes)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(train.images, train.labels, batch_size=64, verbose=0,
              epochs=_training_epochs(len(train.images)))
    accuracy = model.evaluate(test.images, test.labels, batch_size=500, verbose=0)[1]
    return model, float(accuracy)


def classifier(dataset="mnist", source="auto", data_dir=None, retrain=False, log=None):
    """The classifier for ``dataset``, trained on its train split from ``source`` the first
    time (tens of seconds on the 4,000-digit sample, a few minutes on full MNIST on a CPU)
    and loaded from ``cache_dir()`` afterwards. The cache is keyed by dataset, the source
    actually used and a hash of the classifier's code. ``log``: a function told when
    training starts (e.g. print)."""
    import keras

    if source == "tfds-download":  # downloaded once: in the TFDS cache from then on
        source = "tfds"
    test = load_images(dataset, "test", source, data_dir)
    folder = cache_dir() / "classifiers"
    stem = f"{dataset}-{test.source}-{_code_version()}"
    model_path, info_path = folder / f"{stem}.keras", folder / f"{stem}.json"
    if model_path.exists() and info_path.exists() and not retrain:
        model = keras.models.load_model(model_path)
        accuracy = json.loads(info_path.read_text())["test_accuracy"]
    else:
        train = load_images(dataset, "train", test.source, data_dir)
        if log:
            log(f"Training the {dataset} classifier on {len(train.images):,} images "
                f"({test.source}); it is cached in {folder}")
        model, accuracy = _train_classifier(train, test)
        save_model(model, model_path)
        write_json(info_path, {"test_accuracy": accuracy, "train_images": len(train.images),
                               "test_images": len(test.images)})
    return Classifier(model, dataset, test.source, accuracy, test.images, test.labels)


def generated(generator, samples=DEFAULT_SAMPLES, seed=0, batch_size=1_000):
    """``samples`` images from ``generator`` (inference mode) on seeded normal latents, made
    in batches so 10,000 DCGAN samples fit in memory; in [-1, 1], shape (N, H, W, C). A
    conditional generator draws image i for label i mod classes (``asked_labels``)."""
    from .gan import generate

    latent_dim = int(generator.inputs[0].shape[-1])
    z = np.random.default_rng(seed).standard_normal((samples, latent_dim)).astype(np.float32)
    asked = asked_labels(generator, samples)
    return np.concatenate([
        generate(generator, z=z[i:i + batch_size],
                 labels=None if asked is None else asked[i:i + batch_size])
        for i in range(0, samples, batch_size)])


def asked_labels(generator, samples):
    """The labels ``generated`` asks a conditional generator for (i mod classes, shape
    (samples,)); None for an unconditional one."""
    from .models import label_classes

    classes = label_classes(generator)
    return None if classes is None else np.arange(samples) % classes


MEASURES = ("modes", "kl_uniform", "classifier_score", "frechet_distance", "confident")


def table(rows) -> str:
    """{name: evaluate() result} as aligned text, with each class's share in percent (and
    the share drawn as asked, for a conditional generator's rows)."""
    width = max(len(str(name)) for name in rows) + 2
    asked = any("label_accuracy" in m for m in rows.values())
    header = (f"{'':<{width}}{'modes':>6}{'KL':>7}{'score':>7}{'Frechet':>9}{'confident':>10}"
              + (f"{'as asked':>9}" if asked else "") + "   class shares %")
    lines = [header]
    for name, m in rows.items():
        shares = " ".join(f"{100 * v:3.0f}" for v in m["histogram"])
        matched = m.get("label_accuracy")
        column = "" if not asked else f"{'':>9}" if matched is None else f"{matched:>9.2f}"
        lines.append(f"{str(name):<{width}}{m['modes']:>6}{m['kl_uniform']:>7.3f}"
                     f"{m['classifier_score']:>7.2f}{m['frechet_distance']:>9.2f}"
                     f"{m['confident']:>10.2f}{column}   {shares}")
    return "\n".join(lines)
