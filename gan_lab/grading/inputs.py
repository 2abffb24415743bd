"""The inputs each exercise is probed on, made from a seed in the grader and sent to the
student's sandbox when that exercise runs.

Seed 0 makes the self-check inputs (``self_check.json``, which every student has); the grader
draws a fresh seed for each grading run, and ``make`` never gives a graded case that is also a
self-check case, so a table learnt from the self-checks earns nothing. Every case depends on
the seed, the fixed-looking ones included (their batch sizes, classes and scales do).
"""

from __future__ import annotations

import numpy as np

SELF_CHECK_SEED = 0


def _rng(seed, salt):
    return np.random.default_rng([seed, salt])


def _scale_images(seed):
    rng = _rng(seed, 1)
    n = 2 + int(rng.integers(1, 4)) if seed else 2  # self-checks: 2; graded: 3 to 5
    return {"probe": "scale_images", "cases": {
        "random digits (5, 28, 28) uint8": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        f"all-black ({n}, 28, 28) uint8": np.zeros((n, 28, 28), np.uint8),
        f"all-white ({n}, 28, 28) uint8": np.full((n, 28, 28), 255, np.uint8),
        "with channel axis (3, 28, 28, 1) uint8": rng.integers(0, 256, (3, 28, 28, 1),
                                                                dtype=np.uint8),
    }}


def _model(builder, seed, generator, **rules):
    rng = _rng(seed, 2 if generator else 3)
    x = (rng.standard_normal((3, 100)) if generator
         else rng.uniform(-1, 1, (4, 28, 28, 1))).astype(np.float32)
    return {"probe": "generator" if generator else "discriminator", "builder": builder,
            "seed": seed, "weights_seed": 7 + seed, "x": x, **rules}


def _logits(rng, shape, seed):
    zeros = 4 if seed == SELF_CHECK_SEED else int(rng.choice([2, 3, 5, 6]))
    return {
        "logits from N(0, 2), batch 8": rng.normal(0, 2, (8, 1)),
        "zero logits": np.zeros((zeros, 1)),
        "extreme logits, batch 4": np.array([[1.0], [-1.0], [0.75], [-0.75]])
        * rng.uniform(45, 70),
        "one sample": rng.normal(0, 1, (1, 1)),
    }[shape]


_LOGIT_CASES = ("logits from N(0, 2), batch 8", "zero logits",
                "extreme logits, batch 4", "one sample")


def _discriminator_loss(seed):
    cases = {}
    for index, label in enumerate(_LOGIT_CASES):
        rng = _rng(seed, 10 + index)
        real, fake = _logits(rng, label, seed), _logits(rng, label, seed)[::-1].copy()
        cases[label] = (real, fake)
    return {"probe": "loss", "function": "discriminator_loss", "cases": cases}


def _generator_loss(name):
    def make(seed):
        cases = {label: (_logits(_rng(seed, 20 + index), label, seed),)
                 for index, label in enumerate(_LOGIT_CASES)}
        return {"probe": "loss", "function": name, "cases": cases}

    return make


def _train_step(seed):
    rng = _rng(seed, 30)
    return {"probe": "train_step", "seed": seed, "weights_seed": seed + 11,
            "real": rng.uniform(-1, 1, (6, 28, 28, 1)).astype(np.float32),
            "z": rng.standard_normal((6, 8)).astype(np.float32),
            "coefficients": rng.uniform(0.5, 1.5, 3).tolist()}


def _size_cases(seed, transpose):
    rng = _rng(seed, 40 + transpose)
    cases = []
    while len(cases) < 18:
        size = int(rng.integers(1, 17 if transpose else 65))
        kernel = int(rng.integers(1, 8))
        stride = int(rng.integers(1, 5))
        padding = ("same", "valid")[len(cases) % 2]
        if not transpose and padding == "valid" and kernel > size:
            continue
        cases.append((size, kernel, stride, padding))
    # the edges: a kernel as wide as the input, a stride wider than the kernel
    wide = int(rng.integers(2, 30))
    cases += [(wide, wide, 1, "valid"), (wide, 1, int(rng.integers(2, 5)), "valid")]
    return cases


def _sizes(name, transpose):
    def make(seed):
        cases = list(dict.fromkeys(_size_cases(seed, transpose)))
        if seed != SELF_CHECK_SEED:
            known = set(_size_cases(SELF_CHECK_SEED, transpose))
            cases = [case for case in cases if case not in known]
        return {"probe": "sizes", "function": name, "cases": cases}

    return make


def _ring(k=8, radius=1.0):
    angles = np.linspace(0.0, 2.0 * np.pi, k, endpoint=False)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _grid(side=5, spacing=2.0):
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    return np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)


