"""Long runs survive: SIGKILL at three moments, then --resume, compared with a run that was
never interrupted; the NaN guard; reproducibility."""

import csv
import json
import os
import signal
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from gan_lab.runtime import PRECISION_ENV, XLA_ENV

pytestmark = pytest.mark.integration  # sandboxes, notebooks, whole runs: the full suite

EPOCHS = 3
TRAIN = ["train", "gan", "--source", "sample", "--limit", "320", "--batch-size", "64",
         "--epochs", str(EPOCHS), "--snapshot-epochs", "1"]

# Runs gan_lab's CLI in a real child process that SIGKILLs itself at a chosen moment.
KILLER = r"""
import json, os, signal, sys
kill = json.loads(sys.argv[1])
from gan_lab import callbacks, checkpoint, files
from gan_lab.cli import main

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if kill and kill["at"] == "batch":  # in the middle of an epoch's training steps
    begin, end = callbacks.EpochArtifacts.on_epoch_begin, callbacks.EpochArtifacts.on_train_batch_end
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_now = epoch + 1
        begin(self, epoch, logs)
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch_now == kill["epoch"] and batch == kill["batch"]:
            die()
    callbacks.EpochArtifacts.on_epoch_begin = on_epoch_begin
    callbacks.EpochArtifacts.on_train_batch_end = on_train_batch_end
elif kill and kill["at"] == "write":  # half-way through writing a file: the temporary is cut short
    replace, seen = os.replace, []
    def dying_replace(source, destination):
        if str(destination).endswith(kill["file"]):
            seen.append(destination)
        if len(seen) == kill.get("nth", 1) and str(destination).endswith(kill["file"]):
            with open(source, "r+b") as stream:
                stream.truncate(os.path.getsize(source) // 2)
            die()
        replace(source, destination)
    files.os.replace = dying_replace
elif kill and kill["at"] == "checkpoint":  # saving epoch N's training state: cut short
    save = checkpoint.save
    def dying_save(gan, folder, epoch):
        if epoch == kill["epoch"]:
            checkpoint._state(gan, epoch).write(str(folder.checkpoint_dir / f"state-{epoch}"))
            (folder.checkpoint_dir / f"state-{epoch}.index").write_bytes(b"half")
            die()
        return save(gan, folder, epoch)
    checkpoint.save = dying_save

sys.exit(main(sys.argv[2:]))
"""


def run(args, kill=None, check=True, xla="0", precision="float32"):
    """The CLI in a child process, its train step compiled with XLA (``xla="1"``: the default
    on a GPU and on CPUs without AVX-512) or the graph step ("0": the default on AVX-512
    CPUs), under ``precision`` (mixed_bfloat16: the default where the CPU has bfloat16):
    killed-and-resumed runs must equal uninterrupted ones on every default's path."""
    env = {**os.environ, XLA_ENV: xla, PRECISION_ENV: precision}
    done = subprocess.run([sys.executable, "-c", KILLER, json.dumps(kill), *args],
                          capture_output=True, text=True, timeout=600, env=env)
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


def cli(args):
    """gan_lab's CLI in this process (where no kill is needed: no TensorFlow start-up)."""
    from gan_lab.cli import main

    return main(args)


def history(run_dir):
    with open(run_dir / "history.csv") as stream:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(stream)]


def weights(run_dir, epoch):
    from gan_lab.run_folder import RunFolder

    return [w.numpy() for w in RunFolder(run_dir).load_snapshot(epoch).weights]


@pytest.fixture(scope="module")
def uninterrupted_runs(tmp_path_factory):
    """uninterrupted_runs(xla, precision): the run of TRAIN with that step path and policy,
    trained once."""
    runs = {}

    def uninterrupted_run(xla, precision="float32"):
        if (xla, precision) not in runs:
            folder = tmp_path_factory.mktemp(f"uninterrupted_xla{xla}_{precision}") / "run"
            run([*TRAIN, "--out", str(folder)], xla=xla, precision=precision)
            runs[xla, precision] = folder
        return runs[xla, precision]
    return uninterrupted_run


@pytest.fixture(scope="module")
def uninterrupted(uninterrupted_runs):
    """The run of TRAIN with the graph step."""
    return uninterrupted_runs("0")


