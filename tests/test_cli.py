"""The command line as a student uses it: real training runs on real digits, then compare."""

import csv
import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from gan_lab.cli import main

EPOCHS = 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short real run of each model through ``python -m gan_lab train``."""
    root = tmp_path_factory.mktemp("runs")
    results = {}
    for model in ("gan", "dcgan"):
        out = root / model
        done = subprocess.run(
            [sys.executable, "-m", "gan_lab", "train", model, "--source", "sample",
             "--epochs", str(EPOCHS), "--limit", "512", "--batch-size", "128",
             "--snapshot-epochs", "1", "--out", str(out)],
            capture_output=True, text=True, timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results[model] = (out, done.stdout)
    return results


@pytest.mark.integration
@pytest.mark.parametrize("model", ["gan", "dcgan"])
def test_train_leaves_every_artifact(trained, model):
    out, stdout = trained[model]
    assert "Device: CPU (" in stdout and "; precision: float32" in stdout  # conftest's
    assert "512 images (28, 28, 1) from sample" in stdout

    frames = sorted((out / "frames").glob("*.png"))
    assert [f.name for f in frames] == ["epoch_0001.png", "epoch_0002.png"]
    pictures = [iio.imread(f) for f in frames]
    assert all(p.shape == pictures[0].shape and p.shape[0] >= 300 for p in pictures)
    assert not np.array_equal(pictures[0], pictures[1])  # training changed the samples

    gif = iio.imread(out / "progress.gif", index=None)
    assert gif.shape[0] == EPOCHS and gif.shape[1:3] == pictures[0].shape[:2]

    with open(out / "history.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert list(rows[0]) == ["epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]
    for row in rows:
        values = [float(v) for v in row.values()]
        assert all(np.isfinite(values)) and float(row["seconds"]) > 0
        assert 0 < float(row["d_real"]) < 1 and 0 < float(row["d_fake"]) < 1

    assert iio.imread(out / "losses.png").ndim == 3
    snapshots = sorted(p.name for p in (out / "snapshots").iterdir())
    assert snapshots == ["generator_epoch_0001.keras", "generator_epoch_0002.keras"]
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == model and config["source"] == "sample"
    assert config["epochs"] == EPOCHS and config["run"]["images"] == 512 and config["seed"] == 0
    assert np.load(out / "fixed_z.npy").shape == (64, 100)
    # The closing lines name every entry the run left, each with what it holds.
    listed = [line.split()[0] for line in stdout.split(f"In {out}:")[1].splitlines() if line]
    assert sorted(name.rstrip("/") for name in listed) == sorted(p.name for p in out.iterdir())


def test_frames_come_from_the_fixed_latent_batch(trained, tmp_path):
    from gan_lab.files import save_figure
    from gan_lab.gan import generate
    from gan_lab.run_folder import RunFolder
    from gan_lab.plotting import plot_grid

    out, _ = trained["dcgan"]
    z = np.load(out / "fixed_z.npy")
    images = generate(RunFolder(out).load_snapshot(2), z=z)
    redrawn = save_figure(plot_grid(images, title="epoch 2"), tmp_path / "again.png")
    np.testing.assert_allclose(iio.imread(redrawn).astype(float),
                               iio.imread(out / "frames" / "epoch_0002.png").astype(float),
                               atol=2)


def test_compare_draws_runs_by_epochs(trained, tmp_path, capsys):
    target = tmp_path / "compare.png"
    dirs = [str(trained[m][0]) for m in ("gan", "dcgan")]
    assert main(["compare", *dirs, "--epochs", "1", "2", "--out", str(target)]) == 0
    picture = iio.imread(target)
    assert picture.shape[1] > picture.shape[0]  # two epoch columns, two run rows + titles
    assert "Wrote" in capsys.readouterr().out


def test_compare_last_is_each_runs_last_saved_epoch(trained, tmp_path):
    """'last' resolves per run, so runs of different lengths share the column; a run that
    kept a snapshot at epoch 1 only shows epoch 1 there (its last saved snapshot)."""
    from gan_lab import runs
    from gan_lab.run_folder import RunFolder

    gan, dcgan = (trained[m][0] for m in ("gan", "dcgan"))
    short = tmp_path / "short"
    (short / "snapshots").mkdir(parents=True)
    for name in ("config.json", "fixed_z.npy", "history.csv"):
        (short / name).write_bytes((gan / name).read_bytes())
    (short / "snapshots" / "generator_epoch_0001.keras").write_bytes(
        RunFolder(gan).snapshot(1).read_bytes())

    target = tmp_path / "compare.png"
    assert main(["compare", str(gan), str(dcgan), str(short), "--epochs", "1", "last",
                 "--out", str(target)]) == 0
    assert iio.imread(target).shape[1] > 0
    figure = runs.compare([gan, short], epochs=[1, "last"])
    axes = figure.axes  # row by row: gan (1, last), short (1, last)
    assert [a.get_title() for a in axes[:2]] == ["epoch 1", "last"]
    assert [a.get_xlabel() for a in axes] == ["", f"epoch {EPOCHS}", "", "epoch 1"]
    # the last column of the short run is its epoch 1: the same pixels as column 1
    np.testing.assert_array_equal(axes[2].images[0].get_array(), axes[3].images[0].get_array())


def test_compare_last_refuses_a_run_without_snapshots(trained, tmp_path, capsys):
    gan = trained["gan"][0]
    empty = tmp_path / "empty"
    (empty / "snapshots").mkdir(parents=True)
    for name in ("config.json", "fixed_z.npy"):
        (empty / name).write_bytes((gan / name).read_bytes())
    code = main(["compare", str(gan), str(empty), "--epochs", "last",
                 "--out", str(tmp_path / "x.png")])
    assert code == 2 and "has no generator snapshot yet" in capsys.readouterr().err


def test_compare_names_a_missing_snapshot(trained, tmp_path, capsys):
    dirs = [str(trained[m][0]) for m in ("gan", "dcgan")]
    code = main(["compare", *dirs, "--epochs", "1", "50", "--out", str(tmp_path / "x.png")])
    error = capsys.readouterr().err
    assert code == 2 and "no generator snapshot for epoch 50" in error
    assert "it has epochs [1, 2]" in error
    assert not (tmp_path / "x.png").exists()


def test_compare_rejects_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "x.png")]) == 2
    assert "is not a gan_lab run folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "dcgan", "--epochs", "0"], "must be a positive integer, got 0"),
        (["train", "dcgan", "--batch-size", "-4"], "must be a positive integer, got -4"),
        (["train", "vae"], "invalid choice: 'vae'"),
        (["train", "gan", "--source", "web"], "invalid choice: 'web'"),
        (["compare", "runs/x"], "the following arguments are required: --out"),
        (["compare", "runs/x", "--epochs", "first", "--out", "x.png"],
         "an epoch is a whole number >= 1 or 'last', got 'first'"),
        (["compare", "runs/x", "--epochs", "0", "--out", "x.png"],
         "must be a positive integer, got 0"),
    ],
)
def test_bad_arguments_are_refused_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.integration
def test_unwritable_output_folder_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["train", "gan", "--source", "sample", "--out", str(blocker / "run")]) == 2
    assert "cannot write to the output folder" in capsys.readouterr().err


def test_existing_run_is_not_overwritten_silently(trained, capsys):
    out, _ = trained["gan"]
    assert main(["train", "gan", "--source", "sample", "--out", str(out)]) == 2
    assert "already holds a training run" in capsys.readouterr().err
    assert (out / "history.csv").exists()


def test_missing_data_is_a_one_line_error(tmp_path, capsys):
    code = main(["train", "gan", "--source", "idx", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "run")])
    error = capsys.readouterr().err
    assert code == 2 and "missing train-images-idx3-ubyte.gz" in error
    assert "Traceback" not in error


@pytest.mark.parametrize("command", ["train", "compare"])
def test_help_says_what_each_command_does(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert {"train": "per-epoch images", "compare": "Rows = runs"}[command] in text


def test_the_readmes_compare_commands_ask_for_epochs_every_run_keeps():
    """A default run keeps snapshots of DEFAULT_SNAPSHOTS' epochs (and its last, which
    depends on the data), so the README's compare commands may ask for those only."""
    import re
    from pathlib import Path

    from gan_lab.config import DEFAULT_SNAPSHOTS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    commands = re.findall(r"gan_lab compare [^`\n]*--epochs((?: (?:\d+|last))+)", readme)
    assert commands, "the README shows no compare command"
    for epochs in commands:
        numbers = {int(e) for e in epochs.split() if e != "last"}
        assert numbers <= set(DEFAULT_SNAPSHOTS), epochs


