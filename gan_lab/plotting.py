"""Figures: image grids, loss curves, class shares over epochs and the epochs-by-runs
comparison.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot, so nothing is
shown or kept alive by global state; Jupyter displays a returned figure by itself, and
``files.save_figure`` writes one to disk.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .data import check_images


def to_uint8(images) -> np.ndarray:
    """Images in [-1, 1], any shape -> uint8 pixels in [0, 255], same shape (clipped)."""
    return np.rint((np.clip(np.asarray(images, np.float32), -1, 1) + 1) * 127.5).astype(np.uint8)


def tile(images, columns=None, pad=2) -> np.ndarray:
    """Images in [-1, 1], (N, H, W, C) -> one uint8 mosaic (rows*H', columns*W', C).

    ``columns`` defaults to the smallest square that holds N; ``pad`` pixels of black
    separate the tiles.
    """
    check_images(images)
    images = np.asarray(images, np.float32)
    count, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    pixels = to_uint8(images)
    mosaic = np.zeros(
        (rows * (height + pad) + pad, columns * (width + pad) + pad, channels), np.uint8
    )
    for index, image in enumerate(pixels):
        top = pad + (index // columns) * (height + pad)
        left = pad + (index % columns) * (width + pad)
        mosaic[top: top + height, left: left + width] = image
    return mosaic


def _show(axis, mosaic):
    if mosaic.shape[-1] == 1:
        axis.imshow(mosaic[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        axis.imshow(mosaic, interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])


def plot_grid(images, title=None, columns=None, size_inches=4.0) -> Figure:
    """A square figure of images in [-1, 1], (N, H, W, C), with an optional title."""
    figure = Figure(figsize=(size_inches, size_inches + (0.35 if title else 0)), dpi=100)
    axis = figure.add_axes((0.02, 0.02, 0.96, 0.96 if not title else 0.88))
    _show(axis, tile(images, columns))
    if title:
        figure.suptitle(title, fontsize=12, y=0.98)
    return figure


def plot_points(points, mixture, title=None, size_inches=4.0) -> Figure:
    """G's points (N, 2) over a 2-D mixture (``mixtures.Mixture``): the samples as dots,
    each mode's mean as a cross inside its high-quality circle (3 standard deviations), on
    fixed axes so that frames of different epochs line up."""
    figure = Figure(figsize=(size_inches, size_inches + (0.35 if title else 0)), dpi=100)
    draw_points(figure.add_axes((0.02, 0.02, 0.96, 0.96 if not title else 0.88)), points,
                mixture)
    if title:
        figure.suptitle(title, fontsize=12, y=0.98)
    return figure


def draw_points(axis, points, mixture) -> None:
    """``plot_points``' drawing, on ``axis``: a cell of a figure of several clouds."""
    from .mixtures import QUALITY_SIGMAS, coverage

    points = np.asarray(points, np.float32)
    extent = mixture.extent
    # Means as open rings under the points: a G that sits on a mean stays visible.
    axis.scatter(mixture.means[:, 0], mixture.means[:, 1], marker="o", s=60,
                 facecolors="none", edgecolors="tab:red", lw=1, zorder=1)
    axis.scatter(points[:, 0], points[:, 1], s=2, alpha=0.35, color="tab:blue", lw=0, zorder=2)
    for mean in mixture.means:
        axis.add_patch(_circle(mean, max(QUALITY_SIGMAS * mixture.std, extent / 60)))
    # 5% beyond the extent: a G bounded at it (frozen_d's) piles its points on the edge
    edge = 1.05 * extent
    axis.set(xlim=(-edge, edge), ylim=(-edge, edge), aspect="equal",
             xticks=[], yticks=[])
    measured = coverage(points, mixture) if np.isfinite(points).all() else None
    if measured:
        axis.text(0.02, 0.02, f"modes {measured['modes']}/{mixture.modes} · high quality "
                  f"{measured['high_quality']:.0%}", transform=axis.transAxes, fontsize=9)


def _circle(centre, radius):
    from matplotlib.patches import Circle

    return Circle(centre, radius, fill=False, color="tab:red", lw=0.6, alpha=0.6)


