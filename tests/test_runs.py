"""One RunFolder: what a run leaves, replaces, resumes and refuses, and what it draws."""

import subprocess
import sys

import numpy as np
import pytest
from keras import layers

from gan_lab import runs
from gan_lab.data import DataError
from gan_lab.run_folder import RunError, RunFolder

from helpers import TINY


# --- one RunFolder -----------------------------------------------------------------------


def test_overwrite_removes_every_run_file_and_nothing_else(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.prepare()
    theirs = [folder.config_file, folder.history_file, folder.metrics_file, folder.gif_file,
              folder.frame(1), folder.snapshot(1), folder.checkpoint_dir / "checkpoint",
              folder.checkpoint_dir / "state-1.index",
              folder.tensorboard_dir / "events.out.tfevents.1.host"]
    # Names that begin as the run's do are a student's too (a breaker's find: the globs
    # epoch_*.png and generator_epoch_*.keras took them, and int() of "best" failed).
    mine = [folder.path / "notes.txt", folder.frames_dir / "annotated_for_report.png",
            folder.snapshots_dir / "my_best.keras", folder.checkpoint_dir / "README_mine.txt",
            folder.frames_dir / "epoch_0001_annotated.png", folder.frames_dir / "epoch_mine.png",
            folder.snapshots_dir / "generator_epoch_best.keras",
            folder.snapshots_dir / "generator_epoch_12.keras"]
    for path in theirs + mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    folder.write_history([{"epoch": 1, "d_loss": 0.5, "g_loss": 0.7, "d_real": 0.5,
                           "d_fake": 0.5, "seconds": 1.0}])
    assert folder.saved_epochs() == [1] and folder.frames() == {1: folder.frame(1)}
    folder.rewind(0)
    assert all(p.exists() for p in mine) and not folder.frame(1).exists()
    for path in theirs:
        path.write_text("x")
    with pytest.raises(RunError, match="already holds a training run"):
        folder.prepare()
    folder.prepare(overwrite=True)
    assert [p for p in theirs if p.exists()] == []
    assert all(p.exists() for p in mine)
    assert not folder.tensorboard_dir.exists()  # emptied, so removed


def test_a_run_that_never_finished_an_epoch_is_simply_replaced(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.prepare()
    folder.config_file.write_text("{}")  # refused or diverged in epoch 1: config only
    folder.prepare()
    assert not folder.config_file.exists()


def test_resume_without_the_checkpoint_folder_is_refused(run_copy):
    import shutil

    shutil.rmtree(run_copy / "checkpoint")
    with pytest.raises(RunError, match="no checkpoint/ folder"):
        runs.train("gan", out=run_copy, **{**TINY, "epochs": 3}, resume=True)
    assert (run_copy / "snapshots" / "generator_epoch_0001.keras").exists()  # nothing lost
    (run_copy / "config.json").write_text("{not json")
    with pytest.raises(RunError, match="config.json is damaged"):
        RunFolder(run_copy).read_config()


def test_importing_gan_lab_leaves_the_umask_alone():
    code = ("import os; before = os.umask(0o027); import gan_lab.files, gan_lab.run_folder; "
            "print(oct(os.umask(0)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "0o27"


def test_compare_draws_one_row_per_run_even_when_folders_share_a_name(run_copy, tmp_path):
    import shutil

    from gan_lab.cli import main

    first = run_copy
    second = tmp_path / "bob" / "gan-mnist"
    shutil.copytree(first, second)
    figure = runs.compare([first, second, first], epochs=[1])
    labels = [axis.get_ylabel() for axis in figure.axes]
    assert labels == ["GAN\nalice/gan-mnist", "GAN\nbob/gan-mnist", "GAN\nalice/gan-mnist (2)"]
    assert main(["compare", str(first), str(second), "--epochs", "1",
                 "--out", str(tmp_path / "c.png")]) == 0


# --- smaller -----------------------------------------------------------------------------


def test_resume_with_fewer_epochs_than_done_is_refused(run_copy):
    before = (run_copy / "config.json").read_text()
    with pytest.raises(RunError, match="has already trained 2 epochs; pass --epochs 3"):
        runs.train("gan", out=run_copy, **TINY, resume=True)
    assert (run_copy / "config.json").read_text() == before


def test_a_refused_overwrite_keeps_the_old_run(run_copy, sample_digits):
    before = sorted(p.relative_to(run_copy) for p in run_copy.rglob("*"))
    with pytest.raises(DataError, match="a conditional GAN trains on labelled images"):
        runs.train("cgan", data=sample_digits.images[:128], out=run_copy, overwrite=True,
                   **{**TINY, "limit": None})
    assert sorted(p.relative_to(run_copy) for p in run_copy.rglob("*")) == before


@pytest.mark.integration
def test_a_frame_deleted_by_hand_does_not_stop_a_resume(run_copy):
    (run_copy / "frames" / "epoch_0001.png").unlink()
    run = runs.train("gan", out=run_copy, **{**TINY, "epochs": 3}, resume=True, verbose=0)
    assert [row["epoch"] for row in run.history] == [1, 2, 3]
    assert (run_copy / "progress.gif").exists()


@pytest.mark.integration
def test_a_short_first_epoch_still_draws_something(tmp_path):
    # 2 steps an epoch: batch norm's moving statistics must settle within them, else the
    # epoch-1 frame (inference mode) is a flat grey
    run = runs.train("dcgan", out=tmp_path / "run", **{**TINY, "batch_size": 64}, verbose=0)
    momenta = {layer.momentum for layer in run.gan.generator.layers
               if isinstance(layer, layers.BatchNormalization)}
    assert momenta and max(momenta) <= 0.05 ** (1 / 2) + 1e-9
    images = run.gan.generate(z=np.load(tmp_path / "run" / "fixed_z.npy"))
    assert images.std(axis=(1, 2, 3)).mean() > 0.1  # flat grey measured 0.03 before


@pytest.mark.integration
def test_the_summaries_are_redrawn_when_due_and_whenever_training_stops(tmp_path, monkeypatch,
                                                                         trained_run):
    import imageio.v3 as iio
    import keras

    from gan_lab import callbacks
    from gan_lab.gan import GAN

    out = tmp_path / "run"

    def frames():
        return iio.imread(out / "progress.gif", index=None).shape[0]

    monkeypatch.setattr(callbacks, "SUMMARY_SECONDS", 1e9)  # never due after the first epoch
    drawn = []

    class Watch(keras.callbacks.Callback):  # after EpochArtifacts: what each epoch left
        def on_epoch_end(self, epoch, logs=None):
            drawn.append(frames())

        def on_train_batch_end(self, batch, logs=None):
            if stop and len(drawn) == 2:
                raise KeyboardInterrupt  # a student stopping the cell in epoch 3

    fit = GAN.fit
    monkeypatch.setattr(GAN, "fit", lambda self, *a, callbacks, **k: fit(
        self, *a, callbacks=[*callbacks, Watch()], **k))
    stop = True
    with pytest.raises(KeyboardInterrupt):
        runs.train("gan", out=out, **{**TINY, "epochs": 3}, verbose=0)
    assert drawn == [1, 1] and frames() == 2  # drawn as training stopped
    # and epoch 2's generator kept (its checkpoint's, not the half-trained epoch 3's)
    for a, b in zip(RunFolder(out).load_snapshot(2).weights,
                    RunFolder(trained_run).load_snapshot(2).weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    stop = False
    drawn.clear()
    runs.train("gan", out=out, **{**TINY, "epochs": 4}, verbose=0, resume=True)
    assert drawn == [3, 3] and frames() == 4  # a fit's first epoch; the end


@pytest.mark.integration
def test_a_resume_with_nothing_left_to_train_leaves_the_folder_whole(run_copy):
    import imageio.v3 as iio

    from gan_lab.files import write_gif

    folder = RunFolder(run_copy)  # as a kill can leave it: the GIF behind, no last snapshot
    write_gif(folder.gif_file, [folder.frame(1)])
    folder.snapshot(2).unlink()
    runs.train("gan", out=run_copy, **{**TINY, "epochs": 2}, resume=True, verbose=0)
    assert iio.imread(folder.gif_file, index=None).shape[0] == 2
    assert folder.saved_epochs() == [1, 2]


@pytest.mark.integration
def test_a_run_killed_before_its_first_checkpoint_starts_again(run_copy, trained_run):
    # Epoch 1's frame, snapshot and history row written, then killed before its checkpoint.
    import shutil

    folder = RunFolder(run_copy)
    shutil.rmtree(folder.checkpoint_dir)
    folder.write_history(folder.read_history()[:1])
    folder.frame(2).unlink()
    folder.snapshot(2).unlink()
    runs.train("gan", out=run_copy, **{**TINY, "epochs": 2}, resume=True, verbose=0)
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in folder.read_history()]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"}
                     for row in RunFolder(trained_run).read_history()]


def test_a_history_changed_by_hand_is_refused_with_what_to_do(tmp_path):
    folder = RunFolder(tmp_path)
    folder.history_file.write_text("garbage\n1,2,3\n")
    with pytest.raises(RunError, match="not the history gan_lab wrote.*--overwrite"):
        folder.read_history()
    folder.history_file.write_text("epoch,d_loss,g_loss,d_real,d_fake,seconds,note\n"
                                   "1,0.5,0.7,0.5,0.5,1.0,fine\n")
    with pytest.raises(RunError, match="changed by hand"):
        folder.read_history()


def test_a_resume_without_the_runs_preset_names_the_flags_it_was_started_with(tmp_path, capsys):
    # latent_dim, batch and rates came with the preset: no flag of their own would fix them.
    from gan_lab.cli import main
    from gan_lab.config import TrainConfig
    from gan_lab.files import write_json

    folder = RunFolder(tmp_path / "run").prepare()
    started = TrainConfig.create("gan", preset="mode_hopping", out=str(folder.path))
    write_json(folder.config_file, {**started.to_json(), "run": {}})
    assert main(["train", "gan", "--out", str(folder.path), "--resume"]) == 2
    error = capsys.readouterr().err
    assert "latent_dim 64 there" in error
    assert "(it was started with --preset mode_hopping --dataset ring)" in error


def test_a_fixed_latent_batch_that_is_not_one_is_named_with_the_fix(tmp_path):
    folder = RunFolder(tmp_path).prepare()
    with pytest.raises(RunError, match=r"fixed_z.npy cannot be read \(FileNotFoundError\): "
                                       "restore it, or train the run again with --overwrite"):
        folder.read_fixed_z()
    folder.fixed_z_file.write_text("not an array")
    with pytest.raises(RunError, match=r"fixed_z.npy cannot be read \(ValueError\)"):
        folder.read_fixed_z()
    np.save(folder.fixed_z_file, np.arange(5))
    with pytest.raises(RunError, match=r"holds int64 \(5,\), not a latent batch"):
        folder.read_fixed_z()
    np.save(folder.fixed_z_file, np.ones((3, 4), np.float32))
    assert folder.read_fixed_z().shape == (3, 4)


def test_a_damaged_snapshot_is_named_as_damaged_without_keras_file_not_found(tmp_path):
    # Keras says "File not found" of a .keras file that is there but not a zip.
    folder = RunFolder(tmp_path).prepare()
    folder.snapshots_dir.mkdir()
    folder.snapshot(1).write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(RunError) as refused:
        folder.load_snapshot(1)
    message = str(refused.value)
    assert "generator_epoch_0001.keras exists but cannot be loaded: the file is damaged (" \
        in message and "not found" not in message.lower(), message
