"""The run folder: the one place that knows what a training run leaves behind and where.

Layout (the caller names the folder; ``LAYOUT`` below, in this order)::

    config.json                 the TrainConfig and the facts of the run (data, device)
    fixed_z.npy                 the latent batch every epoch image is drawn from
    history.csv                 epoch, d_loss, g_loss, d_real, d_fake (epoch means),
                                seconds, and modes, kl_uniform, share_0 .. when tracked
    metrics.csv                 written by ``python -m gan_lab evaluate``
    losses.png                  curves from history.csv
    frames/epoch_0001.png ...   one grid per epoch, 1-based
    progress.gif                the frames in epoch order
    snapshots/generator_epoch_0010.keras ...
    checkpoint/                 the whole training state (tf.train.Checkpoint), by name
    tensorboard/                TensorBoard events: the history's values and the frame, per epoch

Every file is written whole or not at all (``gan_lab.files``).
"""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import files

HISTORY_FIELDS = ("epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")
# Added when training tracks them (epoch_metrics=True), with share_0 .. share_{K-1}.
TRACKED_FIELDS = ("modes", "high_quality", "kl_uniform", "confident", "frechet_distance", "precision", "recall",
                  "label_accuracy")


# (RunFolder attribute, what it holds): what ``describe`` tells a user after a run.
LAYOUT = (
    ("gif_file", "the epochs' images as one animation"),
    ("frames_dir", "one image per epoch, drawn from the fixed latent batch"),
    ("losses_file", "D's and G's losses, D(real) and D(fake) over the epochs"),
    ("history_file", "the losses and D's outputs per epoch, and its seconds"),
    ("metrics_file", "the measures of python -m gan_lab evaluate"),
    ("snapshots_dir", "the generator at the snapshot epochs (compare, evaluate)"),
    ("checkpoint_dir", "the whole training state of the last epoch (--resume)"),
    ("tensorboard_dir", "TensorBoard events (tensorboard --logdir <folder>)"),
    ("config_file", "the run's settings and data"),
    ("fixed_z_file", "the latent batch of the epoch images"),
)


class RunError(ValueError):
    """A run folder that is missing, incomplete or from another run; the message says which."""


