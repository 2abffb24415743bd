"""Per-epoch work during ``fit()``: the image grid, history, loss plot, GIF, snapshots and
the checkpoint a stopped run resumes from."""

from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np

from . import artifacts
from .gan import generate
from .metrics import asked_labels, generated
from .plotting import plot_grid, plot_losses

LOGGED = artifacts.HISTORY_FIELDS[1:5]  # d_loss, g_loss, d_real, d_fake
METRIC_SAMPLES = 1_000  # cheap: about a second an epoch for the DCGAN on a CPU


class EpochArtifacts(keras.callbacks.Callback):
    """Writes a GAN's per-epoch artifacts into ``run_dir`` (layout: ``gan_lab.artifacts``).

    ``fixed_z`` (n, latent_dim) is drawn once by the caller and reused every epoch, so frames
    of different epochs show the same latent points. ``seconds`` in the history is the
    training time of the epoch alone: it stops before any file is written. The checkpoint
    is written last, so every artifact of an epoch exists once its checkpoint does.

    An epoch whose losses are NaN or Inf stops training and writes nothing: the last good
    epoch's files stay as they were, and ``diverged`` holds the bad epoch's row.

    With a ``classifier`` (``gan_lab.metrics.Classifier``), each row also gets ``modes``
    and ``kl_uniform`` of METRIC_SAMPLES images from one fixed latent batch, and each
    class's share of them (``share_0`` ...); for a conditional GAN also ``label_accuracy``.
    """

    def __init__(self, run_dir, fixed_z, snapshot_epochs=(1, 10, 50, 100), last_epoch=None,
                 history=(), classifier=None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.fixed_z = np.asarray(fixed_z, np.float32)
        self.snapshot_epochs = set(snapshot_epochs) | ({last_epoch} if last_epoch else set())
        self.history = list(history)  # rows of earlier epochs when a run is resumed
        self.diverged = None
        self.classifier = classifier
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        epoch += 1  # Keras counts from 0; files and history count from 1
        row = {"epoch": epoch, **{key: float((logs or {})[key]) for key in LOGGED}}
        row["seconds"] = round(seconds, 3)
        if not all(math.isfinite(row[key]) for key in LOGGED):
            self.diverged = row
            self.model.stop_training = True
            return
        self.history = [r for r in self.history if r["epoch"] < epoch] + [row]

        generator = self.model.generator
        if self.classifier is not None:
            measured = self.classifier.evaluate(generated(generator, METRIC_SAMPLES, seed=0),
                                                asked_labels(generator, METRIC_SAMPLES))
            row.update({key: float(measured[key]) for key in artifacts.TRACKED_FIELDS
                        if key in measured})
            row.update({f"share_{k}": float(v) for k, v in enumerate(measured["histogram"])})
        images = generate(generator, z=self.fixed_z)
        artifacts.save_figure(plot_grid(images, title=f"epoch {epoch}"),
                              artifacts.frame_path(self.run_dir, epoch))
        if epoch in self.snapshot_epochs:
            artifacts.save_model(generator, artifacts.snapshot_path(self.run_dir, epoch))
        artifacts.write_history(self.run_dir / "history.csv", self.history)
        artifacts.save_figure(plot_losses(self.history), self.run_dir / "losses.png")
        # Rebuilt every epoch so a stopped run still has a complete GIF of what it did.
        frames = [artifacts.frame_path(self.run_dir, r["epoch"]) for r in self.history]
        artifacts.write_gif(self.run_dir / "progress.gif", frames)
        artifacts.save_checkpoint(self.model, self.run_dir, epoch)
