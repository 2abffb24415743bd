"""A training run end to end: settings, data, networks, the run folder, fit and report.

``train(TrainConfig)`` is the one path: the command line, the notebooks and the benchmarks
all reach it. What a run leaves, and where, is ``run_folder.RunFolder``'s business.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from dataclasses import dataclass, replace

import numpy as np

from . import __version__, checkpoint, mixtures, runtime
from .callbacks import EpochArtifacts
from .config import TrainConfig
from .data import (DATASETS, POINT_DATASETS, DataError, ImageSet, as_image_set, is_points,
                   load_images, make_dataset, subset)
from .files import save_array, write_json
from .gan import GAN, default_optimizer, latents, make_gan
from .models import (build_discriminator, build_generator, judged_shape, latent_size,
                     packed_shape)
from .plotting import plot_grid
from .reports import compare, evaluate, judge_for  # noqa: F401  (runs.compare, as labs call it)
from .run_folder import RunError, RunFolder

FIXED_Z_COUNT = 64  # images per epoch frame: an 8x8 grid
# A conditional GAN's frame: 10 latent points (rows), each drawn as every class (columns).
FIXED_Z_CONDITIONAL = 10
# Facts of the data a resumed run must share with the run it continues.
DATA_FACTS = ("dataset", "source_used", "images", "image_shape", "images_sha256")


class TrainingDiverged(RunError):
    """The losses became NaN or Inf; the message names the epoch and what was kept."""


@dataclass
class Run:
    """A finished training run: the trained GAN, its history rows, its folder and config."""

    gan: GAN
    history: list
    folder: RunFolder
    config: TrainConfig

    @property
    def run_dir(self):
        return self.folder.path


@dataclass(frozen=True)
class Plan:
    """What a run will do, decided once before anything loads: its settings (for a resume,
    the saved run's epochs and networks where the caller named none) and the epochs its
    folder already holds."""

    config: TrainConfig
    resume: bool = False
    done: int = 0

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.config.run_dir)


def plan(config: TrainConfig, resume=False) -> Plan:
    """The ``Plan`` of training ``config``; with ``resume``, of continuing the run in
    ``config.run_dir`` from its last completed epoch. Raises RunError if that folder holds
    no run, a run whose settings differ (naming each difference), finished epochs without
    a checkpoint, or more epochs than ``config`` asks for."""
    if not resume:
        return Plan(config)
    config = resumed_config(config)
    folder = RunFolder(config.run_dir)
    done = checkpoint.saved_epoch(folder) or 0
    # An epoch's checkpoint is written after its other files: a run killed between epoch
    # 1's files and its checkpoint holds one history row and no checkpoint/ yet, and is
    # trained again from the start. Any more rows without checkpoint/: it was deleted.
    if not done and len(folder.read_history()) > 1 and not folder.checkpoint_dir.exists():
        raise RunError(f"{folder} has finished epochs but no checkpoint/ folder (deleted?), "
                       "so it cannot be resumed; start it again with --overwrite")
    if config.epochs < done:
        raise RunError(f"{folder} has already trained {done} epochs; pass --epochs "
                       f"{done + 1} or more to continue it")
    return Plan(config, resume=True, done=done)


def resumed_config(config: TrainConfig) -> TrainConfig:
    """The settings a resume of the run in ``config.run_dir`` trains with: ``config``, with
    the saved run's epochs and networks where the caller named none
    (``TrainConfig.continuing``), in that same folder. Raises RunError if the folder holds
    no run or a run whose settings differ from ``config``'s, naming each difference."""
    folder = RunFolder(config.run_dir)
    folder.prepare(resume=True)
    saved = folder.train_config()
    # The folder checked is the one trained, even where the default name follows --arch.
    config = config.continuing(saved).replace(out=str(folder.path))
    differences = config.resume_differences(saved)
    if differences:
        # Settings no flag names (latent_dim) come with a preset or a dataset: name those.
        started = " ".join(f"--{name} {getattr(saved, name)}" for name in ("preset", "dataset")
                           if getattr(saved, name) not in (None, getattr(config, name)))
        raise RunError(f"{folder} holds a different run ({'; '.join(differences)}); "
                       "resume it with the settings it was started with"
                       + (f" (it was started with {started})" if started else "")
                       + ", or choose another --out")
    return config


def train(config: TrainConfig | Plan | str | None = None, *, data=None, generator=None,
          discriminator=None, overwrite=False, resume=False, verbose="auto",
          **settings) -> Run:
    """Train a GAN as ``config`` says and leave its artifacts in ``config.run_dir``.

    ``config``: a ``TrainConfig``, a ``Plan`` (``plan(config, resume)``), or a model name
    ("gan", "dcgan", "cgan") with the other settings as keywords (``TrainConfig.create``'s:
    epochs, batch_size, preset, out, ...). ``data``: an ImageSet
    (``gan_lab.data.load_images``), images (N, H, W, C) in [-1, 1], or (images, labels);
    else the config's dataset is loaded. ``generator`` and/or ``discriminator`` replace the
    built-in ones (a student's own); the other is built to match. ``resume=True`` continues
    the run in the folder from its last completed epoch up to ``epochs``; on a CPU the
    result equals an uninterrupted run's. Bad settings, data or models raise ValueError
    subclasses that say what to fix, before any file is written; ``TrainingDiverged`` if
    the losses become NaN or Inf. Returns a ``Run``.

    The stages: settings -> plan (resume decided once) -> data -> networks -> the folder
    opened (fresh, resumed or replaced) -> fit -> report.
    """
    given = config if isinstance(config, Plan) else None
    if isinstance(data, ImageSet) and not isinstance(config, (TrainConfig, Plan)):
        settings.setdefault("dataset", data.name)  # with that dataset's defaults (points')
    config = _settings(given.config if given else config, settings, generator, discriminator)
    # Before any other TensorFlow work: a multi-worker strategy sets up its collectives.
    strategy = runtime.strategy(config.distribute)
    data = _given_data(data, config)
    # A resume checks its folder before the data loads: nothing is loaded for a wrong one.
    planned = replace(given, config=config) if given else plan(config, resume)
    if data is None:
        data = load_images(config.dataset, "train", config.source, config.data_dir,
                           config.limit)
    planned = replace(planned, config=planned.config.sized_to(len(data.images)))
    gan = _build_gan(planned.config, data, generator, discriminator, strategy)
    opened = _open_folder(planned, data, gan, overwrite)
    callback = _fit(gan, data, opened, strategy, verbose)
    return _report(gan, callback, opened)


def _settings(config, settings, generator, discriminator) -> TrainConfig:
    """Stage 1: the checked ``TrainConfig`` from a config, a model name and keywords, with
    the networks the caller gave named in it."""
    if not isinstance(config, TrainConfig):
        if config is None:  # train(model="dcgan", ...) as well as train("dcgan", ...)
            config = settings.pop("model", None)
        config = TrainConfig.create(config, **settings)
    elif settings:
        config = TrainConfig.create(**{**config.to_json(), **settings},
                                    named=(*config.named, *settings))
    custom = tuple(name for name, given in (("generator", generator),
                                            ("discriminator", discriminator)) if given is not None)
    return config.replace(custom_networks=custom)


def _given_data(data, config) -> ImageSet | None:
    """The caller's data as an ImageSet (the same class-balanced subset ``load_images``
    keeps, under a ``limit``), or None."""
    if data is None:
        return None
    data = as_image_set(data, config.dataset)
    named = "dataset" in config.named
    if data.name != config.dataset:
        raise DataError(f"the data is {data.name}'s but dataset={config.dataset!r} was asked: "
                        "leave dataset out, or pass that dataset's data" if named else
                        f"the data is {data.name}'s but the config's dataset is "
                        f"{config.dataset!r} (its default): make the config with "
                        f"dataset={data.name!r}")
    # A dataset's measures (its classifier, its mixture) take its own shape; an array of
    # other images under the default name trains, unmeasured (points: as_image_set's check).
    shape = DATASETS[data.name][0]
    if data.images.shape[1:] != shape and named:
        raise DataError(f"{data.name} is of samples {shape}; this data's are "
                        f"{data.images.shape[1:]}: name the dataset it is, or pass {shape}")
    return data if config.limit is None else subset(data, config.limit, config.seed)


@dataclass
class _Opened:
    """A run folder ready to train into: fresh, resumed or replaced, with its state."""

    folder: RunFolder
    config: TrainConfig
    done: int             # epochs already trained (a resume)
    history: list         # their history rows
    fixed_z: np.ndarray   # the latent batch every frame is drawn from
    judge: object         # the per-epoch measures' judge (reports.judge_for), or None


def _open_folder(planned: Plan, data, gan, overwrite) -> _Opened:
    """Stage 4: everything that may refuse runs first (the conditional GAN's labels, the
    classifier, a resume's data check); only then is an old run replaced, or a resumed one
    restored and rewound, and config.json and the fixed latent batch written."""
    folder, config = planned.folder, planned.config
    facts = _facts(config, data, gan)
    if gan.classes is not None and (data.labels < 0).any():
        raise DataError("a conditional GAN trains on labelled images: pass data=(images, "
                        "labels) or an ImageSet from gan_lab.data.load_images")
    judge = None
    if config.epoch_metrics or data.name in POINT_DATASETS:  # points: measured anyway
        # a classifier is trained (or loaded) before the folder is touched
        source = config.source if data.source == "array" else data.source
        judge = judge_for(data.name, source, config.data_dir, log=print)
    history = []
    if planned.resume:
        _check_same_data(folder, facts)
        if planned.done:
            facts["precision"] = _precision_since(folder, planned.done, facts["precision"])
            checkpoint.restore(gan, folder)
            # The learning rates may be lower than before, after a divergence.
            gan.d_optimizer.learning_rate, gan.g_optimizer.learning_rate = config.rates()
        history = folder.rewind(planned.done)
    else:
        folder.prepare(overwrite=overwrite)
    fixed_z = _fixed_latents(gan, config.seed)
    save_array(folder.fixed_z_file, fixed_z)
    write_json(folder.config_file, {**config.to_json(), "run": facts})
    return _Opened(folder, config, planned.done, history, fixed_z, judge)


def _fit(gan, data, opened: _Opened, strategy, verbose) -> EpochArtifacts:
    """Stage 5: ``fit()`` from the first epoch not done to ``config.epochs``, the epoch's
    artifacts written by ``EpochArtifacts``. With d_steps = k each batch holds k minibatches,
    one per D update; every epoch's order depends on (seed, epoch) only, so a resumed run
    sees the same data. Under a strategy the batch is global: batch_size rows a replica.
    However training ends, ``EpochArtifacts.finish`` leaves the folder whole."""
    config = opened.config
    callback = EpochArtifacts(opened.folder, opened.fixed_z, config.snapshot_epochs,
                              last_epoch=config.epochs, history=opened.history,
                              judge=opened.judge, tensorboard=config.tensorboard,
                              draw=mixtures.mixture(data.name).plot
                              if data.name in POINT_DATASETS else plot_grid)
    callback.set_model(gan)
    try:
        if opened.done < config.epochs:
            _fit_epochs(gan, data, opened, strategy, verbose, callback)
    finally:  # ended, interrupted (Ctrl-C, a stopped cell) or nothing left to train
        callback.finish()
    return callback


def _fit_epochs(gan, data, opened: _Opened, strategy, verbose, callback):
    """``fit()`` from the first epoch not done to the last."""
    config, replicas = opened.config, strategy.num_replicas_in_sync
    batches = make_dataset(data.images, config.batch_rows(replicas), seed=config.seed,
                           epochs=config.epochs, first_epoch=opened.done,
                           labels=None if gan.classes is None else data.labels)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2  # one line an epoch in logs, notebooks
    gan.fit(batches, epochs=config.epochs, initial_epoch=opened.done, callbacks=[callback],
            steps_per_epoch=config.steps_per_epoch(len(data.images), replicas),
            verbose=verbose)


def _report(gan, callback: EpochArtifacts, opened: _Opened) -> Run:
    """Stage 6: the finished ``Run``, or ``TrainingDiverged`` naming the epoch and what
    was kept."""
    if callback.diverged:
        bad = callback.diverged
        good = callback.history[-1]["epoch"] if callback.history else None
        kept = (f"the files of epoch {good} (checkpoint, frames, history) are kept: resume "
                "from them with a lower learning rate" if good else "no epoch finished cleanly")
        raise TrainingDiverged(
            f"training diverged in epoch {bad['epoch']}: d_loss={bad['d_loss']:g}, "
            f"g_loss={bad['g_loss']:g}. Stopped; {kept}.")
    return Run(gan, callback.history, opened.folder, opened.config)


def _build_gan(config: TrainConfig, data: ImageSet, generator, discriminator,
               strategy=None) -> GAN:
    """The compiled GAN: the caller's networks where given, built-in ones for the rest.
    Both networks are run once here (``GAN.check_networks``), before any file is written.
    Under a strategy of several replicas (``runtime.strategy``) everything is made in its
    scope, batch norm averages its statistics over all replicas, and the step runs without
    XLA (XLA cannot compile the mirrored step)."""
    import keras

    strategy = strategy or runtime.strategy()
    if strategy.num_replicas_in_sync == 1:
        return compiled_gan(config, data, generator, discriminator)
    with strategy.scope():
        # The caller's networks were made outside the scope: copied into it.
        generator, discriminator = (None if network is None else _copied(network)
                                    for network in (generator, discriminator))
        gan = compiled_gan(config, data, generator, discriminator, jit_compile=False)
        for network in (gan.generator, gan.discriminator):
            for layer in _layers(network):
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.synchronized = True
        # Optimizer variables made here, not inside the distributed step (which cannot).
        gan.d_optimizer.build(gan.discriminator.trainable_variables)
        gan.g_optimizer.build(gan.generator.trainable_variables)
    return gan


def _copied(network):
    import keras

    copy = keras.models.clone_model(network)
    copy.set_weights(network.get_weights())
    return copy


def _layers(network):
    for layer in network.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)