class RunFolder:
    """Paths of one run folder (the layout above), and the operations on it as a whole."""

    def __init__(self, path):
        self.path = Path(path)
        self.config_file = self.path / "config.json"
        self.fixed_z_file = self.path / "fixed_z.npy"
        self.history_file = self.path / "history.csv"
        self.metrics_file = self.path / "metrics.csv"
        self.losses_file = self.path / "losses.png"
        self.gif_file = self.path / "progress.gif"
        self.frames_dir = self.path / "frames"
        self.snapshots_dir = self.path / "snapshots"
        self.checkpoint_dir = self.path / "checkpoint"
        self.tensorboard_dir = self.path / "tensorboard"

    def __str__(self):
        return str(self.path)

    def __fspath__(self):
        return str(self.path)

    def __eq__(self, other):
        return isinstance(other, RunFolder) and self.path == other.path

    def __hash__(self):
        return hash(self.path)

    def frame(self, epoch: int) -> Path:
        """frames/epoch_0001.png for epoch 1 (epochs are 1-based)."""
        return self.frames_dir / FRAME.name(epoch)

    def snapshot(self, epoch: int) -> Path:
        return self.snapshots_dir / SNAPSHOT.name(epoch)

    def frames(self) -> dict[int, Path]:
        """{epoch: path} of the frames the run drew (not a student's own files there)."""
        return FRAME.found(self.frames_dir)

    def snapshots(self) -> dict[int, Path]:
        """{epoch: path} of the generator snapshots the run saved."""
        return SNAPSHOT.found(self.snapshots_dir)

    def describe(self) -> list[tuple[str, str]]:
        """(name, what it holds) of each ``LAYOUT`` entry present here, folders named
        with a trailing "/"."""
        present = [(getattr(self, attribute), what) for attribute, what in LAYOUT]
        return [(path.name + ("/" if path.is_dir() else ""), what)
                for path, what in present if path.exists()]

    def run_files(self) -> list[Path]:
        """Every file a run wrote here, by the run's own names: what ``--overwrite``
        removes, and nothing else (a student's own files, even inside frames/ or
        snapshots/, stay)."""
        own = [self.config_file, self.fixed_z_file, self.history_file, self.metrics_file,
               self.losses_file, self.gif_file]
        patterns = ((self.checkpoint_dir, "checkpoint"), (self.checkpoint_dir, "state-*"),
                    (self.tensorboard_dir, "events.out.tfevents.*"))
        found = [path for folder, pattern in patterns for path in sorted(folder.glob(pattern))]
        numbered = [path for paths in (self.frames(), self.snapshots())
                    for _, path in sorted(paths.items())]
        return [path for path in own if path.exists()] + numbered + found

    # --- the folder as a whole -------------------------------------------------------
    def holds_run(self) -> bool:
        return self.config_file.is_file()

    def holds_epochs(self) -> bool:
        """True once an epoch finished here (its history row, checkpoint or snapshot). A
        history that cannot be read counts: it is not this package's to judge unread."""
        try:
            rows = bool(self.read_history())
        except RunError:
            rows = True
        return rows or self.checkpoint_dir.exists() or bool(self.saved_epochs())

    def prepare(self, overwrite=False, resume=False) -> "RunFolder":
        """Create the folder and check it can be written, before any training starts.

        A folder that holds a run with finished epochs is refused unless ``overwrite``
        (its run files are removed) or ``resume`` (they are kept and continued); one whose
        run never finished an epoch (refused or diverged in epoch 1) is simply reused."""
        if resume and not self.holds_run():
            raise RunError(f"nothing to resume in {self}: it holds no training run; "
                           "start it without --resume")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.path):
                pass
        except OSError as error:
            raise RunError(f"cannot write to the output folder {self} ({error.strerror}); "
                           "choose another one with --out") from None
        if self.holds_run() and not resume:
            if self.holds_epochs() and not overwrite:
                raise RunError(f"{self} already holds a training run; pass --resume to "
                               "continue it, --overwrite to replace it, or choose another --out")
            for path in self.run_files():
                path.unlink()
            for folder in (self.frames_dir, self.snapshots_dir, self.checkpoint_dir,
                           self.tensorboard_dir):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        return self

    def read_config(self) -> dict:
        """config.json, or a RunError saying the folder is not a run."""
        if not self.path.exists():
            raise RunError(f"{self} does not exist: give the folder a run was trained into "
                           "(its --out)")
        if not self.holds_run():
            raise RunError(f"{self} is not a gan_lab run folder (no config.json)")
        try:
            config = files.read_json(self.config_file)
        except ValueError as error:
            raise RunError(f"{self.config_file} is damaged ({error}); it cannot be read as "
                           "JSON: restore it, or start the run again with --overwrite") from None
        if not (isinstance(config, dict) and isinstance(config.get("run", {}), dict)):
            raise RunError(f"{self.config_file} is damaged (not the settings gan_lab writes: a "
                           "JSON object with a \"run\" object of facts): restore it, or start "
                           "the run again with --overwrite")
        return config

    def train_config(self):
        """config.json as the ``config.TrainConfig`` it was written from, each value checked
        as a new run's are; a RunError saying what to restore if one was edited into a value
        no run can have (an unknown dataset, a negative batch)."""
        from .config import TrainConfig

        saved = self.read_config()
        missing = [key for key in ("model", "dataset") if key not in saved]
        trained_on = saved.get("run", {}).get("dataset")  # the data's own name, as trained
        if missing or (trained_on is not None and trained_on != saved["dataset"]):
            why = (f"it names no {' or '.join(missing)}" if missing else
                   f"its dataset is {saved['dataset']!r}, but the run trained on {trained_on}")
            raise RunError(f"{self.config_file} does not fit its run ({why}): was it edited? "
                           "Restore it, or start the run again with --overwrite")
        try:
            return TrainConfig.from_json(saved)
        except (ValueError, TypeError) as error:
            raise RunError(f"{self.config_file} holds settings no run can have ({error}); was "
                           "it edited? Restore it, or start the run again with --overwrite"
                           ) from None

    def read_history(self) -> list[dict]:
        """history.csv -> dicts with an int epoch and float values (None where empty).
        Raises RunError if the file is not the history this package writes (edited by
        hand: a header without its fields, a cell that is not a number)."""
        if not self.history_file.exists():
            return []
        with open(self.history_file, newline="") as stream:
            reader = csv.DictReader(stream)
            try:
                if not set(HISTORY_FIELDS) <= set(reader.fieldnames or ()):
                    raise ValueError(f"its header lacks {', '.join(HISTORY_FIELDS)}")
                return [{key: int(value) if key == "epoch" else float(value) if value else None
                         for key, value in row.items()} for row in reader]
            except (ValueError, TypeError) as error:
                raise RunError(f"{self.history_file} is not the history gan_lab wrote ({error}); "
                               "the run folder was changed by hand: restore the file, or start "
                               "the run again with --overwrite") from None

    def write_history(self, rows) -> Path:
        """One row an epoch: HISTORY_FIELDS, then the tracked measures of the last row."""
        last = rows[-1] if rows else {}
        tracked = tuple(key for key in last if key in TRACKED_FIELDS or key.startswith("share_"))
        return files.write_csv(self.history_file, HISTORY_FIELDS + tracked, rows)

    def read_fixed_z(self):
        """fixed_z.npy: the latent batch the frames are drawn from, (N, latent_dim) floats;
        a RunError naming the file if it is missing or not that."""
        import numpy as np

        try:
            z = np.load(self.fixed_z_file, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise RunError(f"{self.fixed_z_file} cannot be read ({type(error).__name__}): "
                           "restore it, or train the run again with --overwrite") from None
        if z.ndim != 2 or not np.issubdtype(z.dtype, np.floating):
            raise RunError(f"{self.fixed_z_file} holds {z.dtype} {z.shape}, not a latent batch "
                           "(N, latent_dim) of floats: restore it, or train the run again "
                           "with --overwrite")
        return z

    def saved_epochs(self) -> list[int]:
        """Epochs for which the folder holds a generator snapshot."""
        return sorted(self.snapshots())

    def load_snapshot(self, epoch: int):
        """The generator saved at ``epoch`` (works in a fresh process), or a RunError naming
        the epochs that exist."""
        import keras

        path = self.snapshot(epoch)
        if not path.is_file():
            reached = len(self.read_history())
            why = (f"the run reached only epoch {reached}" if epoch > reached
                   else "train with --snapshot-epochs ... to keep others")
            raise RunError(f"{self} has no generator snapshot for epoch {epoch}; it has epochs "
                           f"{self.saved_epochs() or 'none'} ({why})")
        try:
            return keras.saving.load_model(path, compile=False)
        except Exception as error:  # a damaged zip or weights file
            first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
            # Keras says "File not found" of a file it cannot read as a .keras zip.
            detail = type(error).__name__ + ("" if "not found" in first.lower() else f": {first}")
            raise RunError(f"the generator snapshot {path} exists but cannot be loaded: the "
                           f"file is damaged ({detail}); train the run again, or evaluate "
                           "the epochs whose snapshots load") from None

    def rewind(self, epoch: int) -> list[dict]:
        """Make the folder hold epochs 1..``epoch`` only: later frames and snapshots, and
        temporary files of a killed write, are removed. Returns the history rows kept."""
        for folder in (self.path, self.frames_dir, self.snapshots_dir):
            for leftover in folder.glob(".*"):
                if leftover.is_file() and files.is_temporary(leftover):
                    leftover.unlink()
        for paths in (self.frames(), self.snapshots()):
            for later in (path for number, path in paths.items() if number > epoch):
                later.unlink()
        rows = [row for row in self.read_history() if row["epoch"] <= epoch]
        if [row["epoch"] for row in rows] != list(range(1, epoch + 1)):
            raise RunError(f"{self.history_file} does not hold epochs 1 to {epoch} of the "
                           "checkpoint; the run folder was changed by hand")
        return rows


@dataclass(frozen=True)
class Numbered:
    """The name of a file a run writes once an epoch: ``prefix``, the epoch in 4 or more
    digits, ``suffix`` (frames/epoch_0001.png). Only such names are the run's: a
    student's epoch_best.png beside them is left alone."""

    prefix: str
    suffix: str

    def name(self, epoch: int) -> str:
        return f"{self.prefix}{epoch:04d}{self.suffix}"

    def found(self, folder: Path) -> dict[int, Path]:
        """{epoch: path} of the files in ``folder`` named so."""
        pattern = re.compile(re.escape(self.prefix) + r"([0-9]{4,})" + re.escape(self.suffix))
        matches = ((pattern.fullmatch(path.name), path) for path in folder.glob("*"))
        return {int(match[1]): path for match, path in matches if match}


FRAME = Numbered("epoch_", ".png")
SNAPSHOT = Numbered("generator_epoch_", ".keras")
