"""Figures and measures from saved runs, apart from training: ``compare`` (runs side by side
at chosen epochs, from each run's fixed latent batch) and ``evaluate`` (the measures of
``gan_lab.metrics`` for each saved snapshot)."""

from __future__ import annotations

import numpy as np

from . import mixtures
from .data import POINT_DATASETS
from .options import COMPARE_EPOCHS, LAST
from .plotting import plot_comparison
from .run_folder import RunError, RunFolder
from .sampling import generate, measure


def compare(run_dirs, epochs=COMPARE_EPOCHS, per_cell=16):
    """The report figure: rows = runs, columns = epochs, each cell ``per_cell`` samples
    from that run's fixed latent batch, so every column shows the same latent points (the
    runs of a 2-D mixture: the whole batch, over the mixture, as their frames show it).
    An epoch may be ``"last"``: each run's last saved snapshot (runs of different lengths
    then share the column; each cell names its epoch). Runs whose folders share a name
    (two students' runs/gan-mnist) are labelled by as much of their path as tells them
    apart; a run given twice is drawn once per mention. Raises RunError for runs on other
    datasets or a snapshot a run does not hold."""
    folders = [RunFolder(d) for d in run_dirs]
    configs = [folder.train_config() for folder in folders]
    datasets = {c.dataset for c in configs}
    if len(datasets) > 1:
        raise RunError("compare runs on one dataset: these are on "
                       + ", ".join(f"{f} ({c.dataset})" for f, c in zip(folders, configs)))
    labels = _distinct_labels([c.model.upper() for c in configs], folders)
    dataset = configs[0].dataset
    mixture = mixtures.mixture(dataset) if dataset in POINT_DATASETS else None
    grids, notes = {}, {}
    for label, folder in zip(labels, folders):
        z = folder.read_fixed_z()[:None if mixture else per_cell]
        resolved = {e: _snapshot_epoch(folder, e) for e in epochs}
        grids[label] = {e: generate(folder.load_snapshot(n), z=z) for e, n in resolved.items()}
        notes[label] = {e: f"epoch {n}" for e, n in resolved.items() if e == LAST}
    return plot_comparison(grids, list(epochs), notes=notes, mixture=mixture)


def _snapshot_epoch(folder, epoch) -> int:
    """``epoch`` itself, or for ``"last"`` the folder's last saved snapshot."""
    if epoch != LAST:
        return int(epoch)
    saved = folder.saved_epochs()
    if not saved:
        raise RunError(f"{folder} has no generator snapshot yet (train it for an epoch first)")
    return saved[-1]


def _distinct_labels(models, folders) -> list[str]:
    """Model names, with the shortest path tail that tells same-model runs apart; a run
    named twice gets '(2)'."""
    if len(set(models)) == len(models):
        return models
    paths = [f.path.resolve().parts for f in folders]
    for depth in range(1, max(len(p) for p in paths) + 1):
        tails = ["/".join(p[-depth:]) for p in paths]
        if len(set(tails)) == len(set(map(tuple, paths))):
            break
    labels, seen = [], {}
    for model, tail in zip(models, tails):
        key = f"{model}\n{tail}"
        seen[key] = seen.get(key, 0) + 1
        labels.append(key if seen[key] == 1 else f"{key} ({seen[key]})")
    return labels


def _judged(folder, epoch, dataset):
    """The generator snapshot of ``epoch``, or a RunError unless it makes samples of the
    shape ``dataset``'s judge measures (a config.json edited to another dataset, a run
    trained on other images under the default name)."""
    from .data import DATASETS, sample_kind

    generator = folder.load_snapshot(epoch)
    made, wanted = tuple(generator.output_shape[1:]), DATASETS[dataset][0]
    if made != wanted:
        raise RunError(f"{folder}'s generator of epoch {epoch} makes {sample_kind(made)} of "
                       f"shape {made}, but its config.json names {dataset}, whose "
                       f"{sample_kind(wanted)} are {wanted}: evaluate measures a run by its "
                       "dataset's judge only (was config.json edited, or did the run train "
                       "on other images under that name?)")
    return generator


