"""The run folder: what a training run leaves behind, and how each file is written.

Layout of a run folder (the caller names it)::

    config.json                 everything needed to rerun
    fixed_z.npy                 the latent batch every epoch image is drawn from
    history.csv                 epoch, d_loss, g_loss, d_real, d_fake, seconds (epoch means)
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


def write_history(path, rows) -> None:
    """Rows of HISTORY_FIELDS -> CSV, one row an epoch."""
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


def read_history(path) -> list[dict]:
    """history.csv -> list of dicts with int epoch and float values."""
    with open(path, newline="") as stream:
        return [
            {key: int(value) if key == "epoch" else float(value) for key, value in row.items()}
            for row in csv.DictReader(stream)
        ]


def write_gif(path, frame_paths, seconds_per_frame=0.4) -> Path:
    """A looping GIF of the PNG files in ``frame_paths``, in the order given."""
    import imageio.v3 as iio

    frames = [iio.imread(frame) for frame in frame_paths]
    if not frames:
        raise RunError("no frames to put in the GIF")
    # Hold the last frame longer so the final result can be seen.
    durations = [seconds_per_frame * 1000] * (len(frames) - 1) + [seconds_per_frame * 4000]
    if len(frames) == 1:
        durations = durations[0]  # Pillow wants a number, not a list, for one frame
    with atomic_path(path) as temporary:
        iio.imwrite(temporary, np.stack(frames), extension=".gif", duration=durations, loop=0)
    return Path(path)


def save_generator(generator, path) -> Path:
    with atomic_path(path, suffix=".keras") as temporary:
        generator.save(temporary)
    return Path(path)


def load_generator(path):
    """A generator saved with ``save_generator`` (works in a fresh process)."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise RunError(f"no generator at {path}")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # a damaged zip or weights file
        raise RunError(f"cannot load generator {path}: {error} (damaged file?)") from None