def compiled_gan(config, data, generator=None, discriminator=None, jit_compile="auto") -> GAN:
    """The GAN ``train`` fits for ``config`` (a TrainConfig) and ``data`` (an ImageSet):
    the networks built (or the given ones checked against the data), batch-norm momentum
    settled, optimizers and objective compiled, networks checked. Raises ValueError
    subclasses naming what to fix."""
    import keras

    runtime.configure()  # a no-op when the package's import already did it
    keras.utils.set_random_seed(config.seed)
    image_shape = data.images.shape[1:]
    latent_dim = config.latent_dim if generator is None else latent_size(generator)
    # Updates of G's batch-norm statistics in the first epoch: one a G forward pass.
    updates = config.steps_per_epoch(len(data.images)) * (config.d_steps + config.g_steps - 1)
    if generator is None:
        generator = settle_batch_norm(
            build_generator(config.model, image_shape, latent_dim,
                            dict(config.generator_options), arch=config.arch), updates)
    if discriminator is None:
        options = dict(config.discriminator_options)
        if config.spectral_norm:
            options["spectral_norm"] = True
        if config.pack > 1:
            options["pack"] = config.pack
        discriminator = settle_batch_norm(
            build_discriminator(config.model, image_shape, options), updates)
    elif judged_shape(discriminator) != packed_shape(image_shape, config.pack):
        raise ValueError(f"the discriminator takes images of shape "
                         f"{judged_shape(discriminator)} but the data is {tuple(image_shape)}"
                         + (f", packed by {config.pack}: "
                            f"{packed_shape(image_shape, config.pack)}" if config.pack > 1
                            else ""))
    gan = make_gan(generator, discriminator, seed=config.seed)
    points = is_points(image_shape)
    if points:
        # The MLP step is small: one call runs a whole epoch of steps, and XLA is left off
        # (docs/performance.md, "The 2-D mixtures").
        import tensorflow as tf  # in a strategy's scope: its replicas share each batch

        kwargs = {"steps_per_execution": config.steps_per_epoch(
            len(data.images), tf.distribute.get_strategy().num_replicas_in_sync)}
        jit_compile = False if jit_compile == "auto" else jit_compile
    else:
        kwargs = {}
    d_rate, g_rate = config.rates()
    gan.compile(d_optimizer=default_optimizer(d_rate, config.beta_1, config.beta_2),
                g_optimizer=default_optimizer(g_rate, config.beta_1, config.beta_2),
                loss=config.loss, d_steps=config.d_steps, real_label=config.real_label,
                update=config.update, gp_weight=config.gp_weight, g_steps=config.g_steps,
                unroll=config.unroll, jit_compile=jit_compile, **kwargs)
    gan.check_networks()
    return gan