@pytest.mark.slow  # covered: the first kill while writing (below) reruns epoch 1 anew
def test_same_seed_same_run(uninterrupted, tmp_path):
    again = tmp_path / "again"
    run([*TRAIN, "--out", str(again)])
    assert history(again) == history(uninterrupted)
    for a, b in zip(weights(again, EPOCHS), weights(uninterrupted, EPOCHS)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(iio.imread(again / "frames" / "epoch_0003.png"),
                                  iio.imread(uninterrupted / "frames" / "epoch_0003.png"))


# The training state (weights, optimizers, noise stream) is cut mid-epoch on the defaults'
# paths: XLA in float32 (AVX2 CPUs), the graph step in mixed_bfloat16 (AVX512-BF16 and
# AMX-BF16 CPUs).
@pytest.mark.parametrize("xla, precision", [("1", "float32"), ("0", "mixed_bfloat16")],
                         ids=["mid-epoch-2-xla", "mid-epoch-2-bfloat16"])
def test_killed_run_resumes_to_the_same_result(uninterrupted_runs, tmp_path, xla, precision):
    uninterrupted = uninterrupted_runs(xla, precision)
    out = tmp_path / "run"
    killed = run([*TRAIN, "--out", str(out)], kill={"at": "batch", "epoch": 2, "batch": 2},
                 check=False, xla=xla, precision=precision)
    assert killed.returncode == -signal.SIGKILL
    assert len(history(out)) == 1

    resumed = run([*TRAIN, "--out", str(out), "--resume"], xla=xla, precision=precision)
    assert "Resuming gan to epoch 3" in resumed.stdout
    assert_same_run(out, uninterrupted)


# The file-writing kills do not depend on the step's path: one run on the cheaper graph
# step in float32 (XLA compiles the step for seconds in each process) is killed at each
# in turn, each resume picking up what the kill before it left.
KILLS_WHILE_WRITING = [
    ("writing-checkpoint-1", {"at": "checkpoint", "epoch": 1}, 1),  # no checkpoint yet at all
    ("writing-frame-2", {"at": "write", "file": "epoch_0002.png"}, 1),
    ("writing-checkpoint-2", {"at": "checkpoint", "epoch": 2}, 2),  # epoch 2's other files written
]


def test_a_run_killed_while_writing_each_file_resumes_to_the_same_result(uninterrupted,
                                                                          tmp_path):
    out = tmp_path / "run"
    for index, (moment, kill, rows_left) in enumerate(KILLS_WHILE_WRITING):
        killed = run([*TRAIN, "--out", str(out), *(["--resume"] if index else [])], kill=kill,
                     check=False)
        assert killed.returncode == -signal.SIGKILL, (moment, killed.stderr[-2000:])
        assert len(history(out)) == rows_left, moment

    resumed = run([*TRAIN, "--out", str(out), "--resume"])
    assert "Resuming gan to epoch 3" in resumed.stdout
    assert_same_run(out, uninterrupted)


def assert_same_run(out, uninterrupted):
    """The resumed run in ``out`` equals ``uninterrupted``: each epoch once with the same
    values, weights, frames and GIF, and no temporary file left."""
    assert history(out) == history(uninterrupted)
    for a, b in zip(weights(out, EPOCHS), weights(uninterrupted, EPOCHS)):
        np.testing.assert_array_equal(a, b)
    frames = sorted(p.name for p in (out / "frames").iterdir())
    assert frames == ["epoch_0001.png", "epoch_0002.png", "epoch_0003.png"]
    for name in frames:
        np.testing.assert_array_equal(iio.imread(out / "frames" / name),
                                      iio.imread(uninterrupted / "frames" / name))
    assert iio.imread(out / "progress.gif", index=None).shape[0] == EPOCHS
    leftovers = [p for p in out.rglob(".*") if p.is_file()]
    assert leftovers == [], leftovers


def test_resume_extends_a_finished_run(uninterrupted, tmp_path):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(uninterrupted, out)
    assert cli([*TRAIN[:-4], "--epochs", "4", "--snapshot-epochs", "1", "--out", str(out),
                "--resume"]) == 0
    assert [int(r["epoch"]) for r in history(out)] == [1, 2, 3, 4]
    assert history(out)[:3] == history(uninterrupted)


def test_nan_guard_stops_and_keeps_the_last_good_epoch(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli([*TRAIN, "--learning-rate", "1e9", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    message = error.strip().splitlines()[-1]
    assert "training diverged in epoch" in message and "Traceback" not in error
    kept = history(out) if (out / "history.csv").exists() else []
    if kept:
        assert f"the files of epoch {len(kept)}" in message
        assert all(np.isfinite(float(v)) for row in kept for v in row.values())
    else:
        assert "no epoch finished cleanly" in message


@pytest.fixture
def finished(uninterrupted, tmp_path):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(uninterrupted, out)
    return out


@pytest.mark.parametrize("change, message", [
    (["train", "dcgan"], "holds a different run (model 'gan' there, 'dcgan' now"),
    (["--batch-size", "32"], "batch_size 64 there, 32 now"),
    (["--seed", "5"], "seed 0 there, 5 now"),
    (["--limit", "100"], "320 there, 100 now"),
    (["--latent-dim", "16"], "latent_dim 100 there, 16 now"),
    (["--beta-1", "0.9"], "beta_1 0.5 there, 0.9 now"),
])
def test_resume_refuses_another_runs_folder(finished, change, message, capsys):
    from gan_lab.cli import main

    args = [*TRAIN, "--out", str(finished), "--resume"]
    if change[0] == "train":
        args[1] = change[1]
    else:
        args += change
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_resume_refuses_a_damaged_checkpoint(finished, capsys):
    from gan_lab.cli import main

    (finished / "checkpoint" / "state-3.index").write_bytes(b"not really an index")
    assert main([*TRAIN, "--epochs", "4", "--out", str(finished), "--resume"]) == 2
    assert "checkpoint" in (error := capsys.readouterr().err) and "is damaged" in error


def test_resume_needs_a_run(tmp_path, capsys):
    from gan_lab.cli import main

    assert main([*TRAIN, "--out", str(tmp_path / "empty"), "--resume"]) == 2
    assert "nothing to resume in" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*TRAIN, "--resume", "--overwrite"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_compare_names_epochs_never_reached_and_other_datasets(finished, tmp_path, capsys):
    from gan_lab.cli import main

    assert main(["compare", str(finished), "--epochs", "1", "7", "--out", str(tmp_path / "c.png")]) == 2
    assert "the run reached only epoch 3" in capsys.readouterr().err
    other = tmp_path / "other"
    import shutil

    shutil.copytree(finished, other)
    config = json.loads((other / "config.json").read_text())
    config["dataset"] = config["run"]["dataset"] = "fashion_mnist"  # as a fashion run says
    (other / "config.json").write_text(json.dumps(config))
    assert main(["compare", str(finished), str(other), "--epochs", "1", "--out", str(tmp_path / "c.png")]) == 2
    assert "compare runs on one dataset" in capsys.readouterr().err


def test_wrong_latent_size_for_a_saved_generator(finished):
    from gan_lab.gan import generate
    from gan_lab.run_folder import RunFolder

    with pytest.raises(ValueError, match=r"z must have shape \(n, 100\) for this generator, got \(2, 64\)"):
        generate(RunFolder(finished).load_snapshot(1), z=np.zeros((2, 64)))


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"epochs": -3}, "epochs must be a positive integer, got -3"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"snapshot_epochs": "1 10"}, "snapshot_epochs must be a list of epochs"),
    ({"learning_rate": -1.0}, "learning_rate must be above 0"),
    ({"model": "vae"}, "unknown model 'vae'"),
])
def test_train_rejects_bad_settings_before_anything_runs(tmp_path, kwargs, message):
    from gan_lab import runs

    kwargs = {"model": "gan", **kwargs}
    with pytest.raises(ValueError, match=message):
        runs.train(kwargs.pop("model"), source="sample", out=tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()


def test_diverged_run_resumes_with_a_lower_learning_rate(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli([*TRAIN[:-4], "--epochs", "1", "--snapshot-epochs", "1", "--out", str(out)]) == 0
    assert cli([*TRAIN, "--learning-rate", "1e9", "--out", str(out), "--resume"]) == 2
    error = capsys.readouterr().err
    assert "training diverged in epoch 2" in error
    assert "the files of epoch 1" in error and len(history(out)) == 1
    assert cli([*TRAIN, "--out", str(out), "--resume"]) == 0
    assert [int(r["epoch"]) for r in history(out)] == [1, 2, 3]


def test_a_full_size_dcgan_run_resumes_from_the_same_command(tmp_path, capsys):
    # Begun with the full-size networks (as every DCGAN run was before the compact default),
    # continued by the command line that names no networks: it stays full-size.
    from gan_lab import runs

    out = tmp_path / "run"
    tiny = ["--source", "sample", "--limit", "64", "--batch-size", "64", "--snapshot-epochs", "1"]
    runs.train("dcgan", source="sample", limit=64, batch_size=64, epochs=1, snapshot_epochs=[1],
               generator_options={}, discriminator_options={}, out=str(out), verbose=0)
    first = weights(out, 1)
    assert cli(["train", "dcgan", *tiny, "--epochs", "2", "--out", str(out), "--resume"]) == 0
    assert f"Resuming dcgan (full-size) to epoch 2, batch 64 -> {out}" in capsys.readouterr().out
    assert [int(r["epoch"]) for r in history(out)] == [1, 2]
    saved = json.loads((out / "config.json").read_text())
    assert saved["generator_options"] == saved["discriminator_options"] == {}
    assert [w.shape for w in weights(out, 2)] == [w.shape for w in first]


def test_a_resume_trains_the_folder_it_checked(tmp_path, monkeypatch):
    # The default folder's name follows --arch; taking the saved run's arch must not move
    # the resume to another folder.
    from gan_lab import runs
    from gan_lab.config import TrainConfig

    monkeypatch.chdir(tmp_path)
    saved = TrainConfig.create("dcgan", dataset="cifar10", arch="course_cifar", epochs=1,
                               out="runs/dcgan-cifar10")
    (tmp_path / "runs" / "dcgan-cifar10").mkdir(parents=True)
    (tmp_path / "runs" / "dcgan-cifar10" / "config.json").write_text(json.dumps(saved.to_json()))
    config = runs.resumed_config(TrainConfig.create("dcgan", dataset="cifar10"))
    assert (config.arch, str(config.run_dir)) == ("course_cifar", "runs/dcgan-cifar10")
