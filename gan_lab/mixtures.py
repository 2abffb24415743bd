"""2-D Gaussian mixtures, the field's benchmark for mode collapse: the data, the measures
of coverage and the small networks that learn them.

The protocol is VEEGAN's (Srivastava et al. 2017, section 5.1 and Table 1), also used by
Metz et al. 2017 (Unrolled GANs), Lin et al. 2018 (PacGAN) and Elfeki et al. 2019 (GDPP):
a **ring** of 8 Gaussians of standard deviation 0.01 whose means sit on a circle of radius
1 (evenly spaced: 0, 45, ..., 315 degrees), and a **grid** of 25 Gaussians of standard
deviation 0.05 whose means are (-4 + 2i, -4 + 2j), i, j in 0..4. A generated point is of
*high quality* when it lies within 3 standard deviations of its nearest mean; a mode is
*covered* when it is the nearest mean of at least one high-quality point (2,500 points).

The points train through the same ``gan.GAN`` and ``train_step`` as the digits: G maps z
to points (N, 2), D maps points to logits (N, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import check_points

SAMPLES = 2_500    # points a coverage is measured on (VEEGAN's protocol)
QUALITY_SIGMAS = 3.0  # a high-quality point lies this many standard deviations from a mean


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic 2-D Gaussians: ``means`` (K, 2), one ``std``."""

    name: str
    means: np.ndarray
    std: float

    @property
    def modes(self) -> int:
        return len(self.means)

    @property
    def extent(self) -> float:
        """Half the side of a square that holds the data with a margin: the data's frame,
        which the plots show and within which ``--preset frozen_d`` keeps G's points."""
        return float(np.abs(self.means).max() * 1.25 + 10 * self.std)

    # What a run's evaluation reports for a mixture, and on how many points by default.
    measures = ("modes", "high_quality", "kl_uniform")
    samples = SAMPLES

    def describe(self) -> str:
        return (f"{self.name}: {self.modes} Gaussians of standard deviation {self.std:g}; a "
                f"point is of high quality within {QUALITY_SIGMAS:g} standard deviations of "
                "its nearest mean, a mode is covered when it is the nearest mean of one "
                "(VEEGAN's protocol); KL of the modes' histogram to uniform.")

    def reference_points(self, samples=SAMPLES, seed=0, data_dir=None) -> dict:
        """The measures of the mixture's own points and of two failures, read beside a
        generator's: "real", "one mode only" (a perfect collapse) and "spread too wide"
        (the real points with 10 times their noise)."""
        points, modes = self.sample(samples, seed=seed)
        wide = self.means[modes] + 10 * (points - self.means[modes])
        return {"real": self.evaluate(points), "one mode only": self.evaluate(
            points[modes == 0]), "spread too wide": self.evaluate(wide)}

    def epoch_measures(self, generator, frame) -> dict:
        """A training run's per-epoch measures: ``evaluate`` of the epoch's frame, the
        2,500 points of the run's fixed latent batch (VEEGAN's protocol)."""
        return self.evaluate(frame)

    def plot(self, points, title=None):
        """``plotting.plot_points``: the points over this mixture (a run's frame)."""
        from .plotting import plot_points

        return plot_points(points, self, title=title)

    def evaluate(self, points, asked=None) -> dict:
        """The measures of a training run's points (N, 2), by the name the run's history
        uses: ``coverage``'s modes, high_quality and kl_uniform, samples, and ``histogram``
        (K,): the share of all N points whose nearest mean is each mode, high quality or
        not (where G puts its mass: the mode-share map over epochs, in which a collapsed
        G's hopping shows). ``asked``: unused (a classifier's conditional labels)."""
        points = _points(points)
        nearest, _ = nearest_modes(points, self)
        return {"samples": len(points), **coverage(points, self),
                "histogram": np.bincount(nearest, minlength=self.modes) / len(points)}

    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points, float32 (n, 2), and the index of the mode each came from (n,)."""
        rng = np.random.default_rng(seed)
        modes = rng.integers(self.modes, size=n)
        points = self.means[modes] + self.std * rng.standard_normal((n, 2))
        return points.astype(np.float32), modes


def ring(modes: int = 8, radius: float = 1.0, std: float = 0.01) -> Mixture:
    """VEEGAN's ring: ``modes`` means evenly spaced on a circle (``endpoint=False``: the
    copied slip ``linspace(0, 2 pi, 8)`` puts the last mean on top of the first)."""
    angles = np.linspace(0.0, 2.0 * np.pi, modes, endpoint=False)
    return Mixture("ring", radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """VEEGAN's grid: ``side`` x ``side`` means ``spacing`` apart, centred on the origin."""
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    return Mixture("grid", np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2), std)


MIXTURES = {"ring": ring, "grid": grid}


def mixture(name: str) -> Mixture:
    """The named mixture ("ring" or "grid"); ValueError naming the choices otherwise."""
    if name not in MIXTURES:
        raise ValueError(f"unknown mixture {name!r}; choose one of {', '.join(MIXTURES)}")
    return MIXTURES[name]()


def nearest_modes(points, mixture: Mixture) -> tuple[np.ndarray, np.ndarray]:
    """For points (N, 2): the index of each one's nearest mean (N,) and the distance to it
    (N,), in the data's units."""
    points = _points(points)
    distances = np.linalg.norm(points[:, None, :] - mixture.means[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    return nearest, distances[np.arange(len(points)), nearest]


def mode_histogram(points, mixture: Mixture, sigmas: float = QUALITY_SIGMAS) -> np.ndarray:
    """How many high-quality points (within ``sigmas`` standard deviations of their nearest
    mean) each mode holds: ints (K,)."""
    nearest, distance = nearest_modes(points, mixture)
    good = distance <= sigmas * mixture.std
    return np.bincount(nearest[good], minlength=mixture.modes)


def coverage(points, mixture: Mixture, sigmas: float = QUALITY_SIGMAS) -> dict:
    """VEEGAN's measures of points (N, 2) against ``mixture``: ``modes`` covered (the nearest
    mean of at least one high-quality point; 0..K), ``high_quality`` (the share of points
    within ``sigmas`` standard deviations of their nearest mean, 0..1) and ``kl_uniform``
    (KL, in nats, of the high-quality points' mode histogram to the uniform one: 0 when
    every mode holds as many, log K when one holds them all; inf when none is of high
    quality). Raises ``data.DataError`` (a ValueError) for points that are not (N, 2)
    finite numbers, N >= 1."""
    from .metrics import kl_to_uniform

    counts = mode_histogram(points, mixture, sigmas)
    total = counts.sum()
    kl = kl_to_uniform(counts / total) if total else float("inf")
    return {"modes": int((counts > 0).sum()), "high_quality": float(total / len(_points(points))),
            "kl_uniform": kl}


def concentration(points, radius: float) -> float:
    """The largest share of points (N, 2) within ``radius`` of any one of them (0..1): 1.0
    when G has put all its mass on one point (a collapse onto a point, wherever it is)."""
    from scipy.spatial import cKDTree

    points = _points(points)
    # A KD tree, not the N x N distances: memory grows with N, not N squared.
    neighbours = cKDTree(points).query_ball_point(points, radius, return_length=True)
    return float(np.max(neighbours) / len(points))


def _points(points) -> np.ndarray:
    return check_points(points).astype(np.float64)
