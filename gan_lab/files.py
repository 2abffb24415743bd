"""Files written whole or not at all: each is written to a temporary name beside its target
and renamed over it, so a process killed at any moment leaves the old file or the new one,
never half of one. Generic: nothing here knows what a run folder holds (``run_folder``)."""

from __future__ import annotations

import csv
import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import numpy as np


@contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path ``.<stem>.<random><suffix>`` beside ``path``; on success rename
    it over ``path``, on an exception remove it. The file gets the usual mode (0666 less the
    umask): it is created by ``os.open``, which applies the umask, not by ``mkstemp``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = path.parent / f".{path.stem}.{secrets.token_hex(4)}{suffix or path.suffix}"
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:  # a leftover of the same name: draw another
            continue
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


@contextmanager
def exclusive(lock_path):
    """Hold an exclusive lock on ``lock_path`` (created if missing) while inside: one process
    makes a shared file while the others wait for it. Where the system has no fcntl
    (Windows), no lock."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_temporary(path) -> bool:
    """True for a leftover of ``atomic_path`` (a write cut short by a kill)."""
    name = Path(path).name
    return name.startswith(".") and name.count(".") >= 2


def write_text(path, text: str, newline=None) -> Path:
    """``text`` written whole or not at all, in UTF-8 (``newline`` as for ``open``: ""
    writes line ends as they are, e.g. a CSV's \\r\\n). Bytes that are not UTF-8, as a
    file name gives them to Python (surrogates: a student's folder named in another
    encoding), are written as backslash escapes instead of failing the whole file."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8", errors="backslashreplace",
                             newline=newline)
    return Path(path)


def write_json(path, data) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def write_csv(path, fields, rows) -> Path:
    """Rows (dicts) -> CSV with the columns ``fields`` (keys outside them ignored)."""
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    return Path(path)


def save_figure(figure, path) -> Path:
    """A matplotlib figure as PNG."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return Path(path)


def save_array(path, array) -> Path:
    with atomic_path(path) as temporary:
        np.save(temporary, array)
    return Path(path)


def save_model(model, path) -> Path:
    """A Keras model (a generator snapshot, a classifier, a whole GAN) as a .keras file."""
    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)
    return Path(path)


def write_gif(path, frames, seconds_per_frame=0.4) -> Path:
    """A looping GIF of ``frames`` in the order given: PNG file paths, or uint8 arrays of
    one shape (e.g. ``plotting.enlarged(images)``). The last frame is held 4x as long."""
    import imageio.v3 as iio

    frames = [np.asarray(f) if isinstance(f, np.ndarray) else iio.imread(f) for f in frames]
    if not frames:
        raise ValueError("no frames to put in the GIF")
    durations = [seconds_per_frame * 1000] * (len(frames) - 1) + [seconds_per_frame * 4000]
    if len(frames) == 1:
        durations = durations[0]  # Pillow wants a number, not a list, for one frame
    with atomic_path(path) as temporary:
        iio.imwrite(temporary, np.stack(frames), extension=".gif", duration=durations, loop=0)
    return Path(path)
