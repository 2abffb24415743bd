"""Walks and arithmetic in a generator's latent space (Radford et al. 2015, sections 6.1
and 6.3): interpolation between two codes, and codes averaged over the samples a
classifier puts in one class.

Latent codes are float32 arrays, shape (latent_dim,) for one code, (N, latent_dim) for N.
"""

from __future__ import annotations

import numpy as np

from ..gan import generate, latents
from ..models import latent_size

# Below this angle (radians) slerp falls back to lerp: sin(angle) would divide by ~0.
PARALLEL_ANGLE = 1e-4


def _pair(z0, z1):
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if z0.ndim != 1 or z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must be two codes of one shape (latent_dim,), got "
                         f"{z0.shape} and {z1.shape}")
    return z0, z1


def _fractions(t):
    t = np.asarray(t, np.float64)
    return t.reshape(-1, 1)


def lerp(z0, z1, t):
    """Straight-line points (1 - t) z0 + t z1: codes (latent_dim,), ``t`` fractions (T,)
    in [0, 1] -> (T, latent_dim)."""
    z0, z1 = _pair(z0, z1)
    t = _fractions(t)
    return ((1 - t) * z0 + t * z1).astype(np.float32)


def slerp(z0, z1, t):
    """Points on the great circle from z0 to z1 (White 2016): codes (latent_dim,), ``t``
    fractions (T,) in [0, 1] -> (T, latent_dim). With angle w between the codes,
    sin((1-t) w)/sin(w) z0 + sin(t w)/sin(w) z1; lerp when they are (nearly) parallel."""
    z0, z1 = _pair(z0, z1)
    t = _fractions(t)
    cosine = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))
    if angle < PARALLEL_ANGLE:
        return lerp(z0, z1, t[:, 0])
    points = (np.sin((1 - t) * angle) * z0 + np.sin(t * angle) * z1) / np.sin(angle)
    return points.astype(np.float32)


PATHS = {"lerp": lerp, "slerp": slerp}


def walk(generator, z0, z1, steps=10, path="slerp", label=None):
    """Images along the path from z0 to z1: (steps, H, W, C) in [-1, 1], ends included.
    ``path``: "lerp" or "slerp"; ``label``: the class asked of a conditional generator."""
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}; choose one of {', '.join(PATHS)}")
    if steps < 2:
        raise ValueError(f"a walk needs at least 2 steps, got {steps}")
    codes = PATHS[path](z0, z1, np.linspace(0.0, 1.0, steps))
    labels = None if label is None else np.full(steps, label)
    return generate(generator, z=codes, labels=labels)


def classified_codes(generator, classifier, samples=4_000, seed=0, confident=0.9):
    """Draw ``samples`` codes, generate and classify them. Returns (codes (N, latent_dim),
    predicted class (N,), confidence (N,)) for the samples whose top probability is at
    least ``confident``: the codes whose images plainly show one class."""
    codes = latents(samples, latent_size(generator), seed)
    images = generate(generator, z=codes)
    probabilities = classifier.predict(images)[0]
    top = probabilities.max(1)
    keep = top >= confident
    return codes[keep], probabilities.argmax(1)[keep], top[keep]


def class_means(codes, classes):
    """{class: mean code (latent_dim,)} over ``codes`` (N, latent_dim) by their ``classes``
    (N,), for every class present."""
    codes, classes = np.asarray(codes, np.float32), np.asarray(classes)
    return {int(k): codes[classes == k].mean(0) for k in np.unique(classes)}


def moved(codes, means, source, target):
    """Vector arithmetic: codes (N, latent_dim) + (mean code of ``target`` - mean code of
    ``source``). Applied to codes of ``source`` images, it asks for ``target`` drawn in each
    image's own style (slant, thickness). ``means``: from ``class_means``."""
    for name, k in (("source", source), ("target", target)):
        if k not in means:
            raise ValueError(f"no confidently classified samples of the {name} class {k}; "
                             "draw more samples or lower the confidence")
    return (np.asarray(codes, np.float32) + means[target] - means[source]).astype(np.float32)


def random_direction(codes, length, seed=0):
    """The control for ``moved``: codes (N, latent_dim) each moved by ``length`` along its
    own random direction."""
    codes = np.asarray(codes, np.float32)
    directions = np.random.default_rng(seed).standard_normal(codes.shape)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return (codes + length * directions).astype(np.float32)
