"""One training configuration: ``TrainConfig``, built and checked in one place from the
defaults, a preset and the user's settings. The command line maps its arguments onto it,
``runs.train`` reads nothing else, and a run folder's config.json holds it. Importable
without TensorFlow, so the command line can build its parser quickly."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

from .data import DATASETS, POINT_DATASETS, SOURCES
from .options import (ARCHS, BATCH_SIZE, BETA_1, BETA_2, COMPACT_DCGAN, D_STEPS,
                      DEFAULT_SNAPSHOTS, DEFAULT_STEPS, G_STEPS, GP_WEIGHT, LATENT_DIM,
                      LEARNING_RATE, LOSS, MODELS, PACK, POINT_SETTINGS, POINT_STEPS, PRESETS,
                      REAL_LABEL, STRATEGIES, UNROLL, UPDATE, check_rules, choice,
                      check_seed, objective_rules, positive_int)


def _resume(default, **kwargs):
    """A field a resumed run must share with the run it continues."""
    return field(default=default, metadata={"resume": True}, **kwargs)


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. Build it with ``TrainConfig.create(...)``, which
    applies a preset and checks every value; fields marked ``resume`` must match the run a
    ``--resume`` continues (``epochs`` may grow)."""

    model: str = _resume("dcgan")          # gan, dcgan or cgan (options.MODELS)
    dataset: str = _resume("mnist")
    source: str = "auto"                   # asked for; the source used is in the run facts
    data_dir: str | None = None
    limit: int | None = _resume(None)      # a class-balanced subset of this many images
    epochs: int | None = None              # None: sized_to() the data, DEFAULT_STEPS
    batch_size: int = _resume(BATCH_SIZE)
    seed: int = _resume(0)
    latent_dim: int = _resume(LATENT_DIM)
    loss: str = _resume(LOSS)
    d_steps: int = _resume(D_STEPS)
    g_steps: int = _resume(G_STEPS)        # G updates per training step
    real_label: float = _resume(REAL_LABEL)
    update: str = _resume(UPDATE)
    unroll: int = _resume(UNROLL)          # Unrolled GAN's look-ahead D steps (0: none)
    pack: int = _resume(PACK)              # PacGAN's samples per D judgement (1: none)
    learning_rate: float = LEARNING_RATE   # may be lowered on resume after a divergence
    g_learning_rate: float | None = None   # G's own learning rate; None: learning_rate
    d_learning_rate: float | None = None   # D's own; None: learning_rate; 0: D frozen
    beta_1: float = _resume(BETA_1)        # Adam's, for both networks
    beta_2: float = _resume(BETA_2)
    gp_weight: float = _resume(GP_WEIGHT)  # lambda of the gradient penalty (wgan_gp)
    spectral_norm: bool = _resume(False)   # spectral normalisation in the built-in D
    snapshot_epochs: tuple = DEFAULT_SNAPSHOTS
    epoch_metrics: bool = False
    tensorboard: bool = True               # event files in the run folder (tensorboard/)
    distribute: str | None = _resume(None)  # None, "mirrored" or "multi_worker" (STRATEGIES)
    preset: str | None = _resume(None)
    arch: str | None = _resume(None)
    generator_options: tuple = _resume(())       # keyword arguments of the G builder
    discriminator_options: tuple = _resume(())   # ... and of the D builder
    custom_networks: tuple = _resume(())   # "generator"/"discriminator" given by the caller
    out: str | None = None                 # the run folder; default runs/<model>-<dataset>
    # The settings the caller named (create's keywords); a resume takes the saved run's
    # epochs and networks where these do not name them. Not saved in config.json.
    named: tuple = field(default=(), compare=False, repr=False)

    @classmethod
    def create(cls, model=None, *, preset=None, named=None, **settings) -> "TrainConfig":
        """Defaults, then the preset's settings, then ``settings`` (those not None); each
        value checked. ``named``: the settings the caller chose (default: those of
        ``settings`` not None). Raises ValueError naming the setting and what it accepts."""
        unknown = set(settings) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            from .models import option_owners  # only here: the settings load no TensorFlow

            hints = [f"{name} is an option of the networks' builders: pass " + " or ".join(
                f"{owner}={{{name!r}: ...}}" for owner in owners)
                for name in sorted(unknown) if (owners := option_owners(name))]
            raise ValueError(f"unknown training setting(s): {', '.join(sorted(unknown))}"
                             + "".join(f"; {hint}" for hint in hints))
        chosen = {key: value for key, value in settings.items() if value is not None}
        chosen["named"] = tuple(sorted(chosen if named is None else named))
        loss = chosen.get("loss", PRESETS.get(preset, {}).get("loss"))
        # The objective's paper settings, under the preset's and the caller's.
        paper = {} if loss is None else dict(objective_rules(loss).paper_settings)
        if preset is not None:
            if preset not in PRESETS:
                raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
            settings_of_preset = dict(PRESETS[preset])
            wanted = settings_of_preset.pop("model", None)  # None: any model
            if wanted is not None and model is not None and model != wanted:
                raise ValueError(f"preset {preset} trains the {wanted} model: "
                                 f"python -m gan_lab train {wanted} --preset {preset}")
            model = model or wanted
            for key in ("generator_options", "discriminator_options"):
                if key in settings_of_preset and key in chosen:  # the user's options on top
                    chosen[key] = {**dict(settings_of_preset[key]), **dict(chosen[key])}
            chosen = {**settings_of_preset, **chosen, "preset": preset}
        chosen = {**paper, **chosen}
        if model is not None:
            chosen["model"] = model
        if chosen.get("dataset") in POINT_DATASETS:
            chosen = {**POINT_SETTINGS, **chosen}
        if dict(chosen.get("generator_options") or {}).get("bound") == "frame":
            chosen["generator_options"] = _framed(chosen, preset)
        image_shape = DATASETS.get(chosen.get("dataset", cls.dataset), (None,))[0]
        if preset is None and "arch" not in chosen and chosen.get("model", cls.model) == "dcgan" \
                and image_shape == (28, 28, 1):  # the compact widths, under the caller's options
            for key, compact in COMPACT_DCGAN.items():
                given = chosen.get(key)  # {}: asked for the builder's own (full-size) widths
                chosen[key] = compact if given is None else {**compact, **given} if given else {}
        return cls.checked(**chosen)

    @classmethod
    def checked(cls, **values) -> "TrainConfig":
        """The config of exactly ``values`` (no defaults of a preset, loss or model applied:
        a saved run's config), each value checked as ``create``'s."""
        chosen = dict(values)
        for key in ("generator_options", "discriminator_options"):
            if isinstance(chosen.get(key), dict):
                # Lists (as config.json gives them back) as tuples: one value compares equal.
                chosen[key] = tuple(sorted((name, tuple(value) if isinstance(value, list)
                                            else value) for name, value in chosen[key].items()))
        for key in ("snapshot_epochs", "custom_networks"):
            if key in chosen and not isinstance(chosen[key], (str, int)):
                chosen[key] = tuple(chosen[key])
        if chosen.get("out") is not None:
            chosen["out"] = str(chosen["out"])
        return cls(**chosen)

    def __post_init__(self):
        choice(self.model, MODELS, "model")
        choice(self.dataset, tuple(DATASETS), "dataset")
        choice(self.source, SOURCES, "source")
        if self.arch is not None:
            choice(self.arch, ARCHS, "arch")
        if self.preset is not None:
            choice(self.preset, tuple(PRESETS), "preset")
        if self.distribute is not None:
            choice(self.distribute, STRATEGIES, "distribute")
        for name in ("batch_size", "latent_dim"):
            positive_int(getattr(self, name), name)
        if self.epochs is not None:
            positive_int(self.epochs, "epochs")
        if self.limit is not None:
            positive_int(self.limit, "limit")
        if isinstance(self.snapshot_epochs, (str, int)):
            raise ValueError(f"snapshot_epochs must be a list of epochs, got "
                             f"{self.snapshot_epochs!r}")
        object.__setattr__(self, "snapshot_epochs", tuple(sorted(
            {positive_int(e, "snapshot epoch") for e in self.snapshot_epochs})))
        check_seed(self.seed)
        _number(self.learning_rate, "learning_rate", above=0)
        if self.g_learning_rate is not None:
            _number(self.g_learning_rate, "g_learning_rate", above=0)
        if self.d_learning_rate is not None:  # 0: D keeps its first weights (a frozen D)
            _number(self.d_learning_rate, "d_learning_rate", at_least=0)
        _number(self.gp_weight, "gp_weight", at_least=0)
        _number(self.real_label, "real_label")
        positive_int(self.pack, "pack")
        check_rules(self.loss, self.update, self.d_steps, self.g_steps, self.real_label,
                    self.unroll, self.pack, conditional=self.model == "cgan")
        if self.unroll and self.rates()[0] == 0:
            raise ValueError("unroll looks ahead along D's updates, and a D learning rate of "
                             "0 makes none: use unroll=0 with a frozen D")
        if self.dataset in POINT_DATASETS and self.model != "gan":
            raise ValueError(f"{self.dataset} is a mixture of 2-D points, which the dense GAN "
                             f"learns: python -m gan_lab train gan --dataset {self.dataset}")
        if self.dataset == "stacked_mnist" and self.model == "cgan":
            raise ValueError("stacked_mnist's 1,000 modes are for unconditional GANs: "
                             "train gan or dcgan on it")
        for name in ("beta_1", "beta_2"):
            _number(getattr(self, name), name, at_least=0)
            if not getattr(self, name) < 1:
                raise ValueError(f"Adam's {name} must be in [0, 1), got {getattr(self, name)!r}")
        for name in ("spectral_norm", "epoch_metrics"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if objective_rules(self.loss).gradient_penalty and self.model != "gan":
            # The penalty is per image, which batch norm mixes; the dense D has none.
            options = dict(self.discriminator_options)
            if options.get("normalization") == "batch":
                raise ValueError("a WGAN-GP critic takes no batch norm (its penalty is per "
                                 "image); use normalization 'layer' or None")
            options.setdefault("normalization", "layer")
            object.__setattr__(self, "discriminator_options", tuple(sorted(options.items())))
        if set(self.custom_networks) - {"generator", "discriminator"}:
            raise ValueError(f"custom_networks names generator and/or discriminator, got "
                             f"{self.custom_networks!r}")

    @property
    def run_dir(self) -> Path:
        """``out``, else runs/<model>-<dataset> (runs/<model>-<arch>-<dataset> with an
        ``arch``), relative to the working directory."""
        if self.out is not None:
            return Path(self.out)
        return Path("runs") / "-".join(filter(None, (self.model, self.arch, self.dataset)))

    def sized_to(self, images: int) -> "TrainConfig":
        """This config with ``epochs`` set, when it was left None, for a training set of
        ``images`` images: about DEFAULT_STEPS[model] training steps (POINT_STEPS on a 2-D
        mixture), at least 1 epoch."""
        if self.epochs is not None:
            return self
        steps = self.default_steps() / self.steps_per_epoch(images)
        return self.replace(epochs=max(1, round(steps)))

    def default_steps(self) -> int:
        """The training steps a run of this config makes when ``epochs`` is left None,
        about: DEFAULT_STEPS[model], or POINT_STEPS on a 2-D mixture."""
        return POINT_STEPS if self.dataset in POINT_DATASETS else DEFAULT_STEPS[self.model]

    def batch_rows(self, replicas=1) -> int:
        """Rows of one training batch: ``d_steps`` minibatches of ``batch_size`` (one for
        each D update of a step), for each of ``replicas`` devices."""
        return self.batch_size * self.d_steps * replicas

    def steps_per_epoch(self, images: int, replicas=1) -> int:
        """Training steps (G updates) in one epoch of ``images`` images."""
        return math.ceil(images / self.batch_rows(replicas))

    def rates(self) -> tuple[float, float]:
        """(D's learning rate, G's): each network's own where given, else learning_rate."""
        return (self.learning_rate if self.d_learning_rate is None else self.d_learning_rate,
                self.learning_rate if self.g_learning_rate is None else self.g_learning_rate)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        del data["named"]
        for key in ("generator_options", "discriminator_options"):
            data[key] = dict(data[key])
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in data.items()}

    @classmethod
    def from_json(cls, data: dict) -> "TrainConfig":
        """The config of a config.json; keys of newer or older versions are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        chosen = {key: value for key, value in data.items() if key in known}
        # As it was saved: today's presets and defaults would rebuild other networks.
        return cls.checked(**chosen, named=tuple(sorted(key for key, value in chosen.items()
                                                        if value is not None)))

    def continuing(self, saved: "TrainConfig") -> "TrainConfig":
        """This config, for a resume of the run ``saved`` describes, with the saved run's
        value of each setting the caller did not name among its epochs (so it continues to
        the epoch it was started for, a preset's epochs notwithstanding) and its networks
        (arch, each builder's options: a run keeps the networks it was built with, also
        after a new version changed the default). Named ones are left for
        ``resume_differences`` to compare."""
        adopted = ("epochs", "arch", "generator_options", "discriminator_options")
        return self.replace(**{name: getattr(saved, name) for name in adopted
                               if name not in self.named})

    def resume_differences(self, other: "TrainConfig") -> list[str]:
        """'<name> <theirs> there, <ours> now' for each resume field that differs (in
        words for the networks a caller gave)."""
        differences = []
        for f in dataclasses.fields(self):
            theirs, ours = getattr(other, f.name), getattr(self, f.name)
            if not f.metadata.get("resume") or theirs == ours:
                continue
            if f.name == "custom_networks":
                differences.append(f"it was trained with your own {' and '.join(theirs) or 'no'}"
                                   f" network(s) and now {' and '.join(ours) or 'none'} are "
                                   "given: pass the same generator=/discriminator= again")
            else:
                differences.append(f"{f.name} {theirs!r} there, {ours!r} now")
        return differences


def _framed(chosen: dict, preset) -> dict:
    """The generator options with bound "frame" (frozen_d's) replaced by the data's frame,
    ``Mixture.extent`` (1.35 for the ring, 5.5 for the grid); ValueError off the points."""
    dataset = chosen.get("dataset", TrainConfig.dataset)
    if dataset not in POINT_DATASETS:
        raise ValueError(f"preset {preset} keeps G's points within a 2-D mixture's frame: "
                         f"train it on {' or '.join(POINT_DATASETS)}, not {dataset}")
    from .mixtures import mixture

    return {**dict(chosen["generator_options"]), "bound": mixture(dataset).extent}


def _number(value, name, above=None, at_least=None):
    """A ValueError naming ``name`` unless ``value`` is a finite real number (above
    ``above`` / at least ``at_least`` when given)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if above is not None and not value > above:
        raise ValueError(f"{name} must be above {above}, got {value!r}")
    if at_least is not None and not value >= at_least:
        raise ValueError(f"{name} must be at least {at_least}, got {value!r}")
