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
from .gan import generate
from .plotting import plot_grid, plot_losses
from .run_folder import HISTORY_FIELDS, TRACKED_FIELDS, RunFolder

LOGGED = HISTORY_FIELDS[1:5]  # d_loss, g_loss, d_real, d_fake
# The run's summaries (the loss plot, the GIF of every frame so far) are drawn again at most
# this often during training, and once at its end: the GIF's rebuild grows with the epochs,
# and a 2-D run's epochs last a second or two.
SUMMARY_SECONDS = 20.0


class EpochArtifacts(keras.callbacks.Callback):
    """Writes a GAN's per-epoch artifacts into ``folder`` (a ``RunFolder``: its layout).

    ``fixed_z`` (n, latent_dim) is drawn once by the caller and reused every epoch, so frames
    of different epochs show the same latent points. ``seconds`` in the history is the
    training time of the epoch alone: it stops before any file is written. The checkpoint
    is written last, so the epoch's frame, snapshot and history row exist once its
    checkpoint does. The summaries (``losses.png`` and ``progress.gif``, drawn from the
    history and the frames) are redrawn every ``SUMMARY_SECONDS`` at most, and by ``finish``,
    which ``runs.train`` calls however training ends: after a kill they may lag, and the
    resumed run redraws them.

    An epoch whose losses are NaN or Inf stops training and writes nothing: the last good
    epoch's files stay as they were, and ``diverged`` holds the bad epoch's row.

    ``draw(samples, title) -> Figure`` draws an epoch's frame from the fixed latent batch's
    samples: ``plot_grid`` for images, ``Mixture.plot`` for a GAN of 2-D points.

    With a ``judge`` (``reports.judge_for``: a digit classifier, Stacked MNIST's counter or
    a 2-D mixture), each row also gets ``judge.epoch_measures(generator, frame samples)``
    that the history tracks (``modes``, ``kl_uniform``, ``high_quality``,
    ``label_accuracy``...) and each class's or mode's share (``share_0`` ...).

    With ``tensorboard=True`` every number of the row (but the epoch) becomes a TensorBoard
    scalar and the frame's PNG an image, at step = epoch, in ``folder.tensorboard_dir``.
    """

    def __init__(self, folder, fixed_z, snapshot_epochs=DEFAULT_SNAPSHOTS, last_epoch=None,
                 history=(), judge=None, draw=plot_grid, tensorboard=False):
        super().__init__()
        self.folder = RunFolder(folder) if not isinstance(folder, RunFolder) else folder
        self.fixed_z = np.asarray(fixed_z, np.float32)
        self.snapshot_epochs = set(snapshot_epochs) | ({last_epoch} if last_epoch else set())
        self.history = list(history)  # rows of earlier epochs when a run is resumed
        self.diverged = None
        self.judge, self.draw = judge, draw
        self.tensorboard = tensorboard
        self._writer = None
        self._started, self._in_epoch = None, False
        self._summarised = -math.inf  # when the summaries were last drawn
        # whether the history has rows they do not show (a resumed run's may lag its rows)
        self._stale = bool(self.history)

    def on_epoch_begin(self, epoch, logs=None):
        self._started, self._in_epoch = time.perf_counter(), True

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
        if self.judge is not None:
            measured = self.judge.epoch_measures(generator, images)
            row.update({key: float(measured[key]) for key in TRACKED_FIELDS if key in measured})
            row.update({f"share_{k}": float(v) for k, v in enumerate(measured["histogram"])})
        save_figure(self.draw(images, title=f"epoch {epoch}"), folder.frame(epoch))
        if epoch in self.snapshot_epochs:
            save_model(generator, folder.snapshot(epoch))
        folder.write_history(self.history)
        self._stale = True
        if time.perf_counter() - self._summarised >= SUMMARY_SECONDS:
            self.write_summaries()
        if self.tensorboard:
            self._write_summaries(row, folder.frame(epoch))
        checkpoint.save(self.model, folder, epoch)
        self._in_epoch = False

    def write_summaries(self):
        """Draw the loss plot and the GIF of every frame so far, if the history has rows
        they do not show yet."""
        if not self._stale:
            return
        folder = self.folder
        save_figure(plot_losses(self.history, self.model.objective.rules.logits),
                    folder.losses_file)
        write_gif(folder.gif_file, [folder.frame(r["epoch"]) for r in self.history
                                    if folder.frame(r["epoch"]).exists()])  # some deleted?
        self._stale, self._summarised = False, time.perf_counter()

    def _write_summaries(self, row, frame_file):
        """The row's numbers as scalars and the frame as an image, at step epoch."""
        import imageio.v3 as iio
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.folder.tensorboard_dir))
        with self._writer.as_default(step=row["epoch"]):
            for key, value in row.items():
                if key != "epoch" and value is not None:
                    tf.summary.scalar(key, value)
            tf.summary.image("frame", iio.imread(frame_file)[None])
        self._writer.flush()

    def finish(self):
        """However training ended (its last epoch, Ctrl-C, a divergence, nothing left to
        train): the summaries drawn, and the last completed epoch's generator saved if no
        snapshot of it exists (``evaluate`` and ``compare`` read snapshots)."""
        self.write_summaries()
        last = self.history[-1]["epoch"] if self.history else None
        if last is None or self.diverged or self.folder.snapshot(last).exists():
            return  # (a diverged G's weights are the bad epoch's: its checkpoint's are kept)
        if self._in_epoch:  # stopped mid-epoch: G as the last epoch left it
            if checkpoint.saved_epoch(self.folder) != last:
                return
            checkpoint.restore(self.model, self.folder)
        save_model(self.model.generator, self.folder.snapshot(last))

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