def settle_batch_norm(model, updates: int, left=0.05):
    """Lower the momentum of ``model``'s batch-norm layers (never raise it) so that after
    ``updates`` training steps at most ``left`` of their starting moving statistics (mean
    0, variance 1) remains: momentum ** updates <= left. With only a few steps an epoch
    (a small ``limit``), the default 0.9 would leave epoch 1's frame, drawn in inference
    mode, a flat grey. Returns ``model``."""
    import keras

    momentum = left ** (1 / max(updates, 1))
    for layer in _layers(model):
        if isinstance(layer, keras.layers.BatchNormalization) and layer.momentum > momentum:
            layer.momentum = momentum
    return model


def _facts(config, data, gan) -> dict:
    import keras
    import tensorflow as tf

    return {"dataset": data.name, "source_used": data.source, "split": data.split,
            "images": int(len(data.images)), "image_shape": list(data.images.shape[1:]),
            "images_sha256": hashlib.sha256(np.ascontiguousarray(data.images)).hexdigest(),
            "latent_dim": gan.latent_dim,
            "generator": gan.generator.name, "discriminator": gan.discriminator.name,
            "device": runtime.describe_device(), "precision": _network_precision(gan),
            "replicas": gan.distribute_strategy.num_replicas_in_sync,
            "gan_lab": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "python": platform.python_version()}


