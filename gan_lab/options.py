"""The one table of training settings: their names, their defaults and the rules that tie
them together. ``TrainConfig`` (the command line's and ``runs.train``'s settings) and
``GAN.compile`` (the Python API's) both read it and both call ``check_rules``, so a default
or a rule is stated here once. Importable without TensorFlow: the command line builds its
parser from it before anything heavy loads."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

# gan: dense (Goodfellow et al. 2014); dcgan: convolutional (Radford et al. 2015);
# cgan: the DCGAN conditioned on class labels (Mirza & Osindero 2014).
MODELS = ("gan", "dcgan", "cgan")
# Named alternative generators: the course's CIFAR-10 generator for the dcgan.
ARCHS = ("course_cifar",)
# "alternating": D's update, then G's through the updated D (Goodfellow et al., Algorithm 1).
# "simultaneous": both from one forward pass (the TensorFlow DCGAN tutorial).
UPDATES = ("alternating", "simultaneous")
# tf.distribute: several GPUs of one machine, or several machines (from $TF_CONFIG).
STRATEGIES = ("mirrored", "multi_worker")


@dataclass(frozen=True)
class ObjectiveRules:
    """What an objective's D outputs and what it needs or allows; ``losses.Objective``
    pairs these with the loss functions themselves."""

    # True: D outputs logits, read as probabilities through a sigmoid (cross-entropy);
    # False: D is a critic whose unbounded scores are used as they are.
    logits: bool
    label_smoothing: bool = False   # real_label < 1 allowed (one-sided smoothing)
    gradient_penalty: bool = False  # D's loss adds the penalty of Gulrajani et al.
    simultaneous: bool = True       # trainable with update="simultaneous"
    # The settings its paper trains with, applied under the preset's and the user's.
    paper_settings: dict = field(default_factory=dict)


# The objectives of gan_lab.losses, by name: cross-entropy (Goodfellow et al. 2014), least
# squares (Mao et al. 2017), hinge (Miyato et al. 2018), Wasserstein with gradient penalty
# (Gulrajani et al. 2017: n_critic = 5, Adam(1e-4, 0, 0.9), Algorithm 1).
OBJECTIVE_RULES = {
    "non_saturating": ObjectiveRules(logits=True, label_smoothing=True),
    "minimax": ObjectiveRules(logits=True, label_smoothing=True),
    "lsgan": ObjectiveRules(logits=False),
    "hinge": ObjectiveRules(logits=False),
    "wgan_gp": ObjectiveRules(logits=False, gradient_penalty=True, simultaneous=False,
                              paper_settings={"d_steps": 5, "learning_rate": 1e-4,
                                              "beta_1": 0.0, "beta_2": 0.9}),
}
LOSSES = tuple(OBJECTIVE_RULES)

# Defaults of the objective and the step, for TrainConfig and GAN.compile alike.
LOSS = "non_saturating"
UPDATE = "alternating"
D_STEPS = 1      # D updates per G update (Algorithm 1's k)
G_STEPS = 1      # G updates per training step
REAL_LABEL = 1.0  # the real images' target; below 1: one-sided label smoothing
UNROLL = 0       # look-ahead D steps G's loss is taken through (Unrolled GAN's k; 0: none)
PACK = 1         # samples D judges together (PacGAN's m; 1: one at a time)
# Defaults of the optimisation, for TrainConfig and GAN.compile alike. Adam with beta_1 0.5
# as in Radford et al. 2015, at a learning rate of 1e-3 for the short first runs (the course's
# full run, the "radford" preset, takes the paper's 2e-4).
LEARNING_RATE = 1e-3
BETA_1 = 0.5
BETA_2 = 0.999
LATENT_DIM = 100
BATCH_SIZE = 64
GP_WEIGHT = 10.0  # lambda of the gradient penalty (Gulrajani et al. 2017)

# Without --epochs a run makes about this many training steps, whatever the data's size.
DEFAULT_STEPS = {"gan": 2_000, "dcgan": 2_500, "cgan": 1_000}
# The 2-D mixtures (data.POINT_DATASETS) train the MLP pair of points (models.py) for about
# POINT_STEPS steps (VEEGAN's and Unrolled GAN's 25,000), with these settings where the
# user and the preset name none; an epoch of the default training set is 1,000 steps.
POINT_STEPS = 25_000
POINT_SETTINGS = {"batch_size": 256, "latent_dim": 64}
DEFAULT_SNAPSHOTS = (1, 10, 50, 100)  # the generator is also saved at the last epoch
LAST = "last"  # in compare's epochs: each run's last saved snapshot
COMPARE_EPOCHS = (1, 10, LAST)  # snapshots every run of 10 epochs or more keeps
# The DCGAN of 28x28 images without a preset, an arch or network options: G widths (128, 64)
# with 3x3 transposed convolutions, D widths (32, 64), so a short run trains more steps in
# less time (docs/performance.md, "The first run"). The presets keep models.py's widths
# (Radford et al.'s).
COMPACT_DCGAN = {"generator_options": {"widths": (128, 64), "kernel": 3},
                 "discriminator_options": {"widths": (32, 64)}}

# Named settings. "radford": the course's full run of either model, with Radford et al.
# 2015's batch 128 and Adam(2e-4, beta_1 0.5), 100 epochs. "remedy": the DCGAN for 20 epochs
# at batch 64 with per-epoch metrics (Lab 4's digits). The mode-collapse lab's 2-D games, on
# the ring unless named (docs/mode-collapse.md has the search that found them and their
# 5-seed tables):
# "collapse", the plain game whose G collapses near a mode and hops between modes;
# "collapse_on_mode", the plain game whose G sits on one mode, every point of high quality;
# "mode_hopping", collapse_on_mode on smaller batches with Adam's beta_1 0, whose G sits on a
# mode, then leaves it for another;
# "equal_rates", collapse_on_mode's networks with G as fast as D, where the plain game keeps
# some modes and drops the others: the lab's remedies (--pack 4, --minibatch-std) run beside
# it, on the ring and the grid; "equal_rates_large", the same on the grid with networks the
# size of PacGAN's 2-D code's, where both remedies hold; and "frozen_d", G against a D that never learns (learning
# rate 0), which piles every point on D's favourite place.
PRESETS = {
    "radford": {"epochs": 100, "batch_size": 128, "learning_rate": 2e-4},
    "remedy": {"model": "dcgan", "epochs": 20, "batch_size": 64, "learning_rate": 1e-3,
               "epoch_metrics": True},
    # D with one hidden layer of 128 units against G's two (Metz et al. 2017's 2-D
    # networks), G's learning rate ten times D's (the reference notebook's).
    "collapse": {"model": "gan", "dataset": "ring", "epochs": 25, "learning_rate": 1e-4,
                 "g_learning_rate": 1e-3, "discriminator_options": {"hidden": (128,)}},
    # D ten times faster than G, both MLPs of two hidden layers of 128 (VEEGAN's GAN row
    # covers one mode): G's whole cloud sits on one mode and moves on rarely.
    "collapse_on_mode": {"model": "gan", "dataset": "ring", "epochs": 25,
                         "d_learning_rate": 1e-3, "g_learning_rate": 1e-4},
    # collapse_on_mode on batches of 32 (epochs of 1,000 steps still: 32,000 points) with
    # Adam without momentum: the same capture, and G moves on to another mode within the run.
    "mode_hopping": {"model": "gan", "dataset": "ring", "epochs": 25, "batch_size": 32,
                     "limit": 32_000, "beta_1": 0.0,
                     "d_learning_rate": 1e-3, "g_learning_rate": 1e-4},
    # collapse_on_mode's networks, batch and length, both learning rates 1e-3: G's points
    # sharp (high quality), some modes lost; the remedies' base on the ring and the grid.
    "equal_rates": {"model": "gan", "dataset": "ring", "epochs": 25, "learning_rate": 1e-3},
    # equal_rates on the grid with G of four hidden layers of 400 ReLU units and D of three
    # of 200 (PacGAN's 2-D networks in size, without their batch norm and maxout).
    "equal_rates_large": {"model": "gan", "dataset": "grid", "epochs": 25, "learning_rate": 1e-3,
                          "generator_options": {"hidden": (400, 400, 400, 400)},
                          "discriminator_options": {"hidden": (200, 200, 200)}},
    # G's points kept in the data's frame (bound "frame", made a number by TrainConfig: a
    # tanh scaled by the mixture's extent, 1.35 for the ring, 5.5 for the grid): a ReLU D's
    # logit grows without end in some direction, and an unbounded G would chase it there.
    "frozen_d": {"model": "gan", "dataset": "ring", "epochs": 2, "learning_rate": 1e-4,
                 "g_learning_rate": 1e-3, "d_learning_rate": 0.0,
                 "generator_options": {"bound": "frame"}},
}

def objective_rules(loss: str) -> ObjectiveRules:
    """The rules of objective ``loss``; ValueError naming the choices for an unknown one."""
    choice(loss, LOSSES, "loss")
    return OBJECTIVE_RULES[loss]


def check_rules(loss, update, d_steps, g_steps, real_label, unroll=UNROLL, pack=PACK,
                conditional=False):
    """Raise ValueError, saying what to change, unless the objective ``loss``, the
    ``update``, the D and G steps per training step, the real images' target
    ``real_label``, the look-ahead steps ``unroll`` and D's ``pack`` go together (for a
    ``conditional`` GAN too: ``check_pack``). The one place each rule is checked."""
    rules = objective_rules(loss)
    check_pack(pack, conditional)
    choice(update, UPDATES, "update")
    positive_int(d_steps, "d_steps")
    positive_int(g_steps, "g_steps")
    if isinstance(unroll, bool) or not isinstance(unroll, numbers.Integral) or unroll < 0:
        raise ValueError(f"unroll must be an integer >= 0 (look-ahead D steps), got {unroll!r}")
    if unroll and update != "alternating":
        raise ValueError("an unrolled G looks ahead from D's update: use update='alternating'")
    if unroll and rules.gradient_penalty:
        raise ValueError(f"unroll looks ahead with D's plain loss; {loss}'s gradient penalty "
                         "is not unrolled: use another loss, or unroll=0")
    if pack > 1 and rules.gradient_penalty:
        raise ValueError(f"{loss}'s gradient penalty is taken per sample, not per pack of "
                         f"{pack}: use pack=1 with it, or another loss")
    if update == "simultaneous":
        if not rules.simultaneous:
            raise ValueError(f"{loss} takes several critic steps per G step, which the "
                             "simultaneous update cannot make; use update='alternating'")
        for name, steps in (("D", d_steps), ("G", g_steps)):
            if steps != 1:
                raise ValueError(f"the simultaneous update makes one {name} update per step; "
                                 f"use {name.lower()}_steps=1 or update='alternating'")
    if isinstance(real_label, bool) or not isinstance(real_label, (int, float)) \
            or not 0.5 < real_label <= 1.0:
        raise ValueError(f"real_label must be in (0.5, 1], got {real_label!r}")
    if real_label != 1.0 and not rules.label_smoothing:
        raise ValueError(f"real_label (label smoothing) applies to the cross-entropy "
                         f"losses only, not to {loss}")


def check_pack(pack, conditional):
    """ValueError unless D's ``pack`` (PacGAN's m) suits the GAN: a conditional D judges one
    sample beside its label, so packing applies to unconditional GANs only."""
    if pack > 1 and conditional:
        raise ValueError(f"packing (PacGAN, pack={pack}) applies to unconditional GANs: a "
                         "conditional discriminator judges one sample beside its label; "
                         "train gan or dcgan with --pack, or use pack=1")


def choice(value, allowed, name):
    """ValueError naming ``name`` and the choices unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
    return value


def whole_number(value, name: str, low: int, high: int, error=ValueError, high_text=None):
    """``value`` as an int, or ``error`` naming ``name`` unless it is an integer (Python or
    numpy; not a bool) from ``low`` to ``high``, both included (``high_text``: how the
    message writes ``high``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not low <= value <= high:
        raise error(f"{name} must be a whole number from {low} to {high_text or high}, "
                    f"got {value!r}")
    return int(value)


def check_seed(value, error=ValueError) -> int:
    """``value`` as an int, or ``error`` unless it is a whole number from 0 to 2**32 - 1
    (a seed numpy and TensorFlow both take)."""
    return whole_number(value, "seed", 0, 2 ** 32 - 1, error, high_text="2**32 - 1")


def positive_int(value, name: str, error=ValueError) -> int:
    """``value`` as an int, or ``error`` naming ``name`` unless it is an integer >= 1
    (a Python or numpy integer; not a bool, a float or a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise error(f"{name} must be a positive integer, got {value!r}")
    return int(value)
