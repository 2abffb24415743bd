"""GAN objectives as pure functions, named ``<objective>_<network>_loss`` (as TF-GAN names
them). Each takes D's outputs for a batch, shape (N, 1) (logits for the cross-entropy
objectives, unbounded scores for the others), and returns a scalar batch mean in float32.

Objectives (``OBJECTIVES``: name -> ``Objective``, its two losses and its rules, which
``gan_lab.options.OBJECTIVE_RULES`` states):

- ``non_saturating``: D cross-entropy; G -log D(G(z)) (Goodfellow et al. 2014, sec. 3);
- ``minimax``: D cross-entropy; G log(1 - D(G(z))) (eq. 1 of the same paper);
- ``lsgan``: least squares, a-b-c = 0-1-1 (Mao et al. 2017, eq. 2), as CS231n writes it;
- ``hinge``: the hinge loss of spectrally normalised GANs (Miyato et al. 2018, eq. 16-17);
- ``wgan_gp``: the Wasserstein critic with a gradient penalty (Gulrajani et al. 2017,
  Algorithm 1), the penalty added by ``GAN.train_step`` through ``gradient_penalty``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from keras import ops

from .options import OBJECTIVE_RULES, ObjectiveRules, objective_rules


def _f32(*tensors):
    return [ops.cast(t, "float32") for t in tensors]


def minimax_discriminator_loss(real_logits, fake_logits, real_label=1.0):
    """D's loss -[log D(x) + log(1 - D(G(z)))], each term a batch mean; logits (N, 1).

    ``real_label`` < 1 is one-sided label smoothing (Salimans et al. 2016): only real
    targets are smoothed."""
    real_logits, fake_logits = _f32(real_logits, fake_logits)
    real_term = ops.binary_crossentropy(ops.full_like(real_logits, real_label), real_logits,
                                        from_logits=True)
    fake_term = ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits,
                                        from_logits=True)
    return ops.mean(real_term) + ops.mean(fake_term)


def minimax_generator_loss(fake_logits):
    """log(1 - D(G(z))), a batch mean G minimises (saturates while D rejects the fakes)."""
    (fake_logits,) = _f32(fake_logits)
    return ops.mean(-ops.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)), a batch mean: the heuristic Goodfellow et al. recommend."""
    (fake_logits,) = _f32(fake_logits)
    return ops.mean(ops.softplus(-fake_logits))


def least_squares_discriminator_loss(real_scores, fake_scores):
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2] (Mao et al. 2017; CS231n's ls_discriminator_loss)."""
    real_scores, fake_scores = _f32(real_scores, fake_scores)
    return 0.5 * ops.mean(ops.square(real_scores - 1.0)) + 0.5 * ops.mean(ops.square(fake_scores))


def least_squares_generator_loss(fake_scores):
    """1/2 E[(D(G(z)) - 1)^2] (Mao et al. 2017)."""
    (fake_scores,) = _f32(fake_scores)
    return 0.5 * ops.mean(ops.square(fake_scores - 1.0))


def hinge_discriminator_loss(real_scores, fake_scores):
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (Miyato et al. 2018, eq. 16)."""
    real_scores, fake_scores = _f32(real_scores, fake_scores)
    return ops.mean(ops.relu(1.0 - real_scores)) + ops.mean(ops.relu(1.0 + fake_scores))


def hinge_generator_loss(fake_scores):
    """-E[D(G(z))] (Miyato et al. 2018, eq. 17)."""
    (fake_scores,) = _f32(fake_scores)
    return -ops.mean(fake_scores)


def wasserstein_critic_loss(real_scores, fake_scores):
    """E[D(G(z))] - E[D(x)]: the critic's estimate of minus the Wasserstein-1 distance
    (Arjovsky et al. 2017), without the penalty."""
    real_scores, fake_scores = _f32(real_scores, fake_scores)
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """-E[D(G(z))]."""
    (fake_scores,) = _f32(fake_scores)
    return -ops.mean(fake_scores)


def gradient_penalty(critic, real, fake, alpha):
    """E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = alpha x + (1 - alpha) G(z) (Gulrajani et
    al. 2017, Algorithm 1, line 8, without lambda).

    ``critic``: images -> scores (N, 1); ``real``, ``fake``: images (N, H, W, C) (or points
    (N, D)); ``alpha``: (N, 1, 1, 1) (or (N, 1)) in [0, 1]. Computed with a tape of its own, so that called
    inside the critic's tape the penalty's gradient (a second derivative) reaches the
    critic's weights.
    """
    import tensorflow as tf

    real, fake, alpha = _f32(real, fake, alpha)
    mixed = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = ops.cast(critic(mixed), "float32")
    gradients = tape.gradient(scores, mixed)
    # Per sample, over all its axes: images (N, H, W, C) or points (N, D).
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=tuple(range(1, gradients.ndim)))
                     + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


@dataclass(frozen=True)
class Objective:
    """A GAN objective: D's loss and G's loss, and the rules that go with them.

    ``discriminator_loss(real_outputs, fake_outputs)`` (the cross-entropy ones also take
    ``real_label``) and ``generator_loss(fake_outputs)`` take D's outputs, (N, 1), and
    return scalar batch means in float32. ``rules.logits``: D's outputs are logits read
    through a sigmoid; else a critic's scores. ``rules.gradient_penalty``: D's loss adds
    ``gradient_penalty``; ``rules.label_smoothing``: ``real_label`` < 1 is allowed."""

    name: str
    discriminator_loss: Callable
    generator_loss: Callable
    rules: ObjectiveRules


# (D's loss, G's loss) by objective; both cross-entropy objectives share D's loss (TF-GAN's
# name for it). Its rules are options.OBJECTIVE_RULES' entry of the same name.
_LOSS_PAIRS = {
    "non_saturating": (minimax_discriminator_loss, non_saturating_generator_loss),
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "lsgan": (least_squares_discriminator_loss, least_squares_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
    "wgan_gp": (wasserstein_critic_loss, wasserstein_generator_loss),
}
OBJECTIVES = {name: Objective(name, *_LOSS_PAIRS[name], rules)
              for name, rules in OBJECTIVE_RULES.items()}


def objective(name: str) -> Objective:
    """The ``Objective`` called ``name``; ValueError naming the choices for another."""
    objective_rules(name)
    return OBJECTIVES[name]
