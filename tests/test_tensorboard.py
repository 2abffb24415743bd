"""TensorBoard: one scalar of each history value and one frame image per epoch, in the run
folder's tensorboard/, read back with TensorBoard's own EventAccumulator."""

import numpy as np
import pytest

from gan_lab import runs
from gan_lab.run_folder import RunFolder


def _values(events, tag):
    import tensorflow as tf

    return [(e.step, tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(RunFolder(folder).tensorboard_dir),
                              size_guidance={"tensors": 0})
    events.Reload()
    return events


@pytest.fixture(scope="module")
def digits():
    from gan_lab.data import load_images

    return load_images("mnist", source="sample", limit=128)


@pytest.mark.integration
def test_each_epoch_writes_its_scalars_and_frame_and_a_resume_continues(digits, tmp_path):
    out = tmp_path / "run"
    small = {"generator_options": {"hidden": (32,)}, "discriminator_options": {"hidden": (32,)}}
    runs.train("gan", data=digits, epochs=2, batch_size=64, out=out, **small)
    runs.train("gan", data=digits, epochs=3, batch_size=64, out=out, resume=True, **small)
    events = _events(out)
    for tag in ("d_loss", "g_loss", "d_real", "d_fake", "seconds"):
        assert [step for step, _ in _values(events, tag)] == [1, 2, 3], tag
    history = RunFolder(out).read_history()
    assert [float(value) for _, value in _values(events, "d_loss")] == pytest.approx(
        [row["d_loss"] for row in history], rel=1e-6)
    frames = _values(events, "frame")  # each: [width, height, PNG bytes]
    assert [step for step, _ in frames] == [1, 2, 3]
    import imageio.v3 as iio

    height, width = iio.imread(RunFolder(out).frame(3)).shape[:2]  # the frame the run wrote
    assert list(frames[-1][1][:2]) == [str(width).encode(), str(height).encode()]
    assert frames[-1][1][2].startswith(b"\x89PNG")
    owned = RunFolder(out).run_files()  # what --overwrite removes: nothing else is written
    written = [path for path in out.rglob("*") if path.is_file()]
    assert any(path.parent.name == "tensorboard" for path in written)
    for path in written:
        assert any(path == own or own in path.parents for own in owned), path


def test_tracked_measures_become_scalars(tmp_path):
    from gan_lab.callbacks import EpochArtifacts

    callback = EpochArtifacts(tmp_path, np.zeros((4, 2), np.float32), tensorboard=True)
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "frame.png", np.zeros((8, 8, 3), np.uint8))
    callback._write_summaries({"epoch": 1, "d_loss": 1.0, "modes": 9.0, "share_0": 0.1,
                               "label_accuracy": None}, tmp_path / "frame.png")
    callback.on_train_end()
    events = _events(tmp_path)
    assert {"d_loss", "modes", "share_0"} <= set(events.Tags()["tensors"])
    assert "label_accuracy" not in events.Tags()["tensors"]


def test_tensorboard_is_on_unless_turned_off():
    from gan_lab.cli import build_parser, train_config

    def config(*flags):
        return train_config(build_parser().parse_args(["train", "gan", *flags]))

    assert config().tensorboard and not config("--no-tensorboard").tensorboard