def plot_losses(history, probabilities=True) -> Figure:
    """Loss curves and mean D outputs per epoch from history rows (dicts or a DataFrame-like).

    Rows need ``epoch``, ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``. ``probabilities``:
    D's outputs are mean sigmoid outputs in [0, 1] (the cross-entropy losses); False for
    raw critic scores (lsgan, hinge, wgan_gp).
    """
    rows = list(history.to_dict("records") if hasattr(history, "to_dict") else history)
    epochs = [int(row["epoch"]) for row in rows]
    figure = Figure(figsize=(9, 3.6), dpi=100)
    losses, outputs = figure.subplots(1, 2)
    for key, label in (("d_loss", "discriminator"), ("g_loss", "generator")):
        losses.plot(epochs, [float(row[key]) for row in rows], marker="o", ms=3, label=label)
    losses.set(xlabel="epoch", ylabel="loss (epoch mean)", title="Losses")
    losses.legend()
    for key, label in (("d_real", "D(x), real"), ("d_fake", "D(G(z)), fake")):
        outputs.plot(epochs, [float(row[key]) for row in rows], marker="o", ms=3, label=label)
    if probabilities:
        outputs.axhline(0.5, color="gray", lw=0.8, ls="--")
        outputs.set(ylabel="mean sigmoid output", ylim=(0, 1))
    else:
        outputs.set(ylabel="mean critic score")
    outputs.set(xlabel="epoch", title="D's outputs")
    outputs.legend()
    for axis in (losses, outputs):
        axis.grid(alpha=0.3)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    figure.tight_layout()
    return figure


