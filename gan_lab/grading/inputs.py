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


def _softmax(logits):
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _class_histogram(seed):
    rng = _rng(seed, 7)
    one = int(rng.integers(0, 10))
    n = int(rng.integers(30, 50))
    collapsed = np.full((n, 10), 1.0)
    collapsed[:, one] = 8.0
    three_classes = rng.choice(10, 3, replace=False)
    three = rng.normal(0, 0.3, (90, 10))
    three[np.arange(90), np.repeat(three_classes, 30)] += 5
    return {"probe": "class_histogram", "cases": {
        "200 varied samples": _softmax(rng.normal(0, 3, (200, 10))),
        f"{n} samples all of class {one}": _softmax(collapsed),
        f"90 samples of classes {sorted(three_classes.tolist())}": _softmax(three),
        "60 varied samples of 5 classes": _softmax(rng.normal(0, 2, (60, 5))),
    }}


def _histograms(seed, near_threshold):
    """Histograms (K,) summing to 1: varied, collapsed, with empty classes, and (for
    modes_covered) shares on both sides of the threshold 0.5 / K and between 0 and it."""
    rng = _rng(seed, 8)
    one = int(rng.integers(0, 10))
    collapsed = np.zeros(10)
    collapsed[one] = 1.0
    some = np.zeros(10)
    some[rng.choice(10, 4, replace=False)] = rng.dirichlet(np.ones(4))
    cases = {}
    if near_threshold:  # first, so a reason names the threshold
        for k in (10, 5):
            threshold = 0.5 / k
            shares = rng.uniform(1.5, 3, k) * threshold
            shares[0] = threshold * (1 + rng.uniform(0.01, 0.05))   # just above
            shares[1] = threshold * (1 - rng.uniform(0.01, 0.05))   # just below
            shares[2] = threshold * rng.uniform(0.05, 0.5)          # present, far below
            rest = 1 - shares[:3].sum()
            shares[3:] = shares[3:] / shares[3:].sum() * rest
            shares = shares[rng.permutation(k)]
            cases[f"{k} classes, shares just above, just below and well below 0.5/{k}"] = shares
    cases.update({
        "a varied histogram of 10 classes": rng.dirichlet(np.ones(10)),
        f"all samples in class {one}": collapsed,
        "4 of 10 classes present": some,
        "a near-uniform histogram of 5 classes": rng.dirichlet(np.full(5, 50.0)),
    })
    return cases


def _of_histogram(name, cast, near_threshold=False):
    def make(seed):
        return {"probe": "of_histogram", "function": name, "cast": cast,
                "cases": {label: h for label, h in _histograms(seed, near_threshold).items()}}

    return make


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
    "class_histogram": _class_histogram,
    "kl_to_uniform": _of_histogram("kl_to_uniform", "float"),
    "modes_covered": _of_histogram("modes_covered", "int", near_threshold=True),
    "gradient_penalty": _gradient_penalty,
    "hinge_discriminator_loss": _hinge_scores,
    "slerp": _slerp,
    "pool_to_grid": _pool_to_grid,
}
EXERCISE_NAMES = tuple(MAKERS)


def make(name: str, seed: int) -> dict:
    """The inputs exercise ``name`` is probed on for ``seed`` (numpy arrays, numbers, text)."""
    return MAKERS[name](seed)
