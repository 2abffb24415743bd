"""A training run end to end (data, models, fit, artifacts) and figures from saved runs."""

from __future__ import annotations

import math
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import __version__, artifacts, metrics, runtime
from .artifacts import RunError
from .callbacks import EpochArtifacts
from .data import ImageSet, check_images, load_images, make_dataset
from .gan import GAN, default_optimizer, generate
from .models import ARCHITECTURES, LATENT_DIM, build_pair
from .options import PRESETS
from .plotting import plot_comparison

DEFAULT_SNAPSHOTS = (1, 10, 50, 100)
# Settings a resumed run must share with the run it continues (epochs may grow).
RESUME_KEYS = ("model", "dataset", "source", "split", "images", "image_shape", "batch_size",
               "limit", "seed", "latent_dim", "loss", "d_steps", "real_label", "update", "preset",
               "arch")
FIXED_Z_COUNT = 64  # images per epoch frame: an 8x8 grid
# A conditional GAN's frame: 10 latent points (rows), each drawn as every class (columns).
FIXED_Z_CONDITIONAL = 10
# Files a run writes; --overwrite removes exactly these, nothing else the folder holds.
RUN_FILES = ("config.json", "fixed_z.npy", "history.csv", "losses.png", "progress.gif",
             "checkpoint.npz", "frames", "snapshots")


class TrainingDiverged(RunError):
    """The losses became NaN or Inf; the message names the epoch and what was kept."""


@dataclass
class Run:
    """A finished training run: the trained GAN, its history rows and its folder."""

    gan: GAN
    history: list
    run_dir: Path
    config: dict


def default_run_dir(model, dataset, arch=None) -> Path:
    """runs/<model>-<dataset> (runs/<model>-<arch>-<dataset> with an ``arch``), relative to
    the working directory."""
    return Path("runs") / "-".join(filter(None, (model, arch, dataset)))


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def prepare_run_dir(run_dir, overwrite=False, resume=False) -> Path:
    """Create ``run_dir`` and check it can be written, before any training starts.

    A folder that already holds a run is refused unless ``overwrite`` (its run files are
    removed) or ``resume`` (they are kept and continued).
    """
    run_dir = Path(run_dir)
    if resume and not (run_dir / "config.json").is_file():
        raise RunError(f"nothing to resume in {run_dir}: it holds no training run; "
                       "start it without --resume")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=run_dir):
            pass
    except OSError as error:
        raise RunError(
            f"cannot write to the output folder {run_dir} ({error.strerror}); "
            "choose another one with --out"
        ) from None
    if (run_dir / "config.json").exists() and not resume:
        if not overwrite:
            raise RunError(
                f"{run_dir} already holds a training run; pass --resume to continue it, "
                "--overwrite to replace it, or choose another --out"
            )
        for name in RUN_FILES:
            target = run_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    return run_dir


def _check_resumable(run_dir, saved, config):
    """A RunError unless the run in ``run_dir`` was trained with the same settings."""
    differences = [f"{key} {saved.get(key)!r} there, {config[key]!r} now"
                   for key in RESUME_KEYS if saved.get(key) != config[key]]
    if differences:
        raise RunError(f"{run_dir} holds a different run ({'; '.join(differences)}); resume "
                       "it with the settings it was started with, or choose another --out")