def plot_comparison(grids, epochs, title=None, notes=None, mixture=None) -> Figure:
    """Rows = runs, columns = epochs: ``grids[label][epoch]`` are images in [-1, 1], (N, H, W, C),
    or with ``mixture`` (``mixtures.Mixture``) points (N, 2), each cell drawn over it as
    ``plot_points`` draws them. An epoch that is not a number (``"last"``) heads its column
    as it is; ``notes[label][epoch]``, if given, is written under that cell (the epoch "last"
    stood for)."""
    labels = list(grids)
    figure = Figure(figsize=(2.3 * len(epochs) + 0.8, 2.3 * len(labels) + 0.5), dpi=100)
    axes = np.atleast_2d(figure.subplots(len(labels), len(epochs), squeeze=False))
    for row, label in enumerate(labels):
        for column, epoch in enumerate(epochs):
            axis = axes[row, column]
            if mixture is None:
                _show(axis, tile(grids[label][epoch]))
            else:
                draw_points(axis, grids[label][epoch], mixture)
            if row == 0:
                axis.set_title(f"epoch {epoch}" if isinstance(epoch, int) else str(epoch))
            note = (notes or {}).get(label, {}).get(epoch)
            if note:
                axis.set_xlabel(note, fontsize=10)
            if column == 0:
                axis.set_ylabel(label, fontsize=12)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_class_shares(histories, classes=10, what="class") -> Figure:
    """Which classes a generator draws, epoch by epoch: one heat map per run.

    ``histories``: {run label: history rows with ``share_0`` .. ``share_{K-1}``} (from
    ``runs.train(..., epoch_metrics=True)``). Rows of a map are classes, columns epochs,
    colour the share of samples the classifier puts in the class (uniform = 1/K). For a
    2-D mixture (``what="mode"``): the share of points nearest each mode, the mode-share map
    in which a collapsed G's hopping shows as a moving bright cell."""
    figure = Figure(figsize=(4.2 * len(histories), 3.2), layout="constrained")
    axes = figure.subplots(1, len(histories), squeeze=False)[0]
    for axis, (label, history) in zip(axes, histories.items()):
        shares = np.array([[row[f"share_{k}"] for k in range(classes)] for row in history])
        epochs = [row["epoch"] for row in history]
        image = axis.imshow(shares.T, aspect="auto", origin="lower", cmap="magma", vmin=0,
                            vmax=max(0.5, float(shares.max())),
                            extent=(epochs[0] - 0.5, epochs[-1] + 0.5, -0.5, classes - 0.5))
        axis.set_yticks(range(0, classes, max(1, classes // 10)))
        axis.set(xlabel="epoch", ylabel=what, title=str(label))
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.colorbar(image, ax=list(axes), label="share of samples")
    return figure


def plot_measures(histories, measures=("precision", "recall")) -> Figure:
    """Measures of the samples over epochs, one panel per measure, one line per run.

    ``histories``: {run label: history rows holding ``measures`` (from
    ``runs.train(..., epoch_metrics=True)``; precision and recall in [0, 1], Kynkaanniemi
    et al. 2019). Collapse reads as precision high and recall near 0; failure as both low."""
    figure = Figure(figsize=(4.2 * len(measures), 3.2), layout="constrained")
    axes = figure.subplots(1, len(measures), squeeze=False)[0]
    for axis, measure in zip(axes, measures):
        for label, history in histories.items():
            axis.plot([row["epoch"] for row in history], [row[measure] for row in history],
                      marker="o", markersize=3, label=str(label))
        axis.set(xlabel="epoch", title=measure)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        if measure in ("precision", "recall", "confident"):
            axis.set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8)
    return figure


def plot_time_to_digits(results) -> Figure:
    """Modes, confident share and Frechet distance against training CPU seconds, one line
    per recipe, each target drawn as a dashed line (``time_to_digits.run``'s results)."""
    figure = Figure(figsize=(12, 3.4), layout="constrained")
    axes = figure.subplots(1, 3)
    for axis, (measure, goal) in zip(axes, results["target"].items()):
        for recipe in dict.fromkeys(row["recipe"] for row in results["rows"]):
            rows = [row for row in results["rows"] if row["recipe"] == recipe]
            axis.plot([row["cpu_seconds"] for row in rows], [row[measure] for row in rows],
                      marker="o", markersize=3, label=recipe)
        axis.axhline(goal, color="grey", linestyle="--", linewidth=1)
        axis.set(xlabel="training CPU seconds", title=f"{measure} (target {goal:g})")
    axes[2].set_yscale("log")
    axes[0].legend()
    return figure


def plot_rows(rows, title=None, size_inches=0.9) -> Figure:
    """Labelled strips, one per row: ``rows`` = {label: images in [-1, 1], (N, H, W, C)}, all
    rows N images wide (a latent walk, or images before and after vector arithmetic)."""
    labels = list(rows)
    columns = max(len(images) for images in rows.values())
    figure = Figure(figsize=(size_inches * columns + 1.6, size_inches * len(labels) + 0.4),
                    dpi=100, layout="constrained")
    axes = figure.subplots(len(labels), 1, squeeze=False)[:, 0]
    for axis, label in zip(axes, labels):
        _show(axis, tile(rows[label], columns=columns))
        axis.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        figure.suptitle(title)
    return figure


def enlarged(images, scale=4) -> np.ndarray:
    """Images in [-1, 1], (N, H, W, C) -> uint8 frames (N, scale*H, scale*W[, 3]) for a GIF:
    each pixel a scale x scale block; grey images lose their channel axis."""
    check_images(images)
    pixels = to_uint8(images).repeat(scale, axis=1).repeat(scale, axis=2)
    return pixels[..., 0] if pixels.shape[-1] == 1 else pixels


def show_gif(path, width=None):
    """Show a GIF file in a notebook as an HTML ``<img>`` with the GIF inlined (base64), so it
    plays in JupyterLab, Notebook, VS Code and Colab and survives ``jupyter nbconvert --to
    html`` (which drops IPython's ``Image`` of a GIF). ``width``: pixels, default the GIF's.
    Returns the ``IPython.display.HTML`` object (a notebook shows it when it ends a cell)."""
    import base64
    import html
    from pathlib import Path

    from IPython.display import HTML

    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    size = f' width="{int(width)}"' if width else ""
    name = html.escape(Path(path).name)
    return HTML(f'<img src="data:image/gif;base64,{data}"{size} alt="{name}">')