def _around(rng, means, std, n, low, high):
    """``n`` points at ``low`` to ``high`` standard deviations from the given means (one
    each, in turn), in random directions."""
    angles = rng.uniform(0, 2 * np.pi, n)
    distances = rng.uniform(low, high, n) * std
    centres = means[np.arange(n) % len(means)]
    return centres + distances[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)


# Unit directions whose multiples by 5 are whole numbers, (3, 4, 5) triangles among them: a
# point 5 * k * direction from a mean is exactly 5 * k from it, in any float arithmetic.
_EXACT_DIRECTIONS = np.array([(5, 0), (0, 5), (-5, 0), (0, -5), (3, 4), (-4, 3), (-3, -4),
                              (4, -3), (4, 3), (-3, 4), (-4, -3), (3, -4)]) / 5


def _on_the_threshold(rng, seed):
    """(points, means, std) with points exactly 3 std from their nearest mean: every number
    a small multiple of a power of two (the means, std = 5k, the offsets 9k, 12k and 15k),
    so the distance equals 3 * std exactly however it is computed (norm, squares, ratio,
    float32), and a `<` for `<=` loses. Some modes are covered by threshold points alone,
    one of them by a single point (a mode needs at least one); others by points well
    inside; the rest have points at 4 std only (none of high quality)."""
    k = int(rng.integers(1, 8)) / 256 if seed != SELF_CHECK_SEED else 4 / 256
    spacing = int(rng.integers(4, 12)) / 4 if seed != SELF_CHECK_SEED else 2.0
    std = 5 * k
    means = spacing * np.stack(np.meshgrid(np.arange(3) - 1, np.arange(3) - 1),
                               axis=-1).reshape(-1, 2)
    order = rng.permutation(9)
    on, single, inside = order[:3], order[3], order[4:6]  # the rest: outside only
    points = []
    for mode in on:  # two to four points each, on the threshold
        for direction in rng.choice(len(_EXACT_DIRECTIONS), int(rng.integers(2, 5)), False):
            points.append(means[mode] + 3 * std * _EXACT_DIRECTIONS[direction])
    points.append(means[single] + 3 * std * _EXACT_DIRECTIONS[rng.integers(12)])
    for mode in inside:  # at 1.8 std (9k), exact too
        points.append(means[mode] + 9 * k * _EXACT_DIRECTIONS[rng.integers(12)])
    for mode in order[6:]:  # at 4 std (20k): not of high quality
        points.append(means[mode] + 4 * std * _EXACT_DIRECTIONS[rng.integers(12)])
    return np.array(points)[rng.permutation(len(points))], means, std