def train(
    model="dcgan",
    dataset="mnist",
    *,
    source="auto",
    data_dir=None,
    data: ImageSet | None = None,
    generator=None,
    discriminator=None,
    epochs=None,
    batch_size=128,
    limit=None,
    seed=0,
    latent_dim=LATENT_DIM,
    loss="non_saturating",
    d_steps=1,
    real_label=1.0,
    update="alternating",
    learning_rate=2e-4,
    snapshot_epochs=DEFAULT_SNAPSHOTS,
    epoch_metrics=False,
    preset=None,
    arch=None,
    out=None,
    overwrite=False,
    resume=False,
    verbose="auto",
) -> Run:
    """Train ``model`` ("gan", "dcgan" or the class-conditional "cgan") and leave its
    artifacts in ``out``. ``arch`` names an alternative generator (``models.GENERATOR_ARCHS``,
    e.g. "course_cifar" for the dcgan on CIFAR-10).

    ``data`` may be an ImageSet already loaded (``gan_lab.data.load_images``); otherwise
    ``dataset``/``source``/``data_dir``/``limit`` say what to load. ``generator`` and
    ``discriminator`` replace the built-in ones (e.g. a student's own). ``out`` defaults to
    ``runs/<model>-<dataset>``. ``resume=True`` continues the run in ``out`` from its last
    completed epoch up to ``epochs``; on a CPU the result equals an uninterrupted run's.
    ``preset`` (a name in PRESETS) sets the model, its architecture options, batch size and
    learning rate, the epochs unless given, and turns ``epoch_metrics`` on.
    ``epochs`` defaults to 5. ``epoch_metrics=True`` adds modes and KL to uniform of each epoch's samples to
    history.csv (``gan_lab.metrics``; the classifier trains once, then is cached).
    Raises ``TrainingDiverged`` if the losses become NaN or Inf. Returns a ``Run``.
    """
    chosen = {"generator": {}, "discriminator": {}}
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        chosen = PRESETS[preset]
        model, batch_size = chosen["model"], chosen["batch_size"]
        learning_rate, epoch_metrics = chosen["learning_rate"], True
        epochs = epochs or chosen["epochs"]
    if model not in ARCHITECTURES:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(ARCHITECTURES)}")
    epochs = _positive_int(5 if epochs is None else epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    latent_dim = _positive_int(latent_dim, "latent_dim")
    if isinstance(snapshot_epochs, (str, int)):
        raise ValueError(f"snapshot_epochs must be a list of epochs, got {snapshot_epochs!r}")
    snapshot_epochs = sorted({_positive_int(e, "snapshot epoch") for e in snapshot_epochs})
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    run_dir = prepare_run_dir(out or default_run_dir(model, dataset), overwrite, resume)

    runtime.configure()
    keras.utils.set_random_seed(seed)
    if data is None:
        data = load_images(dataset, "train", source, data_dir, limit)
    check_images(data.images, what="training images")
    if generator is None or discriminator is None:
        generator, discriminator = build_pair(model, data.images.shape[1:], latent_dim,
                                              chosen["generator"], chosen["discriminator"],
                                              arch=arch)
    latent_dim = int(generator.inputs[0].shape[-1])
    gan = GAN(generator, discriminator, seed=seed)
    gan.compile(d_optimizer=default_optimizer(learning_rate),
                g_optimizer=default_optimizer(learning_rate),
                loss=loss, d_steps=d_steps, real_label=real_label, update=update)

    config = {
        "model": model, "dataset": data.name, "source": data.source, "split": data.split,
        "images": int(len(data.images)), "image_shape": list(data.images.shape[1:]),
        "epochs": epochs, "batch_size": batch_size, "limit": limit, "seed": seed,
        "latent_dim": latent_dim, "loss": loss, "d_steps": d_steps, "real_label": real_label,
        "update": update, "preset": preset, "arch": arch, "learning_rate": learning_rate, "snapshot_epochs": snapshot_epochs,
        "device": runtime.describe_device(), "gan_lab": __version__,
        "tensorflow": tf.__version__, "keras": keras.__version__,
        "python": platform.python_version(),
    }
    done, history = 0, []
    if resume:
        _check_resumable(run_dir, load_config(run_dir), config)
        if artifacts.checkpoint_path(run_dir).exists():  # else: stopped within epoch 1
            done = artifacts.load_checkpoint(gan, run_dir)
            for optimizer in (gan.d_optimizer, gan.g_optimizer):
                optimizer.learning_rate = learning_rate  # may be lowered after a divergence
        history = artifacts.rewind(run_dir, done)
    rng = np.random.default_rng(seed)
    if gan.classes is None:
        fixed_z = rng.standard_normal((FIXED_Z_COUNT, latent_dim))
    else:  # row r: one latent point drawn as class 0, 1, ... (generate's default labels)
        fixed_z = np.repeat(rng.standard_normal((FIXED_Z_CONDITIONAL, latent_dim)),
                            gan.classes, axis=0)
    fixed_z = fixed_z.astype(np.float32)
    artifacts.save_array(run_dir / "fixed_z.npy", fixed_z)
    artifacts.write_json(run_dir / "config.json", config)

    judge = metrics.classifier(data.name, data.source, data_dir, log=print) \
        if epoch_metrics else None
    callback = EpochArtifacts(run_dir, fixed_z, snapshot_epochs, last_epoch=epochs,
                              history=history, classifier=judge)
    if done < epochs:
        # With d_steps=k each fit() batch holds k minibatches, one per D update. Every
        # epoch's order depends on (seed, epoch) only, so a resumed run sees the same data.
        rows = batch_size * d_steps
        batches = make_dataset(data.images, rows, seed=seed, epochs=epochs, first_epoch=done,
                               labels=None if gan.classes is None else data.labels)
        if verbose == "auto":
            verbose = 1 if _interactive() else 2  # one line an epoch in logs and CI
        gan.fit(batches, epochs=epochs, initial_epoch=done, callbacks=[callback],
                steps_per_epoch=math.ceil(len(data.images) / rows), verbose=verbose)
    if callback.diverged:
        bad = callback.diverged
        good = callback.history[-1]["epoch"] if callback.history else None
        kept = (f"the files of epoch {good} (checkpoint, frames, history) are kept: resume "
                "from them with a lower learning rate" if good else "no epoch finished cleanly")
        raise TrainingDiverged(
            f"training diverged in epoch {bad['epoch']}: d_loss={bad['d_loss']:g}, "
            f"g_loss={bad['g_loss']:g}. Stopped; {kept}.")
    return Run(gan, callback.history, run_dir, config)


def _interactive():
    return sys.stdout.isatty() or "ipykernel" in sys.modules


def load_config(run_dir) -> dict:
    """config.json of a run folder, or a RunError saying the folder is not a run."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise RunError(f"{run_dir} is not a gan_lab run folder (no config.json)")
    return artifacts.read_json(path)


def saved_epochs(run_dir) -> list[int]:
    """Epochs for which ``run_dir`` holds a generator snapshot."""
    folder = Path(run_dir) / "snapshots"
    return sorted(int(p.stem.rsplit("_", 1)[1]) for p in folder.glob("generator_epoch_*.keras"))


def load_snapshot(run_dir, epoch):
    """The generator saved at ``epoch``, or a RunError naming the epochs that exist."""
    path = artifacts.snapshot_path(run_dir, epoch)
    if not path.is_file():
        history = Path(run_dir) / "history.csv"
        reached = len(artifacts.read_history(history)) if history.exists() else 0
        why = (f"the run reached only epoch {reached}" if epoch > reached
               else "train with --snapshot-epochs ... to keep others")
        raise RunError(
            f"{run_dir} has no generator snapshot for epoch {epoch}; it has epochs "
            f"{saved_epochs(run_dir) or 'none'} ({why})"
        )
    return artifacts.load_generator(path)


def compare(run_dirs, epochs=DEFAULT_SNAPSHOTS, per_cell=16):
    """The report figure: rows = runs, columns = epochs, each cell ``per_cell`` samples
    from that run's fixed latent batch, so every column shows the same latent points."""
    run_dirs = [Path(d) for d in run_dirs]
    configs = [load_config(d) for d in run_dirs]
    datasets = {c["dataset"] for c in configs}
    if len(datasets) > 1:
        raise RunError("compare runs on one dataset: these are on "
                       + ", ".join(f"{d} ({c['dataset']})" for d, c in zip(run_dirs, configs)))
    labels = [c["model"].upper() for c in configs]
    if len(set(labels)) < len(labels):  # two runs of one model: tell them apart by folder
        labels = [f"{label}\n{d.name}" for label, d in zip(labels, run_dirs)]
    grids = {}
    for label, run_dir in zip(labels, run_dirs):
        z = np.load(run_dir / "fixed_z.npy")[:per_cell]
        grids[label] = {e: generate(load_snapshot(run_dir, e), z=z) for e in epochs}
    return plot_comparison(grids, list(epochs))


METRICS_FIELDS = ("epoch", "samples", *metrics.MEASURES)


def evaluate(run_dir, epochs=None, samples=metrics.DEFAULT_SAMPLES, data_dir=None, log=print):
    """The measures of ``gan_lab.metrics`` for each saved snapshot of ``run_dir`` (or the
    ``epochs`` given), written to ``run_dir/metrics.csv`` with one class-share column per
    class. Returns ({epoch: measures}, {reference name: measures}, the classifier)."""
    run_dir = Path(run_dir)
    config = load_config(run_dir)
    epochs = list(epochs or saved_epochs(run_dir))
    if not epochs:
        raise RunError(f"{run_dir} holds no generator snapshots to evaluate")
    judge = metrics.classifier(config["dataset"], config["source"], data_dir, log=log)
    results = {}
    for epoch in epochs:
        generator = load_snapshot(run_dir, epoch)
        results[epoch] = judge.evaluate(metrics.generated(generator, samples),
                                        metrics.asked_labels(generator, samples))
    classes = len(next(iter(results.values()))["histogram"])
    asked = ("label_accuracy",) if "label_accuracy" in results[epochs[0]] else ()
    fields = [*METRICS_FIELDS, *asked, *(f"share_{k}" for k in range(classes))]
    rows = [{"epoch": epoch, **{key: m[key] for key in (*METRICS_FIELDS[1:], *asked)},
             **{f"share_{k}": share for k, share in enumerate(m["histogram"])}}
            for epoch, m in results.items()]
    artifacts.write_csv(run_dir / "metrics.csv", fields, rows)
    return results, judge.reference_points(), judge