def _check_tracked(folder, dataset) -> None:
    """A RunError if the history's share columns (one a mode or class, where training
    tracked them) are not as many as ``dataset`` has: a config.json edited from the ring
    (8 modes) to the grid (25) makes samples of the same shape."""
    from .data import DATASETS

    rows = folder.read_history()
    tracked = sum(key.startswith("share_") for key in rows[0]) if rows else 0
    if tracked and tracked != DATASETS[dataset][1]:
        raise RunError(f"{folder}'s history tracks {tracked} modes or classes, but its "
                       f"config.json names {dataset}, which has {DATASETS[dataset][1]}: was "
                       "config.json edited? Restore it, or train the run again")


def judge_for(dataset, source="auto", data_dir=None, log=print):
    """What measures a generator of ``dataset``: the ``mixtures.Mixture`` of a 2-D mixture,
    the ``stacked_mnist.StackedCounter`` of Stacked MNIST, else the dataset's digit (or
    object) classifier, trained the first time (``classifier.trained``). Each has
    ``evaluate``, ``measures``, ``samples``, ``describe`` and ``reference_points``."""
    from .classifier import trained

    if dataset in POINT_DATASETS:
        return mixtures.mixture(dataset)
    return trained(dataset, source, data_dir, log=log)


# Samples a snapshot evaluate may draw: fewer make modes and Frechet distances noise; more
# hold the generated images (and their features) in memory at once to no use.
MIN_SAMPLES, MAX_SAMPLES = 100, 100_000


def evaluate(run_dir, epochs=None, samples=None, data_dir=None, log=print):
    """The measures of each saved snapshot of ``run_dir`` (or the ``epochs`` given) by the
    judge of its dataset (``judge_for``: ``gan_lab.metrics``' for digits, coverage for a
    2-D mixture, modes of 1,000 for Stacked MNIST) on ``samples`` draws (default: the
    judge's), written to its metrics.csv with one share column per class or mode.
    Returns ({epoch: measures}, {reference name: measures}, the judge); the references are
    measured on as many draws as the snapshots (modes and Frechet distances depend on it).
    Raises RunError for a folder without a run or snapshots, ValueError for ``samples``
    outside ``MIN_SAMPLES``..``MAX_SAMPLES`` or a run that does not fit its dataset."""
    from .files import write_csv

    if samples is not None and not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise ValueError(f"evaluate measures {MIN_SAMPLES:,} to {MAX_SAMPLES:,} samples a "
                         f"snapshot (the papers' protocols use 2,500 to 26,000), got {samples:,}")
    folder = RunFolder(run_dir)
    config = folder.train_config()
    epochs = list(epochs or folder.saved_epochs())
    if not epochs:
        raise RunError(f"{folder} holds no generator snapshots to evaluate")
    source = folder.read_config().get("run", {}).get("source_used", config.source)
    if source == "array":  # trained on the caller's array: judge it by the named dataset
        source = config.source
    _check_tracked(folder, config.dataset)
    first = _judged(folder, epochs[0], config.dataset)  # before a classifier may train
    judge = judge_for(config.dataset, source, data_dir, log=log)
    samples = samples or judge.samples
    results = {}
    for epoch in epochs:
        generator = first if epoch == epochs[0] else _judged(folder, epoch, config.dataset)
        results[epoch] = measure(judge, generator, samples)
    classes = len(next(iter(results.values()))["histogram"])
    asked = ("label_accuracy",) if "label_accuracy" in results[epochs[0]] else ()
    fields = ["epoch", "samples", *judge.measures, *asked,
              *(f"share_{k}" for k in range(classes))]
    rows = [{"epoch": epoch, **m, **{f"share_{k}": share for k, share in enumerate(m["histogram"])}}
            for epoch, m in results.items()]
    write_csv(folder.metrics_file, fields, rows)
    return results, judge.reference_points(samples=samples, data_dir=data_dir), judge