def _mode_coverage(seed):
    """(points (N, 2), means (K, 2), std) cases, VEEGAN's protocol: the ring (std 0.01) and
    the grid (std 0.05) at seed-dependent scales, each case aimed at one rule: all points on
    one mean, points between modes (none of high quality), points just inside and just
    outside 3 std, points exactly at 3 std (of high quality: at most 3 std), a mode
    covered by one point (at least one is enough), the grid's edges (points beyond its
    outer means), Gaussians so wide that a point lies within 3 std of two means (it covers
    its nearest only), and a mix."""
    rng = _rng(seed, 16)
    scale = 1.0 if seed == SELF_CHECK_SEED else float(rng.uniform(0.5, 3.0))
    ring, grid = scale * _ring(), scale * _grid()
    ring_std, grid_std = 0.01 * scale, 0.05 * scale
    n = 40 if seed == SELF_CHECK_SEED else int(rng.integers(30, 60))
    one = int(rng.integers(0, 8))
    covered = np.sort(rng.choice(8, 3, replace=False))
    mixed = np.concatenate([
        _around(rng, ring[covered], ring_std, 3 * n, 0, 2.5),            # 3 modes, good
        rng.uniform(-1.3 * scale, 1.3 * scale, (n, 2))])                  # scattered
    between = (ring + np.roll(ring, -1, axis=0)) / 2                      # midpoints
    inside = _around(rng, ring, ring_std, n // 2, 2.5, 2.9)
    outside = _around(rng, ring, ring_std, n - n // 2, 3.1, 4.0)
    threshold = np.concatenate([inside, outside])[rng.permutation(n)]
    edge = grid[[i for i in range(25) if i // 5 in (0, 4) or i % 5 in (0, 4)]]  # 16 means
    outward = edge / np.linalg.norm(edge, axis=1, keepdims=True)
    beyond = np.concatenate([edge + outward * rng.uniform(0.5, 2.9, (16, 1)) * grid_std,
                             edge + outward * rng.uniform(3.2, 40.0, (16, 1)) * grid_std])
    wide_std = 0.4 * scale  # 3 std = 1.2 > the 0.77 between neighbouring ring means
    wide = _around(rng, ring[:2], wide_std, n, 0, 1.5)
    return {"probe": "mode_coverage", "cases": {
        f"{3 * n + n} points: 3 ring modes ({', '.join(map(str, covered))}) and scattered "
        "points": (mixed, ring, ring_std),
        f"{n} points all within 1 std of ring mean {one}":
            (_around(rng, ring[[one]], ring_std, n, 0, 1), ring, ring_std),
        "points between ring modes (midpoints, none within 3 std of a mean)":
            (between + rng.normal(0, ring_std, between.shape), ring, ring_std),
        f"{n} ring points, half just inside 3 std (2.5-2.9), half just outside (3.1-4)":
            (threshold, ring, ring_std),
        "the grid's edges: 16 points within 3 std beyond its outer means, 16 further out":
            (beyond, grid, grid_std),
        f"wide Gaussians (std {wide_std:.3g}): {n} points near ring means 0 and 1, many within"
        " 3 std of two means": (wide, ring, wide_std),
   
        "a 3x3 grid, points exactly 3 std from their nearest mean (one mode with a single "
        "point), others well inside or at 4 std": _on_the_threshold(rng, seed),
    }}


def _pack_samples(seed):
    """(samples, m) cases: images of several channels (a packing that interleaves the
    channels, or groups samples that are not consecutive, shows), N not divisible by m
    (the last N mod m sit out), m = 1 (unchanged), points (N, 2), and one pack of all N."""
    rng = _rng(seed, 17)
    extra = 0 if seed == SELF_CHECK_SEED else int(rng.integers(1, 3))

    def samples(*shape):
        return rng.normal(0, 1, shape).astype(np.float32)

    return {"probe": "pack_samples", "cases": {
        f"images ({6 + 2 * extra}, 4, 4, 3), m = 2": (samples(6 + 2 * extra, 4, 4, 3), 2),
        f"images ({7 + 3 * extra}, 3, 5, 2), m = 3 (N not divisible by m)":
            (samples(7 + 3 * extra, 3, 5, 2), 3),
        f"images ({5 + extra}, 4, 4, 2), m = 1": (samples(5 + extra, 4, 4, 2), 1),
        f"points ({9 + 2 * extra}, 2), m = 2 (N odd)": (samples(9 + 2 * extra, 2), 2),
        f"points ({4 + extra}, 2), m = {4 + extra} (one pack)": (samples(4 + extra, 2), 4 + extra),
        f"grey images ({8 + 4 * extra}, 2, 2, 1), m = 4": (samples(8 + 4 * extra, 2, 2, 1), 4),
    }}


def _slerp(seed):
    rng = _rng(seed, 11)
    z0, z1 = rng.normal(0, 1, 8), rng.normal(0, 1, 8)
    axis = int(rng.integers(0, 8))
    along = np.zeros(8)
    along[axis] = 1.0
    scale = float(rng.integers(2, 6))
    return {"probe": "slerp", "cases": {
        "two random codes, t = 0, 0.25, 0.5, 1": (z0, z1, [0.0, 0.25, 0.5, 1.0]),
        "codes at a wide angle, 7 steps": (z0, -z0 + 0.3 * z1, np.linspace(0, 1, 7)),
        f"exactly parallel codes (z1 = {scale:g} z0, both on axis {axis})":
            (along, scale * along, [0.0, 0.5, 1.0]),
        "the same code twice": (z1, z1.copy(), [0.0, 0.3, 1.0]),
    }}


def _pool_to_grid(seed):
    rng = _rng(seed, 13)
    shapes = [((2, 7, 7, 3), 4), ((3, 14, 14, 2), 4), ((1, 4, 4, 5), 4), ((2, 6, 9, 1), 2)]
    cases = {}
    for shape, grid in shapes:
        cases[f"maps {shape}, grid {grid}"] = (rng.normal(0, 1, shape).astype(np.float32), grid)
    return {"probe": "pool_to_grid", "cases": cases}


def _hinge_scores(seed):
    """(real, fake) raw scores (N, 1): margins met, missed and both, so a missing relu shows."""
    rng = _rng(seed, 14)
    n = 6 if seed == SELF_CHECK_SEED else int(rng.choice([4, 5, 7, 8]))
    met = rng.uniform(1.2, 4, (n, 1)), -rng.uniform(1.2, 4, (n, 1))
    return {"probe": "loss", "function": "hinge_discriminator_loss", "cases": {
        "scores from N(0, 2) (inside and beyond +-1), batch 8":
            (rng.normal(0, 2, (8, 1)), rng.normal(0, 2, (8, 1))),
        f"every margin met (real > 1, fake < -1), batch {n}": met,
        f"every margin missed by far (real < -1, fake > 1), batch {n}": (met[1], met[0]),
        "scores inside (-1, 1), batch 5": (rng.uniform(-0.9, 0.9, (5, 1)),
                                           rng.uniform(-0.9, 0.9, (5, 1))),
        "one sample": (rng.normal(0, 2, (1, 1)), rng.normal(0, 2, (1, 1))),
        f"scores far beyond the margins (|s| 10 to 60), batch {n}":
            (-rng.uniform(10, 60, (n, 1)), rng.uniform(10, 60, (n, 1))),
    }}


def _gradient_penalty(seed):
    """Critics the probe builds from these weights, and (critic, real, fake, alpha) cases:
    a linear critic (gradient w everywhere: the penalty is (||w|| - 1)^2 by hand) with
    ||w|| above and below 1, and a small tanh conv critic on 2-channel images at alpha all
    0 (x_hat = fake), all 1 (x_hat = real) and random per image. Batches of 3 to 8: a norm
    over the whole batch differs from one per image; batch 8 of 8x8 images lets alpha
    reshaped to (N, 1) broadcast (silently, across the width) instead of failing."""
    rng = _rng(seed, 15)
    n = 4 if seed == SELF_CHECK_SEED else int(rng.choice([3, 5, 6]))
    above, below = rng.uniform(1.3, 2.2), rng.uniform(0.3, 0.7)
    # The linear critic's images are not 8x8 (the conv critic's are): a norm that assumes
    # one image size loses.
    height, width = int(rng.integers(5, 8)), int(rng.integers(9, 14))
    direction = rng.normal(0, 1, (height, width, 1))
    direction /= np.linalg.norm(direction)
    critics = {
        "linear_above": [above * direction, rng.normal(0, 0.5, (1,))],
        "linear_below": [below * direction[::-1], rng.normal(0, 0.5, (1,))],
        "conv": [rng.normal(0, 0.4, (3, 3, 2, 4)), rng.normal(0, 0.2, (4,)),
                 rng.normal(0, 0.3, (4 * 4 * 4, 1)), rng.normal(0, 0.2, (1,))],
    }
    critics = {name: [w.astype(np.float32) for w in weights] for name, weights in critics.items()}

    def images(batch, channels, size=(8, 8)):
        return rng.uniform(-1, 1, (batch, *size, channels)).astype(np.float32)

    def alphas(batch, value=None):
        shape = (batch, 1, 1, 1)
        alpha = np.full(shape, value) if value is not None else rng.uniform(0.05, 0.95, shape)
        return alpha.astype(np.float32)

    real, fake = images(n, 2), images(n, 2)  # the same pair at alpha 0 and 1
    cases = {
        f"a linear critic, ||w|| = {above:.3g} (penalty (||w|| - 1)^2), batch {n}":
            ("linear_above", images(n, 1, (height, width)), images(n, 1, (height, width)),
             alphas(n)),
        f"a linear critic, ||w|| = {below:.3g} (penalty (||w|| - 1)^2), batch {n}":
            ("linear_below", images(n, 1, (height, width)), images(n, 1, (height, width)),
             alphas(n)),
        f"a conv critic, alpha all 0 (x_hat = fake), batch {n}":
            ("conv", real, fake, alphas(n, 0.0)),
        f"a conv critic, alpha all 1 (x_hat = real), batch {n}":
            ("conv", real, fake, alphas(n, 1.0)),
        f"a conv critic, alpha random per image, batch {n}":
            ("conv", images(n, 2), images(n, 2), alphas(n)),
        "a conv critic, alpha random per image, batch 8":
            ("conv", images(8, 2), images(8, 2), alphas(8)),
    }
    return {"probe": "gradient_penalty", "critics": critics, "cases": cases}


MAKERS = {
    "scale_images": _scale_images,
    "build_generator": lambda seed: _model("build_generator", seed, True),
    "build_discriminator": lambda seed: _model("build_discriminator", seed, False,
                                               dropout=True),
    "discriminator_loss": _discriminator_loss,
    "generator_loss_minimax": _generator_loss("generator_loss_minimax"),
    "generator_loss_non_saturating": _generator_loss("generator_loss_non_saturating"),
    "train_step": _train_step,
    "conv_output_size": _sizes("conv_output_size", transpose=False),
    "conv_transpose_output_size": _sizes("conv_transpose_output_size", transpose=True),
    "build_dcgan_generator": lambda seed: _model("build_dcgan_generator", seed, True,
                                                 radford=True, init_std=True),
    "build_dcgan_discriminator": lambda seed: _model("build_dcgan_discriminator", seed, False,
                                                     radford=True, init_std=True),
    "mode_coverage": _mode_coverage,
    "pack_samples": _pack_samples,
    "gradient_penalty": _gradient_penalty,
    "hinge_discriminator_loss": _hinge_scores,
    "slerp": _slerp,
    "pool_to_grid": _pool_to_grid,
}
EXERCISE_NAMES = tuple(MAKERS)


def make(name: str, seed: int) -> dict:
    """The inputs exercise ``name`` is probed on for ``seed`` (numpy arrays, numbers, text)."""
    return MAKERS[name](seed)
