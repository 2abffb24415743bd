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


import numpy as np

from .data import check_images

# A class is a covered mode when it holds at least half the share a uniform generator would
# give it (5% of samples for 10 classes): a class drawn at half its real rate still counts,
# one drawn at 1 in 40 does not.
MODE_SHARE = 0.5
CONFIDENT = 0.9  # a sample is confidently classified when its top probability is >= this
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
    probabilities = _probabilities(probabilities)
    counts = np.bincount(probabilities.argmax(1), minlength=probabilities.shape[1])
    return counts / counts.sum()


def _probabilities(probabilities) -> np.ndarray:
    """(N, K) rows of finite values in [0, 1], else a ValueError saying what was given."""
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise ValueError(f"probabilities must have shape (N, K) with N > 0, got "
                         f"{probabilities.shape}")
    if not np.isfinite(probabilities).all() or probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError("probabilities must be finite values in [0, 1] (a classifier's "
                         "softmax outputs), got NaN, Inf or values outside")
    return probabilities


def _histogram(histogram) -> np.ndarray:
    """(K,) shares summing to 1, else a ValueError (counts are not shares)."""
    histogram = np.asarray(histogram, np.float64)
    if histogram.ndim != 1 or not np.isfinite(histogram).all() or histogram.min() < 0 \
            or abs(histogram.sum() - 1) > 1e-6:
        raise ValueError(f"a histogram must be K shares summing to 1 (divide counts by their "
                         f"sum), got {np.round(histogram, 4).tolist()}")
    return histogram


def modes_covered(histogram, share=MODE_SHARE) -> int:
    """Classes holding at least ``share`` x (1/K) of the samples; histogram (K,) sums to 1."""
    histogram = _histogram(histogram)
    return int((histogram >= share / len(histogram)).sum())


def kl_to_uniform(histogram) -> float:
    """KL(histogram || uniform) in nats: 0 for a uniform histogram, ln K for a single class.
    ``histogram`` (K,): shares summing to 1."""
    histogram = _histogram(histogram)
    present = histogram[histogram > 0]
    return float((present * np.log(present * len(histogram))).sum())


def classifier_score(probabilities) -> float:
    """exp E_x[KL(p(y|x) || p(y))]: 1 for one class or unsure predictions, up to K for
    confident predictions spread evenly over K classes. probabilities (N, K)."""
    p = np.clip(_probabilities(probabilities), 1e-12, 1.0)
    marginal = p.mean(0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(marginal))).sum(1).mean()))


def frechet_distance(features_a, features_b) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) between two feature sets (N, D)."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance needs two sets of at least 2 feature vectors of "
                         f"one length, (N, D) and (M, D); got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr (S_a S_b)^1/2 = sum of sqrt of the eigenvalues of S_a^1/2 S_b S_a^1/2 (symmetric).
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * trace_root)


def _squared_euclidean(a, b):
    """Squared Euclidean distances between rows of a (N, D) and b (M, D), (N, M)."""
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


def _kth_neighbour_radii(features, k, chunk=2_000):
    """Distance from each row to its k-th nearest other row, (N,)."""
    radii = np.empty(len(features))
    for start in range(0, len(features), chunk):
        block = _squared_euclidean(features[start:start + chunk], features)
        radii[start:start + chunk] = np.sqrt(np.partition(block, k, axis=1)[:, k])  # [0]: self
    return radii


def _inside_manifold(points, reference, radii, chunk=2_000):
    """Share of ``points`` inside at least one ball (centre a row of ``reference``, radius
    the matching entry of ``radii``)."""
    inside = 0
    for start in range(0, len(points), chunk):
        distances = np.sqrt(_squared_euclidean(points[start:start + chunk], reference))
        inside += int((distances <= radii[None, :]).any(axis=1).sum())
    return inside / len(points)


def precision_recall(real_features, fake_features, k=3, seed=0) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019): each set's manifold is the
    union of balls around its points reaching their k-th nearest neighbour. Precision: the
    share of generated points inside the real manifold (quality); recall: the share of real
    points inside the generated manifold (variety). Both in [0, 1].

    ``real_features``, ``fake_features``: (N, D) and (M, D) features (e.g. the classifier's
    penultimate layer); the larger set is subsampled (seeded) to the smaller's size, as the
    estimator assumes sets of one size. Collapse: high precision, low recall; noise: low
    precision."""
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    size = min(len(real), len(fake))
    if size <= k:
        raise ValueError(f"precision_recall needs more than k={k} points in each set, got "
                         f"{len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    real = real[rng.choice(len(real), size, replace=False)] if len(real) > size else real
    fake = fake[rng.choice(len(fake), size, replace=False)] if len(fake) > size else fake
    precision = _inside_manifold(fake, real, _kth_neighbour_radii(real, k))
    recall = _inside_manifold(real, fake, _kth_neighbour_radii(fake, k))
    return precision, recall


def blur(images, sigma):
    """Images (N, H, W, C) blurred by a Gaussian of ``sigma`` pixels in H and W."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(np.asarray(images, np.float32), sigma=(0, sigma, sigma, 0),
                           mode="nearest")


MEASURES = ("modes", "kl_uniform", "classifier_score", "frechet_distance", "confident",
            "precision", "recall")


# Column headings of the measures, as ``table`` prints them.
HEADINGS = {"modes": "modes", "high_quality": "high quality", "kl_uniform": "KL",
            "classifier_score": "score", "frechet_distance": "Frechet",
            "confident": "confident", "precision": "precision", "recall": "recall",
            "label_accuracy": "as asked"}
FORMATS = {"modes": "{}", "high_quality": "{:.2f}", "kl_uniform": "{:.3f}",
           "classifier_score": "{:.2f}", "frechet_distance": "{:.2f}"}
SHARES_SHOWN = 25  # histograms of up to this many classes or modes are printed in full


def table(rows, measures=MEASURES) -> str:
    """{name: evaluate() result} as aligned text (tabulate's "plain" format): the
    ``measures`` (a judge's: the classifier's by default), the share drawn as asked where
    a conditional generator's rows have it, and each class's (or mode's) share in percent
    when there are at most SHARES_SHOWN."""
    from tabulate import tabulate

    asked = ("label_accuracy",) if any("label_accuracy" in m for m in rows.values()) else ()
    columns = (*measures, *asked)
    shares = all(len(m["histogram"]) <= SHARES_SHOWN for m in rows.values())
    headers = ["", *(HEADINGS[key] for key in columns), *(["shares %"] if shares else [])]
    body = [[str(name), *(FORMATS.get(key, "{:.2f}").format(m[key]) if key in m else ""
                          for key in columns),
             *([" ".join(f"{100 * v:3.0f}" for v in m["histogram"])] if shares else [])]
            for name, m in rows.items()]
    return tabulate(body, headers, tablefmt="plain", disable_numparse=True,
                    colalign=("left", *["right"] * len(columns), *(["left"] if shares else [])))
