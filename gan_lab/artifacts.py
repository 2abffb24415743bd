"""The run folder: what a training run leaves behind, and how each file is written.

Layout of a run folder (the caller names it)::

    config.json                 everything needed to rerun
    fixed_z.npy                 the latent batch every epoch image is drawn from
    history.csv                 epoch, d_loss, g_loss, d_real, d_fake (epoch means),
                                seconds, modes, kl_uniform, share_0 .. (if tracked)
    metrics.csv                 written by ``python -m gan_lab evaluate``
    losses.png                  curves from history.csv
    frames/epoch_0001.png ...   one grid per epoch, 1-based
    progress.gif                the frames in epoch order
    snapshots/generator_epoch_0010.keras ...

Every file is written to a temporary name in the same folder and then renamed, so a run
killed at any moment leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)
HISTORY_FIELDS = ("epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")
# Added when training tracks them (runs.train(epoch_metrics=True)), with share_0 .. share_9.
TRACKED_FIELDS = ("modes", "kl_uniform", "label_accuracy")


class RunError(ValueError):
    """A run folder that is missing, incomplete or from another run; the message says which."""


@contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent
    )
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual mode
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_text(path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_json(path, data) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def save_figure(figure, path) -> Path:
    """Write a matplotlib figure as PNG, atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return Path(path)


def save_array(path, array) -> None:
    with atomic_path(path) as temporary:
        np.save(temporary, array)


def frame_path(run_dir, epoch: int) -> Path:
    """frames/epoch_0001.png for epoch 1 (epochs are 1-based)."""
    return Path(run_dir) / "frames" / f"epoch_{epoch:04d}.png"


def snapshot_path(run_dir, epoch: int) -> Path:
    return Path(run_dir) / "snapshots" / f"generator_epoch_{epoch:04d}.keras"


def write_csv(path, fields, rows) -> None:
    """Rows (dicts) -> CSV with the columns ``fields``, atomically."""
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


def write_history(path, rows) -> None:
    """Rows of HISTORY_FIELDS (and class shares share_0 .. when tracked) -> CSV, one row
    an epoch."""
    last = rows[-1] if rows else {}
    tracked = tuple(key for key in last if key in TRACKED_FIELDS or key.startswith("share_"))
    write_csv(path, HISTORY_FIELDS + tracked, rows)


def read_history(path) -> list[dict]:
    """history.csv -> list of dicts with int epoch and float values (None where empty)."""
    with open(path, newline="") as stream:
        return [
            {key: int(value) if key == "epoch" else float(value) if value else None
             for key, value in row.items()}
            for row in csv.DictReader(stream)
        ]


def write_gif(path, frames, seconds_per_frame=0.4) -> Path:
    """A looping GIF of ``frames`` in the order given: PNG file paths, or uint8 arrays of
    one shape (e.g. ``plotting.enlarged(images)``)."""
    import imageio.v3 as iio

    frames = [np.asarray(f) if isinstance(f, np.ndarray) else iio.imread(f) for f in frames]
    if not frames:
        raise RunError("no frames to put in the GIF")
    # Hold the last frame longer so the final result can be seen.
    durations = [seconds_per_frame * 1000] * (len(frames) - 1) + [seconds_per_frame * 4000]
    if len(frames) == 1:
        durations = durations[0]  # Pillow wants a number, not a list, for one frame
    with atomic_path(path) as temporary:
        iio.imwrite(temporary, np.stack(frames), extension=".gif", duration=durations, loop=0)
    return Path(path)


def save_model(model, path) -> Path:
    """A Keras model (a generator snapshot, a classifier) as a .keras file, atomically."""
    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)
    return Path(path)


def load_generator(path):
    """A generator saved with ``save_model`` (works in a fresh process)."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise RunError(f"no generator at {path}")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # a damaged zip or weights file
        raise RunError(f"cannot load generator {path}: {error} (damaged file?)") from None


def checkpoint_path(run_dir) -> Path:
    return Path(run_dir) / "checkpoint.npz"


def _training_variables(gan):
    """Every variable training changes: both networks (weights, batch-norm statistics,
    dropout seeds), the GAN's noise seed and both optimizers' slots and step counts."""
    for optimizer, network in ((gan.d_optimizer, gan.discriminator),
                               (gan.g_optimizer, gan.generator)):
        if not optimizer.built:
            optimizer.build(network.trainable_variables)
    return [*gan.variables, *gan.d_optimizer.variables, *gan.g_optimizer.variables]


def save_checkpoint(gan, run_dir, epoch: int) -> Path:
    """The whole training state after ``epoch``, in one file written atomically."""
    arrays = {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(_training_variables(gan))}
    path = checkpoint_path(run_dir)
    with atomic_path(path) as temporary:
        np.savez(temporary, epoch=np.array(epoch), **arrays)
    return path


def load_checkpoint(gan, run_dir) -> int:
    """Restore the state saved by ``save_checkpoint`` into ``gan``; returns its epoch."""
    import zipfile

    path = checkpoint_path(run_dir)
    if not path.is_file():
        raise RunError(f"{run_dir} has no checkpoint to resume from; start it without --resume")
    variables = _training_variables(gan)
    try:
        with np.load(path, allow_pickle=False) as stored:
            epoch = int(stored["epoch"])
            arrays = [stored[f"v{i:04d}"] for i in range(len(stored.files) - 1)]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise RunError(f"the checkpoint {path} is damaged ({error}); delete it and train "
                       "the run again without --resume") from None
    shapes = [tuple(v.shape) for v in variables]
    if [a.shape for a in arrays] != shapes:
        raise RunError(f"the checkpoint {path} holds another architecture "
                       f"({len(arrays)} arrays for {len(shapes)} variables); "
                       "resume it with the settings it was trained with")
    for variable, array in zip(variables, arrays):
        variable.assign(array)
    return epoch


def rewind(run_dir, epoch: int) -> list[dict]:
    """Make ``run_dir`` hold epochs 1..``epoch`` only: later frames and snapshots and
    temporary files from a killed write are removed. Returns the history rows kept."""
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / "frames", run_dir / "snapshots"):
        for leftover in folder.glob(".*.*"):  # atomic_path's temporaries: ".name.xxxx.ext"
            if leftover.is_file():
                leftover.unlink()
    for pattern in ("frames/epoch_*.png", "snapshots/generator_epoch_*.keras"):
        for path in run_dir.glob(pattern):
            if int(path.stem.rsplit("_", 1)[1]) > epoch:
                path.unlink()
    history = run_dir / "history.csv"
    rows = [r for r in read_history(history) if r["epoch"] <= epoch] if history.exists() else []
    if [r["epoch"] for r in rows] != list(range(1, epoch + 1)):
        raise RunError(f"{history} does not hold epochs 1 to {epoch} of the checkpoint; "
                       "the run folder was changed by hand")
    return rows
