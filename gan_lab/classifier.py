"""The classifier behind the measures of ``gan_lab.metrics``: a small CNN trained once on
the real data at hand and cached on disk, and ``Classifier.evaluate``, which reads a batch
of generated images through it (class histogram, modes, KL to uniform, classifier score,
Frechet distance of its penultimate features, confident share) beside the same measures of
real images (``reference_points``)."""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import DATASETS, check_images, load_images
from .files import exclusive, save_model, write_json
from .metrics import (CONFIDENT, DEFAULT_SAMPLES, MEASURES, MODE_SHARE, blur, class_histogram,
                      classifier_score, frechet_distance, kl_to_uniform, modes_covered,
                      precision_recall)
from .sampling import measure

CACHE_ENV = "GAN_LAB_CACHE"
# Raise it whenever build_classifier, _train_classifier or _training_epochs change: cached
# classifiers of another version are not used.
VERSION = 2
EPOCH_SAMPLES = 1_000  # a history row's measures: cheap beside an epoch, enough for 10 classes


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

    # What a run's evaluation reports, and on how many images by default.
    measures = MEASURES
    samples = DEFAULT_SAMPLES

    def epoch_measures(self, generator, frame) -> dict:
        """The measures of a training run's epoch (its history row): ``evaluate`` of
        EPOCH_SAMPLES draws of latent seed 0 (the frame's 64 images are too few)."""
        return measure(self, generator, EPOCH_SAMPLES)

    def describe(self) -> str:
        return (f"Classifier: {self.dataset} ({self.source}), test accuracy "
                f"{self.test_accuracy:.2%} on {len(self.held_out):,} held-out images. Frechet "
                f"distance to those images; a mode holds >= {MODE_SHARE:.0%} of a uniform "
                f"share; confident = top probability >= {CONFIDENT}." + self.caveat)

    @property
    def caveat(self) -> str:
        """A warning to print beside the measures when the classifier is too weak (test
        accuracy under 3 times chance) for its class shares to mean anything; else ""."""
        chance = 1 / self.classes
        if self.test_accuracy >= 3 * chance:
            return ""
        return (f"\nWarning: the classifier is right on only {self.test_accuracy:.0%} of "
                f"held-out images (chance is {chance:.0%}): the class shares, modes and KL "
                "below say little about this run. Train on more data (e.g. --source idx) for "
                "measures that mean something.")

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

    @property
    def classes(self) -> int:
        """K, the number of classes the classifier tells apart."""
        return int(self.model.output_shape[-1])

    @functools.cached_property
    def held_out_features(self):
        return self.predict(self.held_out)[1]

    def evaluate(self, images, asked=None) -> dict:
        """The measures of images (N, H, W, C) in [-1, 1]: samples, modes, kl_uniform,
        classifier_score, frechet_distance (to the held-out real images), confident (share
        with top probability >= CONFIDENT), precision and recall (k = 3, against the
        held-out images' features) and histogram (K shares). With ``asked`` (N,),
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
            **dict(zip(("precision", "recall"),
                       precision_recall(self.held_out_features, features))),
            "histogram": histogram,
        }
        if asked is not None:
            measured["label_accuracy"] = float((probabilities.argmax(1) == asked).mean())
        return measured

    @functools.cached_property
    def _training_features_by_class(self):
        """{class: features (N_c, 128) of the training images labelled c}."""
        train = load_images(self.dataset, "train", self.source)
        features = self.predict(train.images)[1]
        return {int(c): features[train.labels == c] for c in np.unique(train.labels)}

    def per_class_frechet(self, images, min_samples=100, confident=True) -> dict:
        """{class c: Frechet distance (in squared feature units, as ``evaluate``'s) between
        the features (128-d) of the images (N, H, W, C) in [-1, 1] the classifier reads as c
        and those of the TRAINING images labelled c} for each class with at least
        ``min_samples`` such images (the others are left out: a covariance of few points is
        rank-deficient and biases the distance upward).

        ``confident=True``: an image counts for c only when its top probability, for c, is
        >= CONFIDENT, so the distance says how well G draws the digits it draws cleanly and
        ambiguous blobs are left to ``evaluate``'s confident share; ``False``: by argmax.
        The reference is the training split (about 400 a class in the 4,000-digit sample),
        not the held-out one (about 100 a class, too few for a 128-d covariance). The floor
        to read a result against: ``per_class_frechet(self.held_out)``, real held-out digits
        of each class against the training digits of that class."""
        probabilities, features = self.predict(images)
        read_as = probabilities.argmax(1)
        keep = probabilities.max(1) >= CONFIDENT if confident else np.ones(len(read_as), bool)
        reference = self._training_features_by_class
        distances = {}
        for c in range(self.classes):
            chosen = features[keep & (read_as == c)]
            if len(chosen) >= max(min_samples, 2) and len(reference.get(c, ())) >= 2:
                distances[c] = frechet_distance(chosen, reference[c])
        return distances

    def reference_points(self, samples=4_000, seed=0, data_dir=None) -> dict:
        """The measures of real images, read beside a generator's: name -> evaluate().

        "real": training images (never the held-out ones), the floor of the distance;
        "real without class 0": the same without class 0 (with 10 classes: 9 modes, KL
        ln(10/9) = 0.105);
        "real blurred": the same after a Gaussian blur of 1 pixel;
        "real, class 0 only": a perfect collapse (1 mode; precision high, recall low);
        "noise": uniform noise in [-1, 1] (precision near 0).
        """
        train = load_images(self.dataset, "train", self.source, data_dir)
        rng = np.random.default_rng(seed)
        pick = rng.permutation(len(train.images))[:samples]
        images, labels = train.images[pick], train.labels[pick]
        return {
            "real": self.evaluate(images),
            "real without class 0": self.evaluate(images[labels != 0]),
            "real blurred": self.evaluate(blur(images, 1.0)),
            "real, class 0 only": self.evaluate(images[labels == 0]),
            "noise": self.evaluate(rng.uniform(-1, 1, images.shape).astype(np.float32)),
        }


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


def trained(dataset="mnist", source="auto", data_dir=None, retrain=False, log=None):
    """The classifier for ``dataset`` (for "stacked_mnist", the MNIST one read on each channel:
    a ``stacked_mnist.StackedCounter``), trained on its train split from ``source`` the first
    time (tens of seconds on the 4,000-digit sample, a few minutes on full MNIST on a CPU)
    and loaded from ``cache_dir()`` afterwards. The cache is keyed by dataset, the source
    actually used and ``VERSION``. ``log``: a function told when
    training starts (e.g. print)."""
    import keras

    from . import runtime

    if dataset == "stacked_mnist":  # its modes are read digit by digit
        from .stacked_mnist import StackedCounter

        return StackedCounter(trained("mnist", source, data_dir, retrain, log))
    if source == "tfds-download":  # downloaded once: in the TFDS cache from then on
        source = "tfds"
    test = load_images(dataset, "test", source, data_dir)
    folder = cache_dir() / "classifiers"
    stem = f"{dataset}-{test.source}-v{VERSION}"
    model_path, info_path = folder / f"{stem}.keras", folder / f"{stem}.json"
    # One process trains, others wanting the same classifier meanwhile (two notebooks, the
    # test suite's workers) wait for it and load its result. The judge computes in float32
    # whatever policy the GANs train under, so its measures do not depend on the machine.
    with exclusive(folder / f"{stem}.lock"), runtime.policy_scope("float32"):
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
            write_json(info_path, {"test_accuracy": accuracy,
                                   "train_images": len(train.images),
                                   "test_images": len(test.images)})
    return Classifier(model, dataset, test.source, accuracy, test.images, test.labels)