def test_evaluate_says_a_folder_that_is_not_there_does_not_exist(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "typo")]) == 2
    error = capsys.readouterr().err
    assert "typo does not exist: give the folder a run was trained into" in error


@pytest.mark.parametrize("samples", ["99", "100001"])
def test_evaluate_refuses_a_sample_count_outside_its_range(tmp_path, samples, capsys):
    assert main(["evaluate", str(tmp_path / "typo"), "--samples", samples]) == 2
    error = capsys.readouterr().err
    assert "evaluate measures 100 to 100,000 samples a snapshot" in error
    assert f"got {int(samples):,}" in error


@pytest.mark.parametrize("command, raised, code, said", [
    ("train", KeyboardInterrupt(), 130, "interrupted (its completed epochs are kept: the same "
                                        "command with --resume goes on)"),
    ("evaluate", MemoryError("Unable to allocate 47.7 GiB"), 2,
     "not enough memory (Unable to allocate 47.7 GiB); ask for less (fewer --samples"),
])
def test_a_stop_or_a_lack_of_memory_is_one_line_that_says_what_next(monkeypatch, capsys,
                                                                    command, raised, code, said):
    from gan_lab import cli

    def stopped(args):
        raise raised

    monkeypatch.setattr(cli, f"run_{command}", stopped)
    argv = [command, "gan"] if command == "train" else [command, "runs/any"]
    assert cli.main(argv) == code
    error = capsys.readouterr().err
    assert said in error and "Traceback" not in error


def test_the_process_ends_at_once_after_ctrl_c_and_with_mains_status_otherwise(monkeypatch):
    # TensorFlow's teardown of a stopped fit took seconds after the files were whole.
    from gan_lab import cli

    ended = []
    monkeypatch.setattr(cli.os, "_exit", ended.append)
    monkeypatch.setattr(cli, "main", lambda: cli.INTERRUPTED)
    with pytest.raises(SystemExit):  # reached only because os._exit here returns
        cli.console()
    assert ended == [130]
    monkeypatch.setattr(cli, "main", lambda: 2)
    with pytest.raises(SystemExit) as stopped:
        cli.console()
    assert stopped.value.code == 2 and ended == [130]


def test_every_setting_a_resume_compares_has_a_flag():
    """A refused resume says "resume it with the settings it was started with": each
    setting it may name can be given on the command line (those a resume adopts from the
    saved run, and networks passed from Python, aside)."""
    import argparse
    import dataclasses

    from gan_lab.cli import build_parser
    from gan_lab.config import TrainConfig

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {action.dest for action in commands.choices["train"]._actions}
    adopted = {"epochs", "arch", "generator_options", "discriminator_options"}
    compared = {f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get("resume")}
    assert compared - adopted - {"custom_networks"} - flags == set()