def _network_precision(gan) -> str:
    """The policy G's and D's layers compute in (networks built before gan_lab set the
    policy keep theirs): a mixed policy where any layer has it (output layers stay float32
    under one), else float32."""
    names = {layer.dtype_policy.name for network in (gan.generator, gan.discriminator)
             for layer in _layers(network) if layer.weights}
    return " and ".join(sorted(names - {"float32"})) or "float32"


def _precision_since(folder, done, now) -> str:
    """The run's precision fact when it resumes after ``done`` epochs in ``now``'s policy:
    unchanged, or the history of its policies when this one differs (said on the way)."""
    before = folder.read_config().get("run", {}).get("precision") or now
    last = before.rsplit(", then ", 1)[-1]  # the policy of the latest epochs
    if last == now:
        return before
    print(f"Note: epochs 1-{done} of this run trained in {last}; the rest trains in {now} "
          "(set GAN_LAB_PRECISION to choose)")
    return f"{before} to epoch {done}, then {now}"


def _check_same_data(folder, facts):
    saved = folder.read_config().get("run", {})
    differences = [f"{key} {saved.get(key)!r} there, {facts[key]!r} now"
                   for key in DATA_FACTS if saved.get(key) != facts[key]]
    if differences:
        raise RunError(f"{folder} was trained on other data ({'; '.join(differences)}); "
                       "resume it with the data it was started with")


def _fixed_latents(gan, seed) -> np.ndarray:
    """The latent batch every epoch's frame is drawn from: 64 points, or for a conditional
    GAN 10 points each repeated for every class (row r: one point drawn as 0, 1, ...)."""
    if is_points(gan.image_shape):  # VEEGAN's 2,500, measured and drawn each epoch
        return latents(mixtures.SAMPLES, gan.latent_dim, seed)
    if gan.classes is None:
        return latents(FIXED_Z_COUNT, gan.latent_dim, seed)
    return np.repeat(latents(FIXED_Z_CONDITIONAL, gan.latent_dim, seed), gan.classes, axis=0)
