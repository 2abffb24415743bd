"""Per-epoch work during ``fit()``: the image grid, history, loss plot, GIF, snapshots and
the checkpoint a stopped run resumes from."""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from . import checkpoint
from .config import DEFAULT_SNAPSHOTS
from .files import save_figure, save_model, write_gif
from .gan import asked_labels, generate
from .plotting import plot_grid, plot_losses, plot_points, tile
from .run_folder import HISTORY_FIELDS, TRACKED_FIELDS, RunFolder

LOGGED = HISTORY_FIELDS[1:5]  # d_loss, g_loss, d_real, d_fake
METRIC_SAMPLES = 1_000  # per-epoch measures: cheap beside an epoch, enough for 10 classes


class EpochArtifacts(keras.callbacks.Callback):
    """Writes a GAN's per-epoch artifacts into ``folder`` (a ``RunFolder``: its layout).

    ``fixed_z`` (n, latent_dim) is drawn once by the caller and reused every epoch, so frames
    of different epochs show the same latent points. ``seconds`` in the history is the
    training time of the epoch alone: it stops before any file is written. The checkpoint
    is written last, so every artifact of an epoch exists once its checkpoint does.

    An epoch whose losses are NaN or Inf stops training and writes nothing: the last good
    epoch's files stay as they were, and ``diverged`` holds the bad epoch's row.

    With a ``mixture`` (``mixtures.Mixture``: a GAN of 2-D points), ``fixed_z`` is the
    2,500-point batch of VEEGAN's protocol, each frame plots it over the mixture, and each
    row gets its ``modes``, ``high_quality``, ``kl_uniform`` and ``share_0`` ...

    With a ``classifier`` (``gan_lab.classifier.Classifier``), each row also gets ``modes``
    and ``kl_uniform`` of METRIC_SAMPLES images from one fixed latent batch, and each
    class's share of them (``share_0`` ...); for a conditional GAN also ``label_accuracy``.

    With ``tensorboard=True`` every number of the row (but the epoch) becomes a TensorBoard
    scalar and the frame an image, at step = epoch, in ``folder.tensorboard_dir``.
    """

    def __init__(self, folder, fixed_z, snapshot_epochs=DEFAULT_SNAPSHOTS, last_epoch=None,
                 history=(), classifier=None, tensorboard=False, mixture=None):
        super().__init__()
        self.folder = RunFolder(folder) if not isinstance(folder, RunFolder) else folder
        self.fixed_z = np.asarray(fixed_z, np.float32)
        self.snapshot_epochs = set(snapshot_epochs) | ({last_epoch} if last_epoch else set())
        self.history = list(history)  # rows of earlier epochs when a run is resumed
        self.diverged = None
        self.mixture = mixture
        # A GAN of points is measured by its mixture, every epoch, on the frame's points.
        self.classifier = mixture if mixture is not None else classifier
        self.tensorboard = tensorboard
        self._writer = None
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
        folder, generator = self.folder, self.model.generator
        images = generate(generator, z=self.fixed_z)
        if not np.isfinite(images).all():  # finite losses, but G's weights overflowed
            self.diverged = row
            self.model.stop_training = True
            return
        self.history = [r for r in self.history if r["epoch"] < epoch] + [row]
        if self.classifier is not None:
            samples = images if self.mixture is not None else \
                generate(generator, n=METRIC_SAMPLES, seed=0)
            measured = self.classifier.evaluate(samples, asked_labels(generator, len(samples)))
            row.update({key: float(measured[key]) for key in TRACKED_FIELDS if key in measured})
            row.update({f"share_{k}": float(v) for k, v in enumerate(measured["histogram"])})
        frame = plot_grid(images, title=f"epoch {epoch}") if self.mixture is None else \
            plot_points(images, self.mixture, title=f"epoch {epoch}")
        save_figure(frame, folder.frame(epoch))
        if epoch in self.snapshot_epochs:
            save_model(generator, folder.snapshot(epoch))
        folder.write_history(self.history)
        save_figure(plot_losses(self.history, self.model.objective.rules.logits),
                    folder.losses_file)
        # Rebuilt every epoch so a stopped run still has a complete GIF of what it did.
        write_gif(folder.gif_file, [folder.frame(r["epoch"]) for r in self.history
                                    if folder.frame(r["epoch"]).exists()])  # some deleted?
        if self.tensorboard:
            self._write_summaries(row, images)
        checkpoint.save(self.model, folder, epoch)

    def _write_summaries(self, row, images):
        """The row's numbers as scalars and the frame's images as one mosaic, at step epoch."""
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.folder.tensorboard_dir))
        with self._writer.as_default(step=row["epoch"]):
            for key, value in row.items():
                if key != "epoch" and value is not None:
                    tf.summary.scalar(key, value)
            if self.mixture is None:  # a point cloud's frame is a plot, kept as a PNG
                tf.summary.image("frame", tile(images)[None])
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
